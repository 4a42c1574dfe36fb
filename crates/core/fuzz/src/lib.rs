//! Fixtures shared by the fuzz targets and the seed-corpus generator: a fixed P-256 root key (so
//! every run and every machine sees the same trusted key), an intermediate and a leaf key, a
//! fixed policy and clock, and a tiny ES256 JWS signer.
//!
//! Nothing here uses `mozmarket-core`'s own encoders: the seeds are built independently of the
//! code under test.

use mozmarket_core::claims::PolicyInput;
use mozmarket_core::jwk::{KeyMaterial, PublicKey};
use mozmarket_core::verify::{Mode, Policy};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

/// The fuzzers' clock: 2026-01-01T00:00:00Z in milliseconds.
pub const NOW_MS: f64 = 1_767_225_600_000.0;
/// `NOW_MS` in NumericDate seconds.
pub const NOW_S: u64 = 1_767_225_600;

pub const ISS: &str = "https://store.example";
pub const PRODUCT_URL: &str = "https://app.example";
pub const VERIFY_URL: &str = "https://store.example/verify/1";
/// The root document URL that certificates name (its origin is in `root_key_origins`).
pub const ROOT_DOC_URL: &str = "https://keys.store.example/root.jwk";

fn key_from_seed(seed: u8) -> SigningKey {
    // Any 32 bytes below the group order and not zero make a valid scalar.
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(i as u8) | 1;
    }
    bytes[0] = 0x42;
    match SigningKey::from_slice(&bytes) {
        Ok(k) => k,
        Err(_) => unreachable!("fixed scalar is valid"),
    }
}

/// The trusted root key (part 0 of every valid seed chain is signed by it).
pub fn root_key() -> SigningKey {
    key_from_seed(1)
}
/// A key certified by the root (the `cert~cert~receipt` middle).
pub fn intermediate_key() -> SigningKey {
    key_from_seed(2)
}
/// The receipt-signing key.
pub fn leaf_key() -> SigningKey {
    key_from_seed(3)
}

/// The trusted root as core's key type, bound to [`ISS`].
pub fn trusted_root() -> PublicKey {
    PublicKey { material: KeyMaterial::P256(*root_key().verifying_key()), kid: None, iss: Some(ISS.to_owned()) }
}

/// The same root as a root document would give it (no issuer binding).
pub fn root_document_keys() -> Vec<PublicKey> {
    vec![PublicKey { material: KeyMaterial::P256(*root_key().verifying_key()), kid: None, iss: None }]
}

/// A strict policy anchored in [`trusted_root`], with [`ROOT_DOC_URL`]'s origin allowed too.
pub fn strict_policy() -> Policy {
    Policy {
        mode: Mode::Strict,
        trusted: vec![trusted_root()],
        root_key_origins: vec!["https://keys.store.example".to_owned()],
        leeway_ms: 60_000.0,
        checks: PolicyInput {
            typs_allowed: vec!["purchase-receipt".into(), "developer-receipt".into(), "reviewer-receipt".into()],
            product_urls: vec![PRODUCT_URL.to_owned()],
            installs_allowed_from: Some(vec![ISS.to_owned()]),
        },
    }
}

/// Unpadded base64url.
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk.first().copied().unwrap_or(0), chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = ((n >> (18 - 6 * i)) & 63) as usize;
            out.push(char::from(ALPHABET[idx]));
        }
    }
    out
}

/// The public JWK (JSON text) of a key, with an optional `kid`.
pub fn jwk_json(key: &VerifyingKey, kid: Option<&str>) -> String {
    let point = key.to_encoded_point(false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        unreachable!("uncompressed point has coordinates")
    };
    let kid = kid.map(|k| format!(",\"kid\":\"{k}\"")).unwrap_or_default();
    format!(
        "{{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"{}\",\"y\":\"{}\",\"alg\":\"ES256\",\"use\":\"sig\"{kid}}}",
        b64url(x),
        b64url(y)
    )
}

/// An ES256 JWS compact token over the given header and payload JSON texts.
pub fn sign_es256(key: &SigningKey, header_json: &str, payload_json: &str) -> String {
    let signing_input = format!("{}.{}", b64url(header_json.as_bytes()), b64url(payload_json.as_bytes()));
    let sig: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&sig.to_bytes()))
}

pub const HEADER: &str = r#"{"alg":"ES256","typ":"JWT"}"#;

/// A receipt payload valid under [`strict_policy`] at [`NOW_MS`].
pub fn receipt_payload(typ: &str) -> String {
    format!(
        r#"{{"typ":"{typ}","product":{{"url":"{PRODUCT_URL}","storedata":"id=1"}},"user":{{"type":"directed-identifier","value":"u-1"}},"iss":"{ISS}","nbf":{nbf},"iat":{nbf},"exp":{exp},"verify":"{VERIFY_URL}","detail":"{ISS}/detail/1"}}"#,
        nbf = NOW_S - 3600,
        exp = NOW_S + 86_400,
    )
}

/// A certificate payload that certifies `key`, valid at [`NOW_MS`].
pub fn cert_payload(key: &VerifyingKey, exp_days: u64) -> String {
    format!(
        r#"{{"typ":"certified-key","iss":"{ROOT_DOC_URL}","jwk":[{}],"iat":{iat},"exp":{exp},"price_limit":100}}"#,
        jwk_json(key, Some("leaf")),
        iat = NOW_S - 86_400,
        exp = NOW_S + exp_days * 86_400,
    )
}

/// Valid receipts in the three forms: bare, `cert~receipt`, `cert~cert~receipt`.
pub fn valid_receipts() -> Vec<String> {
    let root = root_key();
    let mid = intermediate_key();
    let leaf = leaf_key();
    let bare = sign_es256(&root, HEADER, &receipt_payload("purchase-receipt"));
    let cert_leaf = sign_es256(&root, HEADER, &cert_payload(leaf.verifying_key(), 30));
    let two = format!("{cert_leaf}~{}", sign_es256(&leaf, r#"{"alg":"ES256","typ":"JWT","kid":"leaf"}"#, &receipt_payload("developer-receipt")));
    let cert_mid = sign_es256(&root, HEADER, &cert_payload(mid.verifying_key(), 60));
    let cert_leaf2 = sign_es256(&mid, HEADER, &cert_payload(leaf.verifying_key(), 30));
    let three = format!("{cert_mid}~{cert_leaf2}~{}", sign_es256(&leaf, HEADER, &receipt_payload("reviewer-receipt")));
    vec![bare, two, three]
}
