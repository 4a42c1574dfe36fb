//! Fixtures shared by the integration tests: baseline B and B-RSA of spec §9.1, built and signed
//! here with RustCrypto. Keys come from seeded RNGs, so the fixtures are the same on every run.
//!
//! Each test binary uses only part of this module.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mozmarket_core::claims::PolicyInput;
use mozmarket_core::jwk::{parse_trusted_keys, PublicKey};
use mozmarket_core::url::NativeUrlParser;
use mozmarket_core::verify::{compat_local, strict_local, Local, Mode, Policy};
use p256::ecdsa::signature::Signer as _;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The clock of §9.1, in milliseconds, and `t` in seconds.
pub const T: f64 = 1_700_000_000_000.0;
pub const TS: i64 = 1_700_000_000;
pub const LEEWAY: f64 = 60_000.0;
pub const ROOT_DOC: &str = "https://keys.store.example/root.jwk";
pub const KEY_ORIGIN: &str = "https://keys.store.example";
/// The default `typsAllowed` (§1.3).
pub const DEFAULT_TYPS: [&str; 3] = ["purchase-receipt", "developer-receipt", "reviewer-receipt"];

// ---------------------------------------------------------------------------------------------
// Keys

pub struct Keys {
    pub r_ec: p256::ecdsa::SigningKey,
    pub k_ec: p256::ecdsa::SigningKey,
    pub attacker_ec: p256::ecdsa::SigningKey,
    pub mid_ec: p256::ecdsa::SigningKey,
    pub r_rsa: rsa::RsaPrivateKey,
    pub k_rsa: rsa::RsaPrivateKey,
    pub rsa_1024: rsa::RsaPrivateKey,
}

/// Generated once per test binary (RSA key generation is the slow part).
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ec = |seed| p256::ecdsa::SigningKey::random(&mut StdRng::seed_from_u64(seed));
        let mut rng = StdRng::seed_from_u64(0x9_4);
        Keys {
            r_ec: ec(1),
            k_ec: ec(2),
            attacker_ec: ec(3),
            mid_ec: ec(4),
            r_rsa: rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap(),
            k_rsa: rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap(),
            rsa_1024: rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap(),
        }
    })
}

#[derive(Clone, Copy)]
pub enum Key {
    Ec(&'static p256::ecdsa::SigningKey),
    Rsa(&'static rsa::RsaPrivateKey),
}

impl Key {
    pub fn alg(self) -> &'static str {
        match self {
            Key::Ec(_) => "ES256",
            Key::Rsa(_) => "RS256",
        }
    }

    /// An ES256 (P1363) or RS256 signature over `input`.
    pub fn sign(self, input: &[u8]) -> Vec<u8> {
        match self {
            Key::Ec(k) => {
                let sig: p256::ecdsa::Signature = k.sign(input);
                sig.to_bytes().to_vec()
            }
            Key::Rsa(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
                .unwrap(),
        }
    }

    /// The public JWK in the standard form.
    pub fn jwk(self, kid: Option<&str>) -> Value {
        let mut v = match self {
            Key::Ec(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256", "x": b64(p.x().unwrap()), "y": b64(p.y().unwrap())})
            }
            Key::Rsa(k) => {
                json!({"kty": "RSA", "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be())})
            }
        };
        if let Some(kid) = kid {
            v["kid"] = json!(kid);
        }
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Compact tokens

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// `h "." p "." sig`, where `sig` is `key`'s signature over the exact text `h "." p` (so
/// non-canonical segment text is signed as it appears).
pub fn sign_segments(key: Key, header_segment: &str, payload_segment: &str) -> String {
    let input = format!("{header_segment}.{payload_segment}");
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// A compact JWS over raw header and payload bytes.
pub fn jws_bytes(key: Key, header: &[u8], payload: &[u8]) -> String {
    sign_segments(key, &b64(header), &b64(payload))
}

/// A compact JWS over the JSON texts of `header` and `payload`.
pub fn jws(key: Key, header: &Value, payload: &Value) -> String {
    jws_bytes(
        key,
        header.to_string().as_bytes(),
        payload.to_string().as_bytes(),
    )
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> [String; 3] {
    let v: Vec<&str> = token.split('.').collect();
    assert_eq!(v.len(), 3);
    [v[0].to_owned(), v[1].to_owned(), v[2].to_owned()]
}

pub fn with_signature(token: &str, sig: &[u8]) -> String {
    let [h, p, _] = segments(token);
    format!("{h}.{p}.{}", b64(sig))
}

pub fn core_json(v: &Value) -> mozmarket_core::Json {
    mozmarket_core::json::parse(v.to_string().as_bytes()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Baseline B (§9.1) and B-RSA

#[derive(Clone)]
pub struct Fixture {
    pub r: Key,
    pub k: Key,
    pub c_header: Value,
    pub c_payload: Value,
    pub j_header: Value,
    pub j_payload: Value,
    /// `trustedKeys` as JWKs (empty: none configured).
    pub trusted: Vec<Value>,
    pub root_key_origins: Vec<String>,
    /// The effective issuer allowlist (`installs_allowed_from`).
    pub installs_allowed_from: Vec<String>,
    /// The effective product URLs (`productURL`).
    pub product_urls: Vec<String>,
    pub leeway_ms: f64,
}

impl Fixture {
    pub fn b() -> Fixture {
        Fixture::with_keys(Key::Ec(&keys().r_ec), Key::Ec(&keys().k_ec))
    }

    pub fn b_rsa() -> Fixture {
        Fixture::with_keys(Key::Rsa(&keys().r_rsa), Key::Rsa(&keys().k_rsa))
    }

    pub fn with_keys(r: Key, k: Key) -> Fixture {
        Fixture {
            r,
            k,
            c_header: json!({"alg": r.alg(), "kid": "root-1"}),
            c_payload: json!({
                "typ": "certified-key",
                "iss": ROOT_DOC,
                "jwk": [k.jwk(Some("sign-1"))],
                "iat": TS - 86400,
                "nbf": TS - 86400,
                "exp": TS + 31_536_000,
            }),
            j_header: json!({"alg": k.alg(), "typ": "JWT", "kid": "sign-1"}),
            j_payload: json!({
                "typ": "purchase-receipt",
                "product": {"url": "https://app.example", "storedata": "id=1"},
                "user": {"type": "directed-identifier", "value": "u-1"},
                "iss": "https://store.example",
                "verify": "https://receiptcheck.store.example/verify/1",
                "iat": TS - 3600,
                "nbf": TS - 3600,
                "exp": TS + 2_592_000,
            }),
            trusted: vec![r.jwk(Some("root-1"))],
            root_key_origins: vec![],
            installs_allowed_from: vec!["https://store.example".into()],
            product_urls: vec!["https://app.example".into()],
            leeway_ms: LEEWAY,
        }
    }

    /// Certificate C, signed by R.
    pub fn c(&self) -> String {
        jws(self.r, &self.c_header, &self.c_payload)
    }

    /// Receipt J, signed by K.
    pub fn j(&self) -> String {
        jws(self.k, &self.j_header, &self.j_payload)
    }

    /// J with its header and payload replaced by raw bytes, signed by K.
    pub fn j_bytes(&self, header: &[u8], payload: &[u8]) -> String {
        jws_bytes(self.k, header, payload)
    }

    /// `C~J`.
    pub fn receipt(&self) -> String {
        format!("{}~{}", self.c(), self.j())
    }

    fn checks(&self) -> PolicyInput {
        PolicyInput {
            typs_allowed: DEFAULT_TYPS.map(String::from).to_vec(),
            product_urls: self.product_urls.clone(),
            installs_allowed_from: Some(self.installs_allowed_from.clone()),
        }
    }

    /// The strict policy of baseline B.
    pub fn policy(&self) -> Policy {
        let trusted = if self.trusted.is_empty() {
            Vec::new()
        } else {
            parse_trusted_keys(&core_json(&json!({"keys": self.trusted})), &NativeUrlParser)
                .unwrap()
        };
        Policy {
            mode: Mode::Strict,
            trusted,
            root_key_origins: self.root_key_origins.clone(),
            leeway_ms: self.leeway_ms,
            checks: self.checks(),
        }
    }

    /// The compat policy of B-C: the same options minus `trustedKeys`.
    pub fn compat_policy(&self) -> Policy {
        Policy {
            mode: Mode::Compat,
            trusted: Vec::new(),
            root_key_origins: Vec::new(),
            leeway_ms: self.leeway_ms,
            checks: self.checks(),
        }
    }

    pub fn run(&self, receipt: &str) -> Local {
        strict_local(receipt, &self.policy(), None, T, &NativeUrlParser)
    }

    pub fn run_with_document(&self, receipt: &str, document: &[PublicKey]) -> Local {
        strict_local(receipt, &self.policy(), Some(document), T, &NativeUrlParser)
    }

    pub fn run_compat(&self, receipt: &str) -> Local {
        compat_local(receipt, &self.compat_policy(), &NativeUrlParser)
    }
}
