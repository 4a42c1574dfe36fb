//! Writes the small seed corpora for the fuzz targets into `seeds/<target>/` (committed):
//! valid signed receipts in the three forms, a few broken variants, and JWK / root-document
//! JSON. Run from crates/core/fuzz (or with --manifest-path); pass another directory to
//! write elsewhere.
use mozmarket_core_fuzz::*;
use std::fs;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let base = std::env::args().nth(1).filter(|a| !a.starts_with("--")).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds")
    });
    let mut receipts = valid_receipts();
    let bare = receipts.first().cloned().unwrap_or_default();
    receipts.extend([
        // Broken variants of the bare receipt.
        format!("{bare}~"),
        format!("~{bare}"),
        bare.replacen('.', "..", 1),
        bare.rsplit_once('.').map(|(head, _)| format!("{head}.")).unwrap_or_default(),
        format!("{bare}=="),
        bare.replace('-', "+"),
        // Unsigned (alg none) and HMAC headers.
        format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(receipt_payload("purchase-receipt").as_bytes())),
        sign_es256(&root_key(), r#"{"alg":"HS256"}"#, &receipt_payload("purchase-receipt")),
        sign_es256(&root_key(), r#"{"alg":"ES256","crit":["exp"]}"#, &receipt_payload("purchase-receipt")),
        // Signed by a key nobody trusts.
        sign_es256(&leaf_key(), HEADER, &receipt_payload("purchase-receipt")),
        // Duplicate members, deep nesting, a test receipt.
        sign_es256(&root_key(), HEADER, r#"{"iss":"a","\u0069ss":"b"}"#),
        sign_es256(&root_key(), HEADER, &format!("{}{}", "{\"a\":[".repeat(20), "1]}".repeat(20))),
        sign_es256(&root_key(), HEADER, &receipt_payload("test-receipt")),
    ]);
    let jsons = [
        jwk_json(root_key().verifying_key(), None),
        jwk_json(leaf_key().verifying_key(), Some("leaf")),
        format!("{{\"keys\":[{}]}}", jwk_json(root_key().verifying_key(), None)),
        format!("{{\"jwk\":[{}]}}", jwk_json(root_key().verifying_key(), Some(ROOT_DOC_URL))),
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#.to_owned(),
        r#"{"alg":"RSA","mod":"AQAB","exp":"AAAAAwEAAQ"}"#.to_owned(),
        r#"{"kty":"oct","k":"c2VjcmV0"}"#.to_owned(),
        r#"{"kty":"EC","crv":"P-256","x":"","y":"","d":"AA"}"#.to_owned(),
    ];

    let write = |target: &str, items: &[String]| -> std::io::Result<()> {
        let dir = base.join(target);
        fs::create_dir_all(&dir)?;
        for (i, item) in items.iter().enumerate() {
            fs::write(dir.join(format!("seed-{i:03}")), item)?;
        }
        Ok(())
    };
    // Both targets take receipts and JSON; one seed set serves both.
    let mut seeds: Vec<String> = receipts;
    seeds.extend(jsons);
    seeds.push(String::new());
    write("receipt_parser", &seeds)?;
    write("chain_verifier", &seeds)?;
    println!("seed corpora written to {}", base.display());
    if std::env::args().any(|a| a == "--rust-consts") {
        print_rust_consts();
    }
    if std::env::args().any(|a| a == "--check") {
        check_valid_seeds();
    }
    Ok(())
}

/// `--check`: the valid seeds must pass the strict local stage under the fuzz policy (a sanity
/// check of the fixture, and of core once it is implemented).
fn check_valid_seeds() {
    use mozmarket_core::url::NativeUrlParser;
    use mozmarket_core::verify::{strict_local, Local};
    let policy = strict_policy();
    let docs = root_document_keys();
    let mut bad = 0;
    for (i, r) in valid_receipts().iter().enumerate() {
        let outcome = std::panic::catch_unwind(|| {
            match strict_local(r, &policy, None, NOW_MS, &NativeUrlParser) {
                Local::NeedsRootDocument { .. } => strict_local(r, &policy, Some(&docs), NOW_MS, &NativeUrlParser),
                other => other,
            }
        });
        match outcome {
            Ok(Local::Passed(_)) => println!("valid seed {i}: passed"),
            Ok(Local::Failed(f)) => {
                bad += 1;
                println!("valid seed {i}: FAILED {}", f.summary());
            }
            Ok(Local::NeedsRootDocument { url }) => {
                bad += 1;
                println!("valid seed {i}: still needs root document {url}");
            }
            Err(_) => {
                bad += 1;
                println!("valid seed {i}: PANICKED");
            }
        }
    }
    if bad > 0 {
        std::process::exit(1);
    }
}

/// `--rust-consts`: the fixture as Rust constants, for tests/web.rs (the wasm tests sign
/// nothing themselves).
fn print_rust_consts() {
    let jwk = jwk_json(root_key().verifying_key(), None);
    let jwk_iss = format!("{},\"iss\":\"{ISS}\"}}", jwk.trim_end_matches('}'));
    println!("const ROOT_JWK: &str = r#\"{jwk_iss}\"#;");
    println!("const NOW_MS: f64 = {NOW_MS:.1};");
    for (name, r) in ["RECEIPT_BARE", "RECEIPT_CHAIN2", "RECEIPT_CHAIN3"].iter().zip(valid_receipts()) {
        println!("const {name}: &str = \"{r}\";");
    }
}
