//! §9.4 (rows 34–60) through the full strict pipeline, on the baseline fixtures B and B-RSA of
//! §9.1. Every receipt is built and signed here with RustCrypto; keys come from seeded RNGs, so
//! the fixtures are the same on every run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{
    b64, core_json, jws, keys, segments, unb64, with_signature, Fixture, Key, KEY_ORIGIN, ROOT_DOC,
    TS,
};
use mozmarket_core::jwk::{parse_root_document, PublicKey};
use mozmarket_core::url::NativeUrlParser;
use mozmarket_core::verify::Local;
use mozmarket_core::{Attr, Class};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Assertions

fn part(n: f64) -> Vec<(&'static str, Attr)> {
    vec![("part", Attr::Num(n))]
}

#[track_caller]
fn expect(out: Local, class: Class, detail: &str, attrs: Vec<(&'static str, Attr)>) {
    match out {
        Local::Failed(f) => {
            assert_eq!((f.class, f.detail.as_str()), (class, detail), "{f:?}");
            assert_eq!(f.attrs, attrs, "{f:?}");
        }
        other => panic!("expected {class:?}: {detail}, got {other:?}"),
    }
}

#[track_caller]
fn invalid_signature(out: Local, p: f64) {
    expect(
        out,
        Class::InvalidSignature,
        "Signature verification failed",
        part(p),
    );
}

#[track_caller]
fn unknown_key(out: Local, p: f64) {
    expect(
        out,
        Class::UnknownSigningKey,
        "No trusted key matches the JWT header",
        part(p),
    );
}

#[track_caller]
fn certificate_error(out: Local, detail: &str, attrs: Vec<(&'static str, Attr)>) {
    expect(out, Class::CertificateError, detail, attrs);
}

#[track_caller]
fn passed(out: Local) -> mozmarket_core::verify::Passed {
    match out {
        Local::Passed(p) => p,
        other => panic!("expected Passed, got {other:?}"),
    }
}

/// P1363 `r‖s` as ASN.1 DER.
fn der(sig: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| *b >= 0x80) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let mut body = int(&sig[..32]);
    body.extend(int(&sig[32..]));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// The order n of P-256, big endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc,
    0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

// ---------------------------------------------------------------------------------------------
// Baselines

#[test]
fn baseline_b_verifies() {
    let b = Fixture::b();
    let p = passed(b.run(&b.receipt()));
    assert_eq!(p.iss, "https://store.example");
    assert_eq!(p.verify, "https://receiptcheck.store.example/verify/1");
    assert_eq!(
        p.product,
        core_json(&json!({"url": "https://app.example", "storedata": "id=1"}))
    );
    assert_eq!(p.iat, Some((TS - 3600) as f64));
    assert_eq!(p.payload, core_json(&b.j_payload));
}

#[test]
fn baseline_b_rsa_verifies() {
    let b = Fixture::b_rsa();
    passed(b.run(&b.receipt()));
}

// ---------------------------------------------------------------------------------------------
// §9.3 rows 34–35: keys named or embedded in the header are never used

#[test]
fn row_34_embedded_header_key_is_ignored() {
    let attacker = Key::Ec(&keys().attacker_ec);
    let b = Fixture::b();
    let mut jwk_header = b.j_header.clone();
    jwk_header["jwk"] = attacker.jwk(Some("sign-1"));
    let mut x5c_header = b.j_header.clone();
    x5c_header["x5c"] = json!([b64(b"not really a certificate")]);
    for header in [jwk_header, x5c_header] {
        let j = jws(attacker, &header, &b.j_payload);
        invalid_signature(b.run(&format!("{}~{j}", b.c())), 1.0);
    }
}

#[test]
fn row_35_jku_and_x5u_are_never_fetched() {
    let attacker = Key::Ec(&keys().attacker_ec);
    let mut b = Fixture::b();
    // Even with the attacker's origin allowed for root documents, nothing is requested: J's
    // key comes from C, and header URLs are never dereferenced.
    for origins in [vec![], vec!["https://attacker.example".to_owned()]] {
        b.root_key_origins = origins;
        for member in ["jku", "x5u"] {
            let mut header = b.j_header.clone();
            header[member] = json!("https://attacker.example/k");
            let j = jws(attacker, &header, &b.j_payload);
            invalid_signature(b.run(&format!("{}~{j}", b.c())), 1.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §9.4 rows 36–60

#[test]
fn row_36_payload_changed_after_signing() {
    let b = Fixture::b();
    let [h, _, s] = segments(&b.j());
    let mut payload = b.j_payload.clone();
    payload["product"]["url"] = json!("https://other.example");
    let j = format!("{h}.{}.{s}", b64(payload.to_string().as_bytes()));
    invalid_signature(b.run(&format!("{}~{j}", b.c())), 1.0);
}

#[test]
fn row_37_header_changed_after_signing() {
    let b = Fixture::b();
    let [_, p, s] = segments(&b.j());
    let mut header = b.j_header.clone();
    header["x-extra"] = json!(1);
    let j = format!("{}.{p}.{s}", b64(header.to_string().as_bytes()));
    invalid_signature(b.run(&format!("{}~{j}", b.c())), 1.0);
}

#[test]
fn row_38_attacker_key_with_the_same_kid() {
    let b = Fixture::b();
    let j = jws(Key::Ec(&keys().attacker_ec), &b.j_header, &b.j_payload);
    invalid_signature(b.run(&format!("{}~{j}", b.c())), 1.0);
}

#[test]
fn row_39_der_signature() {
    let b = Fixture::b();
    let j = b.j();
    let [_, _, s] = segments(&j);
    let der_sig = der(&unb64(&s));
    assert!(der_sig.len() > 64);
    invalid_signature(b.run(&format!("{}~{}", b.c(), with_signature(&j, &der_sig))), 1.0);
}

#[test]
fn row_40_zero_and_out_of_range_scalars() {
    let b = Fixture::b();
    let j = b.j();
    let sig = unb64(&segments(&j)[2]);
    let mut r_is_n = P256_N.to_vec();
    r_is_n.extend_from_slice(&sig[32..]);
    let mut s_is_n = sig[..32].to_vec();
    s_is_n.extend_from_slice(&P256_N);
    for bad in [vec![0u8; 64], r_is_n, s_is_n] {
        invalid_signature(b.run(&format!("{}~{}", b.c(), with_signature(&j, &bad))), 1.0);
    }
}

#[test]
fn row_41_zero_stripped_rs256_signature() {
    let mut b = Fixture::b_rsa();
    // Find a receipt whose RS256 signature starts with 0x00 (about 1 in 256).
    let (j, sig) = (0..100_000)
        .find_map(|i| {
            b.j_payload["user"]["value"] = json!(format!("u-{i}"));
            let j = b.j();
            let sig = unb64(&segments(&j)[2]);
            (sig[0] == 0).then_some((j, sig))
        })
        .unwrap();
    assert_eq!(sig.len(), 256);
    passed(b.run(&format!("{}~{j}", b.c())));
    invalid_signature(
        b.run(&format!("{}~{}", b.c(), with_signature(&j, &sig[1..]))),
        1.0,
    );
}

#[test]
fn row_42_certificate_lists_only_an_rsa_key() {
    let mut b = Fixture::b();
    b.c_payload["jwk"] = json!([Key::Rsa(&keys().k_rsa).jwk(Some("sign-1"))]);
    unknown_key(b.run(&b.receipt()), 1.0);
}

#[test]
fn row_43_no_certified_key_has_the_kid() {
    let mut b = Fixture::b();
    b.j_header["kid"] = json!("other");
    unknown_key(b.run(&b.receipt()), 1.0);
}

#[test]
fn row_44_certificate_signed_by_an_attacker_root() {
    let b = Fixture::b();
    let c = jws(Key::Ec(&keys().attacker_ec), &b.c_header, &b.c_payload);
    invalid_signature(b.run(&format!("{c}~{}", b.j())), 0.0);
}

#[test]
fn row_45_bare_receipt_signed_by_a_non_root() {
    let mut b = Fixture::b();
    // (a) Header unchanged: R's kid differs, nothing to try.
    unknown_key(b.run(&b.j()), 0.0);
    // (b) No kid: R is tried and fails.
    b.j_header = json!({"alg": "ES256", "typ": "JWT"});
    invalid_signature(b.run(&b.j()), 0.0);
}

#[test]
fn row_46_only_rsa_roots_for_an_es256_certificate() {
    let mut b = Fixture::b();
    b.trusted = vec![
        Key::Rsa(&keys().r_rsa).jwk(Some("root-1")),
        Key::Rsa(&keys().k_rsa).jwk(None),
    ];
    unknown_key(b.run(&b.receipt()), 0.0);
}

#[test]
fn row_47_certificate_typ() {
    let detail = "Certificate typ is not certified-key";
    let mut b = Fixture::b();
    b.c_payload["typ"] = json!("JWT");
    certificate_error(b.run(&b.receipt()), detail, part(0.0));
    b.c_payload.as_object_mut().unwrap().remove("typ");
    certificate_error(b.run(&b.receipt()), detail, part(0.0));
    // A root-signed receipt in C's position.
    let b = Fixture::b();
    let c = jws(b.r, &b.c_header, &b.j_payload);
    certificate_error(b.run(&format!("{c}~{}", b.j())), detail, part(0.0));
}

#[test]
fn row_48_invalid_certified_keys() {
    let detail = "Certificate contains an invalid key";
    let attrs = || vec![("part", Attr::Num(0.0)), ("index", Attr::Num(0.0))];
    let k = Key::Ec(&keys().k_ec);
    let mut with_d = k.jwk(Some("sign-1"));
    with_d["d"] = json!(b64(&keys().k_ec.to_bytes()));
    let mut rsa_with_d = Key::Rsa(&keys().k_rsa).jwk(Some("sign-1"));
    rsa_with_d["d"] = json!(b64(&keys().k_rsa.d().to_bytes_be()));
    let hmac = json!({"kty": "oct", "k": b64(b"a shared secret"), "kid": "sign-1"});
    let hmac_public_looking = json!({"kty": "oct", "kid": "sign-1"});
    let rsa_1024 = Key::Rsa(&keys().rsa_1024).jwk(Some("sign-1"));
    let mut off_curve = k.jwk(Some("sign-1"));
    let mut y = unb64(off_curve["y"].as_str().unwrap());
    y[31] ^= 1;
    off_curve["y"] = json!(b64(&y));
    for bad in [with_d, rsa_with_d, hmac, hmac_public_looking, rsa_1024, off_curve] {
        let mut b = Fixture::b();
        b.c_payload["jwk"] = json!([bad]);
        certificate_error(b.run(&b.receipt()), detail, attrs());
    }
    // An invalid key at index 1 is reported with that index, even after a good one.
    let mut b = Fixture::b();
    b.c_payload["jwk"] = json!([k.jwk(Some("sign-1")), {"kty": "oct", "k": "AA"}]);
    certificate_error(
        b.run(&b.receipt()),
        detail,
        vec![("part", Attr::Num(0.0)), ("index", Attr::Num(1.0))],
    );
}

#[test]
fn row_49_empty_or_missing_jwk_list() {
    let detail = "Certificate has no usable jwk list";
    let mut b = Fixture::b();
    b.c_payload["jwk"] = json!([]);
    certificate_error(b.run(&b.receipt()), detail, part(0.0));
    b.c_payload.as_object_mut().unwrap().remove("jwk");
    certificate_error(b.run(&b.receipt()), detail, part(0.0));
}

#[test]
fn row_50_certificate_exp_is_a_string() {
    let mut b = Fixture::b();
    b.c_payload["exp"] = json!("9999999999");
    certificate_error(b.run(&b.receipt()), "Certificate has no valid exp", part(0.0));
}

#[test]
fn row_51_expired_certificate() {
    let mut b = Fixture::b();
    b.c_payload["exp"] = json!(TS - 60);
    certificate_error(
        b.run(&b.receipt()),
        "Certificate expired",
        vec![("part", Attr::Num(0.0)), ("exp", Attr::Num((TS - 60) as f64))],
    );
    // With t − 59 C passes; J's exp is brought to t − 59 too so that S9 holds, and it verifies.
    b.c_payload["exp"] = json!(TS - 59);
    b.j_payload["exp"] = json!(TS - 59);
    passed(b.run(&b.receipt()));
}

#[test]
fn row_52_certificate_not_yet_valid() {
    let mut b = Fixture::b();
    b.c_payload["nbf"] = json!(TS + 61);
    certificate_error(b.run(&b.receipt()), "Certificate not yet valid", part(0.0));
    b.c_payload["nbf"] = json!(TS + 60);
    passed(b.run(&b.receipt()));
}

#[test]
fn row_53_intermediate_outlives_its_issuer() {
    let b = Fixture::b();
    let mid = Key::Ec(&keys().mid_ec);
    let mut c0_payload = b.c_payload.clone();
    c0_payload["jwk"] = json!([mid.jwk(Some("mid-1"))]);
    let c0 = jws(b.r, &b.c_header, &c0_payload);
    let c1_header = json!({"alg": "ES256", "kid": "mid-1"});
    let c1_payload = |exp: i64| json!({"typ": "certified-key", "iss": ROOT_DOC, "jwk": [b.k.jwk(Some("sign-1"))], "exp": exp});
    let c1 = jws(mid, &c1_header, &c1_payload(TS + 31_536_001));
    certificate_error(
        b.run(&format!("{c0}~{c1}~{}", b.j())),
        "Certificate outlives its issuer",
        part(1.0),
    );
    // Equal exp: the three-part chain verifies.
    let c1 = jws(mid, &c1_header, &c1_payload(TS + 31_536_000));
    passed(b.run(&format!("{c0}~{c1}~{}", b.j())));
}

#[test]
fn row_54_receipt_outlives_its_certificate() {
    let mut b = Fixture::b();
    b.c_payload["exp"] = json!(TS + 86400);
    certificate_error(
        b.run(&b.receipt()),
        "Receipt outlives its signing certificate",
        part(1.0),
    );
}

#[test]
fn row_55_draft_rsa_form_with_mpi_prefix_verifies() {
    let mut b = Fixture::b_rsa();
    let k = &keys().k_rsa;
    let mut modulus = vec![0u8];
    modulus.extend(k.n().to_bytes_be());
    b.c_payload["jwk"] = json!([{"alg": "RSA", "mod": b64(&modulus), "exp": "AAAAAwEAAQ", "kid": "sign-1"}]);
    assert_eq!(unb64("AAAAAwEAAQ"), [0, 0, 0, 3, 1, 0, 1]);
    passed(b.run(&b.receipt()));
}

/// Rows 56–59: `rootKeyOrigins` only, no `trustedKeys`.
fn root_origin_fixture(cert_iss: &str) -> Fixture {
    let mut b = Fixture::b();
    b.trusted = vec![];
    b.root_key_origins = vec![KEY_ORIGIN.to_owned()];
    b.c_payload["iss"] = json!(cert_iss);
    b
}

fn root_document_keys(b: &Fixture) -> Vec<PublicKey> {
    let body = json!({"jwk": [b.r.jwk(Some("root-1"))]}).to_string();
    parse_root_document(&body, &NativeUrlParser).unwrap()
}

#[test]
fn row_56_root_origin_suffix_is_not_the_origin() {
    let b = root_origin_fixture("https://keys.store.example.evil.com/root.jwk");
    // No request: the outcome is a failure, not NeedsRootDocument.
    unknown_key(b.run(&b.receipt()), 0.0);
    // A document handed over anyway is not consulted.
    unknown_key(b.run_with_document(&b.receipt(), &root_document_keys(&b)), 0.0);
}

#[test]
fn row_57_root_origin_scheme_must_be_https() {
    let b = root_origin_fixture("http://keys.store.example/root.jwk");
    unknown_key(b.run(&b.receipt()), 0.0);
    unknown_key(b.run_with_document(&b.receipt(), &root_document_keys(&b)), 0.0);
}

#[test]
fn row_58_allowed_root_document_is_requested() {
    // The 404 itself is the shell's (ServerStatusError); the core asks for exactly cert.iss.
    let b = root_origin_fixture(ROOT_DOC);
    assert_eq!(
        b.run(&b.receipt()),
        Local::NeedsRootDocument {
            url: ROOT_DOC.to_owned()
        }
    );
    let p = passed(b.run_with_document(&b.receipt(), &root_document_keys(&b)));
    assert_eq!(p.iss, "https://store.example");
    // The document's keys must still verify C.
    let wrong = parse_root_document(
        &json!({"jwk": [Key::Ec(&keys().attacker_ec).jwk(Some("root-1"))]}).to_string(),
        &NativeUrlParser,
    )
    .unwrap();
    invalid_signature(b.run_with_document(&b.receipt(), &wrong), 0.0);
}

#[test]
fn row_59_html_or_redirected_root_document() {
    // An HTML page is not a §1.6 document (the shell reports InvalidServerResponse; a redirect
    // is refused by the shell before parsing). A valid document, also as a JWS, verifies.
    let b = root_origin_fixture(ROOT_DOC);
    assert_eq!(
        b.run(&b.receipt()),
        Local::NeedsRootDocument {
            url: ROOT_DOC.to_owned()
        }
    );
    assert_eq!(
        parse_root_document("<!doctype html><title>Keys</title><p>Moved</p>", &NativeUrlParser),
        None
    );
    let doc = json!({"jwk": [b.r.jwk(Some("root-1"))]});
    let as_jws = jws(Key::Ec(&keys().attacker_ec), &json!({"alg": "ES256"}), &doc);
    let keys = parse_root_document(&as_jws, &NativeUrlParser).unwrap();
    passed(b.run_with_document(&b.receipt(), &keys));
}

#[test]
fn row_60_attacker_certificate_iss_is_not_fetched_without_root_origins() {
    let mut b = Fixture::b();
    b.c_payload["iss"] = json!("https://attacker.example/k");
    let c = jws(Key::Ec(&keys().attacker_ec), &b.c_header, &b.c_payload);
    let receipt = format!("{c}~{}", b.j());
    invalid_signature(b.run(&receipt), 0.0);
    // Even if the shell offered the attacker's document, it is not a key source here.
    let attacker_doc = parse_root_document(
        &json!({"jwk": [Key::Ec(&keys().attacker_ec).jwk(Some("root-1"))]}).to_string(),
        &NativeUrlParser,
    )
    .unwrap();
    invalid_signature(b.run_with_document(&receipt, &attacker_doc), 0.0);
}
