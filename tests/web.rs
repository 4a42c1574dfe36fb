//! wasm-bindgen tests of the bindings in `src/lib.rs`, run in headless Chromium:
//!
//!   CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 \
//!     cargo test --target wasm32-unknown-unknown -p mozmarket
//!
//! (`bash scripts/test.sh` does this.) They call the exported functions as Rust functions, so the
//! JS values they return — built with the browser's own `URL`, `Object.defineProperty`, … — are
//! checked as the JS layer will see them. Expected values come from `spec/receipts.md`.
//!
//! The signed fixtures were made by `crates/core/fuzz/examples/gen_corpus.rs --rust-consts`
//! (fixed P-256 keys; valid at `NOW_MS`, 2026-01-01T00:00:00Z).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use js_sys::{Array, Object, Reflect, JSON};
use mozmarket::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------------------------
// Fixtures

const ROOT_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"CE_U8mdB8QKqpqE51z7Meq5ujCmrJ1jnzEP4oeJsQF4","y":"wTJO-grBI8CfiNSVjJg-Ay0rLyL_OCCXCpv2cBXVxwE","alg":"ES256","use":"sig","iss":"https://store.example"}"#;
const ROOT_X: &str = "CE_U8mdB8QKqpqE51z7Meq5ujCmrJ1jnzEP4oeJsQF4";
const ROOT_Y: &str = "wTJO-grBI8CfiNSVjJg-Ay0rLyL_OCCXCpv2cBXVxwE";
/// RFC 7515 appendix A.3's P-256 key: valid, but not the fixture's root.
const OTHER_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
const NOW_MS: f64 = 1767225600000.0;
/// `iat` and `nbf` of the fixture receipts: `NOW − 3600 s`.
const IAT_S: f64 = 1767222000.0;
const ISS: &str = "https://store.example";
const PRODUCT: &str = "https://app.example";
const VERIFY: &str = "https://store.example/verify/1";
const ROOT_DOC_URL: &str = "https://keys.store.example/root.jwk";
const RECEIPT_BARE: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJwdXJjaGFzZS1yZWNlaXB0IiwicHJvZHVjdCI6eyJ1cmwiOiJodHRwczovL2FwcC5leGFtcGxlIiwic3RvcmVkYXRhIjoiaWQ9MSJ9LCJ1c2VyIjp7InR5cGUiOiJkaXJlY3RlZC1pZGVudGlmaWVyIiwidmFsdWUiOiJ1LTEifSwiaXNzIjoiaHR0cHM6Ly9zdG9yZS5leGFtcGxlIiwibmJmIjoxNzY3MjIyMDAwLCJpYXQiOjE3NjcyMjIwMDAsImV4cCI6MTc2NzMxMjAwMCwidmVyaWZ5IjoiaHR0cHM6Ly9zdG9yZS5leGFtcGxlL3ZlcmlmeS8xIiwiZGV0YWlsIjoiaHR0cHM6Ly9zdG9yZS5leGFtcGxlL2RldGFpbC8xIn0.cquQXWTGjxiP-iDqlTKWDXmLamJgU9ow1H1DmpCjeJ_akqYQeipghKldSvlRMmR9ZU_cuwpdmWA-LpJK-fESBg";
const RECEIPT_CHAIN2: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJjZXJ0aWZpZWQta2V5IiwiaXNzIjoiaHR0cHM6Ly9rZXlzLnN0b3JlLmV4YW1wbGUvcm9vdC5qd2siLCJqd2siOlt7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoiV2lJYnA1RllHU2RZSnNiSnNiS1pYWWxOUTAwZHB1NXFNbldPMjZrSWpaQSIsInkiOiJqWDN5a0I3ei1vcTg0RkRMR19WckQ4U3EyeHJ6ckx3ay1ZMUtIaWdWQWZVIiwiYWxnIjoiRVMyNTYiLCJ1c2UiOiJzaWciLCJraWQiOiJsZWFmIn1dLCJpYXQiOjE3NjcxMzkyMDAsImV4cCI6MTc2OTgxNzYwMCwicHJpY2VfbGltaXQiOjEwMH0.vG9mLN5kC1953iPL6pc3Wm6HWT4LbruLqRcwFZHOHWU9Vcch8Nk0pggExv95OcIKw26WrrwApbZQL1hdai93sw~eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImxlYWYifQ.eyJ0eXAiOiJkZXZlbG9wZXItcmVjZWlwdCIsInByb2R1Y3QiOnsidXJsIjoiaHR0cHM6Ly9hcHAuZXhhbXBsZSIsInN0b3JlZGF0YSI6ImlkPTEifSwidXNlciI6eyJ0eXBlIjoiZGlyZWN0ZWQtaWRlbnRpZmllciIsInZhbHVlIjoidS0xIn0sImlzcyI6Imh0dHBzOi8vc3RvcmUuZXhhbXBsZSIsIm5iZiI6MTc2NzIyMjAwMCwiaWF0IjoxNzY3MjIyMDAwLCJleHAiOjE3NjczMTIwMDAsInZlcmlmeSI6Imh0dHBzOi8vc3RvcmUuZXhhbXBsZS92ZXJpZnkvMSIsImRldGFpbCI6Imh0dHBzOi8vc3RvcmUuZXhhbXBsZS9kZXRhaWwvMSJ9.6Bcx5DtBI0D7Ip7Mov3iw6uoUJekiIaVTdv6PLKr5l_gj1sp1jA-F8FZv-zkEB2dvSHJcyiKSLUArvX5RqxYAQ";
const RECEIPT_CHAIN3: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJjZXJ0aWZpZWQta2V5IiwiaXNzIjoiaHR0cHM6Ly9rZXlzLnN0b3JlLmV4YW1wbGUvcm9vdC5qd2siLCJqd2siOlt7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4Ijoid0tFSkc5TUhhMzhTYjJwM1pLVm1KU2lCVnJRLTBJNE5rLWIySXc0QTBsbyIsInkiOiJCb2RCS0lQU1RkNHZ6aEU0R3EwSDd3bVB3NGhhbmVueFFRU0hrbURVVXV3IiwiYWxnIjoiRVMyNTYiLCJ1c2UiOiJzaWciLCJraWQiOiJsZWFmIn1dLCJpYXQiOjE3NjcxMzkyMDAsImV4cCI6MTc3MjQwOTYwMCwicHJpY2VfbGltaXQiOjEwMH0.GeFsbTTP7OD9zt5z0E5gCDMOPdYx88WUCuAAABD0kyCw65laIk9MolB6X8wbSV-X1Jvye8hXSWjeHRRcO137uA~eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJjZXJ0aWZpZWQta2V5IiwiaXNzIjoiaHR0cHM6Ly9rZXlzLnN0b3JlLmV4YW1wbGUvcm9vdC5qd2siLCJqd2siOlt7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoiV2lJYnA1RllHU2RZSnNiSnNiS1pYWWxOUTAwZHB1NXFNbldPMjZrSWpaQSIsInkiOiJqWDN5a0I3ei1vcTg0RkRMR19WckQ4U3EyeHJ6ckx3ay1ZMUtIaWdWQWZVIiwiYWxnIjoiRVMyNTYiLCJ1c2UiOiJzaWciLCJraWQiOiJsZWFmIn1dLCJpYXQiOjE3NjcxMzkyMDAsImV4cCI6MTc2OTgxNzYwMCwicHJpY2VfbGltaXQiOjEwMH0.jCI8GRCqyZUDv_lXg82J2iRXwKMlSp0cHpmsdpcGrqga4MQDCvgnyY0kUlpTiQKy8Z_Fn8fnnaqnaW3YqN-X7w~eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXAiOiJyZXZpZXdlci1yZWNlaXB0IiwicHJvZHVjdCI6eyJ1cmwiOiJodHRwczovL2FwcC5leGFtcGxlIiwic3RvcmVkYXRhIjoiaWQ9MSJ9LCJ1c2VyIjp7InR5cGUiOiJkaXJlY3RlZC1pZGVudGlmaWVyIiwidmFsdWUiOiJ1LTEifSwiaXNzIjoiaHR0cHM6Ly9zdG9yZS5leGFtcGxlIiwibmJmIjoxNzY3MjIyMDAwLCJpYXQiOjE3NjcyMjIwMDAsImV4cCI6MTc2NzMxMjAwMCwidmVyaWZ5IjoiaHR0cHM6Ly9zdG9yZS5leGFtcGxlL3ZlcmlmeS8xIiwiZGV0YWlsIjoiaHR0cHM6Ly9zdG9yZS5leGFtcGxlL2RldGFpbC8xIn0.wEvV-wYpjQ0OfSlhP5w70fLRN3OySWnY8gkvTs9cuRLm_lRLNX5Abq6jk1JANueimmdtdAoW6LTAPiEv2Sh3ew";

const TWO_MB: usize = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Helpers

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn get_str(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_else(|| panic!("{key} is not a string in {}", show(v)))
}

fn kind(v: &JsValue) -> String {
    get_str(v, "kind")
}

/// `JSON.stringify`, for messages and whole-value comparisons.
fn show(v: &JsValue) -> String {
    if v.is_undefined() {
        return "undefined".into();
    }
    JSON::stringify(v).map(String::from).unwrap_or_else(|_| format!("{v:?}"))
}

/// `(name, detail, attrs as JSON text)` of a `{kind: "failed", error}` value.
fn failure(v: &JsValue) -> (String, String, String) {
    assert_eq!(kind(v), "failed", "{}", show(v));
    let e = get(v, "error");
    (get_str(&e, "name"), get_str(&e, "detail"), show(&get(&e, "attrs")))
}

/// The message of a thrown `Error`.
fn thrown<T>(r: Result<T, JsValue>) -> String {
    match r {
        Ok(_) => panic!("expected a throw"),
        Err(e) => {
            assert!(e.is_instance_of::<js_sys::Error>(), "a bare value was thrown: {e:?}");
            String::from(e.unchecked_into::<js_sys::Error>().message())
        }
    }
}

fn strings(items: &[&str]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

/// Unpadded base64url (independent of core's).
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A JWS with a well-formed but meaningless signature (for parsing, not verification).
fn unsigned(header: &str, payload: &str) -> String {
    format!("{}.{}.{}", b64url(header.as_bytes()), b64url(payload.as_bytes()), b64url(&[7u8; 64]))
}

fn receipt_payload(typ: &str) -> String {
    format!(
        r#"{{"typ":"{typ}","product":{{"url":"{PRODUCT}"}},"user":{{"type":"directed-identifier","value":"u"}},"iss":"{ISS}","nbf":{IAT_S},"iat":{IAT_S},"verify":"{VERIFY}"}}"#
    )
}

fn keyset(json: &str) -> KeySet {
    match parse_trusted_keys(json) {
        Ok(k) => k,
        Err(e) => panic!("parseTrustedKeys({json}) threw {e:?}"),
    }
}

fn strict_policy(trusted: KeySet, root_key_origins: &[&str], product_urls: &[&str]) -> RunPolicy {
    RunPolicy::new(
        "strict",
        Some(trusted),
        strings(root_key_origins),
        60_000.0,
        strings(&["purchase-receipt", "developer-receipt", "reviewer-receipt"]),
        strings(product_urls),
        Some(strings(&[ISS])),
    )
}

fn root_policy() -> RunPolicy {
    strict_policy(keyset(&format!("{{\"keys\":[{ROOT_JWK}]}}")), &[], &[PRODUCT])
}

fn compat_policy() -> RunPolicy {
    RunPolicy::new(
        "compat",
        None,
        Array::new(),
        60_000.0,
        strings(&["purchase-receipt", "developer-receipt", "reviewer-receipt"]),
        Array::new(),
        None,
    )
}

fn ec_jwk(extra: &str) -> String {
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{ROOT_X}","y":"{ROOT_Y}"{extra}}}"#)
}

fn assert_own_proto_key(v: &JsValue) {
    let obj: &Object = v.unchecked_ref();
    let names = Object::get_own_property_names(obj);
    assert!(
        names.includes(&JsValue::from_str("__proto__"), 0),
        "__proto__ must be an own property: {}",
        show(&names)
    );
    // …and the prototype is still Object.prototype, not the attacker's object.
    let proto = Object::get_prototype_of(v);
    assert!(Object::is(&proto, &Object::get_prototype_of(&Object::new())), "prototype replaced");
    assert!(get(&Object::new(), "polluted").is_undefined(), "Object.prototype polluted");
}

// ---------------------------------------------------------------------------------------------
// The class tree and promotion (§5)

#[wasm_bindgen_test]
fn class_tree_has_every_class_parents_first() {
    let tree = class_tree();
    assert_eq!(tree.length(), 34);
    let rows: Vec<(String, Option<String>, bool)> = tree
        .iter()
        .map(|row| {
            let row: Array = row.unchecked_into();
            (row.get(0).as_string().unwrap(), row.get(1).as_string(), row.get(2).as_bool().unwrap())
        })
        .collect();
    assert_eq!(rows[0], ("VerificationIncomplete".into(), None, false));
    for (i, (name, parent, _)) in rows.iter().enumerate() {
        if let Some(p) = parent {
            let pi = rows.iter().position(|(n, _, _)| n == p).unwrap_or_else(|| panic!("{name}: no {p}"));
            assert!(pi < i, "{p} must come before {name}");
        }
    }
    assert_eq!(rows.iter().filter(|r| !r.2).count(), 14, "states");
    assert_eq!(rows.iter().filter(|r| r.2).count(), 20, "errors");
    let find = |n: &str| rows.iter().find(|r| r.0 == n).cloned().unwrap_or_else(|| panic!("no {n}"));
    assert_eq!(find("RequestTimeout"), ("RequestTimeout".into(), Some("ServerError".into()), true));
    assert_eq!(find("ServerError"), ("ServerError".into(), Some("NetworkError".into()), false));
    assert_eq!(find("ConnectionError"), ("ConnectionError".into(), Some("NetworkError".into()), true));
    assert_eq!(find("OKStaleCache"), ("OKStaleCache".into(), Some("OKCache".into()), false));
    assert_eq!(find("OK"), ("OK".into(), None, false));
    assert_eq!(find("ProductURLError"), ("ProductURLError".into(), None, true));
    assert_eq!(find("ReceiptParseError").1.as_deref(), Some("ReceiptFormatError"));
    assert_eq!(find("InvalidSignature").1.as_deref(), Some("ReceiptSignatureError"));
    assert_eq!(find("VerifierError").1.as_deref(), Some("InternalError"));
}

#[wasm_bindgen_test]
fn promotion_rules() {
    assert!(promotes("VerificationIncomplete", "ConnectionError"));
    assert!(promotes("VerificationIncomplete", "RequestTimeout"));
    assert!(!promotes("ConnectionError", "RequestTimeout"), "first NetworkError wins");
    assert!(!promotes("OKCache", "ConnectionError"));
    assert!(promotes("OK", "OKCache"));
    assert!(promotes("VerificationIncomplete", "OKStaleCache"));
    assert!(!promotes("ConnectionError", "OKCache"));
    assert!(!promotes("VerificationIncomplete", "InvalidSignature"));
    assert!(!promotes("VerificationIncomplete", "Refunded"));
    // Names are exact; anything else never promotes.
    for (a, b) in [("", ""), ("ok", "OK"), ("__proto__", "OK"), ("VerificationIncomplete", "toString")] {
        assert!(!promotes(a, b), "{a} / {b}");
    }
    let big = "O".repeat(TWO_MB);
    assert!(!promotes(&big, &big));
}

// ---------------------------------------------------------------------------------------------
// trustedKeys and root documents (§1.5, §1.6, §4.1)

#[wasm_bindgen_test]
fn trusted_keys_accepted_forms() {
    assert_eq!(keyset(&format!("{{\"keys\":[{ROOT_JWK}]}}")).length(), 1);
    assert_eq!(keyset(&format!("[{ROOT_JWK},{OTHER_JWK}]")).length(), 2);
    let ks = keyset(&format!("[{OTHER_JWK}]"));
    let copy = ks.copy();
    assert_eq!((ks.length(), copy.length()), (1, 1));
    assert_eq!(keyset(&format!("[{}]", ec_jwk(r#","kid":"k-1","key_ops":["verify"]"#))).length(), 1);
}

#[wasm_bindgen_test]
fn trusted_keys_error_messages() {
    let n2048 = b64url(&[0xC5; 256]);
    let cases: Vec<(String, &str)> = vec![
        // The container (message without an index).
        ("not json".into(), "trustedKeys"),
        ("".into(), "trustedKeys"),
        ("42".into(), "trustedKeys"),
        ("\"keys\"".into(), "trustedKeys"),
        ("[]".into(), "trustedKeys"),
        ("{\"keys\":[]}".into(), "trustedKeys"),
        (format!("[{}]", vec![OTHER_JWK; 33].join(",")), "trustedKeys"),
        // One entry.
        (format!("[{}]", ec_jwk(r#","d":"AA""#)), "trustedKeys[0]: private key members are not allowed"),
        (r#"[{"kty":"oct","k":"c2VjcmV0"}]"#.into(), "trustedKeys[0]: private key members are not allowed"),
        (r#"[{"kty":"OKP","crv":"Ed25519","x":"AA"}]"#.into(), "trustedKeys[0]: unsupported key type"),
        (r#"[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]"#.into(), "trustedKeys[0]: unsupported key type"),
        ("[42]".into(), "trustedKeys[0]: unsupported key type"),
        (format!("[{}]", ec_jwk(r#","alg":"RS256""#)), "trustedKeys[0]: alg does not match the key"),
        (format!("[{}]", ec_jwk(r#","use":"enc""#)), "trustedKeys[0]: use must be sig"),
        (format!("[{}]", ec_jwk(r#","key_ops":["sign"]"#)), "trustedKeys[0]: key_ops must include verify"),
        (format!("[{}]", ec_jwk(r#","kid":"""#)), "trustedKeys[0]: invalid kid"),
        (format!("[{}]", ec_jwk(r#","kid":"a b""#)), "trustedKeys[0]: invalid kid"),
        (format!("[{}]", ec_jwk(r#","iss":"https://store.example/path""#)), "trustedKeys[0]: iss must be an origin"),
        (format!("[{}]", ec_jwk(r#","iss":"https://user@store.example""#)), "trustedKeys[0]: iss must be an origin"),
        (
            format!(r#"[{{"kty":"EC","crv":"P-256","x":"{ROOT_X}=","y":"{ROOT_Y}"}}]"#),
            "trustedKeys[0]: invalid base64url",
        ),
        (
            format!(r#"[{{"kty":"EC","crv":"P-256","x":"{0}","y":"{0}"}}]"#, b64url(&[1; 32])),
            "trustedKeys[0]: EC point is not on P-256",
        ),
        (r#"[{"kty":"RSA","n":"AQAB","e":"AQAB"}]"#.into(), "trustedKeys[0]: RSA modulus must be 2048 to 4096 bits"),
        (format!(r#"[{{"kty":"RSA","n":"{n2048}","e":"Ag"}}]"#), "trustedKeys[0]: invalid RSA exponent"),
        // The index is the failing entry's.
        (format!(r#"[{OTHER_JWK},{{"kty":"oct"}}]"#), "trustedKeys[1]: unsupported key type"),
    ];
    for (input, want) in cases {
        let shown: String = input.chars().take(120).collect();
        assert_eq!(thrown(parse_trusted_keys(&input)), want, "input: {shown}");
    }
}

#[wasm_bindgen_test]
fn root_documents() {
    let plain = format!(r#"{{"jwk":[{}]}}"#, ec_jwk(""));
    assert_eq!(parse_root_document(&plain).map(|k| k.length()), Some(1));
    // The JWS form: the payload is the document; its signature is not checked.
    let jws = unsigned(r#"{"alg":"ES256"}"#, &plain);
    assert_eq!(parse_root_document(&jws).map(|k| k.length()), Some(1));
    for bad in ["", "{}", r#"{"jwk":[]}"#, r#"{"keys":[]}"#, "[]", "null", "a.b.c"] {
        assert!(parse_root_document(bad).is_none(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// The strict and compat local stages (§2.3, §2.4)

#[wasm_bindgen_test]
fn strict_local_passes_the_three_forms() {
    for receipt in [RECEIPT_BARE, RECEIPT_CHAIN2, RECEIPT_CHAIN3] {
        let out = strict_local(receipt, &root_policy(), None, NOW_MS, None);
        assert_eq!(kind(&out), "passed", "{}", show(&out));
        assert_eq!(get_str(&get(&out, "product"), "url"), PRODUCT);
        assert_eq!(get_str(&out, "iss"), ISS);
        assert_eq!(get_str(&out, "verify"), VERIFY);
        assert_eq!(get(&out, "iat").as_f64(), Some(IAT_S));
        assert_eq!(get_str(&get(&out, "payload"), "iss"), ISS);
    }
}

#[wasm_bindgen_test]
fn strict_local_failures() {
    // A changed signature byte.
    let (head, sig) = RECEIPT_BARE.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('c') { sig.replacen('c', "d", 1) } else { format!("c{}", &sig[1..]) };
    let out = strict_local(&format!("{head}.{flipped}"), &root_policy(), None, NOW_MS, None);
    assert_eq!(
        failure(&out),
        ("InvalidSignature".into(), "Signature verification failed".into(), r#"[["part",0]]"#.into())
    );
    // Signed by a key nobody configured.
    let out = strict_local(RECEIPT_BARE, &strict_policy(keyset(&format!("[{OTHER_JWK}]")), &[], &[PRODUCT]), None, NOW_MS, None);
    assert_eq!(failure(&out).0, "InvalidSignature");
    // Two days later the receipt has expired.
    let out = strict_local(RECEIPT_BARE, &root_policy(), None, NOW_MS + 2.0 * 86_400_000.0, None);
    assert_eq!((failure(&out).0, failure(&out).1), ("ReceiptExpired".into(), "Receipt has expired".into()));
    // Another product.
    let out = strict_local(RECEIPT_BARE, &strict_policy(keyset(&format!("[{ROOT_JWK}]")), &[], &["https://other.example"]), None, NOW_MS, None);
    assert_eq!(failure(&out).1, "Product URL wrong: https://app.example");
    // Parse failures come through with their attributes.
    let out = strict_local("a.b", &root_policy(), None, NOW_MS, None);
    assert_eq!(
        failure(&out),
        ("ReceiptParseError".into(), "JWT has 2 segments (expected 3)".into(), r#"[["part",0]]"#.into())
    );
    let out = strict_local(&unsigned(r#"{"alg":"none"}"#, &receipt_payload("purchase-receipt")), &root_policy(), None, NOW_MS, None);
    assert_eq!(
        failure(&out),
        ("AlgorithmNotAllowed".into(), "Algorithm not allowed: none".into(), r#"[["part",0],["alg","none"]]"#.into())
    );
}

#[wasm_bindgen_test]
fn strict_local_delegates_signature_equations_when_given_answers() {
    let pending_of = |out: &JsValue| Array::from(&Reflect::get(out, &"pending".into()).unwrap());
    // No answers yet: the pass counts every equation (certificates, receipt) as valid and lists them.
    let out = strict_local(RECEIPT_CHAIN3, &root_policy(), None, NOW_MS, Some(Array::new()));
    let pending = pending_of(&out);
    assert!(pending.length() >= 2, "{}", show(&out));
    assert_eq!(kind(&out), "pending", "an undecided pass carries no decision");
    let ids: Vec<String> = pending.iter().map(|r| get_str(&r, "id")).collect();
    let first = pending.get(0);
    assert_eq!(get_str(&first, "alg"), "ES256");
    let key = Reflect::get(&first, &"key".into()).unwrap();
    assert_eq!(get_str(&key, "kty"), "EC");
    assert_eq!(js_sys::Uint8Array::new(&Reflect::get(&key, &"raw".into()).unwrap()).length(), 65);
    assert_eq!(js_sys::Uint8Array::new(&Reflect::get(&first, &"signature".into()).unwrap()).length(), 64);
    let table = |valid: bool| {
        let a = Array::new();
        for id in &ids {
            a.push(&Array::of2(&id.into(), &valid.into()).into());
        }
        a
    };
    // Every equation answered true: the same decision as computing them here, nothing pending.
    let all_true = strict_local(RECEIPT_CHAIN3, &root_policy(), None, NOW_MS, Some(table(true)));
    let computed = strict_local(RECEIPT_CHAIN3, &root_policy(), None, NOW_MS, None);
    assert_eq!(kind(&computed), "passed");
    assert_eq!(kind(&all_true), "passed", "{}", show(&all_true));
    assert_eq!(pending_of(&all_true).length(), 0);
    // The answers decide: all false is an InvalidSignature with nothing pending.
    let all_false = strict_local(RECEIPT_CHAIN3, &root_policy(), None, NOW_MS, Some(table(false)));
    assert_eq!(failure(&all_false).0, "InvalidSignature", "{}", show(&all_false));
    assert_eq!(pending_of(&all_false).length(), 0);
    // Malformed table entries are ignored, never trusted.
    let junk = Array::of3(&"x".into(), &Array::of2(&ids[0].clone().into(), &"yes".into()).into(), &JsValue::NULL);
    assert!(pending_of(&strict_local(RECEIPT_CHAIN3, &root_policy(), None, NOW_MS, Some(junk))).length() >= 2);
}

#[wasm_bindgen_test]
fn strict_local_asks_for_an_allowed_root_document() {
    let policy = strict_policy(keyset(&format!("[{OTHER_JWK}]")), &["https://keys.store.example"], &[PRODUCT]);
    let out = strict_local(RECEIPT_CHAIN2, &policy, None, NOW_MS, None);
    assert_eq!(kind(&out), "needsRootDocument", "{}", show(&out));
    assert_eq!(get_str(&out, "url"), ROOT_DOC_URL);
    let doc = parse_root_document(&format!(r#"{{"jwk":[{}]}}"#, ec_jwk(""))).unwrap();
    let out = strict_local(RECEIPT_CHAIN2, &policy, Some(doc), NOW_MS, None);
    assert_eq!(kind(&out), "passed", "{}", show(&out));
    // A bare receipt has no certificate to name a document: no fetch.
    let out = strict_local(RECEIPT_BARE, &policy, None, NOW_MS, None);
    assert_eq!(failure(&out).0, "InvalidSignature");
}

#[wasm_bindgen_test]
fn compat_local() {
    let out = mozmarket::compat_local(RECEIPT_BARE, &compat_policy());
    assert_eq!(kind(&out), "passed", "{}", show(&out));
    assert_eq!(get_str(&out, "verify"), VERIFY);
    assert_eq!(get(&out, "iat").as_f64(), Some(IAT_S));
    let out = mozmarket::compat_local("abc", &compat_policy());
    assert_eq!(failure(&out).1, "Error decoding JSON: Not valid JWT");
    let out = mozmarket::compat_local(&unsigned("{}", &receipt_payload("test-receipt")), &compat_policy());
    assert_eq!(failure(&out).1, "Wrong receipt type: test-receipt");
}

// ---------------------------------------------------------------------------------------------
// Parsers and the add-receipt check (§1.8, §2.3.1, §2.4)

#[wasm_bindgen_test]
fn parse_strict_details() {
    let big = "a".repeat(TWO_MB);
    for (input, want) in [
        ("", "Receipt has an empty part"),
        (big.as_str(), "Receipt is too big (limit 1048576 bytes)"),
        ("é", "Receipt contains an invalid character"),
        (" abc", "Receipt contains an invalid character"),
        ("a~b~c~d", "Receipt has 4 ~-separated parts (expected 1 to 3)"),
        ("~a", "Receipt has an empty part"),
        ("a.b", "JWT has 2 segments (expected 3)"),
        ("a.b.", "JWT has an empty segment"),
    ] {
        let shown: String = input.chars().take(20).collect();
        assert_eq!(thrown(parse_strict(input)), want, "{shown}");
    }
    let payload = parse_strict(RECEIPT_CHAIN3).unwrap();
    assert_eq!(get_str(&payload, "typ"), "reviewer-receipt");
}

#[wasm_bindgen_test]
fn parse_lenient_reasons() {
    let big = "a.".repeat(TWO_MB / 2);
    for (input, want) in [
        ("", "Not valid JWT"),
        ("abc", "Not valid JWT"),
        (big.as_str(), "receipt is too big"),
        ("a~b~c~d.e.f", "too many ~-separated parts"),
        ("a.!!.c", "invalid base64"),
    ] {
        let shown: String = input.chars().take(20).collect();
        assert_eq!(thrown(parse_lenient(input)), want, "{shown}");
    }
    // Padding and the standard alphabet are fine in compat.
    let payload = parse_lenient(&format!("x.{}==.y", b64url(b"{\"a\":1}"))).unwrap();
    assert_eq!(get(&payload, "a").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
fn add_receipt_check_names() {
    let big = "a".repeat(TWO_MB);
    let no_typ = unsigned("{}", r#"{"product":{},"user":{},"iss":"x","nbf":1,"iat":1}"#);
    let bad_typ = unsigned("{}", &receipt_payload("certified-key"));
    for (input, want) in [
        ("", Some("INVALID_SEGMENTS_NUMBER")),
        (big.as_str(), Some("RECEIPT_TOO_BIG")),
        ("a.b", Some("INVALID_SEGMENTS_NUMBER")),
        ("a~b~c~d", Some("INVALID_SEGMENTS_NUMBER")),
        ("a.!!.c", Some("INVALID_RECEIPT_ENCODING")),
        (no_typ.as_str(), Some("RECEIPT_TYPE_REQUIRED")),
        (bad_typ.as_str(), Some("RECEIPT_TYPE_UNSUPPORTED")),
        (RECEIPT_BARE, None),
        (RECEIPT_CHAIN3, None),
    ] {
        let shown: String = input.chars().take(20).collect();
        assert_eq!(add_receipt_check(input).as_deref(), want, "{shown}");
    }
}

#[wasm_bindgen_test]
fn proto_keys_are_own_properties() {
    let payload = r#"{"__proto__":{"polluted":1},"typ":"purchase-receipt"}"#;
    let token = unsigned(r#"{"alg":"ES256"}"#, payload);
    let v = parse_strict(&token).unwrap();
    assert_own_proto_key(&v);
    assert_eq!(get_str(&v, "typ"), "purchase-receipt");
    assert_own_proto_key(&parse_lenient(&token).unwrap());

    let body = r#"{"status":"ok","__proto__":{"polluted":1}}"#;
    let out = map_store_answer(false, 200, None, body, VERIFY, ISS, true, 30_000.0);
    assert_eq!(kind(&out), "verified", "{}", show(&out));
    assert_own_proto_key(&get(&out, "result"));

    let entry = cache_entry_text(NOW_MS, body).unwrap();
    assert_own_proto_key(&cache_stale(Some(entry.clone())));
    let fresh = cache_fresh(Some(entry), NOW_MS, 86_400_000.0, 0.0, None);
    assert_own_proto_key(&get(&fresh, "result"));
}

// ---------------------------------------------------------------------------------------------
// Browser URL parsing through core (§0.4, §2.5)

#[wasm_bindgen_test]
fn product_urls_normalise_with_the_browser_parser() {
    for (input, want) in [
        ("https://App.Example:443/", Some("https://app.example")),
        ("https://app.example", Some("https://app.example")),
        ("https://app.example/inapp/1", Some("https://app.example/inapp/1")),
        ("http://app.example:8080/", Some("http://app.example:8080")),
        ("App.Example", Some("app://app.example")),
        ("app://App.Example/", Some("app://app.example")),
        ("https://bücher.example/", Some("https://xn--bcher-kva.example")),
        ("https://user@app.example", None),
        ("https://user:pw@app.example", None),
        ("https://app.example/?q=1", None),
        ("https://app.example/#f", None),
        ("ftp://app.example", None),
        ("", None),
        ("https://", None),
    ] {
        assert_eq!(normalize_product_url(input).as_deref(), want, "{input}");
    }
}

#[wasm_bindgen_test]
fn https_origins() {
    for (input, want) in [
        ("https://App.Example:443", Some("https://app.example")),
        ("https://keys.store.example/", Some("https://keys.store.example")),
        ("https://keys.store.example:8443", Some("https://keys.store.example:8443")),
        ("https://BÜCHER.example", Some("https://xn--bcher-kva.example")),
        ("http://keys.store.example", None),
        ("https://keys.store.example/root.jwk", None),
        ("https://keys.store.example/?a", None),
        ("https://u:p@keys.store.example", None),
        ("keys.store.example", None),
        ("", None),
    ] {
        assert_eq!(https_origin(input).as_deref(), want, "{input}");
    }
}

#[wasm_bindgen_test]
fn url_origins() {
    for (input, want) in [
        ("https://App.Example:443/a/b?c#d", Some("https://app.example")),
        ("http://a.example:8080/", Some("http://a.example:8080")),
        ("https://bücher.example/x", Some("https://xn--bcher-kva.example")),
        ("app://Packaged.Example/index.html", Some("app://packaged.example")),
        ("not a url", None),
        ("", None),
    ] {
        assert_eq!(url_origin(input).as_deref(), want, "{input}");
    }
}

// ---------------------------------------------------------------------------------------------
// Store answers and root-document answers (§3.3, §2.3.3)

fn store(timed_out: bool, status: u16, final_url: Option<&str>, body: &str, strict: bool) -> JsValue {
    map_store_answer(timed_out, status, final_url.map(str::to_owned), body, VERIFY, ISS, strict, 30_000.0)
}

#[wasm_bindgen_test]
fn store_answers_verified() {
    let out = store(false, 200, Some(VERIFY), r#"{"status":"ok"}"#, true);
    assert_eq!(kind(&out), "verified");
    assert_eq!(get(&out, "cache").as_bool(), Some(true));
    assert_eq!(get_str(&get(&out, "result"), "status"), "ok");
    let out = store(false, 200, None, r#"{"status":"pending"}"#, true);
    assert_eq!((kind(&out), get(&out, "cache").as_bool()), ("verified".into(), Some(false)));
}

/// `(answer, (name, detail, attrs JSON when checked), deleteCache, alsoVerified)`.
type StoreCase<'a> = (JsValue, (&'a str, String, Option<String>), bool, bool);

#[wasm_bindgen_test]
fn store_answers_failed() {
    let url = format!(r#"[["url","{VERIFY}"]]"#);
    let cases: Vec<StoreCase> = vec![
        (store(true, 0, None, "", true), ("RequestTimeout", "The request timed out after 30000 milliseconds".into(), Some(url.clone())), false, false),
        (store(false, 0, None, "", true), ("ConnectionError", "Server could not be contacted".into(), Some(url.clone())), false, false),
        (store(false, 404, None, "", true), ("ServerStatusError", format!("Server responded with 404 to {VERIFY}"), Some(format!(r#"[["status",404],["url","{VERIFY}"]]"#))), false, false),
        (store(false, 500, None, "{\"status\":\"ok\"}", true), ("ServerStatusError", "Server responded with non-200 status: 500".into(), None), false, false),
        (store(false, 200, Some("https://evil.example/v"), r#"{"status":"ok"}"#, true), ("InvalidServerResponse", "Store response came from an unexpected URL".into(), Some(url.clone())), false, false),
        (store(false, 200, None, "<html>captive portal</html>", true), ("InvalidServerResponse", "Invalid JSON from server".into(), None), false, false),
        (store(false, 200, None, "", true), ("InvalidServerResponse", "Invalid JSON from server".into(), None), false, false),
        (store(false, 200, None, "null", true), ("InvalidServerResponse", "Server did not respond with a JSON object (null)".into(), None), false, false),
        (store(false, 200, None, "[1]", true), ("InvalidServerResponse", "Server did not respond with a JSON object ([1])".into(), None), false, false),
        (store(false, 200, None, r#"{"status":"refunded"}"#, true), ("Refunded", "Application payment was refunded".into(), None), true, false),
        (store(false, 200, None, r#"{"status":"expired"}"#, true), ("ReceiptExpired", "Receipt expired".into(), None), true, false),
        (store(false, 200, None, r#"{"status":"expired"}"#, false), ("ReceiptExpired", "Receipt expired".into(), None), true, true),
        (store(false, 200, None, r#"{"status":"invalid","reason":"NO_PURCHASE"}"#, true), ("InvalidFromStore", "The store reports the receipt is invalid".into(), None), true, false),
        (store(false, 200, None, r#"{"status":"OK"}"#, true), ("InvalidServerResponse", "Store replied with unknown status: OK".into(), None), false, false),
        (store(false, 200, None, r#"{}"#, true), ("InvalidServerResponse", "Store replied with unknown status: undefined".into(), None), false, false),
        (store(false, 200, None, r#"{"status":5}"#, true), ("InvalidServerResponse", "Store replied with unknown status: 5".into(), None), false, false),
    ];
    for (out, (name, detail, attrs), delete_cache, also_verified) in cases {
        let (n, d, a) = failure(&out);
        assert_eq!((n.as_str(), d.as_str()), (name, detail.as_str()), "{}", show(&out));
        if let Some(attrs) = attrs {
            assert_eq!(a, attrs, "{detail}");
        }
        assert_eq!(get(&out, "deleteCache").as_bool(), Some(delete_cache), "{detail}: deleteCache");
        assert_eq!(get(&out, "alsoVerified").as_bool(), Some(also_verified), "{detail}: alsoVerified");
    }
    // `result` is the parsed answer, `reason` included.
    let out = store(false, 200, None, r#"{"status":"invalid","reason":"NO_PURCHASE"}"#, true);
    let attrs = get(&get(&out, "error"), "attrs");
    assert_eq!(show(&attrs), r#"[["result",{"status":"invalid","reason":"NO_PURCHASE"}]]"#);
    // Compat accepts a redirect.
    let out = store(false, 200, Some("https://evil.example/v"), r#"{"status":"ok"}"#, false);
    assert_eq!(kind(&out), "verified");
}

#[wasm_bindgen_test]
fn root_document_answers() {
    let doc = format!(r#"{{"jwk":[{}]}}"#, ec_jwk(""));
    let ok = map_root_document_answer(false, 200, Some(ROOT_DOC_URL.into()), &doc, ROOT_DOC_URL, 30_000.0);
    assert_eq!(kind(&ok), "keys", "{}", show(&ok));
    let keys: KeySet = get(&ok, "keys").into_key_set();
    assert_eq!(keys.length(), 1);
    let invalid = format!("Invalid root key document from {ROOT_DOC_URL}");
    for (out, name, detail) in [
        (map_root_document_answer(false, 200, Some("https://elsewhere.example/x".into()), &doc, ROOT_DOC_URL, 30_000.0), "InvalidServerResponse", invalid.clone()),
        (map_root_document_answer(false, 200, None, "{}", ROOT_DOC_URL, 30_000.0), "InvalidServerResponse", invalid.clone()),
        (map_root_document_answer(false, 404, None, "", ROOT_DOC_URL, 30_000.0), "ServerStatusError", format!("Server responded with 404 to {ROOT_DOC_URL}")),
        (map_root_document_answer(false, 0, None, "", ROOT_DOC_URL, 30_000.0), "ConnectionError", "Server could not be contacted".into()),
        (map_root_document_answer(true, 0, None, "", ROOT_DOC_URL, 5_000.0), "RequestTimeout", "The request timed out after 5000 milliseconds".into()),
    ] {
        let (n, d, _) = failure(&out);
        assert_eq!((n.as_str(), d.as_str()), (name, detail.as_str()));
    }
}

/// A `KeySet` handed back to JS inside an object is a JS wrapper; this takes it back the way the
/// JS layer would pass it in (wasm-bindgen's `TryFromJsValue`).
trait IntoKeySet {
    fn into_key_set(self) -> KeySet;
}
impl IntoKeySet for JsValue {
    fn into_key_set(self) -> KeySet {
        use wasm_bindgen::convert::TryFromJsValue;
        match KeySet::try_from_js_value(self) {
            Ok(k) => k,
            Err(_) => panic!("not a KeySet"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The result cache (§5.5)

const DAY: f64 = 86_400_000.0;
const WINDOW: f64 = 2_400_000.0;

#[wasm_bindgen_test]
fn cache_entry_text_format() {
    assert_eq!(
        cache_entry_text(NOW_MS, r#"{"status":"ok"}"#).as_deref(),
        Some(r#"{"created":1767225600000,"result":{"status":"ok"}}"#)
    );
    for bad in ["[]", "null", "", "not json", r#""ok""#] {
        assert_eq!(cache_entry_text(NOW_MS, bad), None, "{bad}");
    }
}

#[wasm_bindgen_test]
fn cache_fresh_and_stale() {
    let entry = |created: f64, result: &str| cache_entry_text(created, result).unwrap();
    let ok = entry(NOW_MS - 1000.0, r#"{"status":"ok"}"#);
    let hit = cache_fresh(Some(ok.clone()), NOW_MS, DAY, WINDOW, None);
    assert_eq!(kind(&hit), "hit");
    assert_eq!(get_str(&get(&hit, "result"), "status"), "ok");
    assert_eq!(kind(&cache_fresh(None, NOW_MS, DAY, WINDOW, None)), "miss");
    let old = entry(NOW_MS - DAY - 1.0, r#"{"status":"ok"}"#);
    assert_eq!(kind(&cache_fresh(Some(old.clone()), NOW_MS, DAY, WINDOW, None)), "expired");
    let pending = entry(NOW_MS - 1000.0, r#"{"status":"pending"}"#);
    assert_eq!(kind(&cache_fresh(Some(pending.clone()), NOW_MS, DAY, WINDOW, None)), "miss");
    for corrupt in ["", "not json", "[]", "{}", r#"{"created":"1","result":{"status":"ok"}}"#] {
        assert_eq!(kind(&cache_fresh(Some(corrupt.into()), NOW_MS, DAY, WINDOW, None)), "corrupt", "{corrupt}");
        assert!(cache_stale(Some(corrupt.into())).is_undefined(), "{corrupt}");
    }
    // Refund window: cached 10 min after purchase, now 50 min after: re-check.
    let iat_s = (NOW_MS - 3_000_000.0) / 1000.0;
    let in_window = entry(NOW_MS - 2_400_000.0, r#"{"status":"ok"}"#);
    assert_eq!(kind(&cache_fresh(Some(in_window.clone()), NOW_MS, DAY, WINDOW, Some(iat_s))), "miss");
    assert_eq!(kind(&cache_fresh(Some(in_window.clone()), NOW_MS, DAY, 0.0, Some(iat_s))), "hit", "window 0 disables it");
    // Stale lookup: any well-formed ok, whatever its age; never pending.
    assert_eq!(get_str(&cache_stale(Some(old)), "status"), "ok");
    assert!(cache_stale(Some(pending)).is_undefined());
    assert!(cache_stale(None).is_undefined());
    assert_eq!(get_str(&cache_stale(Some(in_window)), "status"), "ok");
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs to every exported function: each returns a value or throws an Error; none traps
// (a trap would abort this test with a RuntimeError).

fn hostile_inputs() -> Vec<String> {
    vec![
        String::new(),
        "a".repeat(TWO_MB),
        "é".repeat(TWO_MB / 2),
        "~".repeat(TWO_MB),
        ".".repeat(TWO_MB),
        "{".repeat(100_000),
        "[".repeat(TWO_MB),
        format!("{{\"a\":\"{}\"}}", "x".repeat(TWO_MB)),
        "\u{0}\u{1}\u{7f}\u{fffd}\u{10ffff}".into(),
        "🦀 ünïcödé 漢字 \u{202e}".into(),
        "__proto__".into(),
        r#"{"__proto__":{"polluted":1}}"#.into(),
        r#"{"keys":[{"__proto__":{}}]}"#.into(),
        "https://user:pw@[::1]:99999/".into(),
        "https://xn--/".into(),
        "javascript:alert(1)".into(),
        "1e999".into(),
        "-0".into(),
        r#""\ud800""#.into(),
    ]
}

#[wasm_bindgen_test]
fn hostile_inputs_never_trap() {
    let err_or_value = |r: Result<JsValue, JsValue>| match r {
        Ok(_) => {}
        Err(e) => assert!(e.is_instance_of::<js_sys::Error>(), "bare throw {e:?}"),
    };
    for s in hostile_inputs() {
        let shown: String = s.chars().take(24).collect();
        if let Err(e) = parse_trusted_keys(&s) {
            assert!(e.is_instance_of::<js_sys::Error>(), "{shown}");
        }
        let _ = parse_root_document(&s);
        for out in [
            strict_local(&s, &root_policy(), None, NOW_MS, None),
            strict_local(&s, &root_policy(), parse_root_document(&format!(r#"{{"jwk":[{}]}}"#, ec_jwk(""))), f64::NAN, None),
            // Delegated equations (the WebCrypto path): the same kinds for hostile input.
            strict_local(&s, &root_policy(), None, NOW_MS, Some(Array::new())),
            mozmarket::compat_local(&s, &compat_policy()),
        ] {
            let k = kind(&out);
            assert!(["passed", "failed", "needsRootDocument"].contains(&k.as_str()), "{shown}: {k}");
        }
        err_or_value(parse_strict(&s));
        err_or_value(parse_lenient(&s));
        let _ = add_receipt_check(&s);
        for (timed_out, status) in [(false, 200), (false, 0), (true, 0), (false, 418)] {
            for strict in [true, false] {
                let out = map_store_answer(timed_out, status, Some(s.clone()), &s, &s, &s, strict, f64::INFINITY);
                assert!(["verified", "failed"].contains(&kind(&out).as_str()), "{shown}");
            }
            let out = map_root_document_answer(timed_out, status, Some(s.clone()), &s, &s, -1.0);
            assert!(["keys", "failed"].contains(&kind(&out).as_str()), "{shown}");
        }
        for (now, timeout, window, iat) in [(NOW_MS, DAY, WINDOW, None), (f64::NAN, f64::NAN, f64::NAN, Some(f64::NAN)), (-1.0, 0.0, f64::INFINITY, Some(1e308))] {
            let out = cache_fresh(Some(s.clone()), now, timeout, window, iat);
            assert!(["hit", "miss", "expired", "corrupt"].contains(&kind(&out).as_str()), "{shown}");
        }
        let _ = cache_stale(Some(s.clone()));
        let _ = cache_entry_text(f64::NAN, &s);
        let _ = normalize_product_url(&s);
        let _ = https_origin(&s);
        let _ = url_origin(&s);
        let _ = promotes(&s, "OK");
        // Hostile policy values.
        let policy = RunPolicy::new(&s, None, strings(&[&s]), f64::NAN, strings(&[&s]), strings(&[&s]), Some(strings(&[&s])));
        let out = strict_local(RECEIPT_BARE, &policy, None, NOW_MS, None);
        assert!(["passed", "failed", "needsRootDocument"].contains(&kind(&out).as_str()), "{shown}");
    }
}

#[wasm_bindgen_test]
fn policy_lists_ignore_non_strings() {
    let mixed: Array = [JsValue::from_f64(1.0), JsValue::NULL, JsValue::from_str(ISS), Object::new().into()]
        .iter()
        .collect();
    let policy = RunPolicy::new(
        "strict",
        Some(keyset(&format!("[{ROOT_JWK}]"))),
        Array::new(),
        60_000.0,
        strings(&["purchase-receipt"]),
        strings(&[PRODUCT]),
        Some(mixed),
    );
    assert_eq!(kind(&strict_local(RECEIPT_BARE, &policy, None, NOW_MS, None)), "passed");
}
