//! The developer hub (HTML and JSON API), the catalogue API, the demo bootstrap, the admin
//! token and the CLI tools, against a real database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod market_support;

use axum::http::StatusCode;
use clap::Parser as _;
use market_support::*;
use mozmarket_server::market::{build_with, Clock as _, ManualClock, MarketConfig};
use serde_json::json;

fn csrf_of(page: &Resp) -> String {
    let t = page.text();
    let m = "name=\"csrf\" value=\"";
    let s = t.find(m).unwrap_or_else(|| panic!("no csrf in {t}")) + m.len();
    t[s..s + t[s..].find('"').unwrap()].to_owned()
}

async fn sign_in(env: &Env) -> String {
    let r = env.post_form("/dev/login", &format!("token={ADMIN}"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let set = r.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/dev"), "{set}");
    format!("mm_dev={}", r.set_cookie("mm_dev").unwrap())
}

#[tokio::test]
async fn hub_sign_in_and_pages() {
    for backend in backends() {
        let (env, clock) = setup_manual(backend).await;
        // Signed out: the login form; a wrong token gets 401.
        let r = env.get("/dev/").await;
        assert!(r.text().contains("action=\"/dev/login\""));
        assert!(r.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
        let r = env.post_form("/dev/login", "token=wrong", &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.set_cookie("mm_dev").is_none());
        let cookie = sign_in(&env).await;
        let h = [("cookie", cookie.as_str())];
        let home = env.get_with("/dev/", &h).await;
        assert!(home.text().contains("Test app"), "{}", home.text());
        let csrf = csrf_of(&home);
        // Forms without the CSRF token: 403.
        let r = env.post_form("/dev/apps", "name=X&origins=http%3A%2F%2Flocalhost%3A1", &h).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(env.count("apps").await, 1);
        // Create an app with a hostile name: escaped everywhere.
        let evil = "<img src=x onerror=alert(1)>";
        let r = env
            .post_form("/dev/apps", &format!("csrf={csrf}&name={}&origins={}", enc(evil), enc("https://app.example\nhttp://localhost:4000")), &h)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let loc = r.header("location").unwrap();
        let page = env.get_with(&loc, &h).await;
        assert!(page.text().contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!page.text().contains("<img src=x"));
        assert!(page.text().contains("https://app.example\nhttp://localhost:4000"));
        // http origins only for loopback hosts.
        let r = env.post_form("/dev/apps", &format!("csrf={csrf}&name=Bad&origins={}", enc("http://app.example")), &h).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Keys: the secret is shown once.
        let app_id = loc.rsplit('/').next().unwrap().to_owned();
        let r = env.post_form(&format!("/dev/apps/{app_id}/keys"), &format!("csrf={csrf}&kind=simulation"), &h).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text().contains("shown <strong>once</strong>"));
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        let page = env.get_with(&loc, &h).await;
        assert!(!page.text().contains("class=\"secret\""));
        assert!(page.text().contains("simulation"));
        // Products with a tier, locales and icons; the buy URL is shown.
        let body = format!(
            "csrf={csrf}&guid=gem&name={}&description=Shiny&pricePoint=3&defaultLocale=en&active=1&locales={}&icons={}",
            enc("Gem <b>"),
            enc(r#"{"de": {"name": "Edelstein"}}"#),
            enc(r#"{"64": "https://cdn.example/gem.png"}"#)
        );
        let r = env.post_form(&format!("/dev/apps/{app_id}/products"), &body, &h).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = env.get_with(&loc, &h).await;
        assert!(page.text().contains("Gem &lt;b&gt;"));
        assert!(page.text().contains("https://app.example/mozpay/product/gem/buy"));
        let r = env.post_form(&format!("/dev/apps/{app_id}/products"), &format!("csrf={csrf}&guid=bad%20guid&name=a&description=b&pricePoint=3"), &h).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // Price tiers: edit tier 99, add tier 11.
        let tiers = env.get_with("/dev/price-tiers", &h).await;
        for c in ["USD", "EUR", "GBP", "BRL", "TWD"] {
            assert!(tiers.text().contains(&format!("<th>{c}</th>")));
        }
        let r = env.post_form("/dev/price-tiers", &format!("csrf={csrf}&id=11&USD=99.99&EUR=95.00&TWD=2990.00"), &h).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = env.post_form("/dev/price-tiers", &format!("csrf={csrf}&id=12&EUR=1.00"), &h).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "USD is required");
        let t = env.api("GET", "/dev/api/price-tiers", None).await.json();
        let t11 = t["objects"].as_array().unwrap().iter().find(|o| o["id"] == "11").unwrap().clone();
        assert_eq!(t11["prices"], json!({"USD": "99.99", "EUR": "95.00", "TWD": "2990.00"}));
        // Provider mode switches.
        let r = env.post_form("/dev/settings", &format!("csrf={csrf}&mode=fail&slowMs=100&simulationsEnabled=1"), &h).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(env.api("GET", "/dev/api/settings", None).await.json(), json!({"mode": "fail", "slowMs": 100, "simulationsEnabled": true}));
        let r = env.post_form(&format!("/dev/apps/{app_id}/settings"), &format!("csrf={csrf}&mode=verify_pending&slowMs=0"), &h).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let s = env.api("GET", &format!("/dev/api/apps/{app_id}/settings"), None).await.json();
        assert_eq!(s, json!({"mode": "verify_pending", "slowMs": 0, "simulationsEnabled": false, "override": true}));
        let r = env.post_form(&format!("/dev/apps/{app_id}/settings"), &format!("csrf={csrf}&mode=inherit"), &h).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(env.api("GET", &format!("/dev/api/apps/{app_id}/settings"), None).await.json()["override"], false);
        env.set_mode(json!({"mode": "normal"})).await;
        // Transactions list and detail with the hostile product name (C17 in the hub).
        let tid = env.buy(&env.sim_jwt(clock.now_secs(), json!({"name": evil}))).await;
        let list = env.get_with("/dev/transactions", &h).await;
        assert!(list.text().contains(&tid));
        assert!(list.text().contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!list.text().contains("<img src=x"));
        let filtered = env.get_with("/dev/transactions?state=refunded", &h).await;
        assert!(!filtered.text().contains(&tid));
        let uuid = tid.trim_start_matches("simulate:");
        let detail = env.get_with(&format!("/dev/transactions/{uuid}"), &h).await;
        assert!(detail.text().contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(detail.text().contains("Directed identifier"));
        // Checkouts tab, signing page.
        assert_eq!(env.get_with("/dev/checkouts", &h).await.status, StatusCode::OK);
        assert!(env.get_with("/dev/signing", &h).await.text().contains("root-2026"));
        // Sign out ends the session.
        let r = env.post_form("/dev/logout", &format!("csrf={csrf}"), &h).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(env.get_with("/dev/transactions", &h).await.text().contains("action=\"/dev/login\""));
    }
}

#[tokio::test]
async fn json_api_and_catalogue() {
    for backend in backends() {
        let (env, _clock) = setup_manual(backend).await;
        // Bearer token required.
        let r = env.get("/dev/api/apps").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error_code"], "UNAUTHORIZED");
        let r = env.get_with("/dev/api/apps", &[("authorization", "Bearer wrong")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(env.api("GET", "/dev/api/apps", None).await.json()["objects"][0]["name"], "Test app");
        // Apps.
        let r = env.api("POST", "/dev/api/apps", Some(json!({"name": "", "origins": ["https://a.example"]}))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = env.api("POST", "/dev/api/apps", Some(json!({"name": "A", "origins": ["https://a.example/path"]}))).await;
        assert_eq!(r.json()["error_code"], "BAD_ORIGIN");
        let r = env.api("POST", "/dev/api/apps", Some(json!({"name": "A", "origins": ["https://a.example:443/"]}))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let a = r.json();
        assert_eq!(a["origins"], json!(["https://a.example"]));
        assert_eq!(a["noticeOrigins"], json!(["https://a.example"]));
        let id = a["id"].as_i64().unwrap();
        let r = env.api("PATCH", &format!("/dev/api/apps/{id}"), Some(json!({"noticeOrigins": ["https://hooks.a.example"]}))).await;
        assert_eq!(r.json()["noticeOrigins"], json!(["https://hooks.a.example"]));
        assert_eq!(env.api("GET", "/dev/api/apps/999", None).await.status, StatusCode::NOT_FOUND);
        // Keys: at most 5 active.
        for _ in 0..5 {
            assert_eq!(env.api("POST", &format!("/dev/api/apps/{id}/keys"), Some(json!({"kind": "live"}))).await.status, StatusCode::CREATED);
        }
        let r = env.api("POST", &format!("/dev/api/apps/{id}/keys"), Some(json!({"kind": "live"}))).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (409, "TOO_MANY_KEYS"));
        let r = env.api("POST", &format!("/dev/api/apps/{id}/keys"), Some(json!({"kind": "gold"}))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let k = env.api("POST", &format!("/dev/api/apps/{}/keys", env.app_id), Some(json!({"kind": "simulation"}))).await.json();
        assert_eq!(k["secret"].as_str().unwrap().len(), 43);
        assert_eq!(k["kind"], "simulation");
        assert!(mozmarket_core::pay::is_uuid_v4(k["key"].as_str().unwrap()));
        // Products and the catalogue.
        let r = env
            .api(
                "PUT",
                &format!("/dev/api/apps/{}/products/shiny-pony", env.app_id),
                Some(json!({"name": "Shiny Pony", "description": "Shines", "pricePoint": 5, "locales": {"de": {"name": "Glänzendes Pony"}},
                            "icons": {"64": "http://localhost:7801/img/pony-64.png"}, "active": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let r = env
            .api("PUT", &format!("/dev/api/apps/{}/products/old-thing", env.app_id), Some(json!({"name": "Old", "description": "Gone", "pricePoint": "1", "active": false})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = env
            .api("PUT", &format!("/dev/api/apps/{}/products/old-thing", env.app_id), Some(json!({"name": "Old 2", "description": "Gone", "pricePoint": "1", "active": false})))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        for (body, code) in [
            (json!({"name": "X", "description": "Y", "pricePoint": "77"}), "BAD_PRICE_POINT"),
            (json!({"name": "", "description": "Y", "pricePoint": "1"}), "BAD_FIELD"),
            (json!({"name": "X", "description": "Y", "pricePoint": "1", "icons": {"big": "https://x.example/i.png"}}), "BAD_ICON_KEY"),
            (json!({"name": "X", "description": "Y", "pricePoint": "1", "icons": {"64": "javascript:alert(1)"}}), "BAD_ICON"),
            (json!({"name": "X", "description": "Y", "pricePoint": "1", "locales": {"!!": {}}}), "BAD_LOCALE"),
        ] {
            let r = env.api("PUT", &format!("/dev/api/apps/{}/products/p", env.app_id), Some(body)).await;
            assert_eq!(r.json()["error_code"], code);
        }
        let cat = env.get(&format!("/api/v1/apps/{}/products?active=1", env.sim.0)).await;
        assert_eq!(cat.status, StatusCode::OK);
        assert_eq!(cat.header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(cat.header("cache-control").as_deref(), Some("public, max-age=60"));
        assert_eq!(
            cat.json(),
            json!({"objects": [{"guid": "shiny-pony", "name": "Shiny Pony", "description": "Shines", "price_id": "5",
                   "default_locale": "en", "locales": {"de": {"name": "Glänzendes Pony"}},
                   "icons": {"64": "http://localhost:7801/img/pony-64.png"}, "active": true}]})
        );
        let all = env.get(&format!("/api/v1/apps/{}/products", env.sim.0)).await.json();
        assert_eq!(all["objects"].as_array().unwrap().len(), 2);
        let r = env.get(&format!("/api/v1/apps/{}/products", uuid::Uuid::new_v4())).await;
        assert_eq!((r.status.as_u16(), r.json()["error_code"].as_str().unwrap()), (404, "BAD_JWT_ISSUER"));
        env.api("POST", &format!("/dev/api/keys/{}/revoke", env.live.0), None).await;
        assert_eq!(env.get(&format!("/api/v1/apps/{}/products", env.live.0)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(env.api("POST", &format!("/dev/api/keys/{}/revoke", env.live.0), None).await.status, StatusCode::NOT_FOUND);
        // Tiers and settings validation.
        assert_eq!(env.api("PUT", "/dev/api/price-tiers/12", Some(json!({"prices": {"EUR": "1.00"}}))).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(env.api("PUT", "/dev/api/price-tiers/12", Some(json!({"prices": {"USD": "1.00", "GBP": "0.80"}}))).await.status, StatusCode::OK);
        assert_eq!(env.api("PUT", "/dev/api/settings", Some(json!({"mode": "sideways"}))).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(env.api("PUT", "/dev/api/settings", Some(json!({"slowMs": 60001}))).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(env.api("POST", "/dev/api/signing/rotate", Some(json!({"which": "both"}))).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(env.api("POST", "/dev/api/transactions/webpay:x/refund", Some(json!({"reason": "refund"}))).await.status, StatusCode::NOT_FOUND);
        assert_eq!(env.api("POST", "/dev/api/apps", Some(json!([1]))).await.json()["error_code"], "BAD_REQUEST");
        let l = env.api("GET", "/dev/api/transactions?kind=live", None).await.json();
        assert_eq!(l["objects"], json!([]));
    }
}

/// §8.9: the demo bootstrap on an empty database, and again on a restart.
#[tokio::test]
async fn demo_bootstrap() {
    for backend in backends() {
        let db = fresh_db(backend).await;
        let clock = ManualClock::new(T0_MS);
        let mut cfg = MarketConfig::new("http://127.0.0.1:7802", db.url.clone());
        cfg.admin_token = Some(ADMIN.to_owned());
        cfg.demo_app_origin = Some("http://localhost:7801".to_owned());
        let opts = || {
            let mut o = options(clock.clone());
            db.apply(&mut o);
            o
        };
        let m = build_with(cfg.clone(), opts()).await.unwrap();
        let demo = m.demo.clone().unwrap();
        assert_eq!(demo.keys.len(), 2);
        assert_eq!(demo.signing_key, demo.keys[0].0);
        let jwks: serde_json::Value = serde_json::from_str(&demo.root_jwks).unwrap();
        assert_eq!(jwks["keys"][0]["kty"], "EC");
        let env = Env {
            router: m.router,
            handle: m.handle,
            db: db.clone(),
            app_id: 1,
            sim: demo.keys[0].clone(),
            live: demo.keys[1].clone(),
            notice_origin: APP_ORIGIN.to_owned(),
        };
        let cat = env.get(&format!("/api/v1/apps/{}/products?active=1", demo.signing_key)).await.json();
        let guids: Vec<&str> = cat["objects"].as_array().unwrap().iter().map(|o| o["guid"].as_str().unwrap()).collect();
        assert_eq!(guids, vec!["shiny-pony", "magical-unicorn"]);
        assert_eq!(cat["objects"][0]["price_id"], "5");
        assert_eq!(cat["objects"][1]["price_id"], "4");
        assert_eq!(cat["objects"][1]["locales"]["de"]["name"], "Magisches Einhorn");
        let app = env.api("GET", "/dev/api/apps/1", None).await.json();
        assert_eq!(app["name"], "Demo app");
        assert_eq!(app["origins"], json!(["http://localhost:7801"]));
        assert_eq!(app["noticeOrigins"], json!(["http://localhost:7801"]));
        // The simulation key can simulate; the live key can pay for real.
        assert_eq!(env.pay_page(&env.sim_jwt(clock.now_secs(), json!({}))).await.status, StatusCode::OK);
        assert_eq!(env.pay_page(&env.live_jwt(clock.now_secs(), json!({}))).await.status, StatusCode::OK);
        // A restart on the same database hands back the same keys and creates nothing new.
        let m2 = build_with(cfg, opts()).await.unwrap();
        let demo2 = m2.demo.unwrap();
        assert_eq!(demo2.keys, demo.keys);
        assert_eq!(demo2.root_jwks, demo.root_jwks);
        assert_eq!(env.count("apps").await, 1);
    }
}

/// Without a configured token, one is generated, stored only as a hash, and accepted.
#[tokio::test]
async fn generated_admin_token_is_stored_hashed() {
    let db = fresh_db("sqlite").await;
    let clock = ManualClock::new(T0_MS);
    let m = build_with(MarketConfig::new("http://127.0.0.1:7802", db.url.clone()), options(clock.clone())).await.unwrap();
    use sqlx::Row as _;
    let hash: String = sqlx::query("SELECT token_sha256 FROM admin_token").fetch_one(&m.handle.db().pool).await.unwrap().try_get("token_sha256").unwrap();
    assert_eq!(hash.len(), 64);
    // A restart keeps the same hash (the token is not printed again).
    let m2 = build_with(MarketConfig::new("http://127.0.0.1:7802", db.url), options(clock)).await.unwrap();
    let hash2: String = sqlx::query("SELECT token_sha256 FROM admin_token").fetch_one(&m2.handle.db().pool).await.unwrap().try_get("token_sha256").unwrap();
    assert_eq!(hash, hash2);
}

#[derive(clap::Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: mozmarket_server::tools::ToolCmd,
}

/// The CLI tools: keygen, pay sign/inspect, receipt sign/inspect/verify, notice send.
#[tokio::test]
async fn tools() {
    let dir = std::env::temp_dir().join(format!("mozmarket-tools-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let mut v = vec!["mozmarket-server"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v).unwrap().cmd
    };
    // keygen receipt-root writes a 0600 PEM file with its kid.
    let pem_path = dir.join("root.pem");
    mozmarket_server::tools::run(run(&["keygen", "receipt-root", "--out", pem_path.to_str().unwrap()])).await.unwrap();
    let text = std::fs::read_to_string(&pem_path).unwrap();
    assert!(text.contains("-----BEGIN PRIVATE KEY-----") && text.contains("# kid: root-"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&pem_path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (key, kid) = mozmarket_server::tools::key_from_pem(&text).unwrap();
    let kid = kid.unwrap();
    // A receipt signed with it verifies with its JWKS.
    let jwks = mozmarket_core::pay::jwks_document(&[key.public_jwk(&kid)]).to_json_text();
    mozmarket_server::tools::run(run(&["keygen", "app-secret"])).await.unwrap();
    mozmarket_server::tools::run(run(&["receipt", "sign", "--root-key", pem_path.to_str().unwrap()])).await.unwrap();
    // (receipt sign prints; sign one the same way through the library to check it.)
    let eph = mozmarket_server::market::signing_generate(mozmarket_server::market::ReceiptAlg::Es256).unwrap();
    let now = mozmarket_server::market::clock::system_now_ms() / 1000;
    let cert = mozmarket_core::pay::certify(&key, &kid, &eph, "eph-x", "http://127.0.0.1:7802", now, 1000.0).unwrap();
    let payload = mozmarket_core::pay::receipt_payload(&mozmarket_core::pay::ReceiptInput {
        kind: mozmarket_core::pay::ReceiptKind::Purchase,
        provider_origin: "http://127.0.0.1:7802",
        app_origin: "http://localhost:7801",
        app_id: 1,
        contrib: 1,
        inapp_id: "shiny-pony",
        user: &uuid::Uuid::new_v4().to_string(),
        transaction_uuid: &uuid::Uuid::new_v4().to_string(),
        iat: now,
        lifetime_secs: 3600,
    });
    let receipt = mozmarket_core::pay::sign_receipt(&cert, &eph, &payload).unwrap();
    let (ok, msg) = mozmarket_server::tools::verify_receipt_locally(&receipt, &jwks, "http://localhost:7801", "http://127.0.0.1:7802", false, None).unwrap();
    assert!(ok, "{msg}");
    let (ok, _) = mozmarket_server::tools::verify_receipt_locally(&receipt, &jwks, "http://localhost:9999", "http://127.0.0.1:7802", false, None).unwrap();
    assert!(!ok, "another app origin is refused");
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, &jwks).unwrap();
    mozmarket_server::tools::run(run(&["receipt", "verify", &receipt, "--jwks", jwks_path.to_str().unwrap()])).await.unwrap();
    mozmarket_server::tools::run(run(&["receipt", "inspect", &receipt])).await.unwrap();
    // pay sign / inspect with a secret file.
    let secret_path = dir.join("secret.txt");
    std::fs::write(&secret_path, "0123456789abcdef0123456789abcdef-secret\n").unwrap();
    mozmarket_server::tools::run(run(&["pay", "sign", "--key", "k", "--secret-file", secret_path.to_str().unwrap(), "--simulate", "postback"])).await.unwrap();
    let short = dir.join("short.txt");
    std::fs::write(&short, "too-short").unwrap();
    assert!(mozmarket_server::tools::run(run(&["pay", "sign", "--key", "k", "--secret-file", short.to_str().unwrap()])).await.is_err());
    // notice send: to a receiver on 127.0.0.1; refuses other hosts.
    let rx = Receiver::start().await;
    let url = format!("{}/mozpay/postback", rx.origin);
    mozmarket_server::tools::run(run(&["notice", "send", "--url", &url, "--key", "k", "--secret-file", secret_path.to_str().unwrap(), "--simulate", "postback"]))
        .await
        .unwrap();
    assert_eq!(rx.hits(), 1);
    let claims = &rx.notices()[0]["claims"];
    assert_eq!(claims["typ"], "mozilla/payments/pay/postback/v1");
    assert!(claims["response"]["transactionID"].as_str().unwrap().starts_with("simulate:"));
    mozmarket_server::tools::run(run(&["notice", "send", "--url", &url.replace("postback", "chargeback"), "--key", "k", "--secret-file", secret_path.to_str().unwrap(), "--kind", "chargeback", "--reason", "reversal"]))
        .await
        .unwrap();
    assert_eq!(rx.notices()[1]["claims"]["response"]["reason"], "reversal");
    let r = mozmarket_server::tools::run(run(&["notice", "send", "--url", "http://example.com/x", "--key", "k", "--secret-file", secret_path.to_str().unwrap()])).await;
    assert!(r.is_err());
    assert_eq!(rx.hits(), 2);
}
