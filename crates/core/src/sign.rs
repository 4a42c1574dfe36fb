//! ES256 / RS256 signing for the provider's receipts and certificates (payments §6.3).
//!
//! Both are deterministic, so core needs no randomness: P-256 ECDSA nonces follow RFC 6979, and
//! RSASSA-PKCS1-v1_5 has no random input. For RSA keys the server MAY pass its own random source
//! to [`SigningKey::sign_with_rng`], which blinds the private-key operation against timing side
//! channels; the result is the same signature.
//!
//! Keys are the RustCrypto types core already builds on ([`p256`] and [`rsa`], re-exported from
//! the crate root), so the server can load them from its PKCS#8 store with those crates' own
//! decoders and wrap them in [`SigningKey`].

use crate::b64;
use crate::hs256::{signing_input, JwsAlg};
use crate::json::Json;
use crate::jwk::KeyMaterial;
use p256::ecdsa::signature::Signer as _;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

/// A private key bound to exactly one algorithm: P-256 → ES256, RSA → RS256.
// A provider holds a handful of long-lived keys: the variants' size difference does not matter,
// and unboxed variants keep construction simple (`SigningKey::Rs256(key)`).
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum SigningKey {
    /// ECDSA P-256 with SHA-256; signatures are 64 bytes `R‖S`.
    Es256(p256::ecdsa::SigningKey),
    /// RSASSA-PKCS1-v1_5 with SHA-256. The verifiers accept 2048- to 4096-bit moduli.
    Rs256(rsa::RsaPrivateKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningKey::Es256(_) => f.write_str("SigningKey::Es256(<redacted>)"),
            SigningKey::Rs256(_) => f.write_str("SigningKey::Rs256(<redacted>)"),
        }
    }
}

/// Why signing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignError {
    /// The private key bytes are not a valid key (for example a P-256 scalar of 0 or ≥ n).
    InvalidKey,
    /// The signature primitive refused (an RSA key too small for a SHA-256 DigestInfo).
    Primitive,
    /// A receipt would outlive its signing certificate (payments §6.3 "Lifetimes").
    OutlivesCertificate,
}

impl SignError {
    /// A stable code: `invalid_key`, `primitive`, `outlives_certificate`.
    pub fn code(self) -> &'static str {
        match self {
            SignError::InvalidKey => "invalid_key",
            SignError::Primitive => "primitive",
            SignError::OutlivesCertificate => "outlives_certificate",
        }
    }
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for SignError {}

impl SigningKey {
    /// A P-256 key from its 32-byte big-endian private scalar (exactly 32 bytes, 0 < d < n).
    pub fn es256_from_bytes(scalar: &[u8]) -> Result<Self, SignError> {
        if scalar.len() != 32 {
            return Err(SignError::InvalidKey);
        }
        p256::ecdsa::SigningKey::from_slice(scalar)
            .map(SigningKey::Es256)
            .map_err(|_| SignError::InvalidKey)
    }

    /// The 32-byte private scalar of a P-256 key (for the server's key store); `None` for RSA.
    pub fn es256_to_bytes(&self) -> Option<[u8; 32]> {
        match self {
            SigningKey::Es256(k) => Some(k.to_bytes().into()),
            SigningKey::Rs256(_) => None,
        }
    }

    /// The algorithm of this key.
    pub fn alg(&self) -> JwsAlg {
        match self {
            SigningKey::Es256(_) => JwsAlg::Es256,
            SigningKey::Rs256(_) => JwsAlg::Rs256,
        }
    }

    /// The public half, as the verifiers hold it.
    pub fn public_key(&self) -> KeyMaterial {
        match self {
            SigningKey::Es256(k) => KeyMaterial::P256(*k.verifying_key()),
            SigningKey::Rs256(k) => KeyMaterial::Rsa(k.to_public_key()),
        }
    }

    /// The public JWK in the form payments §6.3 emits, members in this order:
    /// `{"kty":"EC","crv":"P-256","x","y","alg":"ES256","use":"sig","kid"}` or
    /// `{"kty":"RSA","n","e","alg":"RS256","use":"sig","kid"}`.
    pub fn public_jwk(&self, kid: &str) -> Json {
        let s = |v: &str| Json::Str(v.to_owned());
        let mut members: Vec<(String, Json)> = match self {
            SigningKey::Es256(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                let coord = |c: Option<&p256::FieldBytes>| {
                    Json::Str(b64::encode(c.map(AsRef::<[u8]>::as_ref).unwrap_or_default()))
                };
                vec![
                    ("kty".into(), s("EC")),
                    ("crv".into(), s("P-256")),
                    ("x".into(), coord(point.x())),
                    ("y".into(), coord(point.y())),
                ]
            }
            SigningKey::Rs256(k) => vec![
                ("kty".into(), s("RSA")),
                ("n".into(), Json::Str(b64::encode(&k.n().to_bytes_be()))),
                ("e".into(), Json::Str(b64::encode(&k.e().to_bytes_be()))),
            ],
        };
        members.push(("alg".into(), s(self.alg().as_str())));
        members.push(("use".into(), s("sig")));
        members.push(("kid".into(), s(kid)));
        Json::Obj(members)
    }

    /// Signs `input` (a JWS signing input): ES256 gives 64 bytes `R‖S` (RFC 6979 nonce), RS256
    /// gives a PKCS#1 v1.5 signature as long as the modulus (unblinded; see
    /// [`SigningKey::sign_with_rng`]).
    pub fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignError> {
        match self {
            SigningKey::Es256(k) => es256(k, input),
            SigningKey::Rs256(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
                .map_err(|_| SignError::Primitive),
        }
    }

    /// As [`SigningKey::sign`], with `rng` blinding the RSA private-key operation (the
    /// signature is the same). ES256 ignores `rng`.
    pub fn sign_with_rng<R: rsa::rand_core::CryptoRngCore>(
        &self,
        rng: &mut R,
        input: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        match self {
            SigningKey::Es256(k) => es256(k, input),
            SigningKey::Rs256(k) => k
                .sign_with_rng(rng, rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
                .map_err(|_| SignError::Primitive),
        }
    }
}

fn es256(key: &p256::ecdsa::SigningKey, input: &[u8]) -> Result<Vec<u8>, SignError> {
    let sig: p256::ecdsa::Signature = key.try_sign(input).map_err(|_| SignError::Primitive)?;
    Ok(sig.to_bytes().to_vec())
}

/// The JWS header of payments §6.3: `{"alg":"<ES256|RS256>","typ":"JWT","kid":"<kid>"}`.
pub fn jws_header(alg: JwsAlg, kid: &str) -> Json {
    Json::Obj(vec![
        ("alg".into(), Json::Str(alg.as_str().to_owned())),
        ("typ".into(), Json::Str("JWT".to_owned())),
        ("kid".into(), Json::Str(kid.to_owned())),
    ])
}

/// Signs `claims` as a compact JWS with header `{"alg","typ":"JWT","kid"}` (payments §6.3).
pub fn sign_jws(key: &SigningKey, kid: &str, claims: &Json) -> Result<String, SignError> {
    let input = signing_input(&jws_header(key.alg(), kid), claims);
    let signature = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64::encode(&signature)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::hs256::{decode, MAX_TOKEN_BYTES};
    use crate::jwk::test_support::{ec_key, rsa_key};
    use crate::jwk::{parse_jwk, KeySource};
    use crate::url::NativeUrlParser;

    fn ec() -> SigningKey {
        SigningKey::Es256(ec_key(42))
    }

    fn rsa() -> SigningKey {
        SigningKey::Rs256(rsa_key(0).clone())
    }

    #[test]
    fn es256_is_deterministic_and_verifies() {
        let k = ec();
        let a = k.sign(b"a.b").unwrap();
        assert_eq!(a.len(), 64);
        assert_eq!(a, k.sign(b"a.b").unwrap(), "RFC 6979");
        let mut rng = rand::rngs::OsRng;
        assert_eq!(a, k.sign_with_rng(&mut rng, b"a.b").unwrap());
        assert!(crate::crypto::verify(crate::compact::Alg::Es256, &k.public_key(), b"a.b", &a));
        assert!(!crate::crypto::verify(crate::compact::Alg::Es256, &k.public_key(), b"a.c", &a));
    }

    #[test]
    fn rs256_signs_and_blinding_gives_the_same_signature() {
        let k = rsa();
        let a = k.sign(b"a.b").unwrap();
        assert_eq!(a.len(), 256);
        let mut rng = rand::rngs::OsRng;
        assert_eq!(a, k.sign_with_rng(&mut rng, b"a.b").unwrap());
        assert!(crate::crypto::verify(crate::compact::Alg::Rs256, &k.public_key(), b"a.b", &a));
    }

    #[test]
    fn public_jwks_parse_as_certificate_keys() {
        for (k, kty) in [(ec(), "EC"), (rsa(), "RSA")] {
            let jwk = k.public_jwk("eph-20260101-3fa2");
            assert_eq!(jwk.get("kty").and_then(Json::as_str), Some(kty));
            assert_eq!(jwk.get("alg").and_then(Json::as_str), Some(k.alg().as_str()));
            assert_eq!(jwk.get("use").and_then(Json::as_str), Some("sig"));
            let parsed = parse_jwk(&jwk, KeySource::Certificate, &NativeUrlParser).unwrap();
            assert_eq!(parsed.material, k.public_key());
            assert_eq!(parsed.kid.as_deref(), Some("eph-20260101-3fa2"));
        }
        let names: Vec<String> =
            ec().public_jwk("k").as_object().unwrap().iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, ["kty", "crv", "x", "y", "alg", "use", "kid"]);
    }

    #[test]
    fn sign_jws_round_trips_through_the_strict_decoder() {
        let claims = crate::json::parse(br#"{"typ":"x","n":1}"#).unwrap();
        for k in [ec(), rsa()] {
            let token = sign_jws(&k, "root-20260101-00ff", &claims).unwrap();
            let d = decode(&token, k.alg(), MAX_TOKEN_BYTES).unwrap();
            assert_eq!(d.kid(), Some("root-20260101-00ff"));
            assert_eq!(d.header(), &jws_header(k.alg(), "root-20260101-00ff"));
            let v = d.verify_public(&k.public_key()).unwrap();
            assert_eq!(v.claims(), &claims);
        }
    }

    #[test]
    fn scalar_round_trip_and_invalid_scalars() {
        let k = ec();
        let bytes = k.es256_to_bytes().unwrap();
        let again = SigningKey::es256_from_bytes(&bytes).unwrap();
        assert_eq!(again.public_key(), k.public_key());
        assert_eq!(SigningKey::es256_from_bytes(&[0; 32]).unwrap_err(), SignError::InvalidKey);
        assert_eq!(SigningKey::es256_from_bytes(&[0xff; 32]).unwrap_err(), SignError::InvalidKey);
        assert_eq!(SigningKey::es256_from_bytes(&[1; 31]).unwrap_err(), SignError::InvalidKey);
        assert_eq!(SigningKey::es256_from_bytes(&[1; 33]).unwrap_err(), SignError::InvalidKey);
        assert_eq!(rsa().es256_to_bytes(), None);
        assert_eq!(format!("{:?}", ec()), "SigningKey::Es256(<redacted>)");
    }
}
