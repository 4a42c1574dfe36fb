//! Public keys in the accepted JWK forms (§1.5) and root public-key documents (§1.6).
//!
//! HELPER-B implements.

use crate::json::Json;
use crate::url::UrlParser;

/// Key material usable for exactly one algorithm: RSA → RS256, P-256 → ES256.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyMaterial {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// A validated public key.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    pub material: KeyMaterial,
    pub kid: Option<String>,
    /// Configured keys only: the issuer origin this key is bound to (§2.3.7 S12c), normalised.
    pub iss: Option<String>,
}

/// Where a JWK comes from. Only configured keys may carry `iss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    Certificate,
    RootDocument,
}

/// Why a JWK is not acceptable. [`KeyError::reason`] gives the §4.1 reason text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    NotAnObject,
    PrivateMembers,
    UnsupportedKeyType,
    RsaModulusSize,
    InvalidRsaExponent,
    InvalidBase64url,
    EcPointNotOnCurve,
    AlgMismatch,
    UseNotSig,
    KeyOpsWithoutVerify,
    InvalidKid,
    IssNotOrigin,
}

impl KeyError {
    /// The reason text used in `Illegal value for option to Verifier({}): trustedKeys[i]: ‹reason›`.
    pub fn reason(self) -> &'static str {
        match self {
            KeyError::NotAnObject | KeyError::UnsupportedKeyType => "unsupported key type",
            KeyError::PrivateMembers => "private key members are not allowed",
            KeyError::RsaModulusSize => "RSA modulus must be 2048 to 4096 bits",
            KeyError::InvalidRsaExponent => "invalid RSA exponent",
            KeyError::InvalidBase64url => "invalid base64url",
            KeyError::EcPointNotOnCurve => "EC point is not on P-256",
            KeyError::AlgMismatch => "alg does not match the key",
            KeyError::UseNotSig => "use must be sig",
            KeyError::KeyOpsWithoutVerify => "key_ops must include verify",
            KeyError::InvalidKid => "invalid kid",
            KeyError::IssNotOrigin => "iss must be an origin",
        }
    }
}

/// Validates one JWK (§1.5), including MPI-prefix stripping for the draft RSA form.
pub fn parse_jwk(jwk: &Json, source: KeySource, urls: &dyn UrlParser) -> Result<PublicKey, KeyError> {
    let _ = (jwk, source, urls);
    todo!("HELPER-B")
}

/// Why a `trustedKeys` option is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustedKeysError {
    /// Not `{keys: [...]}` or an array, no keys, or more than 32.
    Container,
    /// Entry `index` is invalid.
    Entry(usize, KeyError),
}

/// The `trustedKeys` option (§4.1): a JWKS object or an array of 1–32 JWKs.
pub fn parse_trusted_keys(value: &Json, urls: &dyn UrlParser) -> Result<Vec<PublicKey>, TrustedKeysError> {
    let _ = (value, urls);
    todo!("HELPER-B")
}

/// A root public-key document (§1.6): `{"jwk": [...]}` with 1–32 keys, or a compact JWS whose
/// payload is such an object (its signature is not checked). `None` if it is neither.
pub fn parse_root_document(body: &str, urls: &dyn UrlParser) -> Option<Vec<PublicKey>> {
    let _ = (body, urls);
    todo!("HELPER-B")
}
