//! Strict compact JWS for the payment tokens (payments §0): HS256 keys, HMAC-SHA-256 signing and
//! constant-time verification, the shared time rules (leeway 60 s) and a generic strict decoder
//! that also serves ES256/RS256 tokens.
//!
//! Receipts have their own, differently worded parser ([`crate::compact`], receipts §2.3.1). The
//! payment tokens follow payments §0 instead:
//!
//! - compact form only: exactly three `.`-separated segments; header and signature non-empty;
//! - canonical base64url (no padding, whitespace, `+` or `/`; zero trailing bits);
//! - strict UTF-8 JSON objects, duplicate member names rejected at any depth, depth ≤ 16;
//! - header `alg` equal to the algorithm of the key (so never `none`);
//! - header parameters `crit`, `jku`, `jwk`, `x5u`, `x5c`, `b64` and `cty` rejected;
//! - a `kid`, when present, matches `[A-Za-z0-9._-]{1,64}` (it only ever serves as a lookup key).
//!
//! The checks run in the order of payments §3.4 steps 2–5: length, then structure / base64url /
//! UTF-8 / JSON for both segments (header first), then "both are objects", then the header rules.
//! [`decode`] gives an [`UnverifiedJwt`]; only a `verify_*` call gives a [`VerifiedJwt`], so claims
//! are not reachable as verified before the signature is checked.
//!
//! ```text
//! let key = Hs256Key::new(secret.as_bytes())?;            // ≥ 32 bytes (§2.5 "Secret length")
//! let token = sign_hs256(&claims_json, &key);             // header {"alg":"HS256","typ":"JWT"}
//! let jwt = decode(&token, JwsAlg::Hs256, MAX_TOKEN_BYTES)?;
//! let verified = jwt.verify_hs256(&key)?;                 // constant-time tag comparison
//! ```

use crate::b64;
use crate::compact::Alg;
use crate::json::{self, Duplicates, Json, JsonError, Limits};
use crate::jwk::KeyMaterial;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The JSON limits of payments §0: depth ≤ 16, duplicate member names rejected at any depth.
pub const LIMITS: Limits = Limits { max_depth: 16, duplicates: Duplicates::Reject };

/// The default token length limit of [`decode`] callers that have no tighter one: the notice
/// receivers' 16 KiB body cap (payments §2.5 step 2).
pub const MAX_TOKEN_BYTES: usize = 16_384;

/// The time leeway of payments §0, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// The header parameters payments §0 rejects, in the order they are looked for.
pub const FORBIDDEN_HEADER_PARAMS: [&str; 7] = ["crit", "jku", "jwk", "x5u", "x5c", "b64", "cty"];

/// The minimum length of an app secret in bytes (payments §2.5 "Secret length", §3.1).
pub const MIN_SECRET_BYTES: usize = 32;

/// The header every HS256 token of payments §3.1, §4.1 and §6.1 carries.
pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A JWS signature algorithm of the payment side. Each key is bound to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlg {
    /// HMAC-SHA-256 with an app secret (pay requests, notices, receipt-issue requests).
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (receipts with `receipt.alg = "RS256"`).
    Rs256,
    /// ECDSA P-256 with SHA-256, 64-byte `R‖S` signatures (receipts, the default).
    Es256,
}

impl JwsAlg {
    /// The header `alg` value: `HS256`, `RS256` or `ES256`.
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlg::Hs256 => "HS256",
            JwsAlg::Rs256 => "RS256",
            JwsAlg::Es256 => "ES256",
        }
    }
}

/// Why a token was refused by [`decode`] or a `verify_*` call. Variants are listed in check
/// order; [`JwtError::code`] gives a stable lower-case code for logs (never the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// Longer than the caller's limit (payments §3.4 step 2).
    TooLong,
    /// Not exactly three `.`-separated segments, or an empty header or signature segment.
    Malformed,
    /// A segment is not canonical unpadded base64url.
    Base64,
    /// A decoded header or payload is not valid UTF-8.
    Utf8,
    /// A decoded header or payload is not valid JSON (RFC 8259).
    Json,
    /// JSON nesting deeper than 16.
    TooDeep,
    /// Two members of one object share a name (at any depth).
    DuplicateMember,
    /// The header or the payload is not a JSON object (payments §3.4 step 4).
    NotAnObject,
    /// Header `alg` missing, not a string, or not the algorithm of the key (`none` included).
    Alg,
    /// One of [`FORBIDDEN_HEADER_PARAMS`] is present.
    ForbiddenHeader,
    /// Header `kid` present but not a string matching `[A-Za-z0-9._-]{1,64}`.
    Kid,
    /// The signature does not verify with the key (or with any of the candidate keys).
    Signature,
}

impl JwtError {
    /// A stable code for logs and tests: `too_long`, `malformed`, `base64`, `utf8`, `json`,
    /// `too_deep`, `duplicate_member`, `not_an_object`, `alg`, `forbidden_header`, `kid`,
    /// `signature`.
    pub fn code(self) -> &'static str {
        match self {
            JwtError::TooLong => "too_long",
            JwtError::Malformed => "malformed",
            JwtError::Base64 => "base64",
            JwtError::Utf8 => "utf8",
            JwtError::Json => "json",
            JwtError::TooDeep => "too_deep",
            JwtError::DuplicateMember => "duplicate_member",
            JwtError::NotAnObject => "not_an_object",
            JwtError::Alg => "alg",
            JwtError::ForbiddenHeader => "forbidden_header",
            JwtError::Kid => "kid",
            JwtError::Signature => "signature",
        }
    }

    /// Whether this is a decoding failure of payments §3.4 step 3 (structure, base64url, UTF-8,
    /// JSON, depth, duplicates): the `JWT_DECODE_ERR` class.
    pub fn is_decode_error(self) -> bool {
        matches!(
            self,
            JwtError::Malformed
                | JwtError::Base64
                | JwtError::Utf8
                | JwtError::Json
                | JwtError::TooDeep
                | JwtError::DuplicateMember
        )
    }

    /// Whether this is a header failure of payments §3.4 step 5 (`alg`, forbidden parameters,
    /// `kid`).
    pub fn is_header_error(self) -> bool {
        matches!(self, JwtError::Alg | JwtError::ForbiddenHeader | JwtError::Kid)
    }
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for JwtError {}

/// An app secret used as an HS256 key: its UTF-8 bytes, at least [`MIN_SECRET_BYTES`] long.
///
/// `Debug` never prints the secret, and there is deliberately no `PartialEq`: compare secrets
/// with [`ct_eq`].
#[derive(Clone)]
pub struct Hs256Key {
    secret: Vec<u8>,
}

/// The secret is shorter than [`MIN_SECRET_BYTES`] (a startup error, payments §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretTooShort {
    /// The length that was given, in bytes.
    pub len: usize,
}

impl std::fmt::Display for SecretTooShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "app secret is {} bytes; at least {MIN_SECRET_BYTES} are required", self.len)
    }
}

impl std::error::Error for SecretTooShort {}

impl std::fmt::Debug for Hs256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hs256Key(<redacted>)")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl Hs256Key {
    /// A key from raw secret bytes; `Err` when shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Result<Self, SecretTooShort> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretTooShort { len: secret.len() });
        }
        Ok(Hs256Key { secret: secret.to_vec() })
    }

    /// A key from a configured secret string: the HMAC key is its UTF-8 bytes (payments §2.5).
    pub fn from_secret(secret: &str) -> Result<Self, SecretTooShort> {
        Self::new(secret.as_bytes())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this never fails; the fallback keeps the code
        // panic-free without `expect`.
        <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()))
    }

    /// The HMAC-SHA-256 tag of `input`.
    pub fn tag(&self, input: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(input);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the HMAC-SHA-256 tag of `input`, compared in constant time. A tag of any
    /// length other than 32 bytes is refused.
    pub fn verify_tag(&self, input: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(input);
        mac.verify_slice(tag).is_ok()
    }
}

/// Constant-time equality of two byte strings (tokens, secrets, CSRF tokens; payments §0). The
/// lengths are not secret: different lengths are unequal at once.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A strictly decoded token whose signature has not been checked yet.
///
/// Its claims are reachable only through [`UnverifiedJwt::unverified_claims`], for choosing the
/// key (pay requests select the secret by `iss`) and for logging.
#[derive(Debug, Clone, PartialEq)]
pub struct UnverifiedJwt {
    alg: JwsAlg,
    header: Json,
    claims: Json,
    payload_bytes: Vec<u8>,
    signature: Vec<u8>,
    signing_input: String,
}

/// A token whose signature verified. Produced only by the `verify_*` methods.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    alg: JwsAlg,
    header: Json,
    claims: Json,
    payload_bytes: Vec<u8>,
}

/// Strictly decodes a compact JWS for a key of algorithm `alg` (payments §0), refusing tokens
/// longer than `max_len` bytes before looking at them.
///
/// Check order: length; segment count and empty header/signature; base64url of the three
/// segments; header JSON then payload JSON (UTF-8, syntax, depth 16, duplicates); header object,
/// payload object; header `alg`; forbidden header parameters; `kid`.
pub fn decode(token: &str, alg: JwsAlg, max_len: usize) -> Result<UnverifiedJwt, JwtError> {
    if token.len() > max_len {
        return Err(JwtError::TooLong);
    }
    let mut split = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (split.next(), split.next(), split.next(), split.next())
    else {
        return Err(JwtError::Malformed);
    };
    if h.is_empty() || s.is_empty() {
        return Err(JwtError::Malformed);
    }
    let header_bytes = b64::decode_strict(h).ok_or(JwtError::Base64)?;
    let payload_bytes = b64::decode_strict(p).ok_or(JwtError::Base64)?;
    let signature = b64::decode_strict(s).ok_or(JwtError::Base64)?;
    let header = json::parse_with(&header_bytes, LIMITS).map_err(json_error)?;
    let claims = json::parse_with(&payload_bytes, LIMITS).map_err(json_error)?;
    if !header.is_object() || !claims.is_object() {
        return Err(JwtError::NotAnObject);
    }
    check_header(&header, alg)?;
    let signing_input = token.get(..h.len() + 1 + p.len()).unwrap_or_default().to_owned();
    Ok(UnverifiedJwt { alg, header, claims, payload_bytes, signature, signing_input })
}

fn json_error(e: JsonError) -> JwtError {
    match e {
        JsonError::Utf8 => JwtError::Utf8,
        JsonError::Syntax => JwtError::Json,
        JsonError::Depth => JwtError::TooDeep,
        JsonError::Duplicate => JwtError::DuplicateMember,
    }
}

/// The header rules of payments §0 for a key of algorithm `alg`.
pub fn check_header(header: &Json, alg: JwsAlg) -> Result<(), JwtError> {
    if header.get("alg").and_then(Json::as_str) != Some(alg.as_str()) {
        return Err(JwtError::Alg);
    }
    if FORBIDDEN_HEADER_PARAMS.iter().any(|name| header.get(name).is_some()) {
        return Err(JwtError::ForbiddenHeader);
    }
    match header.get("kid") {
        None => Ok(()),
        Some(Json::Str(kid)) if kid_ok(kid) => Ok(()),
        Some(_) => Err(JwtError::Kid),
    }
}

/// Whether `kid` matches `[A-Za-z0-9._-]{1,64}` (payments §0).
pub fn kid_ok(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && kid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl UnverifiedJwt {
    /// The algorithm the token was decoded for (its header `alg`).
    pub fn alg(&self) -> JwsAlg {
        self.alg
    }

    /// The decoded header object.
    pub fn header(&self) -> &Json {
        &self.header
    }

    /// The header `kid`, when present (already checked against `[A-Za-z0-9._-]{1,64}`).
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Json::as_str)
    }

    /// The claims **before** the signature is checked: only for choosing a key and for logging.
    pub fn unverified_claims(&self) -> &Json {
        &self.claims
    }

    /// The ASCII `header "." payload` that the signature covers.
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }

    fn into_verified(self) -> VerifiedJwt {
        VerifiedJwt {
            alg: self.alg,
            header: self.header,
            claims: self.claims,
            payload_bytes: self.payload_bytes,
        }
    }

    /// Checks the HMAC-SHA-256 tag with `key`, in constant time. Only for tokens decoded for
    /// [`JwsAlg::Hs256`]; any other is refused with [`JwtError::Alg`].
    pub fn verify_hs256(self, key: &Hs256Key) -> Result<VerifiedJwt, JwtError> {
        if self.alg != JwsAlg::Hs256 {
            return Err(JwtError::Alg);
        }
        if key.verify_tag(self.signing_input.as_bytes(), &self.signature) {
            Ok(self.into_verified())
        } else {
            Err(JwtError::Signature)
        }
    }

    /// Tries every candidate's key in order (payments §2.5 step 6: "all are tried") and returns
    /// the first candidate whose key verifies the tag, with the verified token.
    pub fn verify_hs256_any<T>(
        self,
        candidates: &[T],
        key_of: impl Fn(&T) -> &Hs256Key,
    ) -> Result<(VerifiedJwt, &T), JwtError> {
        if self.alg != JwsAlg::Hs256 {
            return Err(JwtError::Alg);
        }
        let input = self.signing_input.as_bytes();
        let found = candidates.iter().find(|c| key_of(c).verify_tag(input, &self.signature));
        match found {
            Some(candidate) => Ok((self.into_verified(), candidate)),
            None => Err(JwtError::Signature),
        }
    }

    /// Checks an RS256 or ES256 signature with a public key (ES256: exactly 64 bytes `R‖S`;
    /// RS256: exactly the modulus length). A key of the other type is refused with
    /// [`JwtError::Alg`].
    pub fn verify_public(self, key: &KeyMaterial) -> Result<VerifiedJwt, JwtError> {
        let alg = match (self.alg, key) {
            (JwsAlg::Es256, KeyMaterial::P256(_)) => Alg::Es256,
            (JwsAlg::Rs256, KeyMaterial::Rsa(_)) => Alg::Rs256,
            _ => return Err(JwtError::Alg),
        };
        if crate::crypto::verify(alg, key, self.signing_input.as_bytes(), &self.signature) {
            Ok(self.into_verified())
        } else {
            Err(JwtError::Signature)
        }
    }
}

impl VerifiedJwt {
    /// The algorithm that verified.
    pub fn alg(&self) -> JwsAlg {
        self.alg
    }

    /// The decoded header object.
    pub fn header(&self) -> &Json {
        &self.header
    }

    /// The verified claims object.
    pub fn claims(&self) -> &Json {
        &self.claims
    }

    /// The decoded payload bytes (the JSON text as signed).
    pub fn payload_bytes(&self) -> &[u8] {
        &self.payload_bytes
    }

    /// SHA-256 of the decoded payload bytes (payments §3.4 step 35 "same request").
    pub fn payload_sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.payload_bytes).into()
    }

    /// The claims, consuming the token.
    pub fn into_claims(self) -> Json {
        self.claims
    }
}

/// `base64url(header) "." base64url(payload)`: the signing input of a new token.
pub fn signing_input(header: &Json, claims: &Json) -> String {
    format!(
        "{}.{}",
        b64::encode(header.to_json_text().as_bytes()),
        b64::encode(claims.to_json_text().as_bytes())
    )
}

/// Signs `claims` as an HS256 token with header `{"alg":"HS256","typ":"JWT"}` (payments §3.1).
/// The claims are serialised as `JSON.stringify` would (member order kept).
pub fn sign_hs256(claims: &Json, key: &Hs256Key) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(HS256_HEADER.as_bytes()),
        b64::encode(claims.to_json_text().as_bytes())
    );
    let tag = key.tag(input.as_bytes());
    format!("{input}.{}", b64::encode(&tag))
}

/// A NumericDate claim value (payments §0): a finite, non-negative JSON number, floored. `None`
/// for any other value (strings, booleans, `null`, negative or non-finite numbers are type
/// errors, never "absent"). Values beyond the `i64` range saturate.
pub fn numeric_date(value: &Json) -> Option<i64> {
    let n = value.as_f64()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    // `as` saturates for out-of-range floats.
    Some(n.floor() as i64)
}

/// payments §0: expired means `exp <= now - 60`.
pub fn is_expired(exp: i64, now: i64) -> bool {
    exp <= now.saturating_sub(LEEWAY_SECS)
}

/// payments §0: not yet valid means `nbf > now + 60`.
pub fn is_not_yet_valid(nbf: i64, now: i64) -> bool {
    nbf > now.saturating_add(LEEWAY_SECS)
}

/// payments §0: issued in the future means `iat > now + 60`.
pub fn is_issued_in_future(iat: i64, now: i64) -> bool {
    iat > now.saturating_add(LEEWAY_SECS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::b64::encode;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-secret";

    fn key() -> Hs256Key {
        Hs256Key::from_secret(SECRET).unwrap()
    }

    fn obj(text: &str) -> Json {
        json::parse(text.as_bytes()).unwrap()
    }

    /// A token with the given raw header and payload texts, HMAC-signed with `key()`.
    fn raw_token(header: &str, payload: &str) -> String {
        let input = format!("{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()));
        let tag = key().tag(input.as_bytes());
        format!("{input}.{}", encode(&tag))
    }

    fn dec(token: &str) -> Result<UnverifiedJwt, JwtError> {
        decode(token, JwsAlg::Hs256, MAX_TOKEN_BYTES)
    }

    fn dec_verify(token: &str) -> Result<VerifiedJwt, JwtError> {
        dec(token)?.verify_hs256(&key())
    }

    #[test]
    fn rfc4231_test_case_6_known_answer() {
        // RFC 4231 test case 6 (key longer than the block size): 131 bytes of 0xaa.
        let k = Hs256Key::new(&[0xaa; 131]).unwrap();
        let tag = k.tag(b"Test Using Larger Than Block-Size Key - Hash Key First");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn round_trip() {
        let claims = obj(r#"{"iss":"a","n":1,"o":{"x":[1,2]}}"#);
        let token = sign_hs256(&claims, &key());
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
        let v = dec_verify(&token).unwrap();
        assert_eq!(v.claims(), &claims);
        assert_eq!(v.header(), &obj(HS256_HEADER));
        assert_eq!(v.alg(), JwsAlg::Hs256);
        assert_eq!(v.payload_bytes(), claims.to_json_text().as_bytes());
        assert_eq!(v.payload_sha256(), <[u8; 32]>::from(Sha256::digest(v.payload_bytes())));
    }

    #[test]
    fn wrong_key_and_tampering() {
        let token = sign_hs256(&obj(r#"{"a":1}"#), &key());
        let other = Hs256Key::from_secret("another-secret-of-at-least-32-bytes!!").unwrap();
        assert_eq!(dec(&token).unwrap().verify_hs256(&other), Err(JwtError::Signature));
        // One flipped payload byte.
        let (h, rest) = token.split_once('.').unwrap();
        let (_, s) = rest.split_once('.').unwrap();
        let forged = format!("{h}.{}.{s}", encode(br#"{"a":2}"#));
        assert_eq!(dec_verify(&forged), Err(JwtError::Signature));
        // Truncated and extended tags.
        let tag = b64::decode_strict(s).unwrap();
        let short = format!("{h}.{}.{}", rest.split_once('.').unwrap().0, encode(&tag[..31]));
        assert_eq!(dec_verify(&short), Err(JwtError::Signature));
        let mut long_tag = tag.clone();
        long_tag.push(0);
        let long = format!("{h}.{}.{}", rest.split_once('.').unwrap().0, encode(&long_tag));
        assert_eq!(dec_verify(&long), Err(JwtError::Signature));
    }

    #[test]
    fn verify_any_returns_the_key_that_verified() {
        let keys = [
            ("k1", Hs256Key::from_secret("first-secret-xxxxxxxxxxxxxxxxxxxxxxxxx").unwrap()),
            ("k2", key()),
            ("k3", Hs256Key::from_secret("third-secret-xxxxxxxxxxxxxxxxxxxxxxxxx").unwrap()),
        ];
        let token = sign_hs256(&obj("{}"), &key());
        let (_, which) = dec(&token).unwrap().verify_hs256_any(&keys, |k| &k.1).unwrap();
        assert_eq!(which.0, "k2");
        let token = sign_hs256(
            &obj("{}"),
            &Hs256Key::from_secret("unknown-secret-xxxxxxxxxxxxxxxxxxxxxxx").unwrap(),
        );
        assert_eq!(
            dec(&token).unwrap().verify_hs256_any(&keys, |k| &k.1).unwrap_err(),
            JwtError::Signature
        );
        let none: [(&str, Hs256Key); 0] = [];
        assert_eq!(
            dec(&token).unwrap().verify_hs256_any(&none, |k| &k.1).unwrap_err(),
            JwtError::Signature
        );
    }

    #[test]
    fn secret_length() {
        assert_eq!(Hs256Key::new(&[1; 31]).unwrap_err(), SecretTooShort { len: 31 });
        assert!(Hs256Key::new(&[1; 32]).is_ok());
        assert!(Hs256Key::from_secret("").is_err());
        // 32 bytes of UTF-8 but fewer characters is fine: the rule counts bytes.
        assert!(Hs256Key::from_secret(&"é".repeat(16)).is_ok());
        assert_eq!(format!("{:?}", key()), "Hs256Key(<redacted>)");
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn structure() {
        let good = raw_token(HS256_HEADER, "{}");
        assert!(dec_verify(&good).is_ok());
        let parts: Vec<&str> = good.split('.').collect();
        for bad in [
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            parts[0].to_owned(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{good}.{}", parts[2]),
            format!("{good}."),
            format!(".{}.{}", parts[1], parts[2]),
            format!("{}.{}.", parts[0], parts[1]),
            format!("{good}~{good}"),
        ] {
            let e = dec(&bad).unwrap_err();
            assert!(matches!(e, JwtError::Malformed | JwtError::Base64), "{bad:?}: {e:?}");
        }
        assert_eq!(dec(&format!("{}.{}.", parts[0], parts[1])), Err(JwtError::Malformed));
        assert_eq!(dec(&format!("{}..{}", parts[0], parts[2])), Err(JwtError::Json));
    }

    #[test]
    fn canonical_base64url_only() {
        let good = raw_token(HS256_HEADER, r#"{"a":"b"}"#);
        let parts: Vec<&str> = good.split('.').collect();
        let with = |i: usize, seg: &str| {
            let mut p = parts.clone();
            p[i] = seg;
            p.join(".")
        };
        for (i, part) in parts.iter().enumerate() {
            for seg in [
                format!("{part}="),
                format!("{part}=="),
                format!(" {part}"),
                format!("{part}\n"),
                part.replace('-', "+").replace('_', "/") + "+",
                format!("{part}/"),
            ] {
                assert_eq!(dec(&with(i, &seg)), Err(JwtError::Base64), "segment {i}: {seg:?}");
            }
        }
        // Non-zero trailing bits: "e30" is "{}", "e31" decodes to the same byte with bits set.
        assert_eq!(dec(&with(1, "e31")), Err(JwtError::Base64));
        assert!(dec(&with(1, "e30")).is_ok());
    }

    #[test]
    fn json_rules() {
        let cases: [(&[u8], JwtError); 8] = [
            (b"\xff", JwtError::Utf8),
            (b"\xef\xbb\xbf{}", JwtError::Json),
            (b"{", JwtError::Json),
            (br#"{"a":1,"a":2}"#, JwtError::DuplicateMember),
            (br#"{"a":{"typ":1,"typ":1}}"#, JwtError::DuplicateMember),
            (br#"{"typ":"x","typ":"x"}"#, JwtError::DuplicateMember),
            (b"[]", JwtError::NotAnObject),
            (b"\"s\"", JwtError::NotAnObject),
        ];
        for (payload, expected) in cases {
            let input = format!("{}.{}", encode(HS256_HEADER.as_bytes()), encode(payload));
            let token = format!("{input}.{}", encode(&key().tag(input.as_bytes())));
            assert_eq!(dec(&token), Err(expected), "{payload:?}");
        }
        // Duplicate in the header too.
        let t = raw_token(r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#, "{}");
        assert_eq!(dec(&t), Err(JwtError::DuplicateMember));
        // Header decoding comes before payload decoding; both before the object checks.
        let t = raw_token("[]", r#"{"a":1,"a":1}"#);
        assert_eq!(dec(&t), Err(JwtError::DuplicateMember));
        let t = raw_token("{", "[]");
        assert_eq!(dec(&t), Err(JwtError::Json));
    }

    #[test]
    fn depth_limit_is_16() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth - 1), "]".repeat(depth - 1));
        // The payload object itself is level 1.
        let ok = format!(r#"{{"a":{}}}"#, nested(16));
        assert!(dec_verify(&raw_token(HS256_HEADER, &ok)).is_ok());
        let deep = format!(r#"{{"a":{}}}"#, nested(17));
        assert_eq!(dec(&raw_token(HS256_HEADER, &deep)), Err(JwtError::TooDeep));
        let hostile = "[".repeat(100_000);
        let input = format!("{}.{}", encode(HS256_HEADER.as_bytes()), encode(hostile.as_bytes()));
        assert_eq!(
            decode(&format!("{input}.AA"), JwsAlg::Hs256, usize::MAX),
            Err(JwtError::TooDeep)
        );
    }

    #[test]
    fn length_limit_comes_first() {
        let t = raw_token(HS256_HEADER, "{}");
        assert_eq!(decode(&t, JwsAlg::Hs256, t.len()).map(|_| ()), Ok(()));
        assert_eq!(decode(&t, JwsAlg::Hs256, t.len() - 1), Err(JwtError::TooLong));
        let huge = "!".repeat(5_000_000);
        assert_eq!(dec(&huge), Err(JwtError::TooLong));
    }

    #[test]
    fn header_alg() {
        for h in [
            r#"{"typ":"JWT"}"#,
            r#"{"alg":"none"}"#,
            r#"{"alg":"None"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"ES256"}"#,
            r#"{"alg":null}"#,
            r#"{"alg":["HS256"]}"#,
            r#"{"alg":"HS256 "}"#,
        ] {
            assert_eq!(dec(&raw_token(h, "{}")), Err(JwtError::Alg), "{h}");
        }
        // alg none with an empty signature segment: refused as malformed first.
        let none = format!("{}.{}.", encode(br#"{"alg":"none"}"#), encode(b"{}"));
        assert_eq!(dec(&none), Err(JwtError::Malformed));
        // An HS256 token is not an ES256 token.
        let t = raw_token(HS256_HEADER, "{}");
        assert_eq!(decode(&t, JwsAlg::Es256, MAX_TOKEN_BYTES), Err(JwtError::Alg));
        assert!(decode(&t, JwsAlg::Hs256, MAX_TOKEN_BYTES).is_ok());
    }

    #[test]
    fn forbidden_header_parameters() {
        for name in FORBIDDEN_HEADER_PARAMS {
            for value in ["null", "[]", r#""x""#, "false"] {
                let h = format!(r#"{{"alg":"HS256","{name}":{value}}}"#);
                assert_eq!(dec(&raw_token(&h, "{}")), Err(JwtError::ForbiddenHeader), "{h}");
            }
        }
        // Others are tolerated.
        let h = r#"{"alg":"HS256","typ":"JWT","x5t":"x","zip":"DEF","foo":1}"#;
        assert!(dec_verify(&raw_token(h, "{}")).is_ok());
        // alg is checked before the forbidden parameters.
        let h = r#"{"crit":[],"alg":"none"}"#;
        assert_eq!(dec(&raw_token(h, "{}")), Err(JwtError::Alg));
    }

    #[test]
    fn kid_rules() {
        for kid in ["a", "A-z_0.9", &"k".repeat(64), "eph-20260101-3fa2"] {
            let h = format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#);
            let d = dec(&raw_token(&h, "{}")).unwrap();
            assert_eq!(d.kid(), Some(kid));
        }
        for kid in [
            r#""""#,
            &format!(r#""{}""#, "k".repeat(65)),
            r#""a/b""#,
            r#""../x""#,
            r#""a b""#,
            r#""a\u0000""#,
            r#""ké""#,
            r#""a~b""#,
            "1",
            "null",
            r#"["a"]"#,
        ] {
            let h = format!(r#"{{"alg":"HS256","kid":{kid}}}"#);
            assert_eq!(dec(&raw_token(&h, "{}")), Err(JwtError::Kid), "{kid}");
        }
        // Forbidden parameters come before kid.
        let h = r#"{"alg":"HS256","kid":"a/b","jku":"x"}"#;
        assert_eq!(dec(&raw_token(h, "{}")), Err(JwtError::ForbiddenHeader));
    }

    #[test]
    fn unverified_accessors() {
        let t = raw_token(r#"{"alg":"HS256","kid":"k1"}"#, r#"{"iss":"me"}"#);
        let d = dec(&t).unwrap();
        assert_eq!(d.alg(), JwsAlg::Hs256);
        assert_eq!(d.unverified_claims().get("iss").and_then(Json::as_str), Some("me"));
        assert_eq!(d.header().get("kid").and_then(Json::as_str), Some("k1"));
        assert_eq!(d.signing_input(), t.rsplit_once('.').unwrap().0);
        assert_eq!(d.verify_hs256(&key()).unwrap().into_claims(), obj(r#"{"iss":"me"}"#));
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(&Json::Num(5.0)), Some(5));
        assert_eq!(numeric_date(&Json::Num(5.9)), Some(5));
        assert_eq!(numeric_date(&Json::Num(0.0)), Some(0));
        assert_eq!(numeric_date(&Json::Num(-0.0)), Some(0));
        assert_eq!(numeric_date(&Json::Num(1e300)), Some(i64::MAX));
        for bad in [
            Json::Num(-1.0),
            Json::Num(-0.5),
            Json::Num(f64::NAN),
            Json::Num(f64::INFINITY),
            Json::Str("9999999999".into()),
            Json::Bool(true),
            Json::Null,
            Json::Arr(vec![]),
        ] {
            assert_eq!(numeric_date(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn leeway_boundaries() {
        let now = 1_700_000_000;
        assert!(is_expired(now - 60, now));
        assert!(is_expired(now - 61, now));
        assert!(!is_expired(now - 59, now));
        assert!(!is_not_yet_valid(now + 60, now));
        assert!(is_not_yet_valid(now + 61, now));
        assert!(!is_issued_in_future(now + 60, now));
        assert!(is_issued_in_future(now + 61, now));
        // No overflow at the extremes.
        assert!(is_expired(i64::MIN, i64::MIN));
        assert!(!is_issued_in_future(i64::MAX, i64::MAX));
    }

    #[test]
    fn es256_tokens_verify_with_public_keys() {
        use crate::jwk::test_support::{ec_key, sign_es256};
        let k = ec_key(7);
        let input = format!("{}.{}", encode(br#"{"alg":"ES256","kid":"eph-1"}"#), encode(b"{}"));
        let token = format!("{input}.{}", encode(&sign_es256(&k, input.as_bytes())));
        let public = KeyMaterial::P256(*k.verifying_key());
        let d = decode(&token, JwsAlg::Es256, MAX_TOKEN_BYTES).unwrap();
        assert!(d.clone().verify_public(&public).is_ok());
        assert_eq!(d.clone().verify_hs256(&key()), Err(JwtError::Alg));
        let other = KeyMaterial::P256(*ec_key(8).verifying_key());
        assert_eq!(d.verify_public(&other), Err(JwtError::Signature));
        // An HS256 token never verifies with a public key.
        let t = raw_token(HS256_HEADER, "{}");
        assert_eq!(dec(&t).unwrap().verify_public(&public), Err(JwtError::Alg));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for t in [
            "~".repeat(10_000),
            ".".repeat(10_000),
            "é.é.é".to_owned(),
            "\u{0}.\u{0}.\u{0}".to_owned(),
            format!("{}.{}.AA", encode(&[0xc0; 100]), encode(b"{}")),
            format!(
                "{}.{}.AA",
                encode(HS256_HEADER.as_bytes()),
                encode("{\"a\":".repeat(50_000).as_bytes())
            ),
        ] {
            let _ = dec(&t).map(|d| d.verify_hs256(&key()));
        }
    }
}
