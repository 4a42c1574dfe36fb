//! The demo web app routes: `/`, `/www/…`, `/pkg/…` (wasm as application/wasm) with the CSP, and
//! `/demo/config.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod app_support;

use app_support::*;
use axum::body::Body;
use axum::http::Request;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pages_and_package() {
    let root = std::env::temp_dir().join(format!("mozmarket-web-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(root.join("www")).unwrap();
    std::fs::create_dir_all(root.join("pkg/core")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    std::fs::write(root.join("www/demo.js"), "export {};").unwrap();
    std::fs::write(root.join("www/strict.html"), "<!doctype html><title>strict</title>").unwrap();
    std::fs::write(root.join("pkg/core/mozmarket_core_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let web_root = root.clone();
    let h = Harness::with(Store::Sqlite, move |cfg| {
        cfg.web_root = Some(web_root);
        cfg.demo.root_jwks = Some(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"root-1"}]}"#.into());
    })
    .await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' {}; \
         object-src 'none'; base-uri 'none'; require-trusted-types-for 'script'",
        h.provider.origin()
    );
    let strict_csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' {}; \
         require-trusted-types-for 'script'",
        h.provider.origin()
    );
    let r = h.send(get("/")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<title>shop</title>"));
    assert_eq!(r.header("content-security-policy"), Some(csp.clone()));
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let r = h.send(get("/strict.html")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<title>strict</title>"));
    assert_eq!(r.header("content-security-policy"), Some(strict_csp));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    let r = h.send(get("/www/demo.js")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().contains("javascript"));
    assert_eq!(r.header("content-security-policy"), Some(csp.clone()));
    let r = h.send(get("/pkg/core/mozmarket_core_bg.wasm")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/wasm"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(h.send(get("/pkg/../index.html")).await.status / 100, 4);
    assert_eq!(h.send(get("/pkg/missing.js")).await.status, 404);
    let r = h.send(get("/demo/config.json")).await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["appOrigin"], APP_ORIGIN);
    assert_eq!(j["marketOrigin"], h.provider.origin());
    assert_eq!(j["pathPrefix"], "/mozpay");
    assert_eq!(j["trustedKeys"]["keys"][0]["kid"], "root-1");
    let ids: Vec<&str> = j["products"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["shiny-pony", "magical-unicorn", "free-hat"], "active products only");
    h.cleanup().await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pages_without_a_web_root() {
    let h = Harness::new(Store::Sqlite).await;
    assert_eq!(h.send(Request::get("/").body(Body::empty()).unwrap()).await.status, 404);
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_rejects_bad_configuration() {
    let h = Harness::new(Store::Sqlite).await;
    let mut cfg = h.cfg.clone();
    cfg.keys[0].secret = "too-short".into();
    let db = h.state.db().clone();
    let clock = mozmarket_server::app::system_clock();
    let err = mozmarket_server::app::build(cfg, db.clone(), clock.clone()).await.err().unwrap();
    assert!(format!("{err:#}").contains("at least 32"), "{err:#}");
    assert!(!format!("{err:#}").contains("too-short"), "the secret is never printed");
    let mut cfg = h.cfg.clone();
    cfg.signing_key = OTHER_KEY.into();
    assert!(mozmarket_server::app::build(cfg, db.clone(), clock.clone()).await.is_err());
    let mut cfg = h.cfg.clone();
    cfg.path_prefix = "/mozpay/".into();
    assert!(mozmarket_server::app::build(cfg, db.clone(), clock.clone()).await.is_err());
    let mut cfg = h.cfg.clone();
    cfg.sse_keepalive = std::time::Duration::ZERO;
    let err = mozmarket_server::app::build(cfg, db.clone(), clock.clone()).await.err().unwrap();
    assert!(format!("{err:#}").contains("sse_keepalive"), "{err:#}");
    let mut cfg = h.cfg.clone();
    cfg.sse_max = std::time::Duration::MAX;
    let err = mozmarket_server::app::build(cfg, db, clock).await.err().unwrap();
    assert!(format!("{err:#}").contains("sse_max"), "{err:#}");
    h.cleanup().await;
}
