//! Tests of the payment side: pay requests (§3.4 steps 0–34, §9.3 rows C01–C16), notices (§2.5,
//! §9.1 rows A01–A30 that concern the token), receipt-issue requests (§6.1, §9.5 E01/E03) and
//! receipt issuing checked with the receipt verifier (§6.2, §6.3, §9.5 E05/E06).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use super::*;
use crate::b64::encode;
use crate::hs256::{sign_hs256, Hs256Key, HS256_HEADER};
use crate::json::{self, Json};
use crate::url::NativeUrlParser;

const NOW: i64 = 1_700_000_000;
const DOMAIN: &str = "127.0.0.1:7802";
const APP_KEY: &str = "8e6b1f9e-2f4a-4b8e-9d2c-5b1a7c3e9f10";
const SECRET: &str = "app-secret-0123456789-abcdefghijklmnop";
const OTHER_KEY: &str = "1c3e5a7b-9d2f-4e6a-8b0c-2d4f6a8c0e1b";
const OTHER_SECRET: &str = "other-app-secret-0123456789-abcdefghij";
const SIM_KEY: &str = "5b7d9f1a-3c5e-4a7b-9c1d-3e5f7a9b1c3d";
const ORDER: &str = "3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55";
const TX_UUID: &str = "0b6f5d8e-1a2b-4c3d-8e9f-a0b1c2d3e4f5";

fn secret() -> Hs256Key {
    Hs256Key::from_secret(SECRET).unwrap()
}

fn other_secret() -> Hs256Key {
    Hs256Key::from_secret(OTHER_SECRET).unwrap()
}

fn parse(text: &str) -> Json {
    json::parse(text.as_bytes()).unwrap()
}

/// Sets (`Some`) or removes (`None`) the member at `path`, creating objects on the way.
fn set(value: &mut Json, path: &[&str], new: Option<Json>) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut cur = value;
    for p in parents {
        let Json::Obj(members) = cur else { panic!("not an object at {p}") };
        if !members.iter().any(|(k, _)| k == p) {
            members.push(((*p).to_owned(), Json::Obj(vec![])));
        }
        cur = &mut members.iter_mut().find(|(k, _)| k == p).unwrap().1;
    }
    let Json::Obj(members) = cur else { panic!("not an object at {last}") };
    let pos = members.iter().position(|(k, _)| k == last);
    match (pos, new) {
        (Some(i), Some(v)) => members[i].1 = v,
        (None, Some(v)) => members.push(((*last).to_owned(), v)),
        (Some(i), None) => {
            members.remove(i);
        }
        (None, None) => {}
    }
}

fn s(v: &str) -> Json {
    Json::Str(v.to_owned())
}

fn n(v: f64) -> Json {
    Json::Num(v)
}

/// A token with raw header and payload texts and an HMAC tag made with `SECRET`.
fn raw_token(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()));
    format!("{input}.{}", encode(&secret().tag(input.as_bytes())))
}

// ---------------------------------------------------------------------------------------------
// Pay requests (§3)
// ---------------------------------------------------------------------------------------------

fn base_request() -> RequestObject {
    RequestObject {
        id: "magical-unicorn".into(),
        price_point: "5".into(),
        name: "Magical Unicorn".into(),
        description: "Adventure Game item".into(),
        postback_url: "http://localhost:7801/mozpay/postback".into(),
        chargeback_url: "http://localhost:7801/mozpay/chargeback".into(),
        product_data: Some(format!("mm_order={ORDER}")),
        icons: Some(vec![
            ("64".into(), "http://localhost:7801/img/icon-64.png".into()),
            ("128".into(), "https://cdn.example/img/icon-128.png".into()),
        ]),
        default_locale: Some("en".into()),
        locales: Some(vec![(
            "de".into(),
            LocaleEntry {
                name: Some("Magisches Einhorn".into()),
                description: Some("Adventure Game Artikel".into()),
            },
        )]),
        simulate: None,
    }
}

fn base_pay() -> PayRequest {
    PayRequest::new(APP_KEY, DOMAIN, NOW - 10, base_request())
}

fn base_claims() -> Json {
    base_pay().to_claims_json()
}

struct Provider {
    secret: Hs256Key,
    other: Hs256Key,
    origins: Vec<String>,
    simulation_only_origins: Vec<String>,
    app_disabled: bool,
    simulations_enabled: bool,
    currency_has_tier_99: bool,
}

impl Provider {
    fn new() -> Self {
        Provider {
            secret: secret(),
            other: other_secret(),
            origins: vec!["http://localhost:7801".into(), "https://app.example".into()],
            simulation_only_origins: vec!["http://localhost:7801".into()],
            app_disabled: false,
            simulations_enabled: true,
            currency_has_tier_99: false,
        }
    }
}

impl PayLookup for Provider {
    fn key(&self, iss: &str) -> Option<PayKey<'_>> {
        let (secret, simulation_only, origins) = match iss {
            APP_KEY => (&self.secret, false, &self.origins),
            OTHER_KEY => (&self.other, false, &self.origins),
            SIM_KEY => (&self.secret, true, &self.simulation_only_origins),
            _ => return None,
        };
        Some(PayKey {
            secret,
            simulation_only,
            notice_origins: origins,
            pay_disabled: self.app_disabled,
            simulations_enabled: self.simulations_enabled,
        })
    }

    fn tier(&self, price_point: &str) -> TierCheck {
        match price_point {
            "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "10" => {
                TierCheck::Available
            }
            "99" if self.currency_has_tier_99 => TierCheck::Available,
            "99" => TierCheck::NoPriceInCurrency,
            _ => TierCheck::Unknown,
        }
    }
}

fn ctx(now: i64) -> PayContext<'static> {
    PayContext {
        provider_domain: DOMAIN,
        now_secs: now,
        pay_disabled: false,
        strict: false,
        urls: &NativeUrlParser,
    }
}

fn validate_with(
    token: &str,
    provider: &Provider,
    c: &PayContext<'_>,
) -> Result<ValidPay, PayError> {
    validate_pay_jwt(Some(token), c, provider)
}

fn validate(token: &str) -> Result<ValidPay, PayError> {
    validate_with(token, &Provider::new(), &ctx(NOW))
}

/// The claims with one change at `path`, signed with `SECRET`.
fn pay_with(path: &[&str], value: Option<Json>) -> String {
    let mut c = base_claims();
    set(&mut c, path, value);
    sign_hs256(&c, &secret())
}

fn req_with(member: &str, value: Option<Json>) -> String {
    pay_with(&["request", member], value)
}

fn code(r: Result<ValidPay, PayError>) -> (&'static str, Option<&'static str>) {
    match r {
        Ok(_) => ("OK", None),
        Err(e) => (e.code.as_str(), e.detail),
    }
}

#[track_caller]
fn expect(row: &str, token: &str, want: &str, detail: Option<&str>) {
    let got = code(validate(token));
    assert_eq!(got, (want, detail), "{row}");
}

#[test]
fn valid_request_round_trips() {
    let pay = base_pay();
    let token = pay.sign(&secret());
    let valid = validate(&token).unwrap();
    assert_eq!(valid.pay, pay);
    assert_eq!(valid.request_json, pay.request.to_json());
    assert!(!valid.is_simulated());
    let payload = crate::b64::decode_strict(token.split('.').nth(1).unwrap()).unwrap();
    use sha2::Digest;
    assert_eq!(valid.payload_sha256, <[u8; 32]>::from(sha2::Sha256::digest(&payload)));
    // The example of §3.2, member order included.
    assert_eq!(
        payload,
        format!(
            r#"{{"iss":"{APP_KEY}","aud":"{DOMAIN}","typ":"mozilla/payments/pay/v1","iat":{},"exp":{},"request":{{"id":"magical-unicorn","pricePoint":"5","name":"Magical Unicorn","description":"Adventure Game item","icons":{{"64":"http://localhost:7801/img/icon-64.png","128":"https://cdn.example/img/icon-128.png"}},"productData":"mm_order={ORDER}","postbackURL":"http://localhost:7801/mozpay/postback","chargebackURL":"http://localhost:7801/mozpay/chargeback","defaultLocale":"en","locales":{{"de":{{"name":"Magisches Einhorn","description":"Adventure Game Artikel"}}}}}}}}"#,
            NOW - 10,
            NOW - 10 + 3600
        )
        .into_bytes()
    );
    assert_eq!(pay.exp - pay.iat, PAY_JWT_LIFETIME_SECS);
}

#[test]
fn staged_api_matches_the_one_shot_validator() {
    let token = base_pay().sign(&secret());
    let provider = Provider::new();
    let jwt = decode_pay_jwt(Some(&token)).unwrap();
    assert_eq!(jwt.iss(), APP_KEY);
    let key = provider.key(jwt.iss()).unwrap();
    let valid = jwt.verify(&key, &ctx(NOW)).unwrap();
    assert_eq!(valid.check_tier(provider.tier(&valid.pay.request.price_point)), Ok(()));
    assert_eq!(Ok(valid), validate(&token));
}

#[test]
fn minimal_request_and_normalised_integer_price_point() {
    let mut c = base_claims();
    for m in ["icons", "locales", "defaultLocale", "productData"] {
        set(&mut c, &["request", m], None);
    }
    set(&mut c, &["request", "pricePoint"], Some(n(5.0)));
    set(&mut c, &["request", "unknownMember"], Some(parse(r#"{"kept":[1,2]}"#)));
    set(&mut c, &["somethingElse"], Some(s("ignored")));
    let valid = validate(&sign_hs256(&c, &secret())).unwrap();
    let r = &valid.pay.request;
    assert_eq!(r.price_point, "5");
    assert_eq!((r.icons.clone(), r.locales.clone(), r.product_data.clone()), (None, None, None));
    // The echo keeps the request as decoded, unknown members and the integer included.
    assert_eq!(valid.request_json.get("unknownMember"), Some(&parse(r#"{"kept":[1,2]}"#)));
    assert_eq!(valid.request_json.get("pricePoint"), Some(&n(5.0)));
    // A free item.
    let t = req_with("pricePoint", Some(n(0.0)));
    assert_eq!(validate(&t).unwrap().pay.request.price_point, "0");
}

#[test]
fn simulated_requests_parse() {
    for (sim, want) in [
        (r#"{"result":"postback"}"#, Simulate::postback()),
        (
            r#"{"result":"chargeback","reason":"refund"}"#,
            Simulate::chargeback(ChargebackReason::Refund),
        ),
        (
            r#"{"result":"chargeback","reason":"reversal"}"#,
            Simulate::chargeback(ChargebackReason::Reversal),
        ),
        (
            r#"{"result":"postback","reason":"refund","extra":1}"#,
            Simulate { result: SimResult::Postback, reason: Some(ChargebackReason::Refund) },
        ),
    ] {
        let v = validate(&req_with("simulate", Some(parse(sim)))).unwrap();
        assert_eq!(v.pay.request.simulate, Some(want), "{sim}");
        assert!(v.is_simulated());
    }
    // The builder's form is what validation reads back.
    let mut r = base_request();
    r.simulate = Some(Simulate::chargeback(ChargebackReason::Reversal));
    let pay = PayRequest::new(SIM_KEY, DOMAIN, NOW, r);
    let v = validate(&pay.sign(&secret())).unwrap();
    assert_eq!(v.pay, pay);
}

/// §9.3 C01: one defect per code raised at steps 0–34 of §3.4, in step order.
#[test]
fn c01_every_code_of_steps_0_to_34() {
    let provider = Provider::new();
    // Step 0 (C23: global).
    let disabled = PayContext { pay_disabled: true, ..ctx(NOW) };
    let good = base_pay().sign(&secret());
    assert_eq!(
        code(validate_with(&good, &provider, &disabled)),
        ("PAY_DISABLED", None),
        "C01 step 0"
    );
    assert_eq!(PayCode::PayDisabled.http_status(), 503, "C23");
    // Step 0 comes before everything, even a missing token.
    assert_eq!(
        code(validate_pay_jwt(None, &disabled, &provider)),
        ("PAY_DISABLED", None),
        "C01 step 0 first"
    );
    // Step 1.
    assert_eq!(
        code(validate_pay_jwt(None, &ctx(NOW), &provider)),
        ("MISSING_JWT", None),
        "C01 step 1"
    );
    assert_eq!(
        code(validate_pay_jwt(Some(""), &ctx(NOW), &provider)),
        ("MISSING_JWT", None),
        "C01 step 1"
    );
    // Step 2 (C16).
    let long = req_with("description", Some(s(&"x".repeat(9000))));
    expect("C01 step 2 / C16", &long, "INVALID_JWT", Some("too_long"));
    // Step 3.
    expect("C01 step 3", "abc", "JWT_DECODE_ERR", None);
    // Step 4.
    expect("C01 step 4", &raw_token(HS256_HEADER, "[]"), "INVALID_JWT_OBJ", None);
    // Step 5.
    expect("C01 step 5", &raw_token(r#"{"alg":"HS512"}"#, "{}"), "INVALID_JWT", Some("alg"));
    expect(
        "C01 step 5",
        &raw_token(r#"{"alg":"HS256","jku":"x"}"#, "{}"),
        "INVALID_JWT",
        Some("header"),
    );
    // Step 6.
    expect("C01 step 6", &pay_with(&["iss"], Some(n(1.0))), "INVALID_JWT", Some("iss"));
    // Step 7 (C03).
    expect("C01 step 7 / C03", &pay_with(&["iss"], Some(s("unknown"))), "BAD_JWT_ISSUER", None);
    // Step 8 (C02).
    let c02 = sign_hs256(&base_claims(), &other_secret());
    expect("C01 step 8 / C02", &c02, "INVALID_JWT", Some("signature"));
    // Steps 9–13.
    expect("C01 step 9", &pay_with(&["typ"], Some(s(POSTBACK_TYP))), "INVALID_JWT", Some("typ"));
    expect("C01 step 10", &pay_with(&["aud"], Some(s("other:1"))), "INVALID_JWT", Some("aud"));
    expect("C01 step 11", &pay_with(&["exp"], None), "INVALID_JWT", Some("exp"));
    expect("C01 step 12", &pay_with(&["exp"], Some(n((NOW - 61) as f64))), "EXPIRED_JWT", None);
    expect("C01 step 13", &pay_with(&["iat"], None), "INVALID_JWT", Some("iat"));
    // Steps 14–20.
    expect("C01 step 14", &pay_with(&["request"], None), "FIELD_REQUIRED", Some("request"));
    expect("C01 step 15", &pay_with(&["request"], Some(s("x"))), "BAD_FIELD_TYPE", Some("request"));
    expect("C01 step 16", &req_with("name", None), "FIELD_REQUIRED", Some("request.name"));
    expect("C01 step 17", &req_with("name", Some(n(1.0))), "BAD_FIELD_TYPE", Some("request.name"));
    expect("C01 step 18", &req_with("icons", Some(s("x"))), "BAD_ICON_KEY", None);
    expect("C01 step 19", &req_with("locales", Some(parse("[]"))), "BAD_LOCALE", None);
    let x256 = Some(s(&"x".repeat(256)));
    expect("C01 step 20", &req_with("id", x256.clone()), "ID_TOO_LONG", None);
    expect("C01 step 20", &req_with("name", x256.clone()), "NAME_TOO_LONG", None);
    let long_url = Some(s(&format!("http://localhost:7801/{}", "p".repeat(235))));
    expect("C01 step 20", &req_with("postbackURL", long_url.clone()), "POSTBACKURL_TOO_LONG", None);
    expect("C01 step 20", &req_with("chargebackURL", long_url), "CHARGEBACKURL_TOO_LONG", None);
    expect("C01 step 20", &req_with("productData", x256.clone()), "PRODUCTDATA_TOO_LONG", None);
    expect("C01 step 20", &req_with("defaultLocale", x256), "DEFAULTLOCALE_TOO_LONG", None);
    // Steps 21–25.
    let sim = |v: &str| req_with("simulate", Some(parse(v)));
    let no_sims = Provider { simulations_enabled: false, ..Provider::new() };
    let t = sim(r#"{"result":"postback"}"#);
    assert_eq!(
        code(validate_with(&t, &no_sims, &ctx(NOW))),
        ("SIM_DISABLED", None),
        "C01 step 21 / C08"
    );
    expect("C01 step 22", &sim(r#"{"result":"refund"}"#), "BAD_SIM_RESULT", None);
    expect("C01 step 23 / C05", &sim(r#"{"result":"chargeback"}"#), "NO_SIM_REASON", None);
    expect(
        "C01 step 24",
        &sim(r#"{"result":"chargeback","reason":"fraud"}"#),
        "BAD_SIM_RESULT",
        None,
    );
    let sim_only = pay_with(&["iss"], Some(s(SIM_KEY)));
    expect("C01 step 25 / C07", &sim_only, "SIM_ONLY_KEY", None);
    // Steps 26–28.
    expect("C01 step 26 / C12", &req_with("defaultLocale", None), "NO_DEFAULT_LOC", None);
    expect("C01 step 27", &req_with("locales", Some(parse(r#"{"de_DE":{}}"#))), "BAD_LOCALE", None);
    let long_name = format!(r#"{{"de":{{"name":"{}"}}}}"#, "n".repeat(256));
    expect("C01 step 28", &req_with("locales", Some(parse(&long_name))), "NAME_TOO_LONG", None);
    // Steps 29–30.
    let pb = |u: &str| req_with("postbackURL", Some(s(u)));
    expect("C01 step 29 / C10", &pb("notaurl"), "MALFORMED_URL", Some("request.postbackURL"));
    expect(
        "C01 step 30 / C09",
        &pb("https://attacker.example/hook"),
        "URL_NOT_ALLOWED",
        Some("request.postbackURL"),
    );
    // Steps 31–32 (C13).
    let icons = |v: &str| req_with("icons", Some(parse(v)));
    expect(
        "C01 step 31 / C13",
        &icons(r#"{"big":"https://x.example/i.png"}"#),
        "BAD_ICON_KEY",
        None,
    );
    expect(
        "C01 step 32 / C13",
        &icons(r#"{"64":"javascript:alert(1)"}"#),
        "MALFORMED_URL",
        Some("request.icons: https required"),
    );
    // Steps 33–34 (C14).
    expect("C01 step 33 / C14", &req_with("pricePoint", Some(s("77"))), "BAD_PRICE_POINT", None);
    expect("C01 step 34 / C14", &req_with("pricePoint", Some(s("99"))), "UNSUPPORTED_PAY", None);
    let usd = Provider { currency_has_tier_99: true, ..Provider::new() };
    let t = req_with("pricePoint", Some(s("99")));
    assert_eq!(code(validate_with(&t, &usd, &ctx(NOW))), ("OK", None), "tier 99 in USD");
}

#[test]
fn per_app_disabled_applies_right_after_step_8() {
    let off = Provider { app_disabled: true, ..Provider::new() };
    let good = base_pay().sign(&secret());
    assert_eq!(code(validate_with(&good, &off, &ctx(NOW))), ("PAY_DISABLED", None), "C23 per app");
    // Before it: steps 1–8.
    let forged = sign_hs256(&base_claims(), &other_secret());
    assert_eq!(code(validate_with(&forged, &off, &ctx(NOW))), ("INVALID_JWT", Some("signature")));
    let unknown = pay_with(&["iss"], Some(s("nobody")));
    assert_eq!(code(validate_with(&unknown, &off, &ctx(NOW))), ("BAD_JWT_ISSUER", None));
    // After it: everything else.
    let bad_typ = pay_with(&["typ"], Some(s("x")));
    assert_eq!(code(validate_with(&bad_typ, &off, &ctx(NOW))), ("PAY_DISABLED", None));
}

#[test]
fn c16_token_length_boundary() {
    // Find a description length that makes the token exactly 8192 bytes.
    let (exact, len) = (0..8000)
        .map(|k| {
            let t = req_with("description", Some(s(&"d".repeat(k))));
            let l = t.len();
            (t, l)
        })
        .find(|(_, l)| *l >= MAX_PAY_JWT_BYTES - 2)
        .unwrap();
    assert!(len <= MAX_PAY_JWT_BYTES);
    assert_eq!(code(validate(&exact)), ("OK", None), "C16: {len} bytes is fine");
    let over = req_with("description", Some(s(&"d".repeat(6200))));
    assert!(over.len() > MAX_PAY_JWT_BYTES);
    expect("C16", &over, "INVALID_JWT", Some("too_long"));
    expect("C16", &"a".repeat(9000), "INVALID_JWT", Some("too_long"));
}

#[test]
fn step_3_decode_errors() {
    let header = encode(HS256_HEADER.as_bytes());
    let body = encode(br#"{"iss":"x"}"#);
    for (token, why) in [
        ("a.b".to_owned(), "two segments"),
        ("a.b.c.d".to_owned(), "four segments"),
        (format!(".{body}.AA"), "empty header"),
        (format!("{header}.{body}."), "empty signature (alg none style)"),
        (format!("{header}=.{body}.AA"), "padding"),
        (format!("{header}.{body}=.AA"), "padding"),
        (format!("{header}.{} .AA", body), "whitespace"),
        (format!("{header}.{}+.AA", &body[..body.len() - 1]), "plus"),
        (raw_token(HS256_HEADER, "\u{fffd}\u{0}"), "control character"),
        (raw_token(HS256_HEADER, r#"{"iss":"a","iss":"a"}"#), "duplicate iss"),
        (raw_token(HS256_HEADER, r#"{"typ":"x","typ":"x"}"#), "duplicate typ"),
        (raw_token(r#"{"alg":"HS256","alg":"HS256"}"#, "{}"), "duplicate header alg"),
        (
            raw_token(HS256_HEADER, &format!(r#"{{"a":{}{}}}"#, "[".repeat(16), "]".repeat(16))),
            "depth 17",
        ),
    ] {
        assert_eq!(code(validate(&token)), ("JWT_DECODE_ERR", None), "C01 step 3: {why}");
    }
    // Invalid UTF-8 in the payload.
    let input = format!("{header}.{}", encode(b"{\"a\":\"\xff\"}"));
    let t = format!("{input}.{}", encode(&secret().tag(input.as_bytes())));
    assert_eq!(code(validate(&t)), ("JWT_DECODE_ERR", None), "C01 step 3: UTF-8");
    // Depth 16 is fine (the request is still checked afterwards).
    let ok_depth = pay_with(
        &["request", "deep"],
        Some(parse(&format!("{}{}", "[".repeat(14), "]".repeat(14)))),
    );
    assert_eq!(code(validate(&ok_depth)), ("OK", None));
    let too_deep = pay_with(
        &["request", "deep"],
        Some(parse(&format!("{}{}", "[".repeat(15), "]".repeat(15)))),
    );
    assert_eq!(code(validate(&too_deep)), ("JWT_DECODE_ERR", None));
}

#[test]
fn step_4_and_5_header_rules() {
    expect("step 4", &raw_token(r#""x""#, "{}"), "INVALID_JWT_OBJ", None);
    expect("step 4", &raw_token(HS256_HEADER, "1"), "INVALID_JWT_OBJ", None);
    let claims = base_claims().to_json_text();
    for h in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS512"}"#,
        r#"{"alg":"RS256"}"#,
        r#"{"alg":"ES256"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":["HS256"]}"#,
    ] {
        expect(h, &raw_token(h, &claims), "INVALID_JWT", Some("alg"));
    }
    for p in ["crit", "jku", "jwk", "x5u", "x5c", "b64", "cty"] {
        let h = format!(r#"{{"alg":"HS256","typ":"JWT","{p}":"x"}}"#);
        expect(p, &raw_token(&h, &claims), "INVALID_JWT", Some("header"));
    }
    expect(
        "kid /",
        &raw_token(r#"{"alg":"HS256","kid":"a/b"}"#, &claims),
        "INVALID_JWT",
        Some("header"),
    );
    expect("kid ok", &raw_token(r#"{"alg":"HS256","kid":"k.1-_"}"#, &claims), "OK", None);
}

#[test]
fn steps_6_to_13_claims_and_times() {
    expect("iss missing", &pay_with(&["iss"], None), "INVALID_JWT", Some("iss"));
    expect(
        "iss array",
        &pay_with(&["iss"], Some(parse(&format!(r#"["{APP_KEY}"]"#)))),
        "INVALID_JWT",
        Some("iss"),
    );
    expect("revoked/unknown", &pay_with(&["iss"], Some(s(""))), "BAD_JWT_ISSUER", None);
    for typ in [None, Some(s("Mozilla/payments/pay/v1")), Some(s(CHARGEBACK_TYP)), Some(n(1.0))] {
        expect("typ", &pay_with(&["typ"], typ), "INVALID_JWT", Some("typ"));
    }
    for aud in [
        None,
        Some(parse(&format!(r#"["{DOMAIN}"]"#))),
        Some(s("http://127.0.0.1:7802")),
        Some(s("127.0.0.1:7802 ")),
        Some(s("marketplace.firefox.com")),
    ] {
        expect("aud", &pay_with(&["aud"], aud), "INVALID_JWT", Some("aud"));
    }
    for exp in [s("9999999999"), Json::Null, Json::Bool(true), n(-1.0)] {
        expect("exp type", &pay_with(&["exp"], Some(exp)), "INVALID_JWT", Some("exp"));
    }
    // exp boundary (C04): expired means exp <= now - 60.
    let times = |iat: i64, exp: i64| {
        let mut c = base_claims();
        set(&mut c, &["iat"], Some(n(iat as f64)));
        set(&mut c, &["exp"], Some(n(exp as f64)));
        sign_hs256(&c, &secret())
    };
    expect("C04 exp = now - 61", &times(NOW - 100, NOW - 61), "EXPIRED_JWT", None);
    expect("exp = now - 60", &times(NOW - 100, NOW - 60), "EXPIRED_JWT", None);
    expect("exp = now - 59", &times(NOW - 100, NOW - 59), "OK", None);
    // Fractions are floored: now - 59.5 → now - 60.
    let mut c = base_claims();
    set(&mut c, &["exp"], Some(n((NOW - 60) as f64 + 0.5)));
    set(&mut c, &["iat"], Some(n((NOW - 100) as f64)));
    expect("exp floored", &sign_hs256(&c, &secret()), "EXPIRED_JWT", None);
    // iat boundary.
    expect("iat = now + 61", &times(NOW + 61, NOW + 100), "INVALID_JWT", Some("iat"));
    expect("iat = now + 60", &times(NOW + 60, NOW + 100), "OK", None);
    expect("iat string", &pay_with(&["iat"], Some(s("1"))), "INVALID_JWT", Some("iat"));
    // Lifetime (C04).
    expect("C04 exp - iat = 3601", &times(NOW - 1, NOW + 3600), "INVALID_JWT", Some("lifetime"));
    expect("exp - iat = 3600", &times(NOW, NOW + 3600), "OK", None);
    // nbf.
    expect(
        "nbf = now + 61",
        &pay_with(&["nbf"], Some(n((NOW + 61) as f64))),
        "INVALID_JWT",
        Some("nbf"),
    );
    expect("nbf = now + 60", &pay_with(&["nbf"], Some(n((NOW + 60) as f64))), "OK", None);
    expect("nbf null", &pay_with(&["nbf"], Some(Json::Null)), "INVALID_JWT", Some("nbf"));
    // Order: exp type (11) before expiry (12) before iat (13) before lifetime and nbf.
    let mut c = base_claims();
    set(&mut c, &["exp"], Some(n((NOW - 61) as f64)));
    set(&mut c, &["iat"], Some(n((NOW + 500) as f64)));
    expect("12 before 13", &sign_hs256(&c, &secret()), "EXPIRED_JWT", None);
    let mut c = base_claims();
    set(&mut c, &["typ"], None);
    set(&mut c, &["aud"], None);
    expect("9 before 10", &sign_hs256(&c, &secret()), "INVALID_JWT", Some("typ"));
    // The nbf check keeps the parsed value.
    let v = validate(&pay_with(&["nbf"], Some(n((NOW - 5) as f64)))).unwrap();
    assert_eq!(v.pay.nbf, Some(NOW - 5));
}

#[test]
fn steps_14_to_20_fields() {
    for (value, want) in [
        (s("x"), "BAD_FIELD_TYPE"),
        (parse("[]"), "BAD_FIELD_TYPE"),
        (Json::Null, "BAD_FIELD_TYPE"),
    ] {
        expect("request type", &pay_with(&["request"], Some(value)), want, Some("request"));
    }
    let fields = [
        ("id", "request.id"),
        ("pricePoint", "request.pricePoint"),
        ("name", "request.name"),
        ("description", "request.description"),
        ("postbackURL", "request.postbackURL"),
        ("chargebackURL", "request.chargebackURL"),
    ];
    for (m, field) in fields {
        expect("step 16 absent", &req_with(m, None), "FIELD_REQUIRED", Some(field));
        expect("step 16 empty", &req_with(m, Some(s(""))), "FIELD_REQUIRED", Some(field));
    }
    // Order of step 16: the first missing field is named.
    let mut c = base_claims();
    set(&mut c, &["request", "chargebackURL"], None);
    set(&mut c, &["request", "name"], Some(s("")));
    expect("step 16 order", &sign_hs256(&c, &secret()), "FIELD_REQUIRED", Some("request.name"));
    // Step 16 before step 17.
    let mut c = base_claims();
    set(&mut c, &["request", "id"], Some(n(5.0)));
    set(&mut c, &["request", "description"], None);
    expect(
        "16 before 17",
        &sign_hs256(&c, &secret()),
        "FIELD_REQUIRED",
        Some("request.description"),
    );
    for (m, value, field) in [
        ("id", n(5.0), "request.id"),
        ("pricePoint", n(-1.0), "request.pricePoint"),
        ("pricePoint", n(1.5), "request.pricePoint"),
        ("pricePoint", Json::Bool(true), "request.pricePoint"),
        ("pricePoint", Json::Null, "request.pricePoint"),
        ("name", parse("[]"), "request.name"),
        ("description", parse("{}"), "request.description"),
        ("postbackURL", n(1.0), "request.postbackURL"),
        ("chargebackURL", Json::Null, "request.chargebackURL"),
        ("productData", n(5.0), "request.productData"),
        ("defaultLocale", Json::Bool(false), "request.defaultLocale"),
    ] {
        expect("step 17", &req_with(m, Some(value)), "BAD_FIELD_TYPE", Some(field));
    }
    expect(
        "step 18",
        &req_with("icons", Some(parse(r#"["https://x.example/i.png"]"#))),
        "BAD_ICON_KEY",
        None,
    );
    expect("step 19", &req_with("locales", Some(s("de"))), "BAD_LOCALE", None);
    // Step 20 counts Unicode scalar values: 255 × "é" (510 bytes) is fine.
    expect("255 chars", &req_with("name", Some(s(&"é".repeat(255)))), "OK", None);
    expect("256 chars", &req_with("name", Some(s(&"é".repeat(256)))), "NAME_TOO_LONG", None);
    expect(
        "C15 productData 256",
        &req_with("productData", Some(s(&"p".repeat(256)))),
        "PRODUCTDATA_TOO_LONG",
        None,
    );
    expect("C15 id 256", &req_with("id", Some(s(&"i".repeat(256)))), "ID_TOO_LONG", None);
    expect("C15 name 256", &req_with("name", Some(s(&"n".repeat(256)))), "NAME_TOO_LONG", None);
    expect(
        "description has no limit",
        &req_with("description", Some(s(&"d".repeat(1000)))),
        "OK",
        None,
    );
    // Order of step 20: id before name.
    let mut c = base_claims();
    set(&mut c, &["request", "name"], Some(s(&"n".repeat(256))));
    set(&mut c, &["request", "id"], Some(s(&"i".repeat(256))));
    expect("step 20 order", &sign_hs256(&c, &secret()), "ID_TOO_LONG", None);
    // Step 18 before step 19 before step 20.
    let mut c = base_claims();
    set(&mut c, &["request", "id"], Some(s(&"i".repeat(256))));
    set(&mut c, &["request", "locales"], Some(n(1.0)));
    set(&mut c, &["request", "icons"], Some(n(1.0)));
    expect("18 before 19 before 20", &sign_hs256(&c, &secret()), "BAD_ICON_KEY", None);
}

#[test]
fn steps_21_to_25_simulations() {
    let sim = |v: &str| req_with("simulate", Some(parse(v)));
    for v in [
        "true",
        "null",
        "{}",
        r#"{"result":"refund"}"#,
        r#"{"result":1}"#,
        r#"{"result":"Postback"}"#,
        r#"["postback"]"#,
    ] {
        expect("C06 step 22", &sim(v), "BAD_SIM_RESULT", None);
    }
    expect("C05", &sim(r#"{"result":"chargeback"}"#), "NO_SIM_REASON", None);
    for v in [
        r#"{"result":"chargeback","reason":"fraud"}"#,
        r#"{"result":"chargeback","reason":null}"#,
        r#"{"result":"postback","reason":"fraud"}"#,
    ] {
        expect("C06 step 24", &sim(v), "BAD_SIM_RESULT", None);
    }
    // C08: disabled simulations win over a bad result (21 before 22).
    let no_sims = Provider { simulations_enabled: false, ..Provider::new() };
    let t = sim(r#"{"result":"refund"}"#);
    assert_eq!(code(validate_with(&t, &no_sims, &ctx(NOW))), ("SIM_DISABLED", None), "C08");
    // Without simulate, disabled simulations do not matter.
    assert_eq!(code(validate_with(&base_pay().sign(&secret()), &no_sims, &ctx(NOW))), ("OK", None));
    // C07 and a simulation-only key with simulate.
    let mut c = base_claims();
    set(&mut c, &["iss"], Some(s(SIM_KEY)));
    expect("C07", &sign_hs256(&c, &secret()), "SIM_ONLY_KEY", None);
    set(&mut c, &["request", "simulate"], Some(parse(r#"{"result":"postback"}"#)));
    expect("sim key with simulate", &sign_hs256(&c, &secret()), "OK", None);
}

#[test]
fn steps_26_to_28_locales() {
    expect("C12", &req_with("defaultLocale", None), "NO_DEFAULT_LOC", None);
    let tag = |i: u8| format!("{}{}", char::from(b'a' + i / 26), char::from(b'a' + i % 26));
    let many: String =
        (0..51).map(|i| format!(r#""{}":{{}}"#, tag(i))).collect::<Vec<_>>().join(",");
    let fifty: String =
        (0..50).map(|i| format!(r#""{}":{{}}"#, tag(i))).collect::<Vec<_>>().join(",");
    for v in [
        r#"{"de_DE":{"name":"x"}}"#,
        r#"{"":{}}"#,
        r#"{"-de":{}}"#,
        r#"{"de-":{}}"#,
        r#"{"d":{}}"#,
        r#"{"x":{}}"#,
        r#"{"de--x":{}}"#,
        r#"{"abcdefghi":{}}"#,
        r#"{"de":"Einhorn"}"#,
        r#"{"de":null}"#,
        r#"{"de":{"name":5}}"#,
        r#"{"de":{"description":[]}}"#,
        &format!(r#"{{"{}":{{}}}}"#, ["de"; 13].join("-")),
        &format!("{{{many}}}"),
    ] {
        expect(&format!("step 27 {v}"), &req_with("locales", Some(parse(v))), "BAD_LOCALE", None);
    }
    for v in [
        r#"{"de":{}}"#,
        r#"{"pt-BR":{"name":"x"},"zh-Hant-TW":{"description":"y","other":1},"es-419":{}}"#,
        r#"{"x-klingon":{}}"#,
        &format!("{{{fifty}}}"),
        &format!(r#"{{"{}":{{}}}}"#, ["de"; 12].join("-")),
    ] {
        expect(&format!("step 27 ok {v}"), &req_with("locales", Some(parse(v))), "OK", None);
    }
    let long = format!(r#"{{"de":{{"name":"{}"}}}}"#, "é".repeat(256));
    expect("step 28", &req_with("locales", Some(parse(&long))), "NAME_TOO_LONG", None);
    let ok =
        format!(r#"{{"de":{{"name":"{}","description":"{}"}}}}"#, "é".repeat(255), "d".repeat(999));
    expect("step 28 ok", &req_with("locales", Some(parse(&ok))), "OK", None);
    // 27 before 28.
    let both = format!(r#"{{"de":{{"name":"{}"}},"bad tag":{{}}}}"#, "n".repeat(300));
    expect("27 before 28", &req_with("locales", Some(parse(&both))), "BAD_LOCALE", None);
    assert!(language_tag_ok(&"a".repeat(8)));
    assert!(!language_tag_ok(&format!("en-{}", "a".repeat(33))));
}

#[test]
fn steps_29_and_30_notice_urls() {
    let pb = |u: &str| req_with("postbackURL", Some(s(u)));
    let cb = |u: &str| req_with("chargebackURL", Some(s(u)));
    for u in [
        "http://u:p@localhost:7801/mozpay/postback",
        "http://u@localhost:7801/mozpay/postback",
        "http://localhost:7801/mozpay/postback#frag",
        "http://localhost:7801/mozpay/postback#",
        "notaurl",
        "/mozpay/postback",
        " http://localhost:7801/mozpay/postback",
        "http://localhost:7801/moz pay",
        "http://localhost:7801/mozpay\n",
        "http://",
        "http://[::1/x",
    ] {
        expect(&format!("C10 {u}"), &pb(u), "MALFORMED_URL", Some("request.postbackURL"));
    }
    expect("C10 chargeback", &cb("notaurl"), "MALFORMED_URL", Some("request.chargebackURL"));
    // WHATWG parsing: "http:///x" is the host "x" (not loopback, so not allowed over http).
    for u in ["ftp://localhost:7801/x", "javascript:alert(1)", "data:,x", "http:///mozpay"] {
        expect("scheme", &pb(u), "MALFORMED_URL", Some("request.postbackURL: https required"));
    }
    // http is allowed for a loopback host in dev mode only (C11).
    let t = base_pay().sign(&secret());
    let strict = PayContext { strict: true, ..ctx(NOW) };
    assert_eq!(
        code(validate_with(&t, &Provider::new(), &strict)),
        ("MALFORMED_URL", Some("request.postbackURL: https required")),
        "C11"
    );
    let mut provider = Provider::new();
    provider.origins.push("http://app.example".into());
    provider.origins.push("http://127.0.0.2:9000".into());
    provider.origins.push("http://[::1]:7801".into());
    let with = |u: &str| req_with("postbackURL", Some(s(u)));
    let run = |t: &str, c: &PayContext<'_>| code(validate_with(t, &provider, c));
    assert_eq!(
        run(&with("http://app.example/pb"), &ctx(NOW)),
        ("MALFORMED_URL", Some("request.postbackURL: https required"))
    );
    assert_eq!(run(&with("http://127.0.0.2:9000/pb"), &ctx(NOW)), ("OK", None));
    assert_eq!(run(&with("http://[::1]:7801/pb"), &ctx(NOW)), ("OK", None));
    assert_eq!(
        run(&with("https://app.example/pb"), &strict),
        ("MALFORMED_URL", Some("request.chargebackURL: https required"))
    );
    // Simulated requests may use http anywhere (origin rules still apply), in strict mode too.
    let mut c = base_claims();
    set(&mut c, &["request", "simulate"], Some(parse(r#"{"result":"postback"}"#)));
    set(&mut c, &["request", "postbackURL"], Some(s("http://app.example/pb")));
    // (An http icon would fail step 32 in strict mode.)
    set(&mut c, &["request", "icons"], None);
    let t = sign_hs256(&c, &secret());
    assert_eq!(run(&t, &strict), ("OK", None));
    assert_eq!(run(&t, &ctx(NOW)), ("OK", None));
    set(&mut c, &["request", "postbackURL"], Some(s("http://other.example/pb")));
    assert_eq!(
        run(&sign_hs256(&c, &secret()), &strict),
        ("URL_NOT_ALLOWED", Some("request.postbackURL"))
    );
    // Step 30: exact origins.
    for u in [
        "https://attacker.example/hook",
        "http://localhost:7802/mozpay/postback",
        "http://localhost/mozpay/postback",
        "https://localhost:7801/mozpay/postback",
        "https://evil.app.example/pb",
        "https://app.example.evil/pb",
    ] {
        expect("C09", &pb(u), "URL_NOT_ALLOWED", Some("request.postbackURL"));
    }
    expect(
        "C09 chargeback",
        &cb("https://attacker.example/cb"),
        "URL_NOT_ALLOWED",
        Some("request.chargebackURL"),
    );
    // Normalisation of both sides: case, default port, trailing slash.
    let mut p = Provider::new();
    p.origins = vec!["HTTPS://App.Example:443/".into(), "http://localhost:7801".into()];
    let t = pb("https://APP.example/pb");
    assert_eq!(code(validate_with(&t, &p, &ctx(NOW))), ("OK", None));
    // 29 for both URLs before 30 for either.
    let mut c = base_claims();
    set(&mut c, &["request", "postbackURL"], Some(s("https://attacker.example/x")));
    set(&mut c, &["request", "chargebackURL"], Some(s("notaurl")));
    expect(
        "29 before 30",
        &sign_hs256(&c, &secret()),
        "MALFORMED_URL",
        Some("request.chargebackURL"),
    );
}

#[test]
fn steps_31_and_32_icons() {
    let icons = |v: &str| req_with("icons", Some(parse(v)));
    for v in [
        r#"{"big":"https://x.example/i.png"}"#,
        r#"{"0":"https://x.example/i.png"}"#,
        r#"{"064":"https://x.example/i.png"}"#,
        r#"{"12345":"https://x.example/i.png"}"#,
        r#"{"64 ":"https://x.example/i.png"}"#,
        r#"{"":"https://x.example/i.png"}"#,
        r#"{"64":"javascript:alert(1)","big":"x"}"#,
    ] {
        expect("C13 step 31", &icons(v), "BAD_ICON_KEY", None);
    }
    for (v, detail) in [
        (r#"{"64":"javascript:alert(1)"}"#, "request.icons: https required"),
        (r#"{"64":"http://cdn.example/i.png"}"#, "request.icons: https required"),
        (r#"{"64":"notaurl"}"#, "request.icons"),
        (r#"{"64":5}"#, "request.icons"),
        (r#"{"64":"https://x.example/ i.png"}"#, "request.icons"),
    ] {
        expect("C13 step 32", &icons(v), "MALFORMED_URL", Some(detail));
    }
    let long = format!(r#"{{"64":"https://x.example/{}"}}"#, "a".repeat(2048 - 18));
    expect("2048", &icons(&long), "OK", None);
    let long = format!(r#"{{"64":"https://x.example/{}"}}"#, "a".repeat(2049 - 18));
    expect("2049", &icons(&long), "MALFORMED_URL", Some("request.icons"));
    expect(
        "keys 1 and 9999",
        &icons(r#"{"1":"https://x.example/a","9999":"https://x.example/b"}"#),
        "OK",
        None,
    );
    expect("empty icons", &icons("{}"), "OK", None);
    // http icons on loopback: dev mode only.
    let t = base_pay().sign(&secret());
    let mut p = Provider::new();
    p.origins.push("https://localhost:7801".into());
    let mut c = base_claims();
    set(&mut c, &["request", "postbackURL"], Some(s("https://localhost:7801/pb")));
    set(&mut c, &["request", "chargebackURL"], Some(s("https://localhost:7801/cb")));
    let strict = PayContext { strict: true, ..ctx(NOW) };
    assert_eq!(
        code(validate_with(&sign_hs256(&c, &secret()), &p, &strict)),
        ("MALFORMED_URL", Some("request.icons: https required"))
    );
    assert_eq!(code(validate_with(&t, &p, &ctx(NOW))), ("OK", None));
    // 30 before 31.
    let mut c = base_claims();
    set(&mut c, &["request", "postbackURL"], Some(s("https://attacker.example/x")));
    set(&mut c, &["request", "icons"], Some(parse(r#"{"big":"x"}"#)));
    expect(
        "30 before 31",
        &sign_hs256(&c, &secret()),
        "URL_NOT_ALLOWED",
        Some("request.postbackURL"),
    );
}

#[test]
fn c14_price_points_are_compared_exactly() {
    expect("C14 77", &req_with("pricePoint", Some(s("77"))), "BAD_PRICE_POINT", None);
    expect("C14 05", &req_with("pricePoint", Some(s("05"))), "BAD_PRICE_POINT", None);
    expect("C14 ' 5'", &req_with("pricePoint", Some(s(" 5"))), "BAD_PRICE_POINT", None);
    expect("C14 99 EUR", &req_with("pricePoint", Some(s("99"))), "UNSUPPORTED_PAY", None);
    expect("integer 10", &req_with("pricePoint", Some(n(10.0))), "OK", None);
    // 32 before 33.
    let mut c = base_claims();
    set(&mut c, &["request", "pricePoint"], Some(s("77")));
    set(&mut c, &["request", "icons"], Some(parse(r#"{"64":"notaurl"}"#)));
    expect("32 before 33", &sign_hs256(&c, &secret()), "MALFORMED_URL", Some("request.icons"));
}

#[test]
fn legend_codes_statuses_and_messages() {
    let legend = error_legend();
    let members = legend.as_object().unwrap();
    assert_eq!(members.len(), PayCode::ALL.len());
    for c in PayCode::ALL {
        assert_eq!(PayCode::parse(c.as_str()), Some(c));
        assert_eq!(legend.get(c.as_str()).and_then(Json::as_str), Some(c.message()));
        assert!(c.as_str().bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
    }
    for (c, status) in [
        (PayCode::PayDisabled, 503),
        (PayCode::InvalidJwt, 400),
        (PayCode::TransExpired, 409),
        (PayCode::TransFailed, 402),
        (PayCode::UserCancelled, 200),
        (PayCode::UnexpectedError, 500),
        (PayCode::TransMissing, 404),
        (PayCode::PriceLimitExceeded, 409),
        (PayCode::BadIconKey, 400),
    ] {
        assert_eq!(c.http_status(), status, "{c}");
    }
    assert_eq!(PayCode::parse("NOPE"), None);
    let e = PayError::with_detail(PayCode::FieldRequired, "request.name");
    assert_eq!(e.message(), "A required field is missing or empty: request.name.");
    assert_eq!(e.developer_message(), e.message());
    let e = PayError::with_detail(PayCode::InvalidJwt, "signature");
    assert_eq!(
        e.developer_message(),
        "The JWT signature is invalid or the JWT is malformed. (signature)"
    );
    assert_eq!(e.to_string(), "INVALID_JWT (signature)");
    assert_eq!(PayError::new(PayCode::ExpiredJwt).developer_message(), "The JWT has expired.");
    assert_eq!(
        PayCode::BadIconKey.message(),
        "An image icon key was not an object. Correct example: {\"64\": \"https://.../icon_64.png\"}"
    );
}

#[test]
fn hostile_pay_requests_do_not_panic() {
    let provider = Provider::new();
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    for t in [
        "~".repeat(8192),
        ".".repeat(8192),
        "é".repeat(4000),
        raw_token(HS256_HEADER, &deep),
        raw_token(HS256_HEADER, &format!(r#"{{"iss":"{APP_KEY}","request":{deep}}}"#)),
        pay_with(
            &["request", "locales"],
            Some(parse(&format!(
                r#"{{"de":{{"name":{{"x":{}}}}}}}"#,
                "[".repeat(10) + &"]".repeat(10)
            ))),
        ),
    ] {
        let _ = validate_with(&t, &provider, &ctx(NOW));
    }
    let _ = validate_with(&base_pay().sign(&secret()), &provider, &ctx(i64::MAX));
    let _ = validate_with(&base_pay().sign(&secret()), &provider, &ctx(i64::MIN));
}

// ---------------------------------------------------------------------------------------------
// Notices (§4, §2.5)
// ---------------------------------------------------------------------------------------------

fn apps() -> Vec<AppSecret> {
    vec![
        AppSecret { key: OTHER_KEY.into(), secret: other_secret() },
        AppSecret { key: APP_KEY.into(), secret: secret() },
    ]
}

fn stored_request() -> Json {
    base_request().to_json()
}

fn tx(kind: TxKind) -> String {
    TransactionId::new(kind, TX_UUID).unwrap().to_string()
}

fn postback_at(iat: i64) -> Notice {
    Notice::new(
        NoticeKind::Postback,
        DOMAIN,
        APP_KEY,
        iat,
        stored_request(),
        NoticeResponse {
            transaction_id: tx(TxKind::Webpay),
            price: Some(Price { amount: "1.99".into(), currency: "USD".into() }),
            reason: None,
        },
    )
}

fn chargeback_at(iat: i64) -> Notice {
    Notice::new(
        NoticeKind::Chargeback,
        DOMAIN,
        APP_KEY,
        iat,
        stored_request(),
        NoticeResponse {
            transaction_id: tx(TxKind::Webpay),
            price: Some(Price { amount: "1.99".into(), currency: "USD".into() }),
            reason: Some(ChargebackReason::Refund),
        },
    )
}

fn verify_at(
    token: &str,
    kind: NoticeKind,
    now: i64,
) -> Result<(String, TransactionId), NoticeError> {
    let apps = apps();
    verify_notice(token, kind, &apps, DOMAIN, now).map(|v| (v.app.key.clone(), v.transaction_id))
}

fn notice_code(token: &str, kind: NoticeKind) -> &'static str {
    match verify_at(token, kind, NOW) {
        Ok(_) => "OK",
        Err(e) => e.code.as_str(),
    }
}

/// A postback with one change at `path` in its claims, signed with `SECRET`.
fn postback_with(path: &[&str], value: Option<Json>) -> String {
    let mut c = postback_at(NOW).to_claims_json();
    set(&mut c, path, value);
    sign_hs256(&c, &secret())
}

fn chargeback_with(path: &[&str], value: Option<Json>) -> String {
    let mut c = chargeback_at(NOW).to_claims_json();
    set(&mut c, path, value);
    sign_hs256(&c, &secret())
}

#[test]
fn notices_round_trip() {
    for notice in [postback_at(NOW - 5), chargeback_at(NOW - 5)] {
        let token = notice.sign(&secret());
        let apps = apps();
        let v = verify_notice(&token, notice.kind, &apps, DOMAIN, NOW).unwrap();
        assert_eq!(v.app.key, APP_KEY, "K is the key that verified");
        assert_eq!(v.notice, notice);
        assert_eq!(v.transaction_id.as_str(), tx(TxKind::Webpay));
        assert_eq!(
            v.echo,
            EchoedRequest {
                id: "magical-unicorn".into(),
                price_point: "5".into(),
                name: "Magical Unicorn".into(),
                description: "Adventure Game item".into(),
                product_data: Some(format!("mm_order={ORDER}")),
                simulated: false,
            }
        );
        assert!(request_matches_order(&v.notice.request, &stored_request()));
        assert_eq!(
            v.echo.product_data.as_deref().and_then(order_id_from_product_data).as_deref(),
            Some(ORDER)
        );
        assert_eq!(notice.exp - notice.iat, NOTICE_LIFETIME_SECS);
    }
    // The claims carry exactly the members of §4.1.
    let c = postback_at(NOW).to_claims_json();
    let names: Vec<&str> = c.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["iss", "aud", "typ", "iat", "exp", "request", "response"]);
    assert_eq!(
        c.get("response").unwrap().to_json_text(),
        format!(
            r#"{{"transactionID":"webpay:{TX_UUID}","price":{{"amount":"1.99","currency":"USD"}}}}"#
        )
    );
    // Another app's key and secret: K is that pair.
    let mut other = postback_at(NOW);
    other.aud = OTHER_KEY.into();
    let (key, _) = verify_at(&other.sign(&other_secret()), NoticeKind::Postback, NOW).unwrap();
    assert_eq!(key, OTHER_KEY);
}

#[test]
fn a01_a30_signature_rows() {
    let forged = postback_at(NOW)
        .sign(&Hs256Key::from_secret("a-forged-secret-of-32-bytes-or-more!").unwrap());
    assert_eq!(notice_code(&forged, NoticeKind::Postback), "INVALID_SIGNATURE", "A01");
    let e = verify_at(&forged, NoticeKind::Postback, NOW).unwrap_err();
    assert_eq!((e.http_status(), e.detail), (400, "signature"), "A01");
    // A30: the secret was removed from app.keys.
    let token = postback_at(NOW).sign(&secret());
    let only_other = vec![AppSecret { key: OTHER_KEY.into(), secret: other_secret() }];
    let e = verify_notice(&token, NoticeKind::Postback, &only_other, DOMAIN, NOW).unwrap_err();
    assert_eq!(e.code, NoticeCode::InvalidSignature, "A30");
    let none: Vec<AppSecret> = vec![];
    let e = verify_notice(&token, NoticeKind::Postback, &none, DOMAIN, NOW).unwrap_err();
    assert_eq!(e.code, NoticeCode::InvalidSignature, "A30 (no keys at all)");
}

#[test]
fn a02_to_a05_invalid_jwt_rows() {
    let claims = postback_at(NOW).to_claims_json().to_json_text();
    let none =
        format!("{}.{}.", encode(br#"{"alg":"none","typ":"JWT"}"#), encode(claims.as_bytes()));
    assert_eq!(notice_code(&none, NoticeKind::Postback), "INVALID_JWT", "A02");
    let none_with_sig = raw_token(r#"{"alg":"none"}"#, &claims);
    assert_eq!(
        notice_code(&none_with_sig, NoticeKind::Postback),
        "INVALID_JWT",
        "A02 (with a tag)"
    );
    for h in [r#"{"alg":"HS512","typ":"JWT"}"#, r#"{"alg":"RS256","typ":"JWT"}"#] {
        assert_eq!(
            notice_code(&raw_token(h, &claims), NoticeKind::Postback),
            "INVALID_JWT",
            "A03 {h}"
        );
    }
    for p in ["jku", "jwk", "x5u", "crit", "x5c", "b64", "cty"] {
        let h = format!(r#"{{"alg":"HS256","typ":"JWT","{p}":{{}}}}"#);
        assert_eq!(
            notice_code(&raw_token(&h, &claims), NoticeKind::Postback),
            "INVALID_JWT",
            "A04 {p}"
        );
    }
    // A05: a duplicate aud (at the top level and deep), then non-canonical base64url.
    let dup = claims.replacen(r#""aud":"#, &format!(r#""aud":"{APP_KEY}","aud":"#), 1);
    assert_eq!(
        notice_code(&raw_token(HS256_HEADER, &dup), NoticeKind::Postback),
        "INVALID_JWT",
        "A05 duplicate aud"
    );
    let dup_deep = claims.replacen(r#""id":"#, r#""id":"x","id":"#, 1);
    assert_eq!(
        notice_code(&raw_token(HS256_HEADER, &dup_deep), NoticeKind::Postback),
        "INVALID_JWT",
        "A05 deep"
    );
    let good = postback_at(NOW).sign(&secret());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, sig) = rest.split_once('.').unwrap();
    for bad in [
        format!("{h}=.{p}.{sig}"),
        format!("{h}.{p}=.{sig}"),
        format!("{h}.{p}.{sig}="),
        format!("{h}.{p}.{}", sig.replace('-', "+").replace('_', "/") + "+"),
        format!("{h}.{p} .{sig}"),
        format!("{h}.{p}.{sig}\n"),
        format!("{h}.{p}\t.{sig}"),
    ] {
        assert_eq!(notice_code(&bad, NoticeKind::Postback), "INVALID_JWT", "A05 {bad:?}");
    }
    // Over the 16 KiB body cap and hostile nesting.
    let huge = "a".repeat(NOTICE_BODY_CAP + 1);
    assert_eq!(verify_at(&huge, NoticeKind::Postback, NOW).unwrap_err().detail, "too_long");
    let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(20), "]".repeat(20));
    assert_eq!(notice_code(&raw_token(HS256_HEADER, &deep), NoticeKind::Postback), "INVALID_JWT");
    // kid with a slash.
    let kid = raw_token(r#"{"alg":"HS256","kid":"../../etc"}"#, &claims);
    assert_eq!(notice_code(&kid, NoticeKind::Postback), "INVALID_JWT");
}

#[test]
fn a06_to_a08_wrong_typ() {
    let cb = chargeback_at(NOW).sign(&secret());
    let pb = postback_at(NOW).sign(&secret());
    assert_eq!(notice_code(&cb, NoticeKind::Postback), "WRONG_TYP", "A06");
    assert_eq!(notice_code(&pb, NoticeKind::Chargeback), "WRONG_TYP", "A07");
    let pay = base_pay().sign(&secret());
    assert_eq!(notice_code(&pay, NoticeKind::Postback), "WRONG_TYP", "A08");
    assert_eq!(notice_code(&pay, NoticeKind::Chargeback), "WRONG_TYP", "A08");
    assert_eq!(notice_code(&postback_with(&["typ"], None), NoticeKind::Postback), "WRONG_TYP");
    let upper = postback_with(&["typ"], Some(s("Mozilla/payments/pay/postback/v1")));
    assert_eq!(notice_code(&upper, NoticeKind::Postback), "WRONG_TYP");
}

#[test]
fn a14_to_a18_claims_and_times() {
    let times = |iat: i64, exp: i64| {
        let mut c = postback_at(NOW).to_claims_json();
        set(&mut c, &["iat"], Some(n(iat as f64)));
        set(&mut c, &["exp"], Some(n(exp as f64)));
        sign_hs256(&c, &secret())
    };
    let code = |t: &str| notice_code(t, NoticeKind::Postback);
    // A14.
    assert_eq!(code(&times(NOW - 3600, NOW - 61)), "EXPIRED", "A14 exp = now - 61");
    assert_eq!(code(&times(NOW - 3600, NOW - 60)), "EXPIRED", "A14 exp = now - 60");
    assert_eq!(code(&times(NOW - 3659, NOW - 59)), "OK", "A14 exp = now - 59 accepted");
    assert_eq!(
        verify_at(&times(NOW - 3600, NOW - 61), NoticeKind::Postback, NOW)
            .unwrap_err()
            .http_status(),
        400
    );
    // A15.
    assert_eq!(code(&times(NOW + 120, NOW + 3720)), "BAD_IAT", "A15 iat = now + 120");
    assert_eq!(code(&times(NOW + 61, NOW + 3661)), "BAD_IAT", "A15 iat = now + 61");
    assert_eq!(code(&times(NOW + 60, NOW + 3660)), "OK", "A15 iat = now + 60");
    assert_eq!(code(&times(NOW - 3700, NOW + 100)), "BAD_IAT", "A15 iat = now - 3700, future exp");
    assert_eq!(code(&times(NOW - 3661, NOW + 100)), "BAD_IAT", "A15 now - iat = 3661");
    assert_eq!(code(&times(NOW - 3660, NOW + 100)), "OK", "A15 now - iat = 3660");
    assert_eq!(
        code(&postback_with(&["nbf"], Some(n((NOW + 61) as f64)))),
        "BAD_IAT",
        "nbf = now + 61"
    );
    assert_eq!(code(&postback_with(&["nbf"], Some(n((NOW + 60) as f64)))), "OK", "nbf = now + 60");
    // A16.
    assert_eq!(
        code(&postback_with(&["exp"], Some(s("9999999999")))),
        "BAD_CLAIM",
        "A16 exp string"
    );
    assert_eq!(code(&postback_with(&["exp"], None)), "BAD_CLAIM", "A16 exp missing");
    assert_eq!(code(&postback_with(&["iat"], None)), "BAD_CLAIM", "A16 iat missing");
    assert_eq!(code(&postback_with(&["iat"], Some(Json::Null))), "BAD_CLAIM", "A16 iat null");
    assert_eq!(code(&postback_with(&["exp"], Some(n(-5.0)))), "BAD_CLAIM", "A16 exp negative");
    assert_eq!(code(&postback_with(&["nbf"], Some(s("1")))), "BAD_CLAIM", "A16 nbf string");
    // (d) before (e): an expired exp with a bad iat type is BAD_CLAIM.
    let mut c = postback_at(NOW).to_claims_json();
    set(&mut c, &["exp"], Some(n((NOW - 100) as f64)));
    set(&mut c, &["iat"], Some(s("x")));
    assert_eq!(code(&sign_hs256(&c, &secret())), "BAD_CLAIM", "7d before 7e");
    // A17: another app's key as aud, signed with this app's secret; aud as an array.
    assert_eq!(code(&postback_with(&["aud"], Some(s(OTHER_KEY)))), "WRONG_AUD", "A17");
    assert_eq!(
        code(&postback_with(&["aud"], Some(parse(&format!(r#"["{APP_KEY}"]"#))))),
        "WRONG_AUD",
        "A17 array"
    );
    assert_eq!(code(&postback_with(&["aud"], None)), "WRONG_AUD", "A17 missing");
    // A18.
    assert_eq!(code(&postback_with(&["iss"], Some(s("127.0.0.1:7803")))), "WRONG_ISS", "A18");
    assert_eq!(
        code(&postback_with(&["iss"], Some(s("http://127.0.0.1:7802")))),
        "WRONG_ISS",
        "A18 origin"
    );
    assert_eq!(code(&postback_with(&["iss"], None)), "WRONG_ISS", "A18 missing");
    // Order (a) typ, (b) aud, (c) iss.
    let mut c = postback_at(NOW).to_claims_json();
    set(&mut c, &["iss"], Some(s("x")));
    set(&mut c, &["aud"], Some(s("y")));
    assert_eq!(code(&sign_hs256(&c, &secret())), "WRONG_AUD", "7b before 7c");
    set(&mut c, &["typ"], Some(s("z")));
    assert_eq!(code(&sign_hs256(&c, &secret())), "WRONG_TYP", "7a before 7b");
}

#[test]
fn a19_to_a21_members_and_transaction_ids() {
    let pb =
        |path: &[&str], v: Option<Json>| notice_code(&postback_with(path, v), NoticeKind::Postback);
    let cb = |path: &[&str], v: Option<Json>| {
        notice_code(&chargeback_with(path, v), NoticeKind::Chargeback)
    };
    assert_eq!(pb(&["response", "transactionID"], None), "MISSING_CLAIM", "A19");
    assert_eq!(cb(&["response", "reason"], None), "MISSING_CLAIM", "A20 no reason");
    assert_eq!(cb(&["response", "reason"], Some(s("fraud"))), "BAD_CLAIM", "A20 fraud");
    assert_eq!(
        pb(&["response", "transactionID"], Some(s("webpay:../../x"))),
        "BAD_TRANSACTION_ID",
        "A21"
    );
    for (path, name) in [
        (&["request", "id"][..], "request.id"),
        (&["request", "pricePoint"], "request.pricePoint"),
        (&["request", "name"], "request.name"),
        (&["request", "description"], "request.description"),
        (&["response", "price", "amount"], "response.price.amount"),
        (&["response", "price", "currency"], "response.price.currency"),
        (&["request"], "request.id"),
        (&["response"], "response.transactionID"),
        (&["response", "price"], "response.price.amount"),
    ] {
        let e = verify_at(&postback_with(path, None), NoticeKind::Postback, NOW).unwrap_err();
        assert_eq!((e.code, e.detail), (NoticeCode::MissingClaim, name), "step 8 {path:?}");
    }
    // A chargeback needs no price.
    assert_eq!(cb(&["response", "price"], None), "OK");
    // Step 9 types.
    for (path, v) in [
        (&["request", "id"][..], n(1.0)),
        (&["request", "pricePoint"], n(-1.0)),
        (&["request", "pricePoint"], Json::Bool(true)),
        (&["request", "name"], Json::Null),
        (&["request", "description"], parse("[]")),
        (&["request", "productData"], n(1.0)),
        (&["response", "price", "amount"], n(1.99)),
        (&["response", "price", "amount"], s("1,99")),
        (&["response", "price", "amount"], s("-1.99")),
        (&["response", "price", "amount"], s("1.")),
        (&["response", "price", "amount"], s(".5")),
        (&["response", "price", "amount"], s("")),
        (&["response", "price", "currency"], s("usd")),
        (&["response", "price", "currency"], s("USDX")),
        (&["response", "price", "currency"], n(840.0)),
    ] {
        assert_eq!(pb(path, Some(v.clone())), "BAD_CLAIM", "step 9 {path:?} = {v:?}");
    }
    assert_eq!(pb(&["request", "pricePoint"], Some(n(5.0))), "OK", "integer pricePoint");
    assert_eq!(pb(&["response", "price", "amount"], Some(s("0.00"))), "OK");
    assert_eq!(pb(&["response", "price", "amount"], Some(s("1490"))), "OK");
    assert_eq!(pb(&["response", "transactionID"], Some(n(1.0))), "BAD_TRANSACTION_ID");
    assert_eq!(cb(&["response", "reason"], Some(s("reversal"))), "OK");
    assert_eq!(cb(&["response", "reason"], Some(n(1.0))), "BAD_CLAIM");
    // A postback's unknown members (reason included) are ignored.
    assert_eq!(pb(&["response", "reason"], Some(s("fraud"))), "OK");
    assert_eq!(pb(&["response", "extra"], Some(s("x"))), "OK");
}

#[test]
fn a12_and_transaction_id_prefix_rules() {
    let with = |price: Json, simulate: Option<Json>, txid: String| {
        let mut c = postback_at(NOW).to_claims_json();
        set(&mut c, &["request", "pricePoint"], Some(price));
        set(&mut c, &["request", "simulate"], simulate);
        set(&mut c, &["response", "transactionID"], Some(s(&txid)));
        notice_code(&sign_hs256(&c, &secret()), NoticeKind::Postback)
    };
    let sim = || Some(parse(r#"{"result":"postback"}"#));
    assert_eq!(with(s("5"), None, tx(TxKind::Simulate)), "BAD_TRANSACTION_ID", "A12");
    assert_eq!(with(s("5"), sim(), tx(TxKind::Simulate)), "OK");
    assert_eq!(with(s("0"), sim(), tx(TxKind::Simulate)), "OK", "simulate wins over free");
    assert_eq!(with(s("0"), sim(), tx(TxKind::Free)), "BAD_TRANSACTION_ID");
    assert_eq!(with(s("5"), sim(), tx(TxKind::Webpay)), "BAD_TRANSACTION_ID");
    assert_eq!(with(s("0"), None, tx(TxKind::Free)), "OK");
    assert_eq!(with(n(0.0), None, tx(TxKind::Free)), "OK", "integer 0 is free");
    assert_eq!(with(s("0"), None, tx(TxKind::Webpay)), "BAD_TRANSACTION_ID");
    assert_eq!(with(s("5"), None, tx(TxKind::Free)), "BAD_TRANSACTION_ID");
    assert_eq!(with(s("00"), None, tx(TxKind::Webpay)), "OK", "\"00\" is not \"0\"");
    assert_eq!(
        with(s("5"), None, format!("webpay:{}", TX_UUID.to_uppercase())),
        "BAD_TRANSACTION_ID"
    );
    assert_eq!(
        with(s("5"), Some(Json::Null), tx(TxKind::Simulate)),
        "OK",
        "simulate present (null)"
    );
}

#[test]
fn a09_replays_have_one_idempotency_key() {
    let first = postback_at(NOW - 30).sign(&secret());
    let resigned = postback_at(NOW).sign(&secret());
    assert_ne!(first, resigned);
    let a = verify_at(&first, NoticeKind::Postback, NOW).unwrap().1;
    let b = verify_at(&first, NoticeKind::Postback, NOW).unwrap().1;
    let c = verify_at(&resigned, NoticeKind::Postback, NOW).unwrap().1;
    assert_eq!((a.as_str(), b.as_str()), (c.as_str(), c.as_str()), "A09");
}

#[test]
fn a10_a11_a13_order_helpers() {
    assert_eq!(order_id_from_product_data(&format!("mm_order={ORDER}")).as_deref(), Some(ORDER));
    assert_eq!(
        order_id_from_product_data(&format!("a=1&mm_order={ORDER}&b=2")).as_deref(),
        Some(ORDER)
    );
    for pd in [
        String::new(),
        "mm_order=".into(),
        "other=1".into(),
        "mm_order=not-a-uuid".into(),
        format!("mm_order={}", ORDER.to_uppercase()),
        format!("mm_order={ORDER}&mm_order={ORDER}"),
        format!("mm_order={ORDER}x"),
        format!("mm_orderx={ORDER}"),
    ] {
        assert_eq!(order_id_from_product_data(&pd), None, "A10 {pd:?}");
    }
    let stored = stored_request();
    assert!(request_matches_order(&stored, &stored));
    let mut echo = stored.clone();
    set(&mut echo, &["pricePoint"], Some(n(5.0)));
    set(&mut echo, &["name"], Some(s("Renamed")));
    set(&mut echo, &["unknown"], Some(n(1.0)));
    assert!(request_matches_order(&echo, &stored), "pricePoint normalised; other members free");
    for (m, v) in [
        ("id", Some(s("other-product"))),
        ("pricePoint", Some(s("4"))),
        ("pricePoint", Some(s("05"))),
        ("productData", None),
        ("productData", Some(s("mm_order=x"))),
    ] {
        let mut echo = stored.clone();
        set(&mut echo, &[m], v);
        assert!(!request_matches_order(&echo, &stored), "A11 {m}");
    }
    let mut echo = stored.clone();
    set(&mut echo, &["simulate"], Some(parse(r#"{"result":"postback"}"#)));
    assert!(!request_matches_order(&echo, &stored), "A13");
    let mut with_sim = stored.clone();
    set(&mut with_sim, &["simulate"], Some(parse(r#"{"result":"chargeback","reason":"refund"}"#)));
    let mut echo = stored.clone();
    set(&mut echo, &["simulate"], Some(parse(r#"{"reason":"refund","result":"chargeback"}"#)));
    assert!(request_matches_order(&echo, &with_sim), "deep equality ignores member order");
    set(&mut echo, &["simulate"], Some(parse(r#"{"reason":"reversal","result":"chargeback"}"#)));
    assert!(!request_matches_order(&echo, &with_sim));
    assert!(json_deep_eq(&parse(r#"[1,{"a":[{}]}]"#), &parse(r#"[1,{"a":[{}]}]"#)));
    assert!(!json_deep_eq(&parse("[1,2]"), &parse("[2,1]")));
    assert!(!json_deep_eq(&parse(r#"{"a":1}"#), &parse(r#"{"a":1,"b":2}"#)));
    assert!(!json_deep_eq(&parse("1"), &parse(r#""1""#)));
}

#[test]
fn a23_a24_form_and_content_type() {
    assert_eq!(
        check_notice_content_type(Some("application/x-www-form-urlencoded; charset=UTF-8")),
        Ok(())
    );
    assert_eq!(
        check_notice_content_type(Some("application/json")).unwrap_err().code,
        NoticeCode::UnsupportedMediaType,
        "A23"
    );
    assert_eq!(check_notice_content_type(None).unwrap_err().http_status(), 415);
    let token = postback_at(NOW).sign(&secret());
    assert_eq!(notice_from_form(format!("notice={token}").as_bytes()), Ok(token.clone()));
    for body in [
        String::new(),
        "other=1".into(),
        format!("notice={token}&notice={token}"),
        "notice=".into(),
    ] {
        let e = notice_from_form(body.as_bytes()).unwrap_err();
        assert_eq!((e.code.as_str(), e.http_status()), ("MISSING_NOTICE", 400), "A24 {body:?}");
    }
    assert!(
        notice_delivered(
            200,
            format!("  {}\n", tx(TxKind::Webpay)).as_bytes(),
            &tx(TxKind::Webpay)
        ),
        "D03"
    );
    assert!(!notice_delivered(200, b"", &tx(TxKind::Webpay)), "D01");
    assert!(!notice_delivered(200, tx(TxKind::Free).as_bytes(), &tx(TxKind::Webpay)), "D02");
    assert!(!notice_delivered(201, tx(TxKind::Webpay).as_bytes(), &tx(TxKind::Webpay)));
    for (c, status) in [
        (NoticeCode::MethodNotAllowed, 405),
        (NoticeCode::BodyTooLarge, 413),
        (NoticeCode::UnknownOrder, 409),
        (NoticeCode::OrderMismatch, 409),
        (NoticeCode::StoreUnavailable, 503),
        (NoticeCode::InternalError, 500),
        (NoticeCode::BadIat, 400),
    ] {
        assert_eq!(c.http_status(), status, "{c}");
    }
}

// ---------------------------------------------------------------------------------------------
// Receipt-issue requests (§6.1)
// ---------------------------------------------------------------------------------------------

const JTI: &str = "6a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d";

fn issue_at(iat: i64) -> IssueRequest {
    IssueRequest::new(APP_KEY, DOMAIN, iat, JTI, &tx(TxKind::Webpay))
}

fn verify_issue(token: &str, now: i64) -> Result<IssueRequest, IssueError> {
    let k = secret();
    verify_issue_jwt(token, |iss| (iss == APP_KEY).then_some(&k), DOMAIN, now)
}

fn issue_with(path: &[&str], v: Option<Json>) -> String {
    let mut c = issue_at(NOW).to_claims_json();
    set(&mut c, path, v);
    sign_hs256(&c, &secret())
}

fn issue_err(token: &str) -> (u16, &'static str, &'static str) {
    match verify_issue(token, NOW) {
        Ok(_) => (201, "OK", ""),
        Err(e) => (e.http_status(), e.code.as_str(), e.detail),
    }
}

#[test]
fn issue_round_trip() {
    let req = issue_at(NOW - 1);
    assert_eq!(req.exp - req.iat, ISSUE_JWT_LIFETIME_SECS);
    let token = req.sign(&secret());
    assert_eq!(verify_issue(&token, NOW), Ok(req.clone()));
    assert_eq!(issue_token_from_form(format!("request={token}").as_bytes()), Ok(token.clone()));
    assert_eq!(issue_token_from_form(b"x=1").unwrap_err().http_status(), 401);
    let jwt = decode_issue_jwt(&token).unwrap();
    assert_eq!(jwt.iss(), APP_KEY);
    let names: Vec<String> =
        req.to_claims_json().as_object().unwrap().iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(names, ["iss", "aud", "typ", "iat", "exp", "jti", "transactionID"]);
}

#[test]
fn e01_and_issue_checks() {
    let forged = issue_at(NOW).sign(&other_secret());
    assert_eq!(issue_err(&forged), (401, "INVALID_JWT", "signature"), "E01");
    assert_eq!(
        issue_err(&issue_with(&["iss"], Some(s(OTHER_KEY)))),
        (403, "BAD_JWT_ISSUER", "iss"),
        "unknown iss"
    );
    assert_eq!(issue_err(&issue_with(&["iss"], None)), (401, "INVALID_JWT", "iss"));
    assert_eq!(issue_err(&issue_with(&["typ"], Some(s(PAY_TYP)))), (401, "INVALID_JWT", "typ"));
    assert_eq!(
        issue_err(&issue_with(&["aud"], Some(parse(&format!(r#"["{DOMAIN}"]"#))))),
        (401, "INVALID_JWT", "aud")
    );
    assert_eq!(
        issue_err(&base_pay().sign(&secret())),
        (401, "INVALID_JWT", "typ"),
        "a pay JWT is not an issue JWT"
    );
    let times = |iat: i64, exp: i64| {
        let mut c = issue_at(NOW).to_claims_json();
        set(&mut c, &["iat"], Some(n(iat as f64)));
        set(&mut c, &["exp"], Some(n(exp as f64)));
        sign_hs256(&c, &secret())
    };
    assert_eq!(
        issue_err(&times(NOW - 300, NOW - 60)),
        (401, "INVALID_JWT", "exp"),
        "exp = now - 60"
    );
    assert_eq!(issue_err(&times(NOW - 299, NOW - 59)).1, "OK", "exp = now - 59");
    assert_eq!(
        issue_err(&times(NOW + 61, NOW + 100)),
        (401, "INVALID_JWT", "iat"),
        "iat = now + 61"
    );
    assert_eq!(issue_err(&times(NOW + 60, NOW + 100)).1, "OK", "iat = now + 60");
    assert_eq!(
        issue_err(&times(NOW - 1, NOW + 300)),
        (401, "INVALID_JWT", "lifetime"),
        "exp - iat = 301"
    );
    assert_eq!(issue_err(&times(NOW, NOW + 300)).1, "OK", "exp - iat = 300");
    assert_eq!(
        issue_err(&issue_with(&["nbf"], Some(n((NOW + 61) as f64)))),
        (401, "INVALID_JWT", "nbf")
    );
    assert_eq!(issue_err(&issue_with(&["exp"], Some(s("1")))), (401, "INVALID_JWT", "exp"));
    for jti in
        [None, Some(s("")), Some(s("not-a-uuid")), Some(n(1.0)), Some(s(&JTI.to_uppercase()))]
    {
        assert_eq!(issue_err(&issue_with(&["jti"], jti)), (401, "INVALID_JWT", "jti"));
    }
    for t in [None, Some(s("webpay:../../x")), Some(n(1.0))] {
        assert_eq!(
            issue_err(&issue_with(&["transactionID"], t)),
            (401, "INVALID_JWT", "transactionID")
        );
    }
    let none_alg = format!(
        "{}.{}.",
        encode(br#"{"alg":"none"}"#),
        encode(issue_at(NOW).to_claims_json().to_json_text().as_bytes())
    );
    assert_eq!(issue_err(&none_alg), (401, "INVALID_JWT", "malformed"));
    for (c, status) in [
        (IssueCode::JtiReplayed, 409),
        (IssueCode::TransMissing, 404),
        (IssueCode::TransRefunded, 409),
        (IssueCode::TransNotComplete, 409),
        (IssueCode::PriceLimitExceeded, 409),
        (IssueCode::BodyTooLarge, 413),
    ] {
        assert_eq!(c.http_status(), status, "{c}");
        assert!(!c.message().is_empty());
    }
    // The jti memory covers every token's acceptance window (iat - 60 .. exp + 60).
    const { assert!(ISSUE_JWT_LIFETIME_SECS + 2 * crate::hs256::LEEWAY_SECS <= JTI_MEMORY_SECS) };
}

// ---------------------------------------------------------------------------------------------
// Receipts (§6.2, §6.3), checked with the receipt verifier
// ---------------------------------------------------------------------------------------------

mod receipts {
    use super::*;
    use crate::claims::PolicyInput;
    use crate::jwk::test_support::{ec_key, rsa_key};
    use crate::jwk::{parse_root_document, KeyMaterial, PublicKey};
    use crate::sign::{SignError, SigningKey};
    use crate::state::Class;
    use crate::verify::{strict_local, Local, Mode, Policy};

    const PROVIDER: &str = "http://127.0.0.1:7802";
    const APP_ORIGIN: &str = "http://localhost:7801";
    const ISSUED: i64 = 1_767_225_600; // 2026-01-01
    const DIRECTED: &str = "2b4d6f8a-0c1e-4a3b-8d5f-7a9c1e3b5d7f";

    fn input(kind: ReceiptKind) -> ReceiptInput<'static> {
        ReceiptInput {
            kind,
            provider_origin: PROVIDER,
            app_origin: APP_ORIGIN,
            app_id: 7,
            contrib: 42,
            inapp_id: "magical-unicorn",
            user: DIRECTED,
            transaction_uuid: TX_UUID,
            iat: ISSUED,
            lifetime_secs: RECEIPT_LIFETIME_SECS,
        }
    }

    fn policy(root: &SigningKey, root_kid: &str, typs: &[&str]) -> Policy {
        Policy {
            mode: Mode::Strict,
            trusted: vec![PublicKey {
                material: root.public_key(),
                kid: Some(root_kid.to_owned()),
                iss: Some(PROVIDER.to_owned()),
            }],
            root_key_origins: vec![],
            leeway_ms: 60_000.0,
            checks: PolicyInput {
                typs_allowed: typs.iter().map(|t| (*t).to_owned()).collect(),
                product_urls: vec![APP_ORIGIN.to_owned()],
                installs_allowed_from: Some(vec![PROVIDER.to_owned()]),
            },
        }
    }

    fn local(receipt: &str, policy: &Policy, now: i64) -> Local {
        strict_local(receipt, policy, None, now as f64 * 1000.0, &NativeUrlParser)
    }

    #[test]
    fn receipt_payload_is_exactly_the_table_of_6_2() {
        let p = receipt_payload(&input(ReceiptKind::Purchase));
        assert_eq!(
            p.to_json_text(),
            format!(
                r#"{{"typ":"purchase-receipt","product":{{"url":"http://localhost:7801","storedata":"id=7&contrib=42&inapp_id=magical-unicorn"}},"user":{{"type":"directed-identifier","value":"{DIRECTED}"}},"iss":"http://127.0.0.1:7802","verify":"http://127.0.0.1:7802/receipts/verify","detail":"http://127.0.0.1:7802/receipts/detail/{TX_UUID}","reissue":"http://127.0.0.1:7802/receipts/reissue","iat":{ISSUED},"nbf":{ISSUED},"exp":{}}}"#,
                ISSUED + 15_724_800
            )
        );
        let t = receipt_payload(&ReceiptInput {
            provider_origin: "http://127.0.0.1:7802/",
            app_origin: "http://localhost:7801/",
            ..input(ReceiptKind::Test)
        });
        assert_eq!(t.get("typ"), Some(&s("test-receipt")));
        assert_eq!(t.get("verify"), Some(&s("http://127.0.0.1:7802/receipts/verify/test")));
        assert_eq!(t.get("product").and_then(|p| p.get("url")), Some(&s(APP_ORIGIN)));
        assert_eq!(storedata(1, 2, "a b&c=d:é"), "id=1&contrib=2&inapp_id=a+b%26c%3Dd%3A%C3%A9");
        let pairs = form_pairs(storedata(1, 2, "a b&c=d:é").as_bytes());
        assert_eq!(pairs[2], ("inapp_id".into(), "a b&c=d:é".into()));
    }

    #[test]
    fn certificate_payload_matches_6_3() {
        let eph = SigningKey::Es256(ec_key(2));
        let c = certificate_payload(
            PROVIDER,
            eph.public_jwk("eph-20260101-3fa2"),
            ISSUED,
            DEFAULT_PRICE_LIMIT,
        );
        let names: Vec<&str> = c.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["typ", "iss", "jwk", "iat", "nbf", "exp", "price_limit"]);
        assert_eq!(c.get("typ"), Some(&s("certified-key")));
        assert_eq!(c.get("iss"), Some(&s("http://127.0.0.1:7802/public_keys/root.jwk")));
        assert_eq!(c.get("jwk").and_then(Json::as_array).map(<[Json]>::len), Some(1));
        assert_eq!(c.get("exp"), Some(&n((ISSUED + 213 * 86_400) as f64)));
        assert_eq!(c.get("price_limit"), Some(&n(1000.0)));
    }

    /// The brief's end-to-end check: builders → `strict_local` with `NativeUrlParser`.
    #[test]
    fn issued_receipts_verify_with_strict_local() {
        for (root, eph) in [
            (SigningKey::Es256(ec_key(1)), SigningKey::Es256(ec_key(2))),
            (SigningKey::Rs256(rsa_key(0).clone()), SigningKey::Rs256(rsa_key(1).clone())),
            (SigningKey::Es256(ec_key(3)), SigningKey::Rs256(rsa_key(1).clone())),
        ] {
            let root_kid = key_id(KeyRole::Root, ISSUED, 0x00ff);
            let eph_kid = key_id(KeyRole::Ephemeral, ISSUED, 0x3fa2);
            let cert =
                certify(&root, &root_kid, &eph, &eph_kid, PROVIDER, ISSUED, DEFAULT_PRICE_LIMIT)
                    .unwrap();
            assert_eq!(cert.exp, ISSUED + CERTIFICATE_LIFETIME_SECS);
            let payload = receipt_payload(&input(ReceiptKind::Purchase));
            let receipt = sign_receipt(&cert, &eph, &payload).unwrap();
            // §6.3: exactly two parts, headers as specified.
            let parts: Vec<&str> = receipt.split('~').collect();
            assert_eq!(parts.len(), 2);
            assert_eq!(parts[0], cert.jwt);
            let parsed = crate::compact::parse_strict(&receipt).unwrap();
            assert_eq!(
                parsed.parts[0].header.to_json_text(),
                format!(r#"{{"alg":"{}","typ":"JWT","kid":"{root_kid}"}}"#, root.alg().as_str())
            );
            assert_eq!(
                parsed.parts[1].header.to_json_text(),
                format!(r#"{{"alg":"{}","typ":"JWT","kid":"{eph_kid}"}}"#, eph.alg().as_str())
            );
            assert_eq!(parsed.parts[1].payload, payload);
            // The receipt verifier accepts it, from its iat to just before its exp.
            let policy = policy(&root, &root_kid, &["purchase-receipt"]);
            for now in [ISSUED, ISSUED + 86_400 * 100, ISSUED + RECEIPT_LIFETIME_SECS + 59] {
                match local(&receipt, &policy, now) {
                    Local::Passed(p) => {
                        assert_eq!(p.iss, PROVIDER);
                        assert_eq!(p.verify, "http://127.0.0.1:7802/receipts/verify");
                        assert_eq!(p.payload, payload);
                    }
                    other => panic!("{other:?} at {now}"),
                }
            }
            let expired = local(&receipt, &policy, ISSUED + RECEIPT_LIFETIME_SECS + 60);
            assert!(matches!(expired, Local::Failed(f) if f.class == Class::ReceiptExpired));
        }
    }

    /// The store's own check (§6.3 chain, §6.5 relaxation): accepts what it issued, at any
    /// time; refuses another root, a tampered receipt, a third part and a non-receipt.
    #[test]
    fn check_issued_chain_accepts_own_receipts_only() {
        let (root, eph) = (SigningKey::Es256(ec_key(1)), SigningKey::Es256(ec_key(2)));
        let cert = certify(&root, "root-1", &eph, "eph-1", PROVIDER, ISSUED, 10.0).unwrap();
        let payload = receipt_payload(&input(ReceiptKind::Purchase));
        let receipt = sign_receipt(&cert, &eph, &payload).unwrap();
        let doc = format!("{PROVIDER}{ROOT_DOCUMENT_PATH}");
        let urls = crate::url::NativeUrlParser;
        let roots = [("root-1".to_owned(), root.alg(), root.public_key())];
        assert_eq!(check_issued_chain(&receipt, &roots, &doc, &urls), Some(payload));
        let other = SigningKey::Es256(ec_key(3));
        let other_roots = [("root-1".to_owned(), other.alg(), other.public_key())];
        assert_eq!(check_issued_chain(&receipt, &other_roots, &doc, &urls), None, "other root");
        assert_eq!(check_issued_chain(&receipt, &roots, "https://elsewhere/root.jwk", &urls), None);
        let (c, j) = receipt.split_once('~').unwrap();
        assert_eq!(check_issued_chain(&format!("{c}~{c}~{j}"), &roots, &doc, &urls), None);
        assert_eq!(check_issued_chain(&format!("{j}~{c}"), &roots, &doc, &urls), None);
        let mut tampered = j.to_owned();
        tampered.insert(j.find('.').unwrap() + 3, 'A');
        assert_eq!(check_issued_chain(&format!("{c}~{tampered}"), &roots, &doc, &urls), None);
    }

    #[test]
    fn test_receipts_need_test_receipts_allowed() {
        let (root, eph) = (SigningKey::Es256(ec_key(1)), SigningKey::Es256(ec_key(2)));
        let cert = certify(&root, "root-1", &eph, "eph-1", PROVIDER, ISSUED, 10.0).unwrap();
        let receipt =
            sign_receipt(&cert, &eph, &receipt_payload(&input(ReceiptKind::Test))).unwrap();
        let ok = policy(&root, "root-1", &["purchase-receipt", "test-receipt"]);
        assert!(matches!(local(&receipt, &ok, ISSUED), Local::Passed(_)));
        let purchase_only = policy(&root, "root-1", &["purchase-receipt"]);
        assert!(
            matches!(local(&receipt, &purchase_only, ISSUED), Local::Failed(f) if f.class == Class::WrongType)
        );
    }

    #[test]
    fn e05_e06_tampering_and_unknown_roots_are_refused() {
        let (root, eph) = (SigningKey::Es256(ec_key(1)), SigningKey::Es256(ec_key(2)));
        let cert = certify(&root, "root-1", &eph, "eph-1", PROVIDER, ISSUED, 10.0).unwrap();
        let payload = receipt_payload(&input(ReceiptKind::Purchase));
        let receipt = sign_receipt(&cert, &eph, &payload).unwrap();
        let policy = policy(&root, "root-1", &["purchase-receipt"]);
        // E05: one byte of the receipt payload changed (same length, still valid JSON).
        let mut changed = payload.clone();
        set(
            &mut changed,
            &["product", "storedata"],
            Some(s("id=7&contrib=43&inapp_id=magical-unicorn")),
        );
        let (c, j) = receipt.split_once('~').unwrap();
        let mut seg: Vec<&str> = j.split('.').collect();
        let forged_payload = encode(changed.to_json_text().as_bytes());
        seg[1] = &forged_payload;
        let forged = format!("{c}~{}", seg.join("."));
        assert!(
            matches!(local(&forged, &policy, ISSUED), Local::Failed(f) if f.class == Class::InvalidSignature),
            "E05"
        );
        // E06: a certificate signed by an unknown root.
        let rogue = SigningKey::Es256(ec_key(99));
        let rogue_cert = certify(&rogue, "root-1", &eph, "eph-1", PROVIDER, ISSUED, 10.0).unwrap();
        let r = sign_receipt(&rogue_cert, &eph, &payload).unwrap();
        assert!(matches!(local(&r, &policy, ISSUED), Local::Failed(_)), "E06");
        // A receipt signed by an uncertified key under a genuine certificate.
        let r = sign_receipt(&cert, &SigningKey::Es256(ec_key(98)), &payload).unwrap();
        assert!(
            matches!(local(&r, &policy, ISSUED), Local::Failed(f) if f.class == Class::InvalidSignature)
        );
    }

    #[test]
    fn receipts_never_outlive_their_certificate() {
        let (root, eph) = (SigningKey::Es256(ec_key(1)), SigningKey::Es256(ec_key(2)));
        let cert = certify(&root, "root-1", &eph, "eph-1", PROVIDER, ISSUED, 10.0).unwrap();
        // A certificate 31 days old cannot sign a 182-day receipt past its 213-day life...
        let late = ReceiptInput { iat: ISSUED + 32 * 86_400, ..input(ReceiptKind::Purchase) };
        assert_eq!(
            sign_receipt(&cert, &eph, &receipt_payload(&late)),
            Err(SignError::OutlivesCertificate)
        );
        // ...but one 31 days old can (30 + 182 + 1).
        let ok = ReceiptInput { iat: ISSUED + 31 * 86_400, ..input(ReceiptKind::Purchase) };
        assert!(sign_receipt(&cert, &eph, &receipt_payload(&ok)).is_ok());
        assert!(cert.covers(cert.exp) && !cert.covers(cert.exp + 1));
        let mut no_exp = receipt_payload(&input(ReceiptKind::Purchase));
        set(&mut no_exp, &["exp"], None);
        assert_eq!(sign_receipt(&cert, &eph, &no_exp), Err(SignError::OutlivesCertificate));
        let rsa = SigningKey::Rs256(rsa_key(0).clone());
        assert_eq!(
            sign_receipt(&cert, &rsa, &receipt_payload(&input(ReceiptKind::Purchase))),
            Err(SignError::InvalidKey)
        );
    }

    #[test]
    fn published_documents_parse() {
        let roots = [SigningKey::Es256(ec_key(1)), SigningKey::Rs256(rsa_key(0).clone())];
        let jwks: Vec<Json> =
            roots.iter().enumerate().map(|(i, k)| k.public_jwk(&format!("root-{i}"))).collect();
        let doc = root_document(&jwks).to_json_text();
        let keys = parse_root_document(&doc, &NativeUrlParser).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].material, roots[0].public_key());
        assert!(matches!(keys[1].material, KeyMaterial::Rsa(_)));
        let set = jwks_document(&jwks);
        assert_eq!(set.get("keys").and_then(Json::as_array).map(<[Json]>::len), Some(2));
    }
}
