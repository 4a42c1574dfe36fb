//! The provider's pay page: spec/payments.md §9.3 rows C01–C25, on a real database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod market_support;

use axum::http::StatusCode;
use market_support::*;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_server::market::Clock as _;
use serde_json::{json, Value};

const NOW: i64 = T0_MS / 1000;

/// Asserts an error screen with `code` and `status`, and that nothing was persisted.
async fn assert_rejected(env: &Env, r: &Resp, code: &str, status: u16, what: &str) {
    assert_eq!(r.error_code().as_deref(), Some(code), "{what}: {}", r.text());
    assert_eq!(r.status.as_u16(), status, "{what}");
    assert!(r.text().contains(&format!("Error code: <code>{code}</code>")), "{what}");
    assert!(r.text().contains("This payment request could not be processed."), "{what}");
    assert!(r.text().contains("data-screen=\"error\""), "{what}");
    assert!(r.set_cookie("mm_market_buyer").is_none(), "{what}: a buyer cookie was set");
    for table in ["checkouts", "transactions", "notices", "buyers", "directed_ids"] {
        assert_eq!(env.count(table).await, 0, "{what}: {table} has rows");
    }
}

fn raw(header: &str, payload: &str, sig: &str) -> String {
    format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), sig)
}

fn with(mut claims: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    if let Value::Object(m) = &mut claims {
        f(m);
    }
    claims
}

fn req_with(claims: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    with(claims, |m| {
        if let Some(Value::Object(r)) = m.get_mut("request") {
            f(r);
        }
    })
}

/// C01–C16: one malformed pay JWT per code of §3.5 raised at steps 1–34 (step 0 in
/// `disabled_modes`), each valid except for that one defect.
#[tokio::test]
async fn c01_every_step_code_on_the_error_screen() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        let sim = env.sim.0.clone();
        let live = env.live.0.clone();
        let sk = env.sim_key();
        let lk = env.live_key();
        let sim_claims = || env.claims(&sim, NOW, json!({"simulate": {"result": "postback"}}));
        let live_claims = || env.claims(&live, NOW, json!({}));
        let long = "x".repeat(256);
        let long_url = format!("{}/{}", env.notice_origin, "p".repeat(256 - env.notice_origin.len()));

        // A second app's key, to sign with "another app's secret" (C02).
        let other = env
            .api("POST", "/dev/api/apps", Some(json!({"name": "Other", "origins": ["http://localhost:9999"]})))
            .await
            .json();
        let other_key = env
            .api("POST", &format!("/dev/api/apps/{}/keys", other["id"]), Some(json!({"kind": "live"})))
            .await
            .json();
        let other_secret = Hs256Key::from_secret(other_key["secret"].as_str().unwrap()).unwrap();
        // A revoked key (C03).
        let revoked = env
            .api("POST", &format!("/dev/api/apps/{}/keys", env.app_id), Some(json!({"kind": "live"})))
            .await
            .json();
        let revoked_key = revoked["key"].as_str().unwrap().to_owned();
        let revoked_secret = Hs256Key::from_secret(revoked["secret"].as_str().unwrap()).unwrap();
        assert_eq!(env.api("POST", &format!("/dev/api/keys/{revoked_key}/revoke"), None).await.status, StatusCode::NO_CONTENT);

        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let good_payload = sim_claims().to_string();
        let cases: Vec<(&str, String, &str)> = vec![
            // Step 2.
            ("C16 9000-byte req", "a".repeat(9000), "INVALID_JWT"),
            // Step 3.
            ("not three segments", "abc".into(), "JWT_DECODE_ERR"),
            ("empty signature (alg none)", raw(r#"{"alg":"none"}"#, &good_payload, ""), "JWT_DECODE_ERR"),
            ("padding", format!("{}=", sign(&sim_claims(), &sk)), "JWT_DECODE_ERR"),
            ("plus in base64", raw(header, &good_payload, "ab+c"), "JWT_DECODE_ERR"),
            ("not JSON", raw(header, "not json", "AAAA"), "JWT_DECODE_ERR"),
            ("duplicate member", raw(header, r#"{"iss":"a","iss":"b"}"#, "AAAA"), "JWT_DECODE_ERR"),
            // Step 4.
            ("payload array", raw(header, "[1,2]", "AAAA"), "INVALID_JWT_OBJ"),
            ("header string", raw("\"HS256\"", &good_payload, "AAAA"), "INVALID_JWT_OBJ"),
            // Step 5.
            ("alg HS512", raw(r#"{"alg":"HS512","typ":"JWT"}"#, &good_payload, "AAAA"), "INVALID_JWT"),
            ("alg RS256", raw(r#"{"alg":"RS256","typ":"JWT"}"#, &good_payload, "AAAA"), "INVALID_JWT"),
            ("jku header", raw(r#"{"alg":"HS256","jku":"https://evil.example/k"}"#, &good_payload, "AAAA"), "INVALID_JWT"),
            ("crit header", raw(r#"{"alg":"HS256","crit":["exp"]}"#, &good_payload, "AAAA"), "INVALID_JWT"),
            // Step 6.
            ("iss number", sign(&with(sim_claims(), |m| { m.insert("iss".into(), json!(5)); }), &sk), "INVALID_JWT"),
            // Step 7.
            ("C03 unknown iss", sign(&with(sim_claims(), |m| { m.insert("iss".into(), json!(uuid::Uuid::new_v4().to_string())); }), &sk), "BAD_JWT_ISSUER"),
            ("C03 revoked iss", sign(&env.claims(&revoked_key, NOW, json!({})), &revoked_secret), "BAD_JWT_ISSUER"),
            // Step 8.
            ("C02 another app's secret", sign(&live_claims(), &other_secret), "INVALID_JWT"),
            // Step 9.
            ("typ", sign(&with(sim_claims(), |m| { m.insert("typ".into(), json!("mozilla/payments/pay/postback/v1")); }), &sk), "INVALID_JWT"),
            // Step 10.
            ("aud", sign(&with(sim_claims(), |m| { m.insert("aud".into(), json!("marketplace.firefox.com")); }), &sk), "INVALID_JWT"),
            ("aud array", sign(&with(sim_claims(), |m| { m.insert("aud".into(), json!(["127.0.0.1:7802"])); }), &sk), "INVALID_JWT"),
            // Step 11.
            ("exp string", sign(&with(sim_claims(), |m| { m.insert("exp".into(), json!("9999999999")); }), &sk), "INVALID_JWT"),
            ("exp missing", sign(&with(sim_claims(), |m| { m.remove("exp"); }), &sk), "INVALID_JWT"),
            // Step 12 (C04).
            ("C04 exp = now - 61", sign(&with(sim_claims(), |m| { m.insert("exp".into(), json!(NOW - 61)); m.insert("iat".into(), json!(NOW - 3661)); }), &sk), "EXPIRED_JWT"),
            // Step 13.
            ("iat = now + 120", sign(&with(sim_claims(), |m| { m.insert("iat".into(), json!(NOW + 120)); }), &sk), "INVALID_JWT"),
            ("C04 exp - iat = 3601", sign(&with(sim_claims(), |m| { m.insert("exp".into(), json!(NOW + 3601)); }), &sk), "INVALID_JWT"),
            ("nbf in the future", sign(&with(sim_claims(), |m| { m.insert("nbf".into(), json!(NOW + 120)); }), &sk), "INVALID_JWT"),
            // Step 14, 15.
            ("request missing", sign(&with(sim_claims(), |m| { m.remove("request"); }), &sk), "FIELD_REQUIRED"),
            ("request a string", sign(&with(sim_claims(), |m| { m.insert("request".into(), json!("x")); }), &sk), "BAD_FIELD_TYPE"),
            // Step 16.
            ("name empty", sign(&req_with(sim_claims(), |r| { r.insert("name".into(), json!("")); }), &sk), "FIELD_REQUIRED"),
            ("postbackURL missing", sign(&req_with(sim_claims(), |r| { r.remove("postbackURL"); }), &sk), "FIELD_REQUIRED"),
            // Step 17.
            ("name a number", sign(&req_with(sim_claims(), |r| { r.insert("name".into(), json!(5)); }), &sk), "BAD_FIELD_TYPE"),
            ("pricePoint negative", sign(&req_with(sim_claims(), |r| { r.insert("pricePoint".into(), json!(-1)); }), &sk), "BAD_FIELD_TYPE"),
            ("productData a number", sign(&req_with(sim_claims(), |r| { r.insert("productData".into(), json!(5)); }), &sk), "BAD_FIELD_TYPE"),
            // Step 18, 19.
            ("C13 icons an array", sign(&req_with(sim_claims(), |r| { r.insert("icons".into(), json!(["https://cdn.example/i.png"])); }), &sk), "BAD_ICON_KEY"),
            ("locales a string", sign(&req_with(sim_claims(), |r| { r.insert("locales".into(), json!("de")); r.insert("defaultLocale".into(), json!("en")); }), &sk), "BAD_LOCALE"),
            // Step 20 (C15).
            ("C15 id 256", sign(&req_with(sim_claims(), |r| { r.insert("id".into(), json!(long)); }), &sk), "ID_TOO_LONG"),
            ("C15 name 256", sign(&req_with(sim_claims(), |r| { r.insert("name".into(), json!(long)); }), &sk), "NAME_TOO_LONG"),
            ("postbackURL 256", sign(&req_with(sim_claims(), |r| { r.insert("postbackURL".into(), json!(long_url)); }), &sk), "POSTBACKURL_TOO_LONG"),
            ("chargebackURL 256", sign(&req_with(sim_claims(), |r| { r.insert("chargebackURL".into(), json!(long_url)); }), &sk), "CHARGEBACKURL_TOO_LONG"),
            ("C15 productData 256", sign(&req_with(sim_claims(), |r| { r.insert("productData".into(), json!(long)); }), &sk), "PRODUCTDATA_TOO_LONG"),
            ("defaultLocale 256", sign(&req_with(sim_claims(), |r| { r.insert("defaultLocale".into(), json!(long)); }), &sk), "DEFAULTLOCALE_TOO_LONG"),
            // Step 22–24 (C05, C06).
            ("C06 result refund", sign(&req_with(sim_claims(), |r| { r.insert("simulate".into(), json!({"result": "refund"})); }), &sk), "BAD_SIM_RESULT"),
            ("C06 simulate true", sign(&req_with(sim_claims(), |r| { r.insert("simulate".into(), json!(true)); }), &sk), "BAD_SIM_RESULT"),
            ("C05 chargeback without reason", sign(&req_with(sim_claims(), |r| { r.insert("simulate".into(), json!({"result": "chargeback"})); }), &sk), "NO_SIM_REASON"),
            ("C06 reason fraud", sign(&req_with(sim_claims(), |r| { r.insert("simulate".into(), json!({"result": "chargeback", "reason": "fraud"})); }), &sk), "BAD_SIM_RESULT"),
            // Step 25 (C07).
            ("C07 simulation key without simulate", sign(&env.claims(&sim, NOW, json!({})), &sk), "SIM_ONLY_KEY"),
            // Step 26–28 (C12).
            ("C12 locales without defaultLocale", sign(&req_with(sim_claims(), |r| { r.insert("locales".into(), json!({"de": {"name": "Pony"}})); }), &sk), "NO_DEFAULT_LOC"),
            ("locale entry a string", sign(&req_with(sim_claims(), |r| { r.insert("locales".into(), json!({"de": "Pony"})); r.insert("defaultLocale".into(), json!("en")); }), &sk), "BAD_LOCALE"),
            ("bad locale tag", sign(&req_with(sim_claims(), |r| { r.insert("locales".into(), json!({"not a tag!": {"name": "x"}})); r.insert("defaultLocale".into(), json!("en")); }), &sk), "BAD_LOCALE"),
            ("locale name 256", sign(&req_with(sim_claims(), |r| { r.insert("locales".into(), json!({"de": {"name": long}})); r.insert("defaultLocale".into(), json!("en")); }), &sk), "NAME_TOO_LONG"),
            // Step 29 (C10).
            ("C10 userinfo", sign(&req_with(sim_claims(), |r| { r.insert("postbackURL".into(), json!("http://u:p@localhost:7801/mozpay/postback")); }), &sk), "MALFORMED_URL"),
            ("C10 fragment", sign(&req_with(sim_claims(), |r| { r.insert("postbackURL".into(), json!("http://localhost:7801/mozpay/postback#x")); }), &sk), "MALFORMED_URL"),
            ("C10 chargebackURL notaurl", sign(&req_with(sim_claims(), |r| { r.insert("chargebackURL".into(), json!("notaurl")); }), &sk), "MALFORMED_URL"),
            ("ftp scheme", sign(&req_with(sim_claims(), |r| { r.insert("postbackURL".into(), json!("ftp://localhost:7801/x")); }), &sk), "MALFORMED_URL"),
            // Step 30 (C09).
            ("C09 unregistered origin", sign(&req_with(sim_claims(), |r| { r.insert("postbackURL".into(), json!("https://attacker.example/hook")); }), &sk), "URL_NOT_ALLOWED"),
            ("C09 same host, other port", sign(&req_with(sim_claims(), |r| { r.insert("chargebackURL".into(), json!("http://localhost:7809/mozpay/chargeback")); }), &sk), "URL_NOT_ALLOWED"),
            // Step 31, 32 (C13).
            ("C13 icon key big", sign(&req_with(sim_claims(), |r| { r.insert("icons".into(), json!({"big": "https://cdn.example/i.png"})); }), &sk), "BAD_ICON_KEY"),
            ("C13 javascript icon", sign(&req_with(sim_claims(), |r| { r.insert("icons".into(), json!({"64": "javascript:alert(1)"})); }), &sk), "MALFORMED_URL"),
            // Step 33 (C14).
            ("C14 pricePoint 77", sign(&req_with(live_claims(), |r| { r.insert("pricePoint".into(), json!("77")); }), &lk), "BAD_PRICE_POINT"),
            ("C14 pricePoint 05", sign(&req_with(live_claims(), |r| { r.insert("pricePoint".into(), json!("05")); }), &lk), "BAD_PRICE_POINT"),
        ];
        for (what, jwt, code) in &cases {
            let r = env.pay_page(jwt).await;
            assert_rejected(&env, &r, code, 400, what).await;
        }
        // Step 1.
        for uri in ["/mozpay/", "/mozpay/?req=", "/mozpay/?other=1"] {
            let r = env.get(uri).await;
            assert_rejected(&env, &r, "MISSING_JWT", 400, uri).await;
        }
        // The developer message names the failed check (dev mode).
        let r = env.pay_page(&sign(&live_claims(), &other_secret)).await;
        assert!(r.text().contains("The JWT signature is invalid or the JWT is malformed. (signature)"), "{}", r.text());
        let r = env.pay_page(&sign(&with(sim_claims(), |m| { m.insert("exp".into(), json!(NOW + 3601)); }), &sk)).await;
        assert!(r.text().contains("(lifetime)"));
        let r = env.pay_page(&"a".repeat(9000)).await;
        assert!(r.text().contains("(too_long)"));
        // Step 34 (C14): tier 99 has no EUR price.
        let jwt = sign(&req_with(live_claims(), |r| { r.insert("pricePoint".into(), json!("99")); }), &lk);
        let r = env.get_with(&format!("/mozpay/?req={}", enc(&jwt)), &[("cookie", "mm_market_currency=EUR")]).await;
        assert_rejected(&env, &r, "UNSUPPORTED_PAY", 400, "C14 tier 99 in EUR").await;
        // ...and it is fine in USD.
        let r = env.pay_page(&jwt).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // Step 21 (C08): simulations disabled.
        env.set_mode(json!({"simulationsEnabled": false})).await;
        let before = env.count("checkouts").await;
        let r = env.pay_page(&sign(&sim_claims(), &sk)).await;
        assert_eq!(r.error_code().as_deref(), Some("SIM_DISABLED"), "{}", r.text());
        assert_eq!(env.count("checkouts").await, before);
    }
}

/// C04 boundaries: `exp = now - 59` is still valid, `exp = now - 61` is expired; `iat = now + 59`
/// passes, `iat = now + 61` does not.
#[tokio::test]
async fn c04_time_boundaries() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        let sk = env.sim_key();
        let base = env.claims(&env.sim.0, NOW, json!({"simulate": {"result": "postback"}}));
        let at = |exp: i64, iat: i64| with(base.clone(), |m| { m.insert("exp".into(), json!(exp)); m.insert("iat".into(), json!(iat)); });
        assert_eq!(env.pay_page(&sign(&at(NOW - 59, NOW - 3659), &sk)).await.status, StatusCode::OK);
        assert_eq!(env.pay_page(&sign(&at(NOW - 60, NOW - 3660), &sk)).await.error_code().as_deref(), Some("EXPIRED_JWT"));
        assert_eq!(env.pay_page(&sign(&at(NOW - 61, NOW - 3661), &sk)).await.error_code().as_deref(), Some("EXPIRED_JWT"));
        assert_eq!(env.pay_page(&sign(&at(NOW + 59 + 3600, NOW + 59), &sk)).await.status, StatusCode::OK);
        assert_eq!(env.pay_page(&sign(&at(NOW + 61 + 3600, NOW + 61), &sk)).await.error_code().as_deref(), Some("INVALID_JWT"));
        assert_eq!(env.pay_page(&sign(&at(NOW + 3600, NOW), &sk)).await.status, StatusCode::OK);
    }
}

/// C11: strict mode refuses `http` notice URLs for non-simulated requests ("https required"),
/// and shows developer messages only for simulation-only keys.
#[tokio::test]
async fn c11_strict_mode_requires_https() {
    for backend in backends() {
        let clock = mozmarket_server::market::ManualClock::new(T0_MS);
        let mut opts = options(clock.clone());
        opts.rules = mozmarket_server::market::RuleSet::Strict;
        let env = setup_with(backend, opts, &[]).await;
        let r = env.pay_page(&env.live_jwt(NOW, json!({}))).await;
        assert_eq!(r.error_code().as_deref(), Some("MALFORMED_URL"), "{}", r.text());
        assert!(!r.text().contains("Developer message"), "strict mode hides developer messages for live keys");
        // A simulated request may use http (origin and SSRF rules still apply).
        let r = env.pay_page(&env.sim_jwt(NOW, json!({}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // A simulation key's errors show the developer message in strict mode.
        let r = env.pay_page(&env.sim_jwt(NOW, json!({"simulate": {"result": "refund"}}))).await;
        assert_eq!(r.error_code().as_deref(), Some("BAD_SIM_RESULT"));
        assert!(r.text().contains("Developer message"));
        assert!(r.text().contains("The requested payment simulation result is not supported."));
    }
}

/// C17, C18: JWT strings render as text; the page forbids framing and inline script.
#[tokio::test]
async fn c17_c18_escaping_and_headers() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        let evil = "<img src=x onerror=alert(1)>";
        let jwt = env.sim_jwt(NOW, json!({"name": evil, "description": "<script>alert(2)</script>", "productData": "\"><b>x</b>"}));
        let r = env.pay_page(&jwt).await;
        assert_eq!(r.status, StatusCode::OK);
        let t = r.text();
        assert!(t.contains("&lt;img src=x onerror=alert(1)&gt;"), "{t}");
        assert!(!t.contains("<img src=x"), "{t}");
        assert!(!t.contains("<script>alert"), "{t}");
        assert!(!t.contains("<b>x</b>"));
        // No inline script: the only script element is the static file.
        assert_eq!(t.matches("<script").count(), 1);
        assert!(t.contains("<script src=\"/mozpay/static/pay.js\" defer></script>"));
        assert!(!t.contains(" onclick=") && !t.contains("style=\""));
        // C18.
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
        assert!(csp.contains("img-src 'self' https: data: http:"), "dev mode allows http images: {csp}");
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        assert!(r.header("cross-origin-opener-policy").is_none());
        // The purchase itself is normal.
        let tid = env.buy(&jwt).await;
        assert!(tid.starts_with("simulate:"));
        // The static script and stylesheet are served as files.
        let js = env.get("/mozpay/static/pay.js").await;
        assert_eq!(js.status, StatusCode::OK);
        assert!(js.header("content-type").unwrap().starts_with("text/javascript"));
        assert!(js.text().contains("window.opener.postMessage(msg, origins[i])") && !js.text().contains(", '*')"));
        assert_eq!(env.get("/mozpay/static/market.css").await.status, StatusCode::OK);
        // Error screens carry the same headers.
        let r = env.get("/mozpay/").await;
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    }
}

/// The confirm screen and a successful purchase: checkout, transaction, notice, cookies,
/// postMessage targets.
#[tokio::test]
async fn confirm_screen_and_purchase() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        let jwt = env.live_jwt(
            NOW,
            json!({"icons": {"32": "https://cdn.example/32.png", "128": "https://cdn.example/128.png"},
                   "defaultLocale": "en", "locales": {"de": {"name": "Glänzendes Pony"}}}),
        );
        let r = env.get_with(&format!("/mozpay/?req={}", enc(&jwt)), &[("accept-language", "de-DE,de;q=0.9")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let t = r.text();
        assert!(t.contains("Glänzendes Pony"), "{t}");
        assert!(t.contains("1,99 USD"), "decimal comma for de: {t}");
        assert!(t.contains("https://cdn.example/128.png"), "largest icon when there is no 64: {t}");
        assert!(t.contains("referrerpolicy=\"no-referrer\""));
        assert!(t.contains("value=\"decline\""), "live requests offer the card choice");
        assert!(t.contains(">Confirm<") && t.contains(">Cancel<"));
        assert!(t.contains("data-display=\"1,89 EUR\""));
        assert!(!t.contains("Simulated payment"));
        let buyer = r.set_cookie("mm_market_buyer").expect("buyer cookie");
        assert_eq!(buyer.len(), 22);
        assert_eq!(env.count("checkouts").await, 1);
        assert_eq!(env.count("transactions").await, 0);
        let (checkout, csrf) = r.checkout();
        let r = env
            .post_form(
                "/mozpay/pay",
                &format!("checkout={checkout}&csrf={csrf}&currency=EUR&card=approve"),
                &[("cookie", &format!("mm_market_buyer={buyer}"))],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("data-screen=\"success\""));
        assert!(r.text().contains(&format!("data-origins=\"[&quot;{APP_ORIGIN}&quot;]\"")), "{}", r.text());
        assert_eq!(r.set_cookie("mm_market_currency").as_deref(), Some("EUR"));
        let tid = env.last_transaction_id().await;
        assert!(tid.starts_with("webpay:"), "{tid}");
        let detail = env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json();
        assert_eq!(detail["amount"], "1.89");
        assert_eq!(detail["currency"], "EUR");
        assert_eq!(detail["kind"], "live");
        assert_eq!(detail["state"], "completed");
        assert_eq!(detail["postback"]["state"], "queued");
        assert!(detail["chargeback"].is_null());
        // Free and simulated purchases.
        let free = env.live_jwt(NOW, json!({"pricePoint": 0, "id": "freebie"}));
        let r = env.pay_page(&free).await;
        assert!(r.text().contains(">Get<"), "{}", r.text());
        assert!(env.buy(&free).await.starts_with("free:"));
        let sim = env.sim_jwt(NOW, json!({"id": "sim-item"}));
        let r = env.pay_page(&sim).await;
        assert!(r.text().contains("Simulated payment — no money moves"));
        assert!(!r.text().contains("value=\"decline\""));
        assert!(env.buy(&sim).await.starts_with("simulate:"));
        // A simulated chargeback queues only a chargeback and refunds the transaction.
        let cb = env.sim_jwt(NOW, json!({"id": "cb-item", "simulate": {"result": "chargeback", "reason": "reversal"}}));
        let tid = env.buy(&cb).await;
        let d = env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json();
        assert_eq!(d["state"], "reversed");
        assert!(d["postback"].is_null());
        assert_eq!(d["chargeback"]["state"], "queued");
        // The provider mode banner.
        env.set_mode(json!({"mode": "slow", "slowMs": 0})).await;
        let r = env.pay_page(&env.sim_jwt(NOW, json!({"id": "banner"}))).await;
        assert!(r.text().contains("Provider mode: <code>slow</code>"));
    }
}

/// C19: the same pay JWT after its payment completed shows "Already paid" and creates nothing.
#[tokio::test]
async fn c19_already_paid() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        let jwt = env.sim_jwt(NOW, json!({}));
        env.buy(&jwt).await;
        let (tx, notices, checkouts) = (env.count("transactions").await, env.count("notices").await, env.count("checkouts").await);
        let r = env.pay_page(&jwt).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text().contains("This purchase is already complete."));
        assert!(r.text().contains("data-screen=\"already\""));
        assert_eq!((env.count("transactions").await, env.count("notices").await, env.count("checkouts").await), (tx, notices, checkouts));
        // Two tabs racing: the second confirm of the same request loses on the unique constraint.
        let jwt2 = env.sim_jwt(NOW, json!({"id": "race"}));
        let a = env.pay_page(&jwt2).await.checkout();
        let b = env.pay_page(&jwt2).await.checkout();
        let ra = env.post_form("/mozpay/pay", &format!("checkout={}&csrf={}", a.0, a.1), &[]).await;
        assert!(ra.text().contains("Payment complete."));
        let rb = env.post_form("/mozpay/pay", &format!("checkout={}&csrf={}", b.0, b.1), &[]).await;
        assert!(rb.text().contains("This purchase is already complete."), "{}", rb.text());
        assert_eq!(env.count("transactions").await, tx + 1);
        assert_eq!(env.count("notices").await, notices + 1);
    }
}

/// C20–C25: confirm-time failures and cancel.
#[tokio::test]
async fn c20_to_c25_confirm_failures() {
    for backend in backends() {
        let (env, clock) = setup_manual(backend).await;
        let no_tx = |what: &'static str| {
            let env = &env;
            async move {
                assert_eq!(env.count("transactions").await, 0, "{what}");
                assert_eq!(env.count("notices").await, 0, "{what}");
            }
        };
        // C20: wrong CSRF token; unknown checkout.
        let (c, csrf) = env.pay_page(&env.live_jwt(NOW, json!({}))).await.checkout();
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf=wrong{csrf}"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("BAD_REQUEST"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = env.post_form("/mozpay/pay", "checkout=nope&csrf=nope", &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("BAD_REQUEST"));
        let r = env.post_form("/mozpay/pay", "", &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("BAD_REQUEST"));
        no_tx("C20").await;
        // C24: cancel ends the checkout; a later confirm of it is BAD_REQUEST (C20).
        let r = env.post_form("/mozpay/cancel", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.error_code().as_deref(), Some("USER_CANCELLED"));
        assert!(r.text().contains("data-screen=\"cancelled\""));
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("BAD_REQUEST"));
        let r = env.post_form("/mozpay/cancel", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("BAD_REQUEST"));
        no_tx("C24").await;
        let list = env.count("checkouts").await;
        assert_eq!(list, 1);

        // C21: 15 min + 1 s after the GET → TRANS_EXPIRED; 15 min − 1 s → fine.
        let (c, csrf) = env.pay_page(&env.sim_jwt(clock.now_secs(), json!({"id": "late"}))).await.checkout();
        clock.advance_ms(15 * 60 * 1000 + 1000);
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("TRANS_EXPIRED"), "{}", r.text());
        assert_eq!(r.status.as_u16(), 409);
        no_tx("C21").await;
        let now = clock.now_secs();
        let (c, csrf) = env.pay_page(&env.sim_jwt(now, json!({"id": "in-time"}))).await.checkout();
        clock.advance_ms(15 * 60 * 1000 - 1000);
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert!(r.text().contains("Payment complete."), "{}", r.text());
        // The JWT expired between GET and confirm → EXPIRED_JWT.
        let now = clock.now_secs();
        let jwt = env.sim_jwt(now - 3500, json!({"id": "exp-meanwhile"}));
        let (c, csrf) = env.pay_page(&jwt).await.checkout();
        clock.advance_ms(200 * 1000);
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("EXPIRED_JWT"), "{}", r.text());
        let tx_before = env.count("transactions").await;

        // C22: mode fail.
        let now = clock.now_secs();
        let (c, csrf) = env.pay_page(&env.live_jwt(now, json!({"id": "fail"}))).await.checkout();
        env.set_mode(json!({"mode": "fail"})).await;
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("TRANS_FAILED"));
        assert_eq!(r.status.as_u16(), 402);
        env.set_mode(json!({"mode": "normal"})).await;
        // C25: the Decline card.
        let (c, csrf) = env.pay_page(&env.live_jwt(now, json!({"id": "decline"}))).await.checkout();
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}&card=decline"), &[]).await;
        assert_eq!(r.error_code().as_deref(), Some("TRANS_FAILED"));
        assert_eq!(env.count("transactions").await, tx_before, "C22/C25 create no transaction");
        // The hub's checkouts tab lists the ended checkouts.
        let states: Vec<(String, Option<String>)> = {
            use sqlx::Row as _;
            sqlx::query("SELECT state, end_code FROM checkouts ORDER BY created_ms, id")
                .fetch_all(&env.handle.db().pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get("state").unwrap(), r.try_get("end_code").unwrap()))
                .collect()
        };
        assert!(states.contains(&("cancelled".into(), Some("USER_CANCELLED".into()))));
        assert!(states.contains(&("expired".into(), Some("TRANS_EXPIRED".into()))));
        assert!(states.contains(&("failed".into(), Some("TRANS_FAILED".into()))));
    }
}

/// C23 (and step 0): provider mode `disabled`, globally (step 0) and per app (after step 8).
#[tokio::test]
async fn c23_disabled_modes() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        let jwt = env.sim_jwt(NOW, json!({}));
        env.set_mode(json!({"mode": "disabled"})).await;
        let r = env.pay_page(&jwt).await;
        assert_rejected(&env, &r, "PAY_DISABLED", 503, "global disabled").await;
        // Step 0 comes before everything: even a missing JWT is PAY_DISABLED.
        assert_eq!(env.get("/mozpay/").await.error_code().as_deref(), Some("PAY_DISABLED"));
        env.set_mode(json!({"mode": "normal"})).await;
        let r = env.api("PUT", &format!("/dev/api/apps/{}/settings", env.app_id), Some(json!({"mode": "disabled"}))).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = env.pay_page(&jwt).await;
        assert_rejected(&env, &r, "PAY_DISABLED", 503, "per-app disabled").await;
        // Per-app disabled applies after step 8: a bad signature is still INVALID_JWT.
        let other = Hs256Key::from_secret("another-secret-that-is-long-enough-0123456789").unwrap();
        let r = env.pay_page(&sign(&env.claims(&env.sim.0, NOW, json!({"simulate": {"result": "postback"}})), &other)).await;
        assert_eq!(r.error_code().as_deref(), Some("INVALID_JWT"));
        let r = env.api("DELETE", &format!("/dev/api/apps/{}/settings", env.app_id), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(env.pay_page(&jwt).await.status, StatusCode::OK);
    }
}

/// The error legend of §3.5.
#[tokio::test]
async fn error_legend() {
    let (env, _clock) = setup_manual("sqlite").await;
    let r = env.get("/mozpay/dev/error_legend").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
    let v = r.json();
    assert_eq!(v["errors"]["EXPIRED_JWT"], "The JWT has expired.");
    assert_eq!(v["errors"]["USER_CANCELLED"], "The user cancelled the payment.");
    assert!(v["errors"]["TRANS_REFUNDED"].is_string());
}
