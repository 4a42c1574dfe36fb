//! spec/payments.md §9.2 (rows B02–B10) and the rest of the app server's browser API: guard,
//! CORS, cookie, status and its event stream, receipts, restore, entitlements, the receipt fetch
//! (§2.8) and the 24 h sweep. SQLite always; PostgreSQL when configured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod app_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use app_support::*;
use axum::body::Body;
use axum::http::{header, Request};
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::pay::notice::NoticeKind::{Chargeback, Postback};

fn key() -> Hs256Key {
    Hs256Key::from_secret(SECRET).unwrap()
}

/// Pays an order (postback) and waits for its receipt.
async fn complete(h: &Harness, order: &Order) -> String {
    let txid = new_txid("webpay");
    h.post_notice(Postback, &h.notice(Postback, order, &txid).await.sign(&key())).await.assert_text(200, &txid);
    assert_eq!(h.settled_status(order).await["status"], "complete");
    txid
}

on_every_store!(buy_creates_a_pending_order_with_a_signed_jwt, |h: Harness| async move {
    let r = h.send(h.buy_req("magical-unicorn", None, None)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    let id = j["orderId"].as_str().unwrap();
    assert!(mozmarket_core::pay::ids::is_uuid_v4(id));
    assert_eq!(j["productId"], "magical-unicorn");
    assert_eq!(j["statusURL"], format!("/mozpay/status/{id}"));
    assert_eq!(j["statusEventsURL"], format!("/mozpay/status/{id}/events"));
    assert_eq!(j["simulated"], false);
    assert_eq!(r.header("location"), Some(format!("/mozpay/status/{id}")));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("mm_buyer="));
    for part in ["HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=63072000"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "loopback http origin: no Secure ({cookie})");
    assert_eq!(r.cookie().unwrap().len(), 22);
    // The pay JWT: HS256 with the signing key's secret, the claims of §3.2, the catalogue fields.
    let jwt = j["jwt"].as_str().unwrap();
    let decoded = mozmarket_core::hs256::decode(jwt, mozmarket_core::hs256::JwsAlg::Hs256, 8192).unwrap();
    let claims = decoded.verify_hs256(&key()).unwrap().into_claims();
    let c: serde_json::Value = serde_json::from_str(&claims.to_json_text()).unwrap();
    assert_eq!(c["iss"], KEY);
    assert_eq!(c["aud"], h.domain());
    assert_eq!(c["typ"], "mozilla/payments/pay/v1");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 3600);
    assert_eq!(c["iat"].as_i64().unwrap(), h.now_s());
    let req = &c["request"];
    assert_eq!(req["id"], "magical-unicorn");
    assert_eq!(req["pricePoint"], "4");
    assert_eq!(req["name"], "Magical Unicorn");
    assert_eq!(req["productData"], format!("mm_order={id}"));
    assert_eq!(req["postbackURL"], "http://localhost:7801/mozpay/postback");
    assert_eq!(req["chargebackURL"], "http://localhost:7801/mozpay/chargeback");
    assert_eq!(req["defaultLocale"], "en");
    assert_eq!(req["locales"]["de"]["name"], "Magisches Einhorn");
    assert!(req.get("simulate").is_none());
    // The order keeps the exact signed request.
    assert_eq!(
        h.request_of(id).await.to_json_text(),
        claims.get("request").unwrap().to_json_text(),
        "the exact signed request"
    );
    let s = h.send(h.get(&format!("/mozpay/status/{id}"), r.cookie().as_deref())).await;
    assert_eq!(s.json(), serde_json::json!({"status": "pending"}));
});

on_every_store!(b02_same_idempotency_key_same_product, |h: Harness| async move {
    let first = h.send(h.buy_req("shiny-pony", None, Some("attempt-0001"))).await;
    assert_eq!(first.status, 201);
    let buyer = first.cookie().unwrap();
    for _ in 0..3 {
        let again = h.send(h.buy_req("shiny-pony", Some(&buyer), Some("attempt-0001"))).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body, "identical body");
        assert!(again.cookie().is_none());
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM orders").await, 1);
    // Concurrent repeats (B01's double click reaching the server): still one order.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let router = h.router.clone();
        let req = h.buy_req("magical-unicorn", Some(&buyer), Some("attempt-0002"));
        tasks.spawn(async move { send(&router, req).await });
    }
    let mut bodies = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert!(r.status == 200 || r.status == 201);
        bodies.push(r.json()["orderId"].clone());
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM orders").await, 2);
    // Another buyer with the same key gets their own order.
    let other = h.send(h.buy_req("shiny-pony", None, Some("attempt-0001"))).await;
    assert_eq!(other.status, 201);
    assert_ne!(other.json()["orderId"], first.json()["orderId"]);
});

on_every_store!(b02b_idempotency_key_expires_with_the_jwt, |h: Harness| async move {
    let first = h.send(h.buy_req("shiny-pony", None, Some("attempt-0001"))).await;
    let buyer = first.cookie().unwrap();
    h.advance(3_599_000);
    let same = h.send(h.buy_req("shiny-pony", Some(&buyer), Some("attempt-0001"))).await;
    assert_eq!(same.status, 200);
    h.advance(1_000);
    let fresh = h.send(h.buy_req("shiny-pony", Some(&buyer), Some("attempt-0001"))).await;
    assert_eq!(fresh.status, 201);
    assert_ne!(fresh.json()["orderId"], first.json()["orderId"]);
    assert_eq!(h.count("SELECT COUNT(*) FROM orders").await, 2);
});

on_every_store!(b03_same_key_other_product, |h: Harness| async move {
    let first = h.send(h.buy_req("shiny-pony", None, Some("attempt-0001"))).await;
    let buyer = first.cookie().unwrap();
    let before = h.snapshot().await;
    let r = h.send(h.buy_req("magical-unicorn", Some(&buyer), Some("attempt-0001"))).await;
    r.assert_error(409, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(b04_foreign_origin, |h: Harness| async move {
    let before = h.snapshot().await;
    let mut req = h.buy_req("shiny-pony", None, None);
    req.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let r = h.send(req).await;
    r.assert_error(403, "ORIGIN_NOT_ALLOWED");
    assert!(r.cookie().is_none());
    assert!(r.header("access-control-allow-origin").is_none());
    assert_eq!(h.snapshot().await, before);
    // Every guarded endpoint.
    for path in ["/mozpay/receipts", "/mozpay/entitlements", "/mozpay/product/shiny-pony/receipt"] {
        let mut req = h.get(path, None);
        req.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        let r = h.send(req).await;
        r.assert_error(403, "ORIGIN_NOT_ALLOWED");
        assert!(r.cookie().is_none());
    }
    // The app's own origin is fine without CORS headers.
    let mut req = h.buy_req("shiny-pony", None, None);
    req.headers_mut().insert(header::ORIGIN, APP_ORIGIN.parse().unwrap());
    let r = h.send(req).await;
    assert_eq!(r.status, 201);
    assert!(r.header("access-control-allow-origin").is_none());
});

on_every_store!(b05_missing_version_header, |h: Harness| async move {
    let before = h.snapshot().await;
    let req = Request::post("/mozpay/product/shiny-pony/buy")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("a=b"))
        .unwrap();
    let r = h.send(req).await;
    r.assert_error(403, "CSRF_CHECK_FAILED");
    assert!(r.cookie().is_none());
    for bad in ["", "x".repeat(33).as_str(), "caf\u{e9}"] {
        let mut req = h.buy_req("shiny-pony", None, None);
        req.headers_mut().insert("x-mozmarket-version", axum::http::HeaderValue::from_bytes(bad.as_bytes()).unwrap());
        h.send(req).await.assert_error(403, "CSRF_CHECK_FAILED");
    }
    let r = h.send(Request::get("/mozpay/receipts").body(Body::empty()).unwrap()).await;
    r.assert_error(403, "CSRF_CHECK_FAILED");
    assert!(r.cookie().is_none());
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(b06_unknown_or_inactive_product, |h: Harness| async move {
    let before = h.snapshot().await;
    for product in ["no-such-pony", "old-thing", &"x".repeat(256), "shiny%2Dpony%20"] {
        let r = h.send(h.buy_req(product, None, None)).await;
        r.assert_error(404, "PRODUCT_NOT_FOUND");
        assert!(r.cookie().is_none());
    }
    assert_eq!(h.snapshot().await, before);
    // Percent-decoding of the path: %2D is '-'.
    assert_eq!(h.send(h.buy_req("shiny%2Dpony", None, None)).await.status, 201);
});

on_every_store!(b07_too_many_pending_orders, |h: Harness| async move {
    let first = h.buy("shiny-pony", None).await;
    for _ in 1..20 {
        h.buy("shiny-pony", Some(&first.buyer)).await;
    }
    let before = h.snapshot().await;
    let r = h.send(h.buy_req("shiny-pony", Some(&first.buyer), None)).await;
    r.assert_error(429, "TOO_MANY_PENDING_ORDERS");
    assert_eq!(h.snapshot().await, before);
    // Paying one frees a slot.
    complete(&h, &first).await;
    assert_eq!(h.send(h.buy_req("shiny-pony", Some(&first.buyer), None)).await.status, 201);
});

on_every_store!(b08_body_caps_and_types, |h: Harness| async move {
    let before = h.snapshot().await;
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5 * 1024));
    let req = Request::post("/mozpay/product/shiny-pony/buy")
        .header("x-mozmarket-version", VERSION)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    h.send(req).await.assert_error(413, "BODY_TOO_LARGE");
    // Without a Content-Length.
    let req = Request::post("/mozpay/product/shiny-pony/buy")
        .header("x-mozmarket-version", VERSION)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter(
            (0..6).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 1024]))),
        )))
        .unwrap();
    h.send(req).await.assert_error(413, "BODY_TOO_LARGE");
    let with = |ct: &str, body: &str| {
        Request::post("/mozpay/product/shiny-pony/buy")
            .header("x-mozmarket-version", VERSION)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    h.send(with("text/plain", "{}")).await.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    h.send(with("application/json", "[]")).await.assert_error(400, "BAD_REQUEST");
    h.send(with("application/json", "{\"a\":1,\"a\":2}")).await.assert_error(400, "BAD_REQUEST");
    h.send(with("application/json", "{")).await.assert_error(400, "BAD_REQUEST");
    for bad in ["short", "has space in it", "x".repeat(65).as_str(), "emoji\u{1F600}xxxx"] {
        let mut req = h.buy_req("shiny-pony", None, None);
        req.headers_mut()
            .insert("idempotency-key", axum::http::HeaderValue::from_bytes(bad.as_bytes()).unwrap());
        h.send(req).await.assert_error(400, "BAD_IDEMPOTENCY_KEY");
    }
    let r = h.send(Request::get("/mozpay/product/shiny-pony/buy").header("x-mozmarket-version", VERSION).body(Body::empty()).unwrap()).await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    assert_eq!(h.snapshot().await, before);
    // An empty body needs no Content-Type; unknown members are ignored.
    let req = Request::post("/mozpay/product/shiny-pony/buy").header("x-mozmarket-version", VERSION).body(Body::empty()).unwrap();
    assert_eq!(h.send(req).await.status, 201);
    assert_eq!(h.send(with("application/json; charset=utf-8", r#"{"extra":[1,2]}"#)).await.status, 201);
});

on_every_store!(b09_status_not_found_is_uniform, |h: Harness| async move {
    let mine = h.buy("shiny-pony", None).await;
    let other = h.buy("shiny-pony", None).await;
    let before = h.snapshot().await;
    let mut bodies = Vec::new();
    for path in [
        format!("/mozpay/status/{}", other.id),
        format!("/mozpay/status/{}", uuid::Uuid::new_v4()),
        "/mozpay/status/..%2Fx".to_owned(),
        "/mozpay/status/not-a-uuid".to_owned(),
        format!("/mozpay/status/{}", mine.id.to_uppercase()),
    ] {
        let r = h.send(h.get(&path, Some(&mine.buyer))).await;
        r.assert_error(404, "ORDER_NOT_FOUND");
        bodies.push(r.body.clone());
    }
    // No cookie at all.
    let r = h.send(h.get(&format!("/mozpay/status/{}", mine.id), None)).await;
    r.assert_error(404, "ORDER_NOT_FOUND");
    assert!(r.cookie().is_none());
    bodies.push(r.body);
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "identical bodies");
    assert_eq!(h.snapshot().await, before);
    assert_eq!(h.status(&mine).await["status"], "pending");
});

on_every_store!(b10_catalogue_unavailable, |h: Harness| async move {
    h.provider.catalogue_up.store(false, Ordering::SeqCst);
    let before = h.snapshot().await;
    let r = h.send(h.buy_req("shiny-pony", None, None)).await;
    r.assert_error(503, "CATALOGUE_UNAVAILABLE");
    assert!(r.cookie().is_none());
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(catalogue_cache_and_stale_copy, |h: Harness| async move {
    h.buy("shiny-pony", None).await;
    h.buy("shiny-pony", None).await;
    assert_eq!(h.provider.catalogue_calls.load(Ordering::SeqCst), 1, "cached for 60 s");
    h.advance(60_000);
    h.buy("shiny-pony", None).await;
    assert_eq!(h.provider.catalogue_calls.load(Ordering::SeqCst), 2);
    // Provider down: the last copy serves for up to 24 h.
    h.provider.catalogue_up.store(false, Ordering::SeqCst);
    h.advance(23 * 3600 * 1000);
    h.buy("shiny-pony", None).await;
    h.advance(3600 * 1000);
    h.send(h.buy_req("shiny-pony", None, None)).await.assert_error(503, "CATALOGUE_UNAVAILABLE");
    h.provider.catalogue_up.store(true, Ordering::SeqCst);
    h.buy("shiny-pony", None).await;
});

on_every_store!(cors_for_allowed_origins, |h: Harness| async move {
    let widget = "http://widget.test:8000";
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/mozpay/product/shiny-pony/buy")
        .header(header::ORIGIN, widget)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, idempotency-key, x-mozmarket-version")
        .body(Body::empty())
        .unwrap();
    let r = h.send(pre).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(widget));
    assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
    assert_eq!(
        r.header("access-control-allow-headers").as_deref(),
        Some("content-type, idempotency-key, x-mozmarket-version")
    );
    assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("GET, POST"));
    assert_eq!(r.header("vary").as_deref(), Some("Origin"));
    let mut req = h.buy_req("shiny-pony", None, None);
    req.headers_mut().insert(header::ORIGIN, widget.parse().unwrap());
    let r = h.send(req).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(widget));
    // A foreign preflight gets no CORS headers.
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/mozpay/receipts")
        .header(header::ORIGIN, "https://evil.example")
        .header("access-control-request-method", "GET")
        .body(Body::empty())
        .unwrap();
    let r = h.send(pre).await;
    r.assert_error(403, "ORIGIN_NOT_ALLOWED");
    assert!(r.header("access-control-allow-origin").is_none());
});

on_every_store!(cross_site_cookie_option, |h: Harness| async move {
    let mut cfg = h.cfg.clone();
    cfg.cookie_cross_site = true;
    let app = h.build_app(cfg).await;
    let r = send(&app.router, h.buy_req("shiny-pony", None, None)).await;
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("SameSite=None") && cookie.contains("Secure"), "{cookie}");
    let mut cfg = h.cfg.clone();
    cfg.public_origin = "https://shop.example".into();
    let app = h.build_app(cfg).await;
    let r = send(&app.router, h.buy_req("shiny-pony", None, None)).await;
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("SameSite=Lax") && cookie.contains("; Secure"), "{cookie}");
});

on_every_store!(receipts_restore_and_entitlements, |h: Harness| async move {
    // A new buyer: empty lists, and the cookie is created.
    let r = h.send(h.get("/mozpay/receipts", None)).await;
    assert_eq!(r.json(), serde_json::json!({"receipts": []}));
    assert!(r.cookie().is_some());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let r = h.send(h.get("/mozpay/entitlements", None)).await;
    assert_eq!(r.json(), serde_json::json!({"products": []}));
    let pony = h.buy("shiny-pony", None).await;
    let buyer = pony.buyer.clone();
    h.send(h.get("/mozpay/product/shiny-pony/receipt", Some(&buyer))).await.assert_error(404, "NO_PURCHASE");
    let pony_tx = complete(&h, &pony).await;
    h.advance(1000);
    let unicorn = h.buy("magical-unicorn", Some(&buyer)).await;
    let unicorn_tx = complete(&h, &unicorn).await;
    let list = h.send(h.get("/mozpay/receipts", Some(&buyer))).await.json();
    let list = list["receipts"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["productId"], "magical-unicorn", "newest first");
    assert_eq!(list[0]["transactionID"], unicorn_tx.as_str());
    assert_eq!(list[1]["orderId"], pony.id.as_str());
    let one = h.send(h.get("/mozpay/product/shiny-pony/receipt", Some(&buyer))).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["transactionID"], pony_tx.as_str());
    assert_eq!(one.json()["receipt"], list[1]["receipt"]);
    let ents = h.send(h.get("/mozpay/entitlements", Some(&buyer))).await.json();
    assert_eq!(ents["products"].as_array().unwrap().len(), 2);
    assert!(ents["products"][0]["grantedAt"].as_i64().unwrap() >= app_support::T0_MS);
    // Another buyer sees nothing of it.
    let r = h.send(h.get("/mozpay/product/shiny-pony/receipt", None)).await;
    r.assert_error(404, "NO_PURCHASE");
    // Refund the pony.
    h.post_notice(Chargeback, &h.notice(Chargeback, &pony, &pony_tx).await.sign(&key())).await.assert_text(200, &pony_tx);
    let list = h.send(h.get("/mozpay/receipts", Some(&buyer))).await.json();
    assert_eq!(list["receipts"].as_array().unwrap().len(), 1);
    h.send(h.get("/mozpay/product/shiny-pony/receipt", Some(&buyer))).await.assert_error(410, "REFUNDED");
    let ents = h.send(h.get("/mozpay/entitlements", Some(&buyer))).await.json();
    assert_eq!(ents["products"].as_array().unwrap().len(), 1);
    assert_eq!(ents["products"][0]["productId"], "magical-unicorn");
    let s = h.status(&pony).await;
    assert_eq!((s["status"].as_str(), s["error"].as_str()), (Some("failed"), Some("REFUNDED")));
    // Buying the pony again and completing it: the newer complete order answers.
    let again = h.buy("shiny-pony", Some(&buyer)).await;
    let again_tx = complete(&h, &again).await;
    let one = h.send(h.get("/mozpay/product/shiny-pony/receipt", Some(&buyer))).await;
    assert_eq!(one.json()["transactionID"], again_tx.as_str());
});

on_every_store!(expiring_receipts_are_refreshed, |h: Harness| async move {
    let order = h.buy("shiny-pony", None).await;
    // The provider issues a receipt that expires in 3 days.
    h.provider.receipt_exp_s.store(h.now_s() + 3 * 86_400, Ordering::SeqCst);
    let txid = complete(&h, &order).await;
    let first = h.status(&order).await["receipt"].as_str().unwrap().to_owned();
    h.provider.receipt_exp_s.store(h.now_s() + 182 * 86_400, Ordering::SeqCst);
    let list = h.send(h.get("/mozpay/receipts", Some(&order.buyer))).await.json();
    let fresh = list["receipts"][0]["receipt"].as_str().unwrap().to_owned();
    assert_ne!(fresh, first, "refreshed");
    assert_eq!(h.provider.issue_calls(&txid), 2);
    // A fresh receipt is not refreshed again.
    let list = h.send(h.get("/mozpay/receipts", Some(&order.buyer))).await.json();
    assert_eq!(list["receipts"][0]["receipt"].as_str().unwrap(), fresh);
    assert_eq!(h.provider.issue_calls(&txid), 2);
    // A failed refresh returns the stored receipt unchanged.
    h.advance(180 * 86_400 * 1000);
    set_mode(&h.provider, IssueMode::Refuse);
    let list = h.send(h.get("/mozpay/receipts", Some(&order.buyer))).await.json();
    assert_eq!(list["receipts"][0]["receipt"].as_str().unwrap(), fresh);
});

on_every_store!(receipt_fetch_retries_then_succeeds, |h: Harness| async move {
    set_mode(&h.provider, IssueMode::FailTimes(3));
    let order = h.buy("shiny-pony", None).await;
    let txid = complete(&h, &order).await;
    assert_eq!(h.provider.issue_calls(&txid), 4);
});

on_every_store!(receipt_unavailable_then_on_demand_fetch, |h: Harness| async move {
    set_mode(&h.provider, IssueMode::Refuse);
    let order = h.buy("shiny-pony", None).await;
    let txid = new_txid("webpay");
    h.post_notice(Postback, &h.notice(Postback, &order, &txid).await.sign(&key())).await.assert_text(200, &txid);
    let s = h.settled_status(&order).await;
    assert_eq!((s["status"].as_str(), s["error"].as_str()), (Some("failed"), Some("RECEIPT_UNAVAILABLE")));
    assert_eq!(h.provider.issue_calls(&txid), 1, "a 4xx stops at once");
    // The entitlement is granted (the payment arrived).
    assert_eq!(h.active_entitlements(&order.id).await, 1);
    h.send(h.get("/mozpay/product/shiny-pony/receipt", Some(&order.buyer))).await.assert_error(503, "RECEIPT_UNAVAILABLE");
    set_mode(&h.provider, IssueMode::Ok);
    let r = h.send(h.get("/mozpay/product/shiny-pony/receipt", Some(&order.buyer))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(h.status(&order).await["status"], "complete");
});

on_every_store!(receipt_issue_answer_over_the_cap_is_refused_unread, |h: Harness| async move {
    // The provider declares a 1 GB answer and stalls: the app server must refuse it from the
    // declared length at once (a 4xx-like refusal, no retries), not buffer it until a timeout.
    set_mode(&h.provider, IssueMode::Huge);
    let order = h.buy("shiny-pony", None).await;
    let txid = new_txid("webpay");
    h.post_notice(Postback, &h.notice(Postback, &order, &txid).await.sign(&key())).await.assert_text(200, &txid);
    let s = h.settled_status(&order).await;
    assert_eq!((s["status"].as_str(), s["error"].as_str()), (Some("failed"), Some("RECEIPT_UNAVAILABLE")));
    assert_eq!(h.provider.issue_calls(&txid), 1, "an oversized answer is refused, not retried");
});

on_every_store!(receipt_fetch_gives_up_after_five_attempts, |h: Harness| async move {
    set_mode(&h.provider, IssueMode::FailTimes(100));
    let order = h.buy("shiny-pony", None).await;
    let txid = new_txid("webpay");
    h.post_notice(Postback, &h.notice(Postback, &order, &txid).await.sign(&key())).await.assert_text(200, &txid);
    let s = h.settled_status(&order).await;
    assert_eq!(s["error"], "RECEIPT_UNAVAILABLE");
    assert_eq!(h.provider.issue_calls(&txid), 5);
});

on_every_store!(receipt_issue_refunded_leaves_it_to_the_chargeback, |h: Harness| async move {
    set_mode(&h.provider, IssueMode::Refunded);
    let order = h.buy("shiny-pony", None).await;
    let txid = new_txid("webpay");
    h.post_notice(Postback, &h.notice(Postback, &order, &txid).await.sign(&key())).await.assert_text(200, &txid);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.provider.issue_calls(&txid), 1);
    assert_eq!(h.status(&order).await["status"], "pending");
    assert_eq!(h.order_state(&order.id).await, "paid");
    h.post_notice(Chargeback, &h.notice(Chargeback, &order, &txid).await.sign(&key())).await.assert_text(200, &txid);
    assert_eq!(h.status(&order).await["error"], "REFUNDED");
});

on_every_store!(sweep_abandons_and_a_late_postback_completes, |h: Harness| async move {
    let old = h.buy("shiny-pony", None).await;
    h.advance(12 * 3600 * 1000);
    let young = h.buy("shiny-pony", Some(&old.buyer)).await;
    h.advance(12 * 3600 * 1000 - 1000);
    assert_eq!(h.state.sweep_now().await.unwrap(), 0);
    h.advance(1000);
    assert_eq!(h.state.sweep_now().await.unwrap(), 1);
    let s = h.status(&old).await;
    assert_eq!((s["status"].as_str(), s["error"].as_str()), (Some("failed"), Some("ABANDONED")));
    assert_eq!(h.status(&young).await["status"], "pending");
    // A late postback still completes the order.
    complete(&h, &old).await;
    // An abandoned order takes a chargeback too.
    h.advance(24 * 3600 * 1000);
    h.state.sweep_now().await.unwrap();
    assert_eq!(h.order_state(&young.id).await, "abandoned");
    let txid = new_txid("webpay");
    h.post_notice(Chargeback, &h.notice(Chargeback, &young, &txid).await.sign(&key())).await.assert_text(200, &txid);
    assert_eq!(h.order_state(&young.id).await, "refunded");
});

on_every_store!(simulated_chargeback_flow, |h: Harness| async move {
    let mut cfg = h.cfg.clone();
    cfg.simulate = Sim::ChargebackRefund;
    let app = h.build_app(cfg).await;
    let r = send(&app.router, h.buy_req("shiny-pony", None, None)).await;
    assert_eq!(r.status, 201);
    let jwt = r.json()["jwt"].as_str().unwrap().to_owned();
    let claims = mozmarket_core::hs256::decode(&jwt, mozmarket_core::hs256::JwsAlg::Hs256, 8192).unwrap();
    let sim = claims.unverified_claims().get("request").and_then(|r| r.get("simulate")).unwrap().to_json_text();
    assert_eq!(sim, r#"{"result":"chargeback","reason":"refund"}"#);
});
