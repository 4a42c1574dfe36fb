//! Receipts: the issue API, key publication, the verify service and reissue — spec/payments.md
//! §9.5 rows E01–E14 — and the requirement that a receipt issued by the provider is accepted by
//! `mozmarket_core::verify::strict_local` with the provider's root key as the trusted key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod market_support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use market_support::*;
use mozmarket_core::claims::PolicyInput;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::json::Json;
use mozmarket_core::pay::{certificate_payload, certify, IssueRequest};
use mozmarket_core::sign::{sign_jws, SigningKey};
use mozmarket_core::url::NativeUrlParser;
use mozmarket_core::verify::{strict_local, Local, Mode, Policy};
use mozmarket_server::market::{Clock as _, ManualClock, ReceiptAlg};
use p256::pkcs8::DecodePrivateKey as _;
use serde_json::{json, Value};
use sqlx::Row as _;

const PROVIDER: &str = "http://127.0.0.1:7802";

async fn issue(env: &Env, clock: &ManualClock, key: &str, secret: &Hs256Key, tid: &str, jti: &str) -> Resp {
    let token = IssueRequest::new(key, &env.domain(), clock.now_secs(), jti, tid).sign(secret);
    env.post_form("/api/v1/receipts/inapp/", &format!("request={token}"), &[]).await
}

async fn issue_ok(env: &Env, clock: &ManualClock, tid: &str) -> String {
    let key = if tid.starts_with("simulate:") { (&env.sim.0, env.sim_key()) } else { (&env.live.0, env.live_key()) };
    let r = issue(env, clock, key.0, &key.1, tid, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert!(v["exp"].is_number());
    v["receipt"].as_str().unwrap().to_owned()
}

async fn verify_at(env: &Env, path: &str, body: &str) -> Value {
    let r = env.call(Request::post(path).header(header::CONTENT_TYPE, "text/plain;charset=UTF-8").body(Body::from(body.to_owned())).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
    r.json()
}

fn payload_of(receipt: &str) -> Value {
    let jwt = receipt.split('~').nth(1).unwrap();
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&mozmarket_core::b64::decode_strict(p).unwrap()).unwrap()
}

fn trusted_policy(jwks: &str, typs: &[&str]) -> Policy {
    let urls = NativeUrlParser;
    let jwks = mozmarket_core::json::parse(jwks.as_bytes()).unwrap();
    Policy {
        mode: Mode::Strict,
        trusted: mozmarket_core::jwk::parse_trusted_keys(&jwks, &urls).unwrap(),
        root_key_origins: Vec::new(),
        leeway_ms: 60_000.0,
        checks: PolicyInput {
            typs_allowed: typs.iter().map(|s| (*s).to_owned()).collect(),
            product_urls: vec![APP_ORIGIN.to_owned()],
            installs_allowed_from: Some(vec![PROVIDER.to_owned()]),
        },
    }
}

/// The active ephemeral key and its certificate, read from the provider's database.
async fn ephemeral(env: &Env) -> (SigningKey, String, String) {
    let row = sqlx::query("SELECT kid, alg, private_pkcs8, certificate FROM signing_keys WHERE role = 'ephemeral' AND state = 'active'")
        .fetch_one(&env.handle.db().pool)
        .await
        .unwrap();
    let der = base64::engine::general_purpose::STANDARD.decode(row.try_get::<String, _>("private_pkcs8").unwrap()).unwrap();
    let key = SigningKey::Es256(p256::ecdsa::SigningKey::from_pkcs8_der(&der).unwrap());
    (key, row.try_get("kid").unwrap(), row.try_get("certificate").unwrap())
}

async fn root(env: &Env) -> (SigningKey, String) {
    let row = sqlx::query("SELECT kid, private_pkcs8 FROM signing_keys WHERE role = 'root' AND state = 'active'")
        .fetch_one(&env.handle.db().pool)
        .await
        .unwrap();
    let der = base64::engine::general_purpose::STANDARD.decode(row.try_get::<String, _>("private_pkcs8").unwrap()).unwrap();
    (SigningKey::Es256(p256::ecdsa::SigningKey::from_pkcs8_der(&der).unwrap()), row.try_get("kid").unwrap())
}

fn to_json(v: &Value) -> Json {
    mozmarket_core::json::parse(v.to_string().as_bytes()).unwrap()
}

/// Issue → strict_local with the root JWKS → verify ok; key documents; E14 reissue of a valid
/// receipt.
#[tokio::test]
async fn issued_receipts_verify_with_strict_local() {
    for backend in backends() {
        let (env, clock) = setup_manual(backend).await;
        let now = clock.now_secs();
        let tid = env.buy(&env.live_jwt(now, json!({}))).await;
        let receipt = issue_ok(&env, &clock, &tid).await;
        assert_eq!(receipt.split('~').count(), 2);
        // Key publication (§6.4).
        let jwks = env.get("/.well-known/jwks.json").await;
        assert_eq!(jwks.status, StatusCode::OK);
        assert_eq!(jwks.header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(jwks.header("cache-control").as_deref(), Some("public, max-age=3600"));
        let doc = env.get("/public_keys/root.jwk").await.json();
        assert_eq!(doc["jwk"], jwks.json()["keys"]);
        assert_eq!(doc["jwk"][0]["kty"], "EC");
        assert!(doc["jwk"][0].get("d").is_none());
        assert!(doc["jwk"][0]["kid"].as_str().unwrap().starts_with("root-20260101-"));
        assert_eq!(env.handle.root_jwks().await.unwrap(), jwks.text());
        // The payload of §6.2.
        let p = payload_of(&receipt);
        assert_eq!(p["typ"], "purchase-receipt");
        assert_eq!(p["product"]["url"], APP_ORIGIN);
        assert!(p["product"]["storedata"].as_str().unwrap().starts_with(&format!("id={}&contrib=", env.app_id)));
        assert!(p["product"]["storedata"].as_str().unwrap().ends_with("&inapp_id=shiny-pony"));
        assert_eq!(p["user"]["type"], "directed-identifier");
        assert_eq!(p["iss"], PROVIDER);
        assert_eq!(p["verify"], format!("{PROVIDER}/receipts/verify"));
        assert_eq!(p["reissue"], format!("{PROVIDER}/receipts/reissue"));
        assert_eq!(p["exp"].as_i64().unwrap() - p["iat"].as_i64().unwrap(), 15_724_800);
        // The core verifier accepts it with the provider's root key as the trusted key.
        let policy = trusted_policy(&jwks.text(), &["purchase-receipt"]);
        match strict_local(&receipt, &policy, None, clock.now_ms() as f64, &NativeUrlParser) {
            Local::Passed(passed) => assert_eq!(passed.verify, format!("{PROVIDER}/receipts/verify")),
            other => panic!("strict_local refused the provider's receipt: {other:?}"),
        }
        // ... and so does the CLI tool's verifier.
        let (ok, msg) = mozmarket_server::tools::verify_receipt_locally(&receipt, &jwks.text(), APP_ORIGIN, PROVIDER, false, Some(clock.now_ms())).unwrap();
        assert!(ok, "{msg}");
        // The verify service.
        assert_eq!(verify_at(&env, "/receipts/verify", &format!("  {receipt}\n")).await, json!({"status": "ok"}));
        // E14: reissue of a valid receipt.
        assert_eq!(verify_at(&env, "/receipts/reissue", &receipt).await, json!({"status": "ok"}));
        // A simulated purchase gets a test-receipt, checked at /receipts/verify/test.
        let stid = env.buy(&env.sim_jwt(now, json!({"id": "sim-thing"}))).await;
        let test_receipt = issue_ok(&env, &clock, &stid).await;
        let tp = payload_of(&test_receipt);
        assert_eq!(tp["typ"], "test-receipt");
        assert_eq!(tp["verify"], format!("{PROVIDER}/receipts/verify/test"));
        assert_eq!(verify_at(&env, "/receipts/verify/test", &test_receipt).await, json!({"status": "ok"}));
        let policy = trusted_policy(&jwks.text(), &["purchase-receipt", "test-receipt"]);
        assert!(matches!(strict_local(&test_receipt, &policy, None, clock.now_ms() as f64, &NativeUrlParser), Local::Passed(_)));
        // Every issue signs a new receipt (new iat/nbf/exp), recorded for the hub.
        clock.advance_ms(1000);
        let again = issue_ok(&env, &clock, &tid).await;
        assert_ne!(again, receipt);
        let d = env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json();
        assert_eq!(d["receipts"].as_array().unwrap().len(), 2);
        // The detail page.
        let uuid = tid.trim_start_matches("webpay:");
        let page = env.get(&format!("/receipts/detail/{uuid}")).await;
        assert!(page.text().contains("Shiny Pony") && page.text().contains("1.99 USD"));
    }
}

/// The RS256 alternative (`receipt.alg = "RS256"`) verifies the same way.
#[tokio::test]
async fn rs256_receipts_verify() {
    let clock = ManualClock::new(T0_MS);
    let mut opts = options(clock.clone());
    opts.receipt.alg = ReceiptAlg::Rs256;
    let env = setup_with("sqlite", opts, &[]).await;
    let tid = env.buy(&env.live_jwt(clock.now_secs(), json!({}))).await;
    let receipt = issue_ok(&env, &clock, &tid).await;
    let jwks = env.get("/.well-known/jwks.json").await.text();
    assert!(jwks.contains("\"kty\":\"RSA\"") && jwks.contains("\"alg\":\"RS256\""));
    let policy = trusted_policy(&jwks, &["purchase-receipt"]);
    assert!(matches!(strict_local(&receipt, &policy, None, clock.now_ms() as f64, &NativeUrlParser), Local::Passed(_)));
    assert_eq!(verify_at(&env, "/receipts/verify", &receipt).await, json!({"status": "ok"}));
}

/// E01–E04 and the other issue-API refusals.
#[tokio::test]
async fn e01_to_e04_issue_api() {
    for backend in backends() {
        let clock = ManualClock::new(T0_MS);
        let mut opts = options(clock.clone());
        opts.receipt.price_limit = 5.0;
        let env = setup_with(backend, opts, &[]).await;
        let tid = env.buy(&env.live_jwt(clock.now_secs(), json!({}))).await;
        let jti = || uuid::Uuid::new_v4().to_string();
        // E01: wrong secret.
        let wrong = Hs256Key::from_secret("a-wrong-secret-that-is-long-enough-012345").unwrap();
        let r = issue(&env, &clock, &env.live.0, &wrong, &tid, &jti()).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (401, "INVALID_JWT"));
        // Unknown and revoked keys: 403.
        let r = issue(&env, &clock, &uuid::Uuid::new_v4().to_string(), &env.live_key(), &tid, &jti()).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (403, "BAD_JWT_ISSUER"));
        // Time rules: an issue JWT from 10 minutes ago is expired.
        let old = IssueRequest::new(&env.live.0, &env.domain(), clock.now_secs() - 600, &jti(), &tid).sign(&env.live_key());
        let r = env.post_form("/api/v1/receipts/inapp/", &format!("request={old}"), &[]).await;
        assert_eq!(r.status.as_u16(), 401);
        // Missing field, body too large.
        assert_eq!(env.post_form("/api/v1/receipts/inapp/", "other=1", &[]).await.status.as_u16(), 401);
        let big = format!("request={}", "a".repeat(17_000));
        let r = env.post_form("/api/v1/receipts/inapp/", &big, &[]).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (413, "BODY_TOO_LARGE"));
        // E03: a jti used twice.
        let j = jti();
        assert_eq!(issue(&env, &clock, &env.live.0, &env.live_key(), &tid, &j).await.status, StatusCode::CREATED);
        let r = issue(&env, &clock, &env.live.0, &env.live_key(), &tid, &j).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (409, "JTI_REPLAYED"));
        // E02: another app's transaction answers like an unknown one.
        let other = env.api("POST", "/dev/api/apps", Some(json!({"name": "Other", "origins": ["http://localhost:9999"]}))).await.json();
        let ok = env.api("POST", &format!("/dev/api/apps/{}/keys", other["id"]), Some(json!({"kind": "live"}))).await.json();
        let other_key = Hs256Key::from_secret(ok["secret"].as_str().unwrap()).unwrap();
        let r = issue(&env, &clock, ok["key"].as_str().unwrap(), &other_key, &tid, &jti()).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (404, "TRANS_MISSING"));
        let unknown = format!("webpay:{}", uuid::Uuid::new_v4());
        let r2 = issue(&env, &clock, &env.live.0, &env.live_key(), &unknown, &jti()).await;
        assert_eq!(r2.status.as_u16(), 404);
        assert_eq!(r.json(), r2.json(), "identical answers");
        // PRICE_LIMIT_EXCEEDED: tier 7 (USD 4.99) is fine under a limit of 5, tier 8 (9.99) is not.
        let t7 = env.buy(&env.live_jwt(clock.now_secs(), json!({"id": "t7", "pricePoint": "7"}))).await;
        assert_eq!(issue(&env, &clock, &env.live.0, &env.live_key(), &t7, &jti()).await.status, StatusCode::CREATED);
        let t8 = env.buy(&env.live_jwt(clock.now_secs(), json!({"id": "t8", "pricePoint": "8"}))).await;
        let r = issue(&env, &clock, &env.live.0, &env.live_key(), &t8, &jti()).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (409, "PRICE_LIMIT_EXCEEDED"));
        // E04: refunded.
        assert_eq!(env.api("POST", &format!("/dev/api/transactions/{tid}/refund"), Some(json!({"reason": "refund"}))).await.status, StatusCode::ACCEPTED);
        let r = issue(&env, &clock, &env.live.0, &env.live_key(), &tid, &jti()).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (409, "TRANS_REFUNDED"));
        // Reset credentials: the old key gets 403.
        let reset = env.api("POST", &format!("/dev/api/keys/{}/reset", env.live.0), None).await;
        assert_eq!(reset.status, StatusCode::CREATED);
        let r = issue(&env, &clock, &env.live.0, &env.live_key(), &t7, &jti()).await;
        assert_eq!(r.status.as_u16(), 403);
        let nk = reset.json();
        let nkey = Hs256Key::from_secret(nk["secret"].as_str().unwrap()).unwrap();
        // The new key belongs to the same app: it can get receipts for the app's transactions.
        assert_eq!(issue(&env, &clock, nk["key"].as_str().unwrap(), &nkey, &t7, &jti()).await.status, StatusCode::CREATED);
    }
}

/// Verify service answers: ok / refunded (after a Refund in the HTML hub) / invalid / expired,
/// and E05–E13.
#[tokio::test]
async fn e05_to_e13_verify_service() {
    for backend in backends() {
        let (env, clock) = setup_manual(backend).await;
        let now = clock.now_secs();
        let tid = env.buy(&env.live_jwt(now, json!({}))).await;
        let receipt = issue_ok(&env, &clock, &tid).await;
        assert_eq!(verify_at(&env, "/receipts/verify", &receipt).await["status"], "ok");
        let invalid = |reason: &str| json!({"status": "invalid", "reason": reason});

        // E05: one byte of the payload changed.
        let (cert, rec) = receipt.split_once('~').unwrap();
        let mut parts: Vec<String> = rec.split('.').map(str::to_owned).collect();
        let mut payload = mozmarket_core::b64::decode_strict(&parts[1]).unwrap();
        let pos = payload.iter().position(|b| *b == b'y').unwrap();
        payload[pos] = b'z';
        parts[1] = mozmarket_core::b64::encode(&payload);
        let tampered = format!("{cert}~{}", parts.join("."));
        assert_eq!(verify_at(&env, "/receipts/verify", &tampered).await, invalid("ERROR_DECODING"));
        for junk in ["", "garbage", "a~b~c", rec, &format!("{cert}~{cert}")] {
            assert_eq!(verify_at(&env, "/receipts/verify", junk).await, invalid("ERROR_DECODING"), "{junk}");
        }

        // E06: a certificate from an unknown root; a certificate whose iss is another URL.
        let (eph, eph_kid, good_cert) = ephemeral(&env).await;
        let p = payload_of(&receipt);
        let stranger = SigningKey::Es256(p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng));
        let foreign = certify(&stranger, "root-20260101-beef", &eph, &eph_kid, PROVIDER, now, 1000.0).unwrap();
        let jws = sign_jws(&eph, &eph_kid, &to_json(&p)).unwrap();
        assert_eq!(verify_at(&env, "/receipts/verify", &format!("{}~{jws}", foreign.jwt)).await, invalid("ERROR_DECODING"));
        let (root_key, root_kid) = root(&env).await;
        let other_iss = sign_jws(&root_key, &root_kid, &certificate_payload("https://elsewhere.example", eph.public_jwk(&eph_kid), now, 1000.0)).unwrap();
        assert_eq!(verify_at(&env, "/receipts/verify", &format!("{other_iss}~{jws}")).await, invalid("ERROR_DECODING"));
        // The genuine certificate with a re-signed identical payload is fine.
        assert_eq!(verify_at(&env, "/receipts/verify", &format!("{good_cert}~{jws}")).await["status"], "ok");

        // Validly signed fixtures with one claim changed.
        let fixture = |f: &dyn Fn(&mut Value)| {
            let mut v = p.clone();
            f(&mut v);
            format!("{good_cert}~{}", sign_jws(&eph, &eph_kid, &to_json(&v)).unwrap())
        };
        // E07: wrong endpoint for the type.
        assert_eq!(verify_at(&env, "/receipts/verify/test", &receipt).await, invalid("WRONG_TYPE"));
        let as_test = fixture(&|v| v["typ"] = json!("test-receipt"));
        assert_eq!(verify_at(&env, "/receipts/verify", &as_test).await, invalid("WRONG_TYPE"));
        // E08: foreign verify host; wrong path.
        let foreign_host = fixture(&|v| v["verify"] = json!("https://store.example/receipts/verify"));
        assert_eq!(verify_at(&env, "/receipts/verify", &foreign_host).await, invalid("WRONG_DOMAIN"));
        let other_port = fixture(&|v| v["verify"] = json!("http://127.0.0.1:9999/receipts/verify"));
        assert_eq!(verify_at(&env, "/receipts/verify", &other_port).await, invalid("WRONG_DOMAIN"));
        let wrong_path = fixture(&|v| v["verify"] = json!(format!("{PROVIDER}/receipts/check")));
        assert_eq!(verify_at(&env, "/receipts/verify", &wrong_path).await, invalid("WRONG_PATH"));
        // E09.
        let email = fixture(&|v| v["user"] = json!({"type": "email", "value": "a@b.example"}));
        assert_eq!(verify_at(&env, "/receipts/verify", &email).await, invalid("NO_DIRECTED_IDENTIFIER"));
        let unknown_user = fixture(&|v| v["user"]["value"] = json!(uuid::Uuid::new_v4().to_string()));
        assert_eq!(verify_at(&env, "/receipts/verify", &unknown_user).await, invalid("NO_USER"));
        let bad_storedata = fixture(&|v| v["product"]["storedata"] = json!("id=abc"));
        assert_eq!(verify_at(&env, "/receipts/verify", &bad_storedata).await, invalid("WRONG_STOREDATA"));
        let app_id = env.app_id;
        let unknown_contrib = fixture(&|v| v["product"]["storedata"] = json!(format!("id={app_id}&contrib=999&inapp_id=shiny-pony")));
        assert_eq!(verify_at(&env, "/receipts/verify", &unknown_contrib).await, invalid("NO_PURCHASE"));
        let storedata = p["product"]["storedata"].as_str().unwrap().to_owned();
        let other_app = fixture(&|v| v["product"]["storedata"] = json!(storedata.replace(&format!("id={app_id}&"), "id=777&")));
        assert_eq!(verify_at(&env, "/receipts/verify", &other_app).await, invalid("NO_PURCHASE"));
        let other_item = fixture(&|v| v["product"]["storedata"] = json!(storedata.replace("inapp_id=shiny-pony", "inapp_id=magical-unicorn")));
        assert_eq!(verify_at(&env, "/receipts/verify", &other_item).await, invalid("WRONG_PURCHASE"));

        // E12: 70 KiB. E13: GET and OPTIONS.
        let big = env.call(Request::post("/receipts/verify").body(Body::from("a".repeat(70 * 1024))).unwrap()).await;
        assert_eq!(big.status.as_u16(), 413);
        assert!(big.body.is_empty());
        let get = env.get("/receipts/verify").await;
        assert_eq!(get.status.as_u16(), 405);
        let opt = env.call(Request::options("/receipts/verify").body(Body::empty()).unwrap()).await;
        assert_eq!(opt.status.as_u16(), 204);
        assert_eq!(opt.header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(opt.header("access-control-allow-methods").as_deref(), Some("POST"));
        assert_eq!(opt.header("access-control-allow-headers").as_deref(), Some("content-type, x-fxpay-version, x-mozmarket-version"));

        // verify_pending.
        env.set_mode(json!({"mode": "verify_pending"})).await;
        assert_eq!(verify_at(&env, "/receipts/verify", &receipt).await, json!({"status": "pending"}));
        env.set_mode(json!({"mode": "normal"})).await;

        // E10: refunded, through the developer hub's HTML Refund button.
        let login = env.post_form("/dev/login", &format!("token={ADMIN}"), &[]).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER);
        let session = login.set_cookie("mm_dev").unwrap();
        let cookie = format!("mm_dev={session}");
        let page = env.get_with("/dev/transactions", &[("cookie", &cookie)]).await;
        assert!(page.text().contains(">Refund<") && page.text().contains(">Chargeback<"), "{}", page.text());
        let csrf = {
            let t = page.text();
            let m = "name=\"csrf\" value=\"";
            let s = t.find(m).unwrap() + m.len();
            t[s..s + t[s..].find('"').unwrap()].to_owned()
        };
        let uuid = tid.trim_start_matches("webpay:");
        let forged = env.post_form(&format!("/dev/transactions/{uuid}/refund"), "csrf=nope&reason=refund", &[("cookie", &cookie)]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(verify_at(&env, "/receipts/verify", &receipt).await["status"], "ok");
        let r = env.post_form(&format!("/dev/transactions/{uuid}/refund"), &format!("csrf={csrf}&reason=refund"), &[("cookie", &cookie)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(verify_at(&env, "/receipts/verify", &receipt).await, json!({"status": "refunded"}));
        assert_eq!(verify_at(&env, "/receipts/reissue", &receipt).await, json!({"status": "refunded"}));
        // Pressing it again changes nothing: "Already refunded".
        let again = env.post_form(&format!("/dev/transactions/{uuid}/refund"), &format!("csrf={csrf}&reason=reversal"), &[("cookie", &cookie)]).await;
        let loc = again.header("location").unwrap();
        assert!(loc.ends_with("msg=already"), "{loc}");
        let detail = env.get_with(&loc, &[("cookie", &cookie)]).await;
        assert!(detail.text().contains("Already refunded"));
        assert_eq!(env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json()["state"], "refunded");

        // E11: expiry, on both sides of the 10 s margin.
        let tid2 = env.buy(&env.live_jwt(clock.now_secs(), json!({"id": "later"}))).await;
        let r2 = issue_ok(&env, &clock, &tid2).await;
        let exp = payload_of(&r2)["exp"].as_i64().unwrap();
        clock.set_ms((exp - 10) * 1000);
        assert_eq!(verify_at(&env, "/receipts/verify", &r2).await, json!({"status": "ok"}));
        clock.set_ms((exp - 9) * 1000);
        let v = verify_at(&env, "/receipts/verify", &r2).await;
        assert_eq!(v["status"], "expired");
        let fresh = v["receipt"].as_str().unwrap().to_owned();
        assert_eq!(payload_of(&fresh)["product"], payload_of(&r2)["product"]);
        assert_eq!(payload_of(&fresh)["user"], payload_of(&r2)["user"]);
        assert_eq!(verify_at(&env, "/receipts/verify", &fresh).await, json!({"status": "ok"}));
        // Reissue of the expired one.
        let v = verify_at(&env, "/receipts/reissue", &r2).await;
        assert_eq!(v["status"], "expired");
        assert_eq!(v["reason"], "");
        assert_eq!(verify_at(&env, "/receipts/verify", v["receipt"].as_str().unwrap()).await, json!({"status": "ok"}));
        // Long after: the old certificate has expired too; still "expired" (not invalid).
        clock.advance_ms(60 * 86_400 * 1000);
        assert_eq!(verify_at(&env, "/receipts/verify", &r2).await["status"], "expired");
    }
}

/// `receipt.reissue_on_expired = false` omits the fresh receipt.
#[tokio::test]
async fn expired_without_reissue() {
    let clock = ManualClock::new(T0_MS);
    let mut opts = options(clock.clone());
    opts.receipt.reissue_on_expired = false;
    let env = setup_with("sqlite", opts, &[]).await;
    let tid = env.buy(&env.live_jwt(clock.now_secs(), json!({}))).await;
    let r = issue_ok(&env, &clock, &tid).await;
    clock.advance_ms(200 * 86_400 * 1000);
    assert_eq!(verify_at(&env, "/receipts/verify", &r).await, json!({"status": "expired"}));
}

/// Signing-key rotation: a new root stays published beside the old one; receipts under both
/// verify; a retired root is no longer trusted.
#[tokio::test]
async fn key_rotation() {
    let (env, clock) = setup_manual("sqlite").await;
    let tid = env.buy(&env.live_jwt(clock.now_secs(), json!({}))).await;
    let old = issue_ok(&env, &clock, &tid).await;
    let old_kid = env.get("/public_keys/root.jwk").await.json()["jwk"][0]["kid"].as_str().unwrap().to_owned();
    let r = env.api("POST", "/dev/api/signing/rotate", Some(json!({"which": "ephemeral"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.json()["kid"].as_str().unwrap().starts_with("eph-"));
    let r = env.api("POST", "/dev/api/signing/rotate", Some(json!({"which": "root"}))).await;
    let new_kid = r.json()["kid"].as_str().unwrap().to_owned();
    let doc = env.get("/public_keys/root.jwk").await.json();
    let kids: Vec<&str> = doc["jwk"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new_kid.as_str()) && kids.contains(&old_kid.as_str()));
    let new = issue_ok(&env, &clock, &tid).await;
    let cert_header: Value = serde_json::from_slice(&mozmarket_core::b64::decode_strict(new.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(cert_header["kid"], new_kid);
    assert_eq!(verify_at(&env, "/receipts/verify", &old).await["status"], "ok");
    assert_eq!(verify_at(&env, "/receipts/verify", &new).await["status"], "ok");
    // Retire the old root through the hub.
    let login = env.post_form("/dev/login", &format!("token={ADMIN}"), &[]).await;
    let cookie = format!("mm_dev={}", login.set_cookie("mm_dev").unwrap());
    let page = env.get_with("/dev/signing", &[("cookie", &cookie)]).await;
    let t = page.text();
    let m = "name=\"csrf\" value=\"";
    let s = t.find(m).unwrap() + m.len();
    let csrf = &t[s..s + t[s..].find('"').unwrap()];
    let r = env.post_form(&format!("/dev/signing/{old_kid}/retire"), &format!("csrf={csrf}"), &[("cookie", &cookie)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(env.get("/public_keys/root.jwk").await.json()["jwk"].as_array().unwrap().len(), 1);
    assert_eq!(verify_at(&env, "/receipts/verify", &old).await, json!({"status": "invalid", "reason": "ERROR_DECODING"}));
    assert_eq!(verify_at(&env, "/receipts/verify", &new).await["status"], "ok");
    // The active root cannot be retired.
    let r = env.post_form(&format!("/dev/signing/{new_kid}/retire"), &format!("csrf={csrf}"), &[("cookie", &cookie)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}
