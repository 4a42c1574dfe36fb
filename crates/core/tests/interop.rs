//! Receipts signed by an independent implementation (Python `cryptography`, i.e. OpenSSL; see
//! `tests/fixtures/make_fixtures.py`) through the full strict pipeline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mozmarket_core::claims::PolicyInput;
use mozmarket_core::jwk::{parse_root_document, parse_trusted_keys};
use mozmarket_core::url::NativeUrlParser;
use mozmarket_core::verify::{strict_local, Local, Mode, Policy};
use mozmarket_core::Attr;
use serde_json::Value;

const FIXTURES: &str = include_str!("fixtures/interop.json");

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn attr_json(a: &Attr) -> Value {
    match a {
        Attr::Num(n) => serde_json::json!(n),
        Attr::Str(s) => Value::String(s.clone()),
        Attr::Json(j) => serde_json::from_str(&j.to_json_text()).unwrap(),
    }
}

/// The failure as `(class, detail, [[name, value], …])`, in the fixture's terms.
fn describe(outcome: &Local) -> Value {
    match outcome {
        Local::Passed(_) => serde_json::json!({"outcome": "passed"}),
        Local::NeedsRootDocument { url } => serde_json::json!({"outcome": "needs_root_document", "url": url}),
        Local::Failed(f) => serde_json::json!({
            "outcome": "failed",
            "class": f.class.name(),
            "detail": f.detail,
            "attrs": f.attrs.iter().map(|(n, v)| serde_json::json!([n, attr_json(v)])).collect::<Vec<_>>(),
        }),
    }
}

/// Numbers compare by value (`1` and `1.0` are the same attribute).
fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn python_signed_fixtures() {
    let fx: Value = serde_json::from_str(FIXTURES).unwrap();
    let urls = NativeUrlParser;
    let now = fx["now_ms"].as_f64().unwrap();
    let checks = PolicyInput {
        typs_allowed: strings(&fx["typs_allowed"]),
        product_urls: strings(&fx["product_urls"]),
        installs_allowed_from: Some(strings(&fx["installs_allowed_from"])),
    };
    let core_json = |v: &Value| mozmarket_core::json::parse(v.to_string().as_bytes()).unwrap();
    let default_trusted = parse_trusted_keys(&core_json(&fx["trusted_keys"]), &urls).unwrap();

    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let receipt = case["receipt"].as_str().unwrap();
        let trusted = match case.get("trusted_keys") {
            None => default_trusted.clone(),
            Some(Value::Null) => Vec::new(),
            Some(keys) => parse_trusted_keys(&core_json(keys), &urls).unwrap(),
        };
        let policy = Policy {
            mode: Mode::Strict,
            trusted,
            root_key_origins: case.get("root_key_origins").map(strings).unwrap_or_default(),
            leeway_ms: fx["leeway_ms"].as_f64().unwrap(),
            checks: checks.clone(),
        };
        let mut outcome = strict_local(receipt, &policy, None, now, &urls);
        if let Some(url) = case.get("needs_root_document").and_then(Value::as_str) {
            if outcome != (Local::NeedsRootDocument { url: url.to_owned() }) {
                failures.push(format!(
                    "{name}: expected a request for {url}, got {}",
                    describe(&outcome)
                ));
                continue;
            }
            let body = case["root_document"].as_str().unwrap();
            let Some(keys) = parse_root_document(body, &urls) else {
                failures.push(format!("{name}: root document did not parse"));
                continue;
            };
            outcome = strict_local(receipt, &policy, Some(&keys), now, &urls);
        }
        let got = describe(&outcome);
        if normalise(&got) != normalise(&case["expect"]) {
            failures.push(format!("{name}: expected {}, got {got}", case["expect"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
