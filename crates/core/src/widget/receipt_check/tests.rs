//! Tests of the widget's local receipt check (payments §7.5 stage 1, §6.3, §9.6 F21–F25) with
//! receipts issued by the provider's own builders ([`crate::pay::certify`],
//! [`crate::pay::sign_receipt`]).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::panic
)]

use super::*;
use crate::jwk::parse_root_document;
use crate::jwk::test_support::{ec_key, rsa_key};
use crate::pay::{
    certificate_payload, certify, receipt_payload, root_document, sign_receipt, storedata,
    ReceiptInput, ReceiptKind, DEFAULT_PRICE_LIMIT, RECEIPT_LIFETIME_SECS,
};
use crate::sign::{sign_jws, SigningKey};
use crate::url::NativeUrlParser;
use crate::widget::ErrorCode;

const URLS: NativeUrlParser = NativeUrlParser;
const PROVIDER: &str = "http://127.0.0.1:7802";
const ROOT_URL: &str = "http://127.0.0.1:7802/public_keys/root.jwk";
const OTHER_PROVIDER: &str = "http://127.0.0.1:7902";
const OTHER_ROOT_URL: &str = "http://127.0.0.1:7902/public_keys/root.jwk";
const APP: &str = "http://localhost:7801";
const PRODUCT: &str = "magical-unicorn";
const VERIFY: &str = "http://127.0.0.1:7802/receipts/verify";
const VERIFY_TEST: &str = "http://127.0.0.1:7802/receipts/verify/test";
const ROOT_KID: &str = "root-20260101-0a1b";
const EPH_KID: &str = "eph-20260101-3fa2";
const DAY: i64 = 86_400;
/// Receipt `iat` and `nbf` (2026-01-01); the certificate is a day older.
const ISSUED: i64 = 1_767_225_600;
const CERT_IAT: i64 = ISSUED - DAY;
const NOW_MS: f64 = (ISSUED + 3600) as f64 * 1000.0;

// ----- keys, receipts and policies -----

fn root() -> SigningKey {
    SigningKey::Es256(ec_key(11))
}

fn eph() -> SigningKey {
    SigningKey::Es256(ec_key(12))
}

fn rogue() -> SigningKey {
    SigningKey::Es256(ec_key(13))
}

/// The keys of `GET /public_keys/root.jwk` for `key`, as the shell gets them.
fn doc_keys(key: &SigningKey) -> Vec<PublicKey> {
    let body = root_document(&[key.public_jwk(ROOT_KID)]).to_json_text();
    parse_root_document(&body, &URLS).unwrap()
}

fn input(kind: ReceiptKind) -> ReceiptInput<'static> {
    ReceiptInput {
        kind,
        provider_origin: PROVIDER,
        app_origin: APP,
        app_id: 7,
        contrib: 42,
        inapp_id: PRODUCT,
        user: "2b4d6f8a-0c1e-4a3b-8d5f-7a9c1e3b5d7f",
        transaction_uuid: "0b6f5d8e-1a2b-4c3d-8e9f-a0b1c2d3e4f5",
        iat: ISSUED,
        lifetime_secs: RECEIPT_LIFETIME_SECS,
    }
}

fn purchase_payload() -> Json {
    receipt_payload(&input(ReceiptKind::Purchase))
}

/// A receipt for `payload`, certified by `root()` at `cert_iat` for the provider `PROVIDER`.
fn issue_at(payload: &Json, cert_iat: i64) -> String {
    let cert = certify(
        &root(),
        ROOT_KID,
        &eph(),
        EPH_KID,
        PROVIDER,
        cert_iat,
        DEFAULT_PRICE_LIMIT,
    )
    .unwrap();
    sign_receipt(&cert, &eph(), payload).unwrap()
}

fn issue(payload: &Json) -> String {
    issue_at(payload, CERT_IAT)
}

fn purchase() -> String {
    issue(&purchase_payload())
}

/// The standard certificate payload (of `eph()`, naming `ROOT_URL`).
fn cert_payload() -> Json {
    certificate_payload(
        PROVIDER,
        eph().public_jwk(EPH_KID),
        CERT_IAT,
        DEFAULT_PRICE_LIMIT,
    )
}

/// `<certificate signed by cert_signer>~<receipt signed by eph()>`, without the builders'
/// guards.
fn chain(cert: &Json, cert_signer: &SigningKey, receipt: &Json) -> String {
    format!(
        "{}~{}",
        sign_jws(cert_signer, ROOT_KID, cert).unwrap(),
        sign_jws(&eph(), EPH_KID, receipt).unwrap()
    )
}

/// `value` with the member at `path` replaced (`Some`) or removed (`None`).
fn edit(value: &Json, path: &[&str], new: Option<Json>) -> Json {
    let Json::Obj(members) = value else {
        panic!("not an object")
    };
    let (first, rest) = path.split_first().unwrap();
    let mut out = Vec::new();
    for (k, v) in members {
        if k != first {
            out.push((k.clone(), v.clone()));
        } else if rest.is_empty() {
            if let Some(n) = &new {
                out.push((k.clone(), n.clone()));
            }
        } else {
            out.push((k.clone(), edit(v, rest, new.clone())));
        }
    }
    if rest.is_empty() && !members.iter().any(|(k, _)| k == first) {
        if let Some(n) = new {
            out.push(((*first).to_owned(), n));
        }
    }
    Json::Obj(out)
}

fn s(v: &str) -> Json {
    Json::Str(v.to_owned())
}

fn n(v: f64) -> Json {
    Json::Num(v)
}

fn policy(pinned: bool, allow_test_receipts: bool) -> ReceiptPolicy {
    let mut receipt_check_sites = vec![VERIFY.to_owned()];
    if allow_test_receipts {
        receipt_check_sites.push(VERIFY_TEST.to_owned());
    }
    ReceiptPolicy {
        product_id: PRODUCT.to_owned(),
        app_origin: APP.to_owned(),
        allow_test_receipts,
        receipt_check_sites,
        trusted_roots: vec![TrustedRoot {
            url: ROOT_URL.to_owned(),
            keys: pinned.then(|| doc_keys(&root())),
        }],
    }
}

fn pinned() -> ReceiptPolicy {
    policy(true, false)
}

fn check(receipt: &str, policy: &ReceiptPolicy) -> ReceiptCheck {
    check_receipt(receipt, policy, &[], NOW_MS, &URLS)
}

fn check_at(receipt: &str, now_ms: f64) -> ReceiptCheck {
    check_receipt(receipt, &pinned(), &[], now_ms, &URLS)
}

fn passed(test: bool, verify: &str) -> ReceiptCheck {
    ReceiptCheck::Passed {
        test,
        verify: verify.to_owned(),
        transaction_id: Some("42".to_owned()),
    }
}

fn failed(check: LocalCheck) -> ReceiptCheck {
    ReceiptCheck::Failed(check)
}

/// The receipt with `payload` re-encoded in place of its own, signatures untouched.
fn with_receipt_payload(receipt: &str, payload: &Json) -> String {
    let (cert, jwt) = receipt.split_once('~').unwrap();
    let segments: Vec<&str> = jwt.split('.').collect();
    let body = crate::b64::encode(payload.to_json_text().as_bytes());
    format!("{cert}~{}.{body}.{}", segments[0], segments[2])
}

// ----- passing receipts -----

#[test]
fn pinned_purchase_receipt_passes() {
    let outcome = check(&purchase(), &pinned());
    assert_eq!(outcome, passed(false, VERIFY));
    assert_eq!(
        outcome.verdict(),
        Some(LocalVerdict::Passed { test: false })
    );
}

#[test]
fn pinned_rs256_chain_passes() {
    let (root, eph) = (
        SigningKey::Rs256(rsa_key(0).clone()),
        SigningKey::Rs256(rsa_key(1).clone()),
    );
    let cert = certify(
        &root,
        ROOT_KID,
        &eph,
        EPH_KID,
        PROVIDER,
        CERT_IAT,
        DEFAULT_PRICE_LIMIT,
    )
    .unwrap();
    let receipt = sign_receipt(&cert, &eph, &purchase_payload()).unwrap();
    let mut p = pinned();
    p.trusted_roots[0].keys = Some(doc_keys(&root));
    assert_eq!(check(&receipt, &p), passed(false, VERIFY));
}

#[test]
fn unpinned_root_is_requested_then_passes_with_the_fetched_keys() {
    let receipt = purchase();
    let p = policy(false, false);
    let first = check_receipt(&receipt, &p, &[], NOW_MS, &URLS);
    assert_eq!(
        first,
        ReceiptCheck::NeedsRoot {
            url: ROOT_URL.to_owned()
        }
    );
    assert_eq!(first.verdict(), None);
    // Keys fetched for another url do not count.
    let elsewhere = vec![(OTHER_ROOT_URL.to_owned(), doc_keys(&root()))];
    assert_eq!(
        check_receipt(&receipt, &p, &elsewhere, NOW_MS, &URLS),
        ReceiptCheck::NeedsRoot {
            url: ROOT_URL.to_owned()
        }
    );
    let fetched = vec![(ROOT_URL.to_owned(), doc_keys(&root()))];
    assert_eq!(
        check_receipt(&receipt, &p, &fetched, NOW_MS, &URLS),
        passed(false, VERIFY)
    );
    // A document that does not hold the signing root.
    let wrong = vec![(ROOT_URL.to_owned(), doc_keys(&rogue()))];
    assert_eq!(
        check_receipt(&receipt, &p, &wrong, NOW_MS, &URLS),
        failed(LocalCheck::Signature)
    );
}

#[test]
fn pinned_keys_win_over_an_unpinned_entry_with_the_same_url() {
    let mut p = pinned();
    p.trusted_roots.insert(
        0,
        TrustedRoot {
            url: ROOT_URL.to_owned(),
            keys: None,
        },
    );
    assert_eq!(check(&purchase(), &p), passed(false, VERIFY));
}

#[test]
fn needs_root_is_only_returned_for_a_url_in_trusted_roots() {
    let unpinned = policy(false, false);
    // A chain to another provider's root document (with that root's keys even fetched).
    let other_cert = certificate_payload(OTHER_PROVIDER, eph().public_jwk(EPH_KID), CERT_IAT, 10.0);
    let other = chain(&other_cert, &rogue(), &purchase_payload());
    let fetched_other = vec![(OTHER_ROOT_URL.to_owned(), doc_keys(&rogue()))];
    for p in [&unpinned, &pinned()] {
        assert_eq!(check(&other, p), failed(LocalCheck::Issuer));
        assert_eq!(
            check_receipt(&other, p, &fetched_other, NOW_MS, &URLS),
            failed(LocalCheck::Issuer)
        );
    }
    // Near misses of the trusted url: the comparison is exact.
    for iss in [
        Some(s("http://127.0.0.1:7802/public_keys/root.jwk/")),
        Some(s("HTTP://127.0.0.1:7802/public_keys/root.jwk")),
        Some(s("http://127.0.0.1:7802/public_keys/root.jwk?")),
        Some(s("http://127.0.0.1:7802/public_keys/ROOT.jwk")),
        Some(s("http://127.0.0.1:7802")),
        Some(s("")),
        Some(n(1.0)),
        None,
    ] {
        let cert = edit(&cert_payload(), &["iss"], iss.clone());
        let receipt = chain(&cert, &root(), &purchase_payload());
        assert_eq!(
            check(&receipt, &unpinned),
            failed(LocalCheck::Issuer),
            "{iss:?}"
        );
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::Issuer),
            "{iss:?}"
        );
    }
    // No trusted roots at all.
    let mut none = pinned();
    none.trusted_roots.clear();
    assert_eq!(check(&purchase(), &none), failed(LocalCheck::Issuer));
}

#[test]
fn malformed_receipts_fail_before_any_root_is_requested() {
    let unpinned = policy(false, false);
    let receipt = purchase();
    let (cert, jwt) = receipt.split_once('~').unwrap();
    let b = |text: &str| crate::b64::encode(text.as_bytes());
    let rest = |token: &str| token.split_once('.').unwrap().1.to_owned();
    // A forbidden algorithm in either header is a signature failure (AlgorithmNotAllowed).
    let none_cert = format!(
        "{}.{}~{jwt}",
        b(r#"{"alg":"none","kid":"root-20260101-0a1b"}"#),
        rest(cert)
    );
    assert_eq!(check(&none_cert, &unpinned), failed(LocalCheck::Signature));
    let hs_jwt = format!(
        "{cert}~{}.{}",
        b(r#"{"alg":"HS256","kid":"eph-20260101-3fa2"}"#),
        rest(jwt)
    );
    assert_eq!(check(&hs_jwt, &unpinned), failed(LocalCheck::Signature));
    // A `crit` header (UnsupportedHeader).
    let crit = format!(
        "{}.{}~{jwt}",
        b(r#"{"alg":"ES256","crit":["x"]}"#),
        rest(cert)
    );
    assert_eq!(check(&crit, &unpinned), failed(LocalCheck::Signature));
    // A non-string kid (a parse error of §2.3.2 H5).
    let kid = format!("{cert}~{}.{}", b(r#"{"alg":"ES256","kid":7}"#), rest(jwt));
    assert_eq!(check(&kid, &unpinned), failed(LocalCheck::Parse));
    assert_eq!(check("garbage", &unpinned), failed(LocalCheck::Parse));
}

// ----- types (F20, F21) -----

#[test]
fn test_receipt_passes_only_when_allowed() {
    let receipt = issue(&receipt_payload(&input(ReceiptKind::Test)));
    let allowed = check(&receipt, &policy(true, true));
    assert_eq!(allowed, passed(true, VERIFY_TEST));
    assert_eq!(allowed.verdict(), Some(LocalVerdict::Passed { test: true }));
    // Segment-wise, /receipts/verify/test is below the default /receipts/verify entry.
    let mut only_verify = policy(true, true);
    only_verify.receipt_check_sites = vec![VERIFY.to_owned()];
    assert_eq!(check(&receipt, &only_verify), passed(true, VERIFY_TEST));

    let refused = check(&receipt, &policy(true, false));
    assert_eq!(refused, failed(LocalCheck::TestReceipt));
    assert_eq!(
        refused.verdict(),
        Some(LocalVerdict::Failed(LocalCheck::TestReceipt))
    );
    assert_eq!(
        LocalCheck::TestReceipt.error().code,
        ErrorCode::TestReceiptNotAllowed
    );
    // Unpinned: the refusal comes after the chain, so the root is requested first.
    assert_eq!(
        check(&receipt, &policy(false, false)),
        ReceiptCheck::NeedsRoot {
            url: ROOT_URL.to_owned()
        }
    );
    let fetched = vec![(ROOT_URL.to_owned(), doc_keys(&root()))];
    assert_eq!(
        check_receipt(&receipt, &policy(false, false), &fetched, NOW_MS, &URLS),
        failed(LocalCheck::TestReceipt)
    );
}

#[test]
fn other_receipt_types_fail_the_type_check() {
    for typ in [
        "developer-receipt",
        "reviewer-receipt",
        "Purchase-receipt",
        "certified-key",
    ] {
        let receipt = issue(&edit(&purchase_payload(), &["typ"], Some(s(typ))));
        assert_eq!(
            check(&receipt, &policy(true, true)),
            failed(LocalCheck::Type),
            "{typ}"
        );
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::Type),
            "{typ}"
        );
    }
    assert_eq!(LocalCheck::Type.error().code, ErrorCode::InvalidReceipt);
}

// ----- product (F22, F23) -----

#[test]
fn product_url_other_than_app_origin_fails_f22() {
    for url in [
        Some(s("http://localhost:7802")),
        Some(s("https://localhost:7801")),
        Some(s("http://127.0.0.1:7801")),
        Some(s("http://localhost:7801/app")),
        Some(s("http://localhost:7801?x")),
        Some(s("")),
        None,
    ] {
        let receipt = issue(&edit(&purchase_payload(), &["product", "url"], url.clone()));
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::ProductUrl),
            "{url:?}"
        );
    }
    let e = LocalCheck::ProductUrl.error();
    assert_eq!(
        (e.code, e.detail),
        (ErrorCode::InvalidReceipt, vec![("check", s("product_url"))])
    );
}

#[test]
fn product_url_is_compared_as_a_normalised_origin() {
    let receipt = issue(&edit(
        &purchase_payload(),
        &["product", "url"],
        Some(s("HTTP://LocalHost:7801/")),
    ));
    assert_eq!(check(&receipt, &pinned()), passed(false, VERIFY));
    let mut p = pinned();
    p.app_origin = "http://localhost:7801/".to_owned();
    assert_eq!(check(&purchase(), &p), passed(false, VERIFY));
    let default_port = issue(&edit(
        &purchase_payload(),
        &["product", "url"],
        Some(s("https://app.example:443")),
    ));
    p.app_origin = "https://app.example".to_owned();
    assert_eq!(check(&default_port, &p), passed(false, VERIFY));
}

#[test]
fn inapp_id_other_than_product_id_fails_f23() {
    let receipt = issue(&receipt_payload(&ReceiptInput {
        inapp_id: "other-pony",
        ..input(ReceiptKind::Purchase)
    }));
    let outcome = check(&receipt, &pinned());
    assert_eq!(outcome, failed(LocalCheck::ProductId));
    assert_eq!(
        LocalCheck::ProductId.error().code,
        ErrorCode::InvalidReceiptProduct
    );
    // Prefixes, case and a missing, repeated or absent field.
    for data in [
        Some(s("id=7&contrib=42&inapp_id=magical-unicorn-2")),
        Some(s("id=7&contrib=42&inapp_id=Magical-Unicorn")),
        Some(s("id=7&contrib=42&inapp_id=magical")),
        Some(s("id=7&contrib=42&inapp_id=")),
        Some(s("id=7&contrib=42")),
        Some(s(
            "id=7&contrib=42&inapp_id=magical-unicorn&inapp_id=magical-unicorn",
        )),
        Some(s("id=7&contrib=42&inapp_id=magical-unicorn&inapp_id=other")),
        Some(s("")),
        None,
    ] {
        let receipt = issue(&edit(
            &purchase_payload(),
            &["product", "storedata"],
            data.clone(),
        ));
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::ProductId),
            "{data:?}"
        );
    }
}

#[test]
fn storedata_is_form_decoded() {
    let id = "a b&c=d:é/ü+";
    let receipt = issue(&receipt_payload(&ReceiptInput {
        inapp_id: id,
        ..input(ReceiptKind::Purchase)
    }));
    assert!(storedata(7, 42, id).contains("inapp_id=a+b%26c%3Dd%3A%C3%A9%2F%C3%BC%2B"));
    let mut p = pinned();
    p.product_id = id.to_owned();
    assert_eq!(check(&receipt, &p), passed(false, VERIFY));
    // The raw (encoded) text is not the product id.
    p.product_id = "a+b%26c%3Dd%3A%C3%A9%2F%C3%BC%2B".to_owned();
    assert_eq!(check(&receipt, &p), failed(LocalCheck::ProductId));
    // Another encoder's choices decode the same; field order does not matter.
    let alt = issue(&edit(
        &purchase_payload(),
        &["product", "storedata"],
        Some(s("inapp_id=magical%2dunicorn&contrib=%34%32&id=7")),
    ));
    assert_eq!(check(&alt, &pinned()), passed(false, VERIFY));
}

#[test]
fn transaction_id_is_the_storedata_contrib_when_present() {
    for (data, want) in [
        ("id=7&inapp_id=magical-unicorn", None),
        ("id=7&contrib=&inapp_id=magical-unicorn", None),
        ("id=7&contrib=1&contrib=2&inapp_id=magical-unicorn", None),
        (
            "id=7&contrib=webpay%3Aabc&inapp_id=magical-unicorn",
            Some("webpay:abc"),
        ),
    ] {
        let receipt = issue(&edit(
            &purchase_payload(),
            &["product", "storedata"],
            Some(s(data)),
        ));
        assert_eq!(
            check(&receipt, &pinned()),
            ReceiptCheck::Passed {
                test: false,
                verify: VERIFY.to_owned(),
                transaction_id: want.map(str::to_owned)
            },
            "{data}"
        );
    }
}

// ----- verify URL (F24) -----

#[test]
fn verify_url_outside_receipt_check_sites_fails_f24() {
    for verify in [
        "https://evil.example/verify",
        "http://127.0.0.1:7802/receipts/verifyX",
        "http://127.0.0.1:7802/receipts/verif",
        "http://127.0.0.1:7802/receipts/other",
        "http://127.0.0.1:7802/receipts/verify?x=1",
        "http://127.0.0.1:7802/receipts/verify#f",
        "http://127.0.0.1:7803/receipts/verify",
        "https://127.0.0.1:7802/receipts/verify",
        "http://u:p@127.0.0.1:7802/receipts/verify",
        "/receipts/verify",
        "javascript:alert(1)",
    ] {
        let receipt = issue(&edit(&purchase_payload(), &["verify"], Some(s(verify))));
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::VerifyUrl),
            "{verify}"
        );
    }
    let mut p = pinned();
    p.receipt_check_sites.clear();
    assert_eq!(check(&purchase(), &p), failed(LocalCheck::VerifyUrl));
    assert_eq!(
        LocalCheck::VerifyUrl.error().detail,
        vec![("check", s("verify_url"))]
    );
}

// ----- chain and signature (F25, tampering) -----

#[test]
fn chain_to_a_root_not_in_trusted_roots_fails_f25() {
    // Another provider's root, naming its own document: issuer.
    let other_cert = certificate_payload(OTHER_PROVIDER, eph().public_jwk(EPH_KID), CERT_IAT, 10.0);
    let other = chain(&other_cert, &rogue(), &purchase_payload());
    assert_eq!(check(&other, &pinned()), failed(LocalCheck::Issuer));
    // A rogue root claiming the trusted document url: signature (pinned, and fetched).
    let forged = chain(&cert_payload(), &rogue(), &purchase_payload());
    assert_eq!(check(&forged, &pinned()), failed(LocalCheck::Signature));
    let fetched = vec![(ROOT_URL.to_owned(), doc_keys(&root()))];
    assert_eq!(
        check_receipt(&forged, &policy(false, false), &fetched, NOW_MS, &URLS),
        failed(LocalCheck::Signature)
    );
    for c in [LocalCheck::Issuer, LocalCheck::Signature] {
        assert_eq!(c.error().code, ErrorCode::InvalidReceipt);
    }
}

#[test]
fn tampered_receipts_fail_the_signature_check() {
    let receipt = purchase();
    // The receipt payload changed (another product), the signature kept.
    let other_product = edit(
        &purchase_payload(),
        &["product", "storedata"],
        Some(s("id=7&contrib=42&inapp_id=other-pony")),
    );
    assert_eq!(
        check(&with_receipt_payload(&receipt, &other_product), &pinned()),
        failed(LocalCheck::Signature)
    );
    // One character in the middle of the receipt signature.
    let sig_at = receipt.rfind('.').unwrap() + 20;
    let mut bytes = receipt.clone().into_bytes();
    bytes[sig_at] = if bytes[sig_at] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(bytes).unwrap();
    assert_eq!(check(&flipped, &pinned()), failed(LocalCheck::Signature));
    // The certificate payload changed (a higher price limit), its signature kept.
    let (cert, jwt) = receipt.split_once('~').unwrap();
    let cert_segments: Vec<&str> = cert.split('.').collect();
    let richer = edit(&cert_payload(), &["price_limit"], Some(n(1e9)));
    let tampered_cert = format!(
        "{}.{}.{}~{jwt}",
        cert_segments[0],
        crate::b64::encode(richer.to_json_text().as_bytes()),
        cert_segments[2]
    );
    assert_eq!(
        check(&tampered_cert, &pinned()),
        failed(LocalCheck::Signature)
    );
    // The receipt signed by another key under the certified kid.
    let other_eph = format!(
        "{cert}~{}",
        sign_jws(&rogue(), EPH_KID, &purchase_payload()).unwrap()
    );
    assert_eq!(check(&other_eph, &pinned()), failed(LocalCheck::Signature));
    // The receipt signed directly by the root (no certified key in between).
    let by_root = format!(
        "{cert}~{}",
        sign_jws(&root(), ROOT_KID, &purchase_payload()).unwrap()
    );
    assert_eq!(check(&by_root, &pinned()), failed(LocalCheck::Signature));
}

#[test]
fn certificate_rules_of_6_3_beyond_the_verifier() {
    // Valid baseline through `chain` (no builder guards).
    assert_eq!(
        check(
            &chain(&cert_payload(), &root(), &purchase_payload()),
            &pinned()
        ),
        passed(false, VERIFY)
    );
    let no_limit = edit(&cert_payload(), &["price_limit"], None);
    assert_eq!(
        check(&chain(&no_limit, &root(), &purchase_payload()), &pinned()),
        passed(false, VERIFY)
    );
    let two_keys = edit(
        &cert_payload(),
        &["jwk"],
        Some(Json::Arr(vec![
            eph().public_jwk(EPH_KID),
            rogue().public_jwk("eph-2"),
        ])),
    );
    for cert in [
        two_keys,
        edit(&cert_payload(), &["price_limit"], Some(n(-1.0))),
        edit(&cert_payload(), &["price_limit"], Some(s("1000"))),
        edit(&cert_payload(), &["price_limit"], Some(Json::Null)),
        edit(&cert_payload(), &["typ"], Some(s("purchase-receipt"))),
        edit(&cert_payload(), &["jwk"], Some(Json::Arr(vec![]))),
        edit(&cert_payload(), &["exp"], None),
    ] {
        let receipt = chain(&cert, &root(), &purchase_payload());
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::Signature),
            "{}",
            cert.to_json_text()
        );
    }
}

#[test]
fn receipt_outliving_its_certificate_fails_the_signature_check() {
    let cert_exp = (CERT_IAT + 213 * DAY) as f64;
    let late = edit(&purchase_payload(), &["exp"], Some(n(cert_exp + 1.0)));
    assert_eq!(
        check(&chain(&cert_payload(), &root(), &late), &pinned()),
        failed(LocalCheck::Signature)
    );
    let at = edit(&purchase_payload(), &["exp"], Some(n(cert_exp)));
    assert_eq!(
        check(&chain(&cert_payload(), &root(), &at), &pinned()),
        passed(false, VERIFY)
    );
}

// ----- time -----

#[test]
fn expired_receipt_fails_the_time_check_with_60_s_leeway() {
    let receipt = issue(&receipt_payload(&ReceiptInput {
        lifetime_secs: DAY,
        ..input(ReceiptKind::Purchase)
    }));
    let exp_ms = (ISSUED + DAY) as f64 * 1000.0;
    assert_eq!(check_at(&receipt, exp_ms), passed(false, VERIFY));
    assert_eq!(check_at(&receipt, exp_ms + 59_999.0), passed(false, VERIFY));
    assert_eq!(
        check_at(&receipt, exp_ms + 60_000.0),
        failed(LocalCheck::Time)
    );
    assert_eq!(
        check_at(&receipt, exp_ms + 30.0 * DAY as f64 * 1000.0),
        failed(LocalCheck::Time)
    );
    assert_eq!(LocalCheck::Time.error().detail, vec![("check", s("time"))]);
}

#[test]
fn not_yet_valid_receipt_fails_the_time_check_with_60_s_leeway() {
    let receipt = purchase();
    let nbf_ms = ISSUED as f64 * 1000.0;
    assert_eq!(check_at(&receipt, nbf_ms - 60_000.0), passed(false, VERIFY));
    assert_eq!(
        check_at(&receipt, nbf_ms - 60_001.0),
        failed(LocalCheck::Time)
    );
    // iat in the future alone (nbf fine).
    let future_iat = edit(
        &purchase_payload(),
        &["iat"],
        Some(n((ISSUED + 7200) as f64)),
    );
    assert_eq!(
        check(&issue(&future_iat), &pinned()),
        failed(LocalCheck::Time)
    );
}

#[test]
fn certificate_outside_its_validity_fails_the_time_check() {
    // Certificate issued two hours after "now" (the receipt itself is valid now).
    let early = issue_at(&purchase_payload(), ISSUED + 7200);
    assert_eq!(check(&early, &pinned()), failed(LocalCheck::Time));
    assert_eq!(
        check_at(&early, (ISSUED + 7200 - 60) as f64 * 1000.0),
        passed(false, VERIFY)
    );
    // Certificate expired while the receipt (signed without the builder's guard) is not: while
    // the certificate lives, the receipt outlives it (signature); once it is dead, time.
    let cert_exp_ms = (ISSUED + 1800) as f64 * 1000.0;
    let old_cert = edit(&cert_payload(), &["exp"], Some(n((ISSUED + 1800) as f64)));
    let receipt = chain(&old_cert, &root(), &purchase_payload());
    assert_eq!(
        check_at(&receipt, cert_exp_ms + 59_999.0),
        failed(LocalCheck::Signature)
    );
    assert_eq!(
        check_at(&receipt, cert_exp_ms + 60_000.0),
        failed(LocalCheck::Time)
    );
    let short = edit(
        &purchase_payload(),
        &["exp"],
        Some(n((ISSUED + 1800) as f64)),
    );
    let receipt = chain(&old_cert, &root(), &short);
    assert_eq!(
        check_at(&receipt, cert_exp_ms + 59_999.0),
        passed(false, VERIFY)
    );
    assert_eq!(
        check_at(&receipt, cert_exp_ms + 60_000.0),
        failed(LocalCheck::Time)
    );
    // A NaN clock fails closed.
    assert_eq!(check_at(&purchase(), f64::NAN), failed(LocalCheck::Time));
}

// ----- parse -----

#[test]
fn garbage_fails_the_parse_check_without_panicking() {
    let receipt = purchase();
    let (cert, jwt) = receipt.split_once('~').unwrap();
    let huge = "A".repeat(2 * 1024 * 1024);
    let huge_chain = format!("{cert}~{jwt}{}", "A".repeat(2 * 1024 * 1024));
    let mut inputs: Vec<String> = [
        "", "garbage", "a~b~c~d", "a~b", "~", "a.b.c", "é~é", "\u{0}", jwt, cert,
    ]
    .iter()
    .map(|t| (*t).to_owned())
    .collect();
    inputs.extend([
        huge,
        huge_chain,
        format!("{receipt}~"),
        format!("~{receipt}"),
        format!(" {receipt}"),
        format!("{receipt}\n"),
        format!("{cert}~{cert}~{jwt}"),
        format!("{cert}~{jwt}~{jwt}~{jwt}"),
    ]);
    for input in &inputs {
        let prefix: String = input.chars().take(40).collect();
        for p in [pinned(), policy(false, true)] {
            assert_eq!(check(input, &p), failed(LocalCheck::Parse), "{prefix}");
        }
    }
}

#[test]
fn receipt_claims_of_the_wrong_shape_fail_the_parse_check() {
    for (path, value) in [
        (&["exp"][..], None),
        (&["exp"][..], Some(s("soon"))),
        (&["iss"][..], None),
        (&["iss"][..], Some(s("http://127.0.0.1:7802/receipts"))),
        (&["user"][..], None),
        (&["user", "value"][..], Some(n(1.0))),
        (&["product"][..], Some(s(APP))),
        (&["verify"][..], None),
        (&["nbf"][..], None),
    ] {
        let receipt = chain(
            &cert_payload(),
            &root(),
            &edit(&purchase_payload(), path, value.clone()),
        );
        assert_eq!(
            check(&receipt, &pinned()),
            failed(LocalCheck::Parse),
            "{path:?} {value:?}"
        );
    }
}

// ----- mapping -----

#[test]
fn verifier_classes_map_by_ancestry() {
    use Class::*;
    let table = [
        (ReceiptFormatError, LocalCheck::Parse),
        (ReceiptParseError, LocalCheck::Parse),
        (ReceiptSignatureError, LocalCheck::Signature),
        (AlgorithmNotAllowed, LocalCheck::Signature),
        (UnsupportedHeader, LocalCheck::Signature),
        (UnknownSigningKey, LocalCheck::Signature),
        (InvalidSignature, LocalCheck::Signature),
        (CertificateError, LocalCheck::Signature),
        (ReceiptNotYetValid, LocalCheck::Time),
        (ReceiptExpired, LocalCheck::Time),
        (WrongType, LocalCheck::Type),
        (ProductUrlError, LocalCheck::ProductUrl),
        (InvalidReceiptIssuer, LocalCheck::Issuer),
        (VerifyDomainMismatch, LocalCheck::VerifyUrl),
        (InvalidFromStore, LocalCheck::Parse),
        (Refunded, LocalCheck::Parse),
        (ConnectionError, LocalCheck::Parse),
        (InternalError, LocalCheck::Parse),
    ];
    for (class, want) in table {
        assert_eq!(class_check(class), want, "{class:?}");
    }
    let purchase = purchase_payload();
    let test = receipt_payload(&input(ReceiptKind::Test));
    let f = |class, detail: &str| Failure::new(class, detail);
    assert_eq!(
        failure_check(&f(WrongType, "x"), &purchase),
        LocalCheck::Type
    );
    assert_eq!(
        failure_check(&f(WrongType, "x"), &test),
        LocalCheck::TestReceipt
    );
    assert_eq!(
        failure_check(&f(CertificateError, "Certificate expired"), &purchase),
        LocalCheck::Time
    );
    assert_eq!(
        failure_check(&f(CertificateError, "Certificate not yet valid"), &purchase),
        LocalCheck::Time
    );
    assert_eq!(
        failure_check(
            &f(CertificateError, "Certificate outlives its issuer"),
            &purchase
        ),
        LocalCheck::Signature
    );
}

// ----- verify_url_in_sites -----

fn in_sites(verify: &str, sites: &[&str]) -> bool {
    let sites: Vec<String> = sites.iter().map(|s| (*s).to_owned()).collect();
    verify_url_in_sites(verify, &sites, &URLS)
}

#[test]
fn verify_url_in_sites_is_segment_wise() {
    let site = ["https://store.example/receipts/verify"];
    for ok in [
        "https://store.example/receipts/verify",
        "https://store.example/receipts/verify/",
        "https://store.example/receipts/verify/test",
        "https://store.example/receipts/verify/test/deeper",
        "https://STORE.example:443/receipts/verify",
        "https://store.example/receipts/verify/./test",
        "https://store.example/receipts/x/../verify/test",
        "https://store.example/receipts/verify?",
        "https://store.example/receipts/verify#",
    ] {
        assert!(in_sites(ok, &site), "{ok}");
    }
    for bad in [
        "https://store.example/receipts/verifyX",
        "https://store.example/receipts/verify-test",
        "https://store.example/receipts/verif",
        "https://store.example/receipts",
        "https://store.example/receipts/",
        "https://store.example/",
        "https://store.example/receipts/verify/../other",
        "https://store.example/receipts/%76erify",
        "https://store.example/receipts/verify%2Ftest",
        "https://store.example/Receipts/verify",
        "https://store.example/other/receipts/verify",
        "https://store.example/receipts/verify?x=1",
        "https://store.example/receipts/verify#frag",
        "https://u:p@store.example/receipts/verify",
        "https://u@store.example/receipts/verify",
        "/receipts/verify",
        "store.example/receipts/verify",
        "",
        "javascript:alert(1)",
    ] {
        assert!(!in_sites(bad, &site), "{bad}");
    }
}

#[test]
fn verify_url_in_sites_needs_exactly_the_origin() {
    let site = ["https://store.example/receipts/verify"];
    for bad in [
        "http://store.example/receipts/verify",
        "https://store.example:8443/receipts/verify",
        "https://evil.example/receipts/verify",
        "https://evil.example/verify",
        "https://sub.store.example/receipts/verify",
        "https://store.example.evil.example/receipts/verify",
        "https://example/receipts/verify",
        "ftp://store.example/receipts/verify",
    ] {
        assert!(!in_sites(bad, &site), "{bad}");
    }
    let local = ["http://127.0.0.1:7802/receipts/verify"];
    assert!(in_sites(
        "http://127.0.0.1:7802/receipts/verify/test",
        &local
    ));
    assert!(!in_sites("http://127.0.0.1/receipts/verify", &local));
    assert!(!in_sites("http://127.0.0.1:7803/receipts/verify", &local));
    assert!(!in_sites("http://localhost:7802/receipts/verify", &local));
    assert!(!in_sites("https://127.0.0.1:7802/receipts/verify", &local));
    // A default port written out is the same origin.
    assert!(in_sites(
        "https://store.example/receipts/verify",
        &["https://store.example:443/receipts/verify"]
    ));
    assert!(in_sites(
        "http://store.example:80/receipts/verify",
        &["http://store.example/receipts/verify"]
    ));
}

#[test]
fn verify_url_in_sites_entry_forms() {
    // A trailing slash on the entry is ignored.
    let slash = ["https://store.example/receipts/verify/"];
    assert!(in_sites("https://store.example/receipts/verify", &slash));
    assert!(in_sites(
        "https://store.example/receipts/verify/test",
        &slash
    ));
    assert!(!in_sites("https://store.example/receipts/verifyX", &slash));
    assert!(!in_sites("https://store.example/receipts", &slash));
    // An origin entry (with or without "/") allows every path of that origin only.
    for origin_only in [["https://store.example/"], ["https://store.example"]] {
        assert!(in_sites(
            "https://store.example/receipts/verify",
            &origin_only
        ));
        assert!(in_sites("https://store.example/", &origin_only));
        assert!(!in_sites(
            "https://evil.example/receipts/verify",
            &origin_only
        ));
        assert!(!in_sites(
            "https://store.example:444/receipts/verify",
            &origin_only
        ));
    }
    // Entries with a query, a fragment, userinfo or another scheme never match.
    for entry in [
        "https://store.example/receipts/verify?x=1",
        "https://store.example/receipts/verify#f",
        "https://u@store.example/receipts/verify",
        "ftp://store.example/receipts/verify",
        "/receipts/verify",
        "not a url",
    ] {
        assert!(
            !in_sites("https://store.example/receipts/verify", &[entry]),
            "{entry}"
        );
    }
    // Any entry may match; none is no site.
    assert!(in_sites(
        "https://store.example/receipts/verify/test",
        &[
            "https://other.example/receipts/verify",
            "https://store.example/receipts/verify/test"
        ]
    ));
    assert!(!in_sites("https://store.example/receipts/verify", &[]));
}
