//! Public keys in the accepted JWK forms (§1.5) and root public-key documents (§1.6).

use crate::json::Json;
use crate::url::UrlParser;

/// Key material usable for exactly one algorithm: RSA → RS256, P-256 → ES256.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyMaterial {
    /// An RSA key (2048–4096-bit modulus), for RS256.
    Rsa(rsa::RsaPublicKey),
    /// A P-256 point, for ES256.
    P256(p256::ecdsa::VerifyingKey),
}

/// A validated public key.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    /// The key itself; it fixes the one algorithm the key can verify.
    pub material: KeyMaterial,
    /// The JWK `kid`, if any (a filter among candidates, never a source of keys).
    pub kid: Option<String>,
    /// Configured keys only: the issuer origin this key is bound to (§2.3.7 S12c), normalised.
    pub iss: Option<String>,
}

/// Where a JWK comes from. Only configured keys may carry `iss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `trustedKeys` (or the widget's pinned `trustedRoots` keys).
    Configured,
    /// The `jwk` list of a certificate whose signature has verified.
    Certificate,
    /// A root public-key document fetched from an allowed origin (§1.6).
    RootDocument,
}

/// Why a JWK is not acceptable. [`KeyError::reason`] gives the §4.1 reason text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The JWK is not a JSON object (reported as `unsupported key type`).
    NotAnObject,
    /// It has a private-key member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`).
    PrivateMembers,
    /// A `kty` (or curve) other than RSA and EC P-256, or members missing for the form.
    UnsupportedKeyType,
    /// The RSA modulus is not 2048–4096 bits long.
    RsaModulusSize,
    /// The RSA exponent is even, below 3, or not below 2^33.
    InvalidRsaExponent,
    /// A key member is not canonical unpadded base64url.
    InvalidBase64url,
    /// The EC coordinates are not 32 bytes each, or the point is not on P-256 (or is the identity).
    EcPointNotOnCurve,
    /// `alg` does not match the key type.
    AlgMismatch,
    /// `use` is present and not `sig`.
    UseNotSig,
    /// `key_ops` is present and lacks `verify`.
    KeyOpsWithoutVerify,
    /// `kid` is not a string of 1–256 printable ASCII characters without spaces.
    InvalidKid,
    /// A configured key's `iss` is not an origin.
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
///
/// Checks run in this order, and the first failure is the result: object; private members;
/// form (`kty`, or the draft `alg: "RSA"` without `kty`) and curve; `alg`; `use`; `key_ops`;
/// `kid`; `iss` (configured keys only; other sources ignore the member); key material
/// (canonical base64url, then sizes and the curve).
pub fn parse_jwk(jwk: &Json, source: KeySource, urls: &dyn UrlParser) -> Result<PublicKey, KeyError> {
    let Some(members) = jwk.as_object() else {
        return Err(KeyError::NotAnObject);
    };
    if members
        .iter()
        .any(|(name, _)| PRIVATE_MEMBERS.contains(&name.as_str()))
    {
        return Err(KeyError::PrivateMembers);
    }
    let form = key_form(jwk)?;
    check_alg(jwk, form)?;
    match jwk.get("use") {
        None => {}
        Some(Json::Str(u)) if u == "sig" => {}
        Some(_) => return Err(KeyError::UseNotSig),
    }
    match jwk.get("key_ops") {
        None => {}
        Some(Json::Arr(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
        Some(_) => return Err(KeyError::KeyOpsWithoutVerify),
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Json::Str(k)) if kid_ok(k) => Some(k.clone()),
        Some(_) => return Err(KeyError::InvalidKid),
    };
    let iss = match (source, jwk.get("iss")) {
        (KeySource::Configured, Some(value)) => {
            let origin = value.as_str().and_then(|s| crate::url::iss_origin(s, urls));
            Some(origin.ok_or(KeyError::IssNotOrigin)?)
        }
        _ => None,
    };
    let material = match form {
        Form::Rsa => rsa_material(jwk, "n", "e")?,
        Form::DraftRsa => rsa_material(jwk, "mod", "exp")?,
        Form::Ec => ec_material(jwk)?,
    };
    Ok(PublicKey { material, kid, iss })
}

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The maximum number of keys in a `trustedKeys` option or a root document.
const MAX_KEYS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `kty: "RSA"`, `n`, `e`.
    Rsa,
    /// No `kty`, `alg: "RSA"`, `mod`, `exp` (old Marketplace form).
    DraftRsa,
    /// `kty: "EC"`, `crv: "P-256"`, `x`, `y`.
    Ec,
}

fn key_form(jwk: &Json) -> Result<Form, KeyError> {
    match jwk.get("kty") {
        Some(Json::Str(kty)) if kty == "RSA" => Ok(Form::Rsa),
        Some(Json::Str(kty)) if kty == "EC" => match jwk.get("crv") {
            Some(Json::Str(crv)) if crv == "P-256" => Ok(Form::Ec),
            _ => Err(KeyError::UnsupportedKeyType),
        },
        Some(_) => Err(KeyError::UnsupportedKeyType),
        None => match jwk.get("alg") {
            Some(Json::Str(alg)) if alg == "RSA" => Ok(Form::DraftRsa),
            _ => Err(KeyError::UnsupportedKeyType),
        },
    }
}

fn check_alg(jwk: &Json, form: Form) -> Result<(), KeyError> {
    let Some(alg) = jwk.get("alg") else {
        return Ok(());
    };
    let ok = matches!(
        (form, alg.as_str()),
        (Form::Rsa | Form::DraftRsa, Some("RS256" | "RSA")) | (Form::Ec, Some("ES256"))
    );
    if ok {
        Ok(())
    } else {
        Err(KeyError::AlgMismatch)
    }
}

/// 1–256 characters, each in 0x21–0x7E.
pub(crate) fn kid_ok(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= 256 && kid.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// A required key member: a string in canonical unpadded base64url. A missing member means the
/// JWK is not in an accepted form; a non-string or non-canonical one is bad base64url.
fn member_bytes(jwk: &Json, name: &str) -> Result<Vec<u8>, KeyError> {
    match jwk.get(name) {
        None => Err(KeyError::UnsupportedKeyType),
        Some(Json::Str(s)) => crate::b64::decode_strict(s).ok_or(KeyError::InvalidBase64url),
        Some(_) => Err(KeyError::InvalidBase64url),
    }
}

/// §1.5: remove an MPI length prefix (a value of at least 5 bytes whose first four bytes, big
/// endian, count the bytes that follow), then leading zero bytes.
pub(crate) fn strip_integer(bytes: &[u8]) -> &[u8] {
    let mut rest = bytes;
    if let Some((prefix, tail)) = bytes.split_first_chunk::<4>() {
        if bytes.len() >= 5 && u32::from_be_bytes(*prefix) as usize == tail.len() {
            rest = tail;
        }
    }
    while let Some((0, tail)) = rest.split_first() {
        rest = tail;
    }
    rest
}

/// Bit length of a big-endian unsigned integer with no leading zero bytes.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(first) => (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

fn rsa_material(jwk: &Json, n_name: &str, e_name: &str) -> Result<KeyMaterial, KeyError> {
    let n_raw = member_bytes(jwk, n_name)?;
    let e_raw = member_bytes(jwk, e_name)?;
    let n = strip_integer(&n_raw);
    if !(2048..=4096).contains(&bit_length(n)) {
        return Err(KeyError::RsaModulusSize);
    }
    let e = strip_integer(&e_raw);
    if e.len() > 8 {
        return Err(KeyError::InvalidRsaExponent);
    }
    let e_value = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if e_value < 3 || e_value % 2 == 0 || e_value >= 1u64 << 33 {
        return Err(KeyError::InvalidRsaExponent);
    }
    let key = rsa::RsaPublicKey::new_with_max_size(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from(e_value),
        4096,
    )
    .map_err(|e| match e {
        // An even modulus: not a usable RSA modulus at all.
        rsa::Error::InvalidModulus | rsa::Error::ModulusTooLarge => KeyError::RsaModulusSize,
        _ => KeyError::InvalidRsaExponent,
    })?;
    Ok(KeyMaterial::Rsa(key))
}

fn ec_material(jwk: &Json) -> Result<KeyMaterial, KeyError> {
    let x = member_bytes(jwk, "x")?;
    let y = member_bytes(jwk, "y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(KeyError::EcPointNotOnCurve);
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    // Rejects coordinates ≥ p, points off the curve and the identity.
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map(KeyMaterial::P256)
        .map_err(|_| KeyError::EcPointNotOnCurve)
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
    let list = match value {
        Json::Arr(list) => list.as_slice(),
        Json::Obj(_) => value
            .get("keys")
            .and_then(Json::as_array)
            .ok_or(TrustedKeysError::Container)?,
        _ => return Err(TrustedKeysError::Container),
    };
    if list.is_empty() || list.len() > MAX_KEYS {
        return Err(TrustedKeysError::Container);
    }
    list.iter()
        .enumerate()
        .map(|(i, jwk)| {
            parse_jwk(jwk, KeySource::Configured, urls).map_err(|e| TrustedKeysError::Entry(i, e))
        })
        .collect()
}

/// The body limit for root documents (§1.7), in UTF-16 code units as JS counts characters.
const MAX_DOCUMENT_CHARS: usize = 1_048_576;

/// A root public-key document (§1.6): `{"jwk": [...]}` with 1–32 keys, or a compact JWS whose
/// payload is such an object (its signature is not checked). `None` if it is neither.
///
/// Every key must be valid (§1.5); one invalid key makes the whole document invalid. A JWS body
/// may be surrounded by ASCII whitespace (a trailing newline, say); its three segments must be
/// canonical base64url and its header must be a JSON object.
pub fn parse_root_document(body: &str, urls: &dyn UrlParser) -> Option<Vec<PublicKey>> {
    if body.encode_utf16().count() > MAX_DOCUMENT_CHARS {
        return None;
    }
    let object = match crate::json::parse(body.as_bytes()) {
        Ok(value) => value,
        Err(_) => jws_payload(body.trim_matches(|c: char| c.is_ascii_whitespace()))?,
    };
    let list = object.get("jwk")?.as_array()?;
    if list.is_empty() || list.len() > MAX_KEYS {
        return None;
    }
    list.iter()
        .map(|jwk| parse_jwk(jwk, KeySource::RootDocument, urls).ok())
        .collect()
}

/// The payload object of a compact JWS, without checking its signature.
fn jws_payload(text: &str) -> Option<Json> {
    let mut segments = text.split('.');
    let (header, payload, signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() || header.is_empty() || payload.is_empty() {
        return None;
    }
    crate::b64::decode_strict(signature)?;
    let header = crate::json::parse(&crate::b64::decode_strict(header)?).ok()?;
    if !header.is_object() {
        return None;
    }
    let payload = crate::json::parse(&crate::b64::decode_strict(payload)?).ok()?;
    payload.is_object().then_some(payload)
}

/// Keys, JWKs and signed tokens for the unit tests of this module, [`crate::crypto`] and
/// [`crate::chain`].
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub(crate) mod test_support {
    use crate::compact::Token;
    use crate::json::Json;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use p256::ecdsa::signature::Signer as _;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use rsa::traits::PublicKeyParts;
    use sha2::{Digest, Sha256};
    use std::sync::OnceLock;

    pub fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn json(text: &str) -> Json {
        crate::json::parse(text.as_bytes()).unwrap()
    }

    /// Two RSA-2048 keys, generated once per test binary.
    pub fn rsa_key(i: usize) -> &'static rsa::RsaPrivateKey {
        static KEYS: OnceLock<Vec<rsa::RsaPrivateKey>> = OnceLock::new();
        &KEYS.get_or_init(|| {
            let mut rng = StdRng::seed_from_u64(0x6a776b);
            (0..2)
                .map(|_| rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap())
                .collect()
        })[i]
    }

    pub fn ec_key(seed: u64) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::random(&mut StdRng::seed_from_u64(seed))
    }

    pub fn ec_members(key: &p256::ecdsa::SigningKey) -> (String, String) {
        let point = key.verifying_key().to_encoded_point(false);
        (b64(point.x().unwrap()), b64(point.y().unwrap()))
    }

    /// `{"kty":"EC","crv":"P-256","x":…,"y":…}` plus `extra` members (JSON text, with a leading comma).
    pub fn ec_jwk_text(key: &p256::ecdsa::SigningKey, extra: &str) -> String {
        let (x, y) = ec_members(key);
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}"{extra}}}"#)
    }

    pub fn rsa_jwk_text(key: &rsa::RsaPrivateKey, extra: &str) -> String {
        let n = b64(&key.n().to_bytes_be());
        let e = b64(&key.e().to_bytes_be());
        format!(r#"{{"kty":"RSA","n":"{n}","e":"{e}"{extra}}}"#)
    }

    pub fn sign_es256(key: &p256::ecdsa::SigningKey, input: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = key.sign(input);
        sig.to_bytes().to_vec()
    }

    pub fn sign_rs256(key: &rsa::RsaPrivateKey, input: &[u8]) -> Vec<u8> {
        key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
            .unwrap()
    }

    pub enum Signer<'a> {
        Ec(&'a p256::ecdsa::SigningKey),
        Rsa(&'a rsa::RsaPrivateKey),
    }

    /// A token as [`crate::compact::parse_strict`] would produce it, signed by `signer`.
    pub fn token(header: &str, payload: &str, signer: Signer<'_>) -> Token {
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature = match signer {
            Signer::Ec(k) => sign_es256(k, signing_input.as_bytes()),
            Signer::Rsa(k) => sign_rs256(k, signing_input.as_bytes()),
        };
        Token {
            header: json(header),
            payload: json(payload),
            signature,
            signing_input,
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::url::NativeUrlParser;
    use rsa::traits::PublicKeyParts;

    fn parse(text: &str, source: KeySource) -> Result<PublicKey, KeyError> {
        parse_jwk(&json(text), source, &NativeUrlParser)
    }

    fn cert(text: &str) -> Result<PublicKey, KeyError> {
        parse(text, KeySource::Certificate)
    }

    fn configured(text: &str) -> Result<PublicKey, KeyError> {
        parse(text, KeySource::Configured)
    }

    #[test]
    fn ec_key_with_all_optional_members() {
        let k = ec_key(1);
        let key = cert(&ec_jwk_text(
            &k,
            r#","kid":"sign-1","alg":"ES256","use":"sig","key_ops":["verify","sign"]"#,
        ))
        .unwrap();
        assert_eq!(key.material, KeyMaterial::P256(*k.verifying_key()));
        assert_eq!(key.kid.as_deref(), Some("sign-1"));
        assert_eq!(key.iss, None);
    }

    #[test]
    fn ec_point_rules() {
        let k = ec_key(2);
        let (x, y) = ec_members(&k);
        let with = |x: &str, y: &str| format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}"}}"#);
        // 31 bytes, 33 bytes.
        let x_bytes = crate::b64::decode_strict(&x).unwrap();
        assert_eq!(
            cert(&with(&b64(&x_bytes[1..]), &y)),
            Err(KeyError::EcPointNotOnCurve)
        );
        let mut long = vec![0u8];
        long.extend_from_slice(&x_bytes);
        assert_eq!(cert(&with(&b64(&long), &y)), Err(KeyError::EcPointNotOnCurve));
        // Off the curve: y + 1 (last byte changed).
        let mut y_bytes = crate::b64::decode_strict(&y).unwrap();
        y_bytes[31] ^= 1;
        assert_eq!(cert(&with(&x, &b64(&y_bytes))), Err(KeyError::EcPointNotOnCurve));
        // (0, 0) and coordinates ≥ p.
        assert_eq!(
            cert(&with(&b64(&[0; 32]), &b64(&[0; 32]))),
            Err(KeyError::EcPointNotOnCurve)
        );
        assert_eq!(
            cert(&with(&b64(&[0xff; 32]), &y)),
            Err(KeyError::EcPointNotOnCurve)
        );
        // Non-canonical base64url and non-strings.
        assert_eq!(cert(&with(&format!("{x}="), &y)), Err(KeyError::InvalidBase64url));
        assert!(cert(&with(&format!("{x}+"), &y)).is_err());
        assert_eq!(
            cert(&format!(r#"{{"kty":"EC","crv":"P-256","x":5,"y":"{y}"}}"#)),
            Err(KeyError::InvalidBase64url)
        );
        assert_eq!(
            cert(r#"{"kty":"EC","crv":"P-256","x":"AAAA"}"#),
            Err(KeyError::UnsupportedKeyType)
        );
    }

    #[test]
    fn unsupported_types_and_curves() {
        let k = ec_key(3);
        let (x, y) = ec_members(&k);
        for text in [
            format!(r#"{{"kty":"EC","crv":"P-384","x":"{x}","y":"{y}"}}"#),
            format!(r#"{{"kty":"EC","x":"{x}","y":"{y}"}}"#),
            format!(r#"{{"kty":"EC","crv":"secp256k1","x":"{x}","y":"{y}"}}"#),
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#.to_owned(),
            r#"{"kty":"oct"}"#.to_owned(),
            r#"{"kty":"rsa","n":"AQAB","e":"AQAB"}"#.to_owned(),
            r#"{"kty":5}"#.to_owned(),
            r#"{"alg":"RS256","n":"AQAB","e":"AQAB"}"#.to_owned(),
            r#"{}"#.to_owned(),
        ] {
            assert_eq!(cert(&text), Err(KeyError::UnsupportedKeyType), "{text}");
        }
        for value in ["[]", "null", "\"x\"", "42"] {
            assert_eq!(cert(value), Err(KeyError::NotAnObject));
        }
    }

    #[test]
    fn private_members_are_refused() {
        let k = ec_key(4);
        for member in PRIVATE_MEMBERS {
            let text = ec_jwk_text(&k, &format!(r#","{member}":"AAAA""#));
            assert_eq!(cert(&text), Err(KeyError::PrivateMembers), "{member}");
        }
        // HMAC keys carry `k`: refused before the type is looked at.
        assert_eq!(
            cert(r#"{"kty":"oct","k":"c2VjcmV0"}"#),
            Err(KeyError::PrivateMembers)
        );
    }

    #[test]
    fn alg_use_key_ops_and_kid() {
        let k = ec_key(5);
        let r = rsa_key(0);
        for (extra, err) in [
            (r#","alg":"RS256""#, KeyError::AlgMismatch),
            (r#","alg":"RSA""#, KeyError::AlgMismatch),
            (r#","alg":"es256""#, KeyError::AlgMismatch),
            (r#","alg":null"#, KeyError::AlgMismatch),
            (r#","use":"enc""#, KeyError::UseNotSig),
            (r#","use":["sig"]"#, KeyError::UseNotSig),
            (r#","key_ops":["sign"]"#, KeyError::KeyOpsWithoutVerify),
            (r#","key_ops":[]"#, KeyError::KeyOpsWithoutVerify),
            (r#","key_ops":"verify""#, KeyError::KeyOpsWithoutVerify),
            (r#","kid":"""#, KeyError::InvalidKid),
            (r#","kid":"a b""#, KeyError::InvalidKid),
            (r#","kid":"é""#, KeyError::InvalidKid),
            (r#","kid":5"#, KeyError::InvalidKid),
        ] {
            assert_eq!(cert(&ec_jwk_text(&k, extra)), Err(err), "{extra}");
        }
        let long = "k".repeat(257);
        assert_eq!(
            cert(&ec_jwk_text(&k, &format!(r#","kid":"{long}""#))),
            Err(KeyError::InvalidKid)
        );
        let max = "~".repeat(256);
        assert_eq!(
            cert(&ec_jwk_text(&k, &format!(r#","kid":"{max}""#))).unwrap().kid,
            Some(max)
        );
        assert_eq!(
            cert(&rsa_jwk_text(r, r#","alg":"ES256""#)),
            Err(KeyError::AlgMismatch)
        );
        assert!(cert(&rsa_jwk_text(r, r#","alg":"RS256""#)).is_ok());
        assert!(cert(&rsa_jwk_text(r, r#","alg":"RSA""#)).is_ok());
        assert_eq!(
            cert(&rsa_jwk_text(r, r#","use":"enc""#)),
            Err(KeyError::UseNotSig)
        );
    }

    #[test]
    fn iss_binding_is_for_configured_keys_only() {
        let k = ec_key(6);
        let key = configured(&ec_jwk_text(&k, r#","iss":"https://Store.Example/""#)).unwrap();
        assert_eq!(key.iss.as_deref(), Some("https://store.example"));
        let key = configured(&ec_jwk_text(&k, r#","iss":"http://store.example:8080""#)).unwrap();
        assert_eq!(key.iss.as_deref(), Some("http://store.example:8080"));
        for bad in [
            r#""https://store.example/path""#,
            r#""store.example""#,
            "5",
            r#""https://u@store.example""#,
        ] {
            let text = ec_jwk_text(&k, &format!(r#","iss":{bad}"#));
            assert_eq!(configured(&text), Err(KeyError::IssNotOrigin), "{bad}");
        }
        // Other sources never bind a key to an issuer; the member is ignored.
        let text = ec_jwk_text(&k, r#","iss":"not an origin""#);
        assert_eq!(cert(&text).unwrap().iss, None);
        assert_eq!(parse(&text, KeySource::RootDocument).unwrap().iss, None);
        assert_eq!(configured(&ec_jwk_text(&k, "")).unwrap().iss, None);
    }

    #[test]
    fn integer_stripping() {
        assert_eq!(strip_integer(&[0, 0, 0, 3, 1, 0, 1]), &[1, 0, 1]);
        assert_eq!(strip_integer(&[0, 0, 0, 1, 5]), &[5]);
        assert_eq!(
            strip_integer(&[0, 0, 0, 2, 0, 5]),
            &[5],
            "prefix, then leading zeros"
        );
        assert_eq!(
            strip_integer(&[0, 0, 0, 4, 1]),
            &[4, 1],
            "count does not match: zeros only"
        );
        assert_eq!(strip_integer(&[0, 0, 0, 3]), &[3], "under 5 bytes: no prefix");
        assert_eq!(strip_integer(&[1, 0, 1]), &[1, 0, 1]);
        assert_eq!(strip_integer(&[0, 0]), &[] as &[u8]);
        assert_eq!(strip_integer(&[]), &[] as &[u8]);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn rsa_standard_and_draft_forms() {
        let r = rsa_key(0);
        let n = r.n().to_bytes_be();
        let key = cert(&rsa_jwk_text(r, r#","kid":"k""#)).unwrap();
        assert_eq!(key.material, KeyMaterial::Rsa(r.to_public_key()));
        // Draft form: leading 0x00 in mod, MPI-prefixed exponent.
        let mut padded = vec![0u8];
        padded.extend_from_slice(&n);
        let draft = format!(
            r#"{{"alg":"RSA","mod":"{}","exp":"AAAAAwEAAQ","kid":"https://keys.example/root.jwk","use":"sig"}}"#,
            b64(&padded)
        );
        assert_eq!(
            cert(&draft).unwrap().material,
            KeyMaterial::Rsa(r.to_public_key())
        );
        // MPI prefix on the modulus as well.
        let mut mpi = (n.len() as u32).to_be_bytes().to_vec();
        mpi.extend_from_slice(&n);
        let draft = format!(r#"{{"alg":"RSA","mod":"{}","exp":"AQAB"}}"#, b64(&mpi));
        assert_eq!(
            cert(&draft).unwrap().material,
            KeyMaterial::Rsa(r.to_public_key())
        );
        // The draft form needs mod/exp, the standard form n/e.
        let swapped = format!(r#"{{"alg":"RSA","n":"{}","e":"AQAB"}}"#, b64(&n));
        assert_eq!(cert(&swapped), Err(KeyError::UnsupportedKeyType));
        let bad_b64 = format!(r#"{{"alg":"RSA","mod":"{}=","exp":"AQAB"}}"#, b64(&n));
        assert_eq!(cert(&bad_b64), Err(KeyError::InvalidBase64url));
    }

    #[test]
    fn rsa_size_and_exponent_rules() {
        let with =
            |n: &[u8], e: &[u8]| cert(&format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b64(n), b64(e)));
        let odd = |bits: usize| {
            let mut v = vec![0xffu8; bits.div_ceil(8)];
            let top = bits % 8;
            if top != 0 {
                v[0] = (1u8 << top) - 1;
            }
            v
        };
        let f4 = [1u8, 0, 1];
        assert!(with(&odd(2048), &f4).is_ok());
        assert!(with(&odd(4096), &f4).is_ok());
        assert_eq!(with(&odd(2047), &f4), Err(KeyError::RsaModulusSize));
        assert_eq!(with(&odd(4097), &f4), Err(KeyError::RsaModulusSize));
        assert_eq!(with(&odd(1024), &f4), Err(KeyError::RsaModulusSize));
        assert_eq!(with(&[], &f4), Err(KeyError::RsaModulusSize));
        let mut zero_padded = vec![0u8; 10];
        zero_padded.extend(odd(2047));
        assert_eq!(
            with(&zero_padded, &f4),
            Err(KeyError::RsaModulusSize),
            "zeros don't count"
        );
        let n = odd(2048);
        for e in [
            &[][..],
            &[1],
            &[2],
            &[0, 0, 0, 4],
            &[1, 0, 0],
            &[2, 0, 0, 0, 1],
            &[1, 0, 0, 0, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(with(&n, e), Err(KeyError::InvalidRsaExponent), "{e:?}");
        }
        assert!(with(&n, &[3]).is_ok());
        assert!(with(&n, &[1, 0xff, 0xff, 0xff, 0xff]).is_ok(), "2^33 - 1");
        assert!(
            with(&n, &[0, 0, 0, 0, 0, 0, 0, 0, 3]).is_ok(),
            "leading zeros ignored"
        );
        // An even modulus is not an RSA modulus.
        let mut even = odd(2048);
        *even.last_mut().unwrap() = 0xfe;
        assert_eq!(with(&even, &f4), Err(KeyError::RsaModulusSize));
    }

    #[test]
    fn trusted_keys_containers() {
        let u = NativeUrlParser;
        let a = ec_jwk_text(&ec_key(7), r#","kid":"a""#);
        let b = rsa_jwk_text(rsa_key(0), r#","kid":"b""#);
        let keys = parse_trusted_keys(&json(&format!(r#"{{"keys":[{a},{b}]}}"#)), &u).unwrap();
        assert_eq!(
            keys.iter().map(|k| k.kid.as_deref()).collect::<Vec<_>>(),
            [Some("a"), Some("b")]
        );
        assert_eq!(parse_trusted_keys(&json(&format!("[{b}]")), &u).unwrap().len(), 1);
        let many = vec![a.as_str(); 32].join(",");
        assert_eq!(
            parse_trusted_keys(&json(&format!("[{many}]")), &u).unwrap().len(),
            32
        );
        let too_many = vec![a.as_str(); 33].join(",");
        for bad in [
            "[]",
            r#"{"keys":[]}"#,
            r#"{"keys":{}}"#,
            "{}",
            r#""x""#,
            "null",
            &format!("[{too_many}]"),
        ] {
            assert_eq!(
                parse_trusted_keys(&json(bad), &u),
                Err(TrustedKeysError::Container),
                "{bad}"
            );
        }
        let text = format!(r#"{{"keys":[{a},{{"kty":"oct","k":"AA"}}]}}"#);
        assert_eq!(
            parse_trusted_keys(&json(&text), &u),
            Err(TrustedKeysError::Entry(1, KeyError::PrivateMembers))
        );
    }

    #[test]
    fn root_documents() {
        let u = NativeUrlParser;
        let a = ec_jwk_text(&ec_key(8), r#","kid":"a""#);
        let object = format!(r#"{{"jwk":[{a}]}}"#);
        assert_eq!(parse_root_document(&object, &u).unwrap().len(), 1);
        assert_eq!(parse_root_document(&format!(" {object}\n"), &u).unwrap().len(), 1);
        // As the payload of a JWS whose signature is not checked.
        let jws = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"RS256"}"#),
            b64(object.as_bytes()),
            b64(b"junk")
        );
        assert_eq!(parse_root_document(&jws, &u).unwrap().len(), 1);
        assert_eq!(parse_root_document(&format!("{jws}\r\n"), &u).unwrap().len(), 1);
        let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(object.as_bytes()));
        assert_eq!(parse_root_document(&unsigned, &u).unwrap().len(), 1);
        let many = vec![a.as_str(); 32].join(",");
        assert_eq!(
            parse_root_document(&format!(r#"{{"jwk":[{many}]}}"#), &u)
                .unwrap()
                .len(),
            32
        );
        let too_many = vec![a.as_str(); 33].join(",");
        for bad in [
            format!(r#"{{"jwk":[{too_many}]}}"#),
            r#"{"jwk":[]}"#.to_owned(),
            format!(r#"{{"keys":[{a}]}}"#),
            format!(r#"{{"jwk":{a}}}"#),
            format!(r#"{{"jwk":[{a},{{"kty":"oct"}}]}}"#),
            format!(r#"{{"jwk":[{a}],"jwk":[{a}]}}"#),
            format!("[{a}]"),
            "<html>Not found</html>".to_owned(),
            String::new(),
            format!("{}.{}", b64(br#"{"alg":"RS256"}"#), b64(object.as_bytes())),
            format!("{}.{}.x.y", b64(br#"{"alg":"RS256"}"#), b64(object.as_bytes())),
            format!("{}.{}.", b64(b"[]"), b64(object.as_bytes())),
            format!("{}.{}=.", b64(br#"{"alg":"RS256"}"#), b64(object.as_bytes())),
            format!(".{}.", b64(object.as_bytes())),
        ] {
            assert_eq!(parse_root_document(&bad, &u), None, "{bad}");
        }
        // Too long (counted in UTF-16 units, like the shell's body limit).
        let padded = format!("{object}{}", " ".repeat(MAX_DOCUMENT_CHARS));
        assert_eq!(parse_root_document(&padded, &u), None);
    }
}
