//! spec/payments.md §9.1: the app server's notice receivers (rows A01–A30), plus duplicate and
//! concurrent deliveries, against SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod app_support;

use std::time::Duration;

use app_support::*;
use axum::body::Body;
use axum::http::{header, Request};
use mozmarket_core::pay::notice::NoticeKind::{Chargeback, Postback};
use mozmarket_core::pay::notice::NoticeKind;
use mozmarket_core::hs256::Hs256Key;
use serde_json::json;

/// A pending order and a snapshot of the database before the notice.
async fn pending(h: &Harness) -> (Order, Vec<String>) {
    let order = h.buy("shiny-pony", None).await;
    let snap = h.snapshot().await;
    (order, snap)
}

/// Posts a rejected notice and checks the answer and that nothing was persisted.
async fn rejected(h: &Harness, kind: NoticeKind, token: &str, status: u16, code: &str) {
    let before = h.snapshot().await;
    let r = h.post_notice(kind, token).await;
    r.assert_text(status, code);
    assert!(r.header("access-control-allow-origin").is_none(), "notice receivers send no CORS headers");
    assert_eq!(h.snapshot().await, before, "{code}: something was persisted");
}

fn header_b64(h: &str) -> String {
    mozmarket_core::b64::encode(h.as_bytes())
}

on_every_store!(a00_valid_postback_is_acknowledged_after_commit, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let txid = new_txid("webpay");
    let token = h.notice(Postback, &order, &txid).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    let r = h.post_notice(Postback, &token).await;
    r.assert_text(200, &txid);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    // Acknowledged means committed: visible at once, on a separate connection.
    let other = h.build_app(h.cfg.clone()).await;
    let row: (String, String) = sqlx::query_as("SELECT state, transaction_id FROM orders WHERE id = $1")
        .bind(&order.id)
        .fetch_one(&other.state.db().pool)
        .await
        .unwrap();
    assert!(row.0 == "paid" || row.0 == "complete");
    assert_eq!(row.1, txid);
    assert_eq!(h.active_entitlements(&order.id).await, 1);
    let s = h.settled_status(&order).await;
    assert_eq!(s["status"], "complete");
    assert_eq!(s["transactionID"], txid.as_str());
    assert_eq!(s["productId"], "shiny-pony");
    assert!(s["receipt"].as_str().unwrap().contains('~'));
    assert_eq!(h.provider.issue_calls(&txid), 1);
});

on_every_store!(a01_forged_signature, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let token = h.notice(Postback, &order, &new_txid("webpay")).await.sign(&Hs256Key::from_secret(OTHER_SECRET).unwrap());
    rejected(&h, Postback, &token, 400, "INVALID_SIGNATURE").await;
    assert_eq!(h.order_state(&order.id).await, "pending");
});

on_every_store!(a02_alg_none_with_empty_signature, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    let token = format!("{}.{}.", header_b64(r#"{"alg":"none","typ":"JWT"}"#), header_b64(&claims.to_string()));
    rejected(&h, Postback, &token, 400, "INVALID_JWT").await;
    // And with a non-empty signature, still `none`.
    let token = sign_raw(r#"{"alg":"none"}"#, &claims, SECRET);
    rejected(&h, Postback, &token, 400, "INVALID_JWT").await;
});

on_every_store!(a03_other_algorithms, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    for alg in ["HS512", "RS256", "hs256", "ES256"] {
        let token = sign_raw(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#), &claims, SECRET);
        rejected(&h, Postback, &token, 400, "INVALID_JWT").await;
    }
});

on_every_store!(a04_forbidden_header_parameters, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    for extra in [
        r#""jku":"https://evil.example/keys""#,
        r#""jwk":{"kty":"oct","k":"AAAA"}"#,
        r#""x5u":"https://evil.example/cert""#,
        r#""crit":["exp"]"#,
        r#""x5c":["AAAA"]"#,
        r#""b64":false"#,
        r#""cty":"JWT""#,
    ] {
        let token = sign_raw(&format!(r#"{{"alg":"HS256","typ":"JWT",{extra}}}"#), &claims, SECRET);
        rejected(&h, Postback, &token, 400, "INVALID_JWT").await;
    }
});

on_every_store!(a05_duplicate_members_and_non_canonical_base64url, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let notice = h.notice(Postback, &order, &new_txid("webpay")).await;
    let claims = h.claims(&notice);
    // A duplicate `aud` member in the claims.
    let text = claims.to_string().replacen('{', &format!(r#"{{"aud":"{OTHER_KEY}","#), 1);
    let input = format!("{}.{}", header_b64(r#"{"alg":"HS256","typ":"JWT"}"#), header_b64(&text));
    let tag = Hs256Key::from_secret(SECRET).unwrap().tag(input.as_bytes());
    let token = format!("{input}.{}", mozmarket_core::b64::encode(&tag));
    rejected(&h, Postback, &token, 400, "INVALID_JWT").await;
    // Padding, `+`/`/`, whitespace.
    let good = notice.sign(&Hs256Key::from_secret(SECRET).unwrap());
    let parts: Vec<&str> = good.split('.').collect();
    let padded = format!("{}=.{}.{}", parts[0], parts[1], parts[2]);
    rejected(&h, Postback, &padded, 400, "INVALID_JWT").await;
    let plus = format!("{}.{}.{}", parts[0], parts[1], parts[2].replace(['-', '_'], "+"));
    let plus = if plus == good { format!("{}.{}+.{}", parts[0], parts[1], parts[2]) } else { plus };
    rejected(&h, Postback, &plus, 400, "INVALID_JWT").await;
    let slash = format!("{}.{}/.{}", parts[0], parts[1], parts[2]);
    rejected(&h, Postback, &slash, 400, "INVALID_JWT").await;
    let (a, b) = parts[1].split_at(10);
    let spaced = format!("{}.{a} {b}.{}", parts[0], parts[2]);
    rejected(&h, Postback, &spaced, 400, "INVALID_JWT").await;
    // The untouched token is accepted.
    h.post_notice(Postback, &good).await.assert_text(200, &notice.response.transaction_id);
});

on_every_store!(a06_chargeback_at_postback_endpoint, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let token = h.notice(Chargeback, &order, &new_txid("webpay")).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    rejected(&h, Postback, &token, 400, "WRONG_TYP").await;
});

on_every_store!(a07_postback_at_chargeback_endpoint, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let token = h.notice(Postback, &order, &new_txid("webpay")).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    rejected(&h, Chargeback, &token, 400, "WRONG_TYP").await;
});

on_every_store!(a08_pay_jwt_posted_as_notice, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    rejected(&h, Postback, &order.jwt, 400, "WRONG_TYP").await;
    rejected(&h, Chargeback, &order.jwt, 400, "WRONG_TYP").await;
});

on_every_store!(a09_replayed_postback, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let txid = new_txid("webpay");
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let token = h.notice(Postback, &order, &txid).await.sign(&key);
    h.post_notice(Postback, &token).await.assert_text(200, &txid);
    assert_eq!(h.settled_status(&order).await["status"], "complete");
    let after_first = h.snapshot().await;
    // Byte-identical.
    h.post_notice(Postback, &token).await.assert_text(200, &txid);
    // Re-signed later (new iat/exp), same transaction ID.
    h.advance(30_000);
    let resigned = h.notice(Postback, &order, &txid).await.sign(&key);
    assert_ne!(resigned, token);
    h.post_notice(Postback, &resigned).await.assert_text(200, &txid);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.snapshot().await, after_first, "a replay changed something");
    assert_eq!(h.count("SELECT COUNT(*) FROM notices").await, 1);
    assert_eq!(h.entitlement_rows(&order.id).await, 1);
    assert_eq!(h.provider.issue_calls(&txid), 1, "no second receipt fetch");
});

on_every_store!(a10_unknown_order, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let mut notice = h.notice(Postback, &order, &new_txid("webpay")).await;
    let mut claims = h.claims(&notice);
    claims["request"]["productData"] = json!(format!("mm_order={}", uuid::Uuid::new_v4()));
    rejected(&h, Postback, &sign(&claims, SECRET), 409, "UNKNOWN_ORDER").await;
    claims["request"]["productData"] = json!("something=else");
    rejected(&h, Postback, &sign(&claims, SECRET), 409, "UNKNOWN_ORDER").await;
    claims["request"].as_object_mut().unwrap().remove("productData");
    rejected(&h, Postback, &sign(&claims, SECRET), 409, "UNKNOWN_ORDER").await;
    claims["request"]["productData"] = json!("mm_order=not-a-uuid");
    rejected(&h, Postback, &sign(&claims, SECRET), 409, "UNKNOWN_ORDER").await;
    // Sanity: the untouched notice is fine.
    notice.iat = h.now_s();
    h.post_notice(Postback, &notice.sign(&key)).await.assert_text(200, &notice.response.transaction_id);
});

on_every_store!(a11_echo_differs_from_order, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    let mut c = claims.clone();
    c["request"]["id"] = json!("magical-unicorn");
    rejected(&h, Postback, &sign(&c, SECRET), 409, "ORDER_MISMATCH").await;
    let mut c = claims.clone();
    c["request"]["pricePoint"] = json!("4");
    rejected(&h, Postback, &sign(&c, SECRET), 409, "ORDER_MISMATCH").await;
    // An integer price point equal to the stored string is the same price point.
    let mut c = claims.clone();
    c["request"]["pricePoint"] = json!(5);
    h.post_notice(Postback, &sign(&c, SECRET)).await.assert_text(200, c["response"]["transactionID"].as_str().unwrap());
});

on_every_store!(a11b_other_key_than_the_orders, |h: Harness| async move {
    // Verified with KEY2 (configured), but the order was signed with KEY.
    let (order, _) = pending(&h).await;
    let mut claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    claims["aud"] = json!(KEY2);
    rejected(&h, Postback, &sign(&claims, SECRET2), 409, "ORDER_MISMATCH").await;
});

on_every_store!(a12_simulate_prefix_without_simulate, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let token = h.notice(Postback, &order, &new_txid("simulate")).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    rejected(&h, Postback, &token, 400, "BAD_TRANSACTION_ID").await;
    let token = h.notice(Postback, &order, &new_txid("free")).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    rejected(&h, Postback, &token, 400, "BAD_TRANSACTION_ID").await;
});

on_every_store!(a13_simulate_echo_for_a_real_order, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let mut claims = h.claims(&h.notice(Postback, &order, &new_txid("simulate")).await);
    claims["request"]["simulate"] = json!({"result": "postback"});
    rejected(&h, Postback, &sign(&claims, SECRET), 409, "ORDER_MISMATCH").await;
});

on_every_store!(a14_expired_with_clock_boundaries, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    let now = h.now_s();
    let mut c = claims.clone();
    c["exp"] = json!(now - 61);
    c["iat"] = json!(now - 61 - 3600 + 5);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "EXPIRED").await;
    // exp = now - 60 is expired (exp <= now - 60) ...
    c["exp"] = json!(now - 60);
    c["iat"] = json!(now - 60 - 3595);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "EXPIRED").await;
    // ... and one second later on the injected clock the same token's boundary moves.
    let token = {
        let mut c = claims.clone();
        c["exp"] = json!(now - 59);
        c["iat"] = json!(now - 59 - 3595);
        sign(&c, SECRET)
    };
    h.advance(1000);
    rejected(&h, Postback, &token, 400, "EXPIRED").await;
    h.advance(-1000);
    h.post_notice(Postback, &token).await.assert_text(200, claims["response"]["transactionID"].as_str().unwrap());
});

on_every_store!(a15_bad_iat_with_clock_boundaries, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    let now = h.now_s();
    let with = |iat: i64, exp: i64| {
        let mut c = claims.clone();
        c["iat"] = json!(iat);
        c["exp"] = json!(exp);
        sign(&c, SECRET)
    };
    rejected(&h, Postback, &with(now + 120, now + 3720), 400, "BAD_IAT").await;
    rejected(&h, Postback, &with(now - 3700, now + 600), 400, "BAD_IAT").await;
    // iat = now + 61 is in the future; iat = now + 60 is not.
    rejected(&h, Postback, &with(now + 61, now + 3661), 400, "BAD_IAT").await;
    // now - iat = 3661 is too old; 3660 is not.
    rejected(&h, Postback, &with(now - 3661, now + 600), 400, "BAD_IAT").await;
    // nbf in the future.
    let mut c = claims.clone();
    c["nbf"] = json!(now + 61);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "BAD_IAT").await;
    let edge = with(now - 3660, now + 600);
    h.advance(1000);
    rejected(&h, Postback, &edge, 400, "BAD_IAT").await;
    h.advance(-1000);
    let future_edge = with(now + 60, now + 3660);
    h.post_notice(Postback, &future_edge).await.assert_text(200, claims["response"]["transactionID"].as_str().unwrap());
    h.post_notice(Postback, &edge).await.assert_text(200, claims["response"]["transactionID"].as_str().unwrap());
});

on_every_store!(a16_bad_claim_types, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    let mut c = claims.clone();
    c["exp"] = json!("9999999999");
    rejected(&h, Postback, &sign(&c, SECRET), 400, "BAD_CLAIM").await;
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("exp");
    rejected(&h, Postback, &sign(&c, SECRET), 400, "BAD_CLAIM").await;
    let mut c = claims.clone();
    c["iat"] = json!(null);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "BAD_CLAIM").await;
    let mut c = claims.clone();
    c["nbf"] = json!(true);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "BAD_CLAIM").await;
});

on_every_store!(a17_wrong_audience, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    let mut c = claims.clone();
    c["aud"] = json!(OTHER_KEY);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "WRONG_AUD").await;
    c["aud"] = json!(KEY2);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "WRONG_AUD").await;
    c["aud"] = json!([KEY]);
    rejected(&h, Postback, &sign(&c, SECRET), 400, "WRONG_AUD").await;
});

on_every_store!(a18_wrong_issuer, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let mut c = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    c["iss"] = json!("marketplace.firefox.com");
    rejected(&h, Postback, &sign(&c, SECRET), 400, "WRONG_ISS").await;
    c["iss"] = json!(format!("http://{}", h.domain()));
    rejected(&h, Postback, &sign(&c, SECRET), 400, "WRONG_ISS").await;
});

on_every_store!(a19_missing_transaction_id, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let mut c = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    c["response"].as_object_mut().unwrap().remove("transactionID");
    rejected(&h, Postback, &sign(&c, SECRET), 400, "MISSING_CLAIM").await;
    let mut c = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    c["response"]["price"].as_object_mut().unwrap().remove("currency");
    rejected(&h, Postback, &sign(&c, SECRET), 400, "MISSING_CLAIM").await;
    let mut c = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    c["request"].as_object_mut().unwrap().remove("name");
    rejected(&h, Postback, &sign(&c, SECRET), 400, "MISSING_CLAIM").await;
});

on_every_store!(a20_chargeback_reason, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let mut c = h.claims(&h.notice(Chargeback, &order, &new_txid("webpay")).await);
    c["response"].as_object_mut().unwrap().remove("reason");
    rejected(&h, Chargeback, &sign(&c, SECRET), 400, "MISSING_CLAIM").await;
    c["response"]["reason"] = json!("fraud");
    rejected(&h, Chargeback, &sign(&c, SECRET), 400, "BAD_CLAIM").await;
});

on_every_store!(a21_malformed_transaction_id, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    for bad in [
        "webpay:../../x",
        "webpay:3F0C2B9E-5D7A-4C1E-9A43-0D6F1E2B7C55",
        "paypal:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55",
        "webpay:3f0c2b9e-5d7a-1c1e-9a43-0d6f1e2b7c55",
        "",
    ] {
        let mut c = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
        c["response"]["transactionID"] = json!(bad);
        rejected(&h, Postback, &sign(&c, SECRET), 400, "BAD_TRANSACTION_ID").await;
    }
});

on_every_store!(a22_oversized_bodies, |h: Harness| async move {
    let (_order, before) = pending(&h).await;
    // 20 KiB with a Content-Length.
    let body = format!("notice={}", "a".repeat(20 * 1024));
    h.post_form("/mozpay/postback", body).await.assert_text(413, "BODY_TOO_LARGE");
    // A declared length over the cap is refused before reading.
    let req = Request::post("/mozpay/postback")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, "16385")
        .body(Body::from("notice=x"))
        .unwrap();
    h.send(req).await.assert_text(413, "BODY_TOO_LARGE");
    // Chunked, no length: reading stops at the cap (the stream is 10 MiB long).
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunks = futures_util::stream::iter((0..10 * 1024).map(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 1024]))
    }));
    let req = Request::post("/mozpay/chargeback")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(chunks))
        .unwrap();
    h.send(req).await.assert_text(413, "BODY_TOO_LARGE");
    let n = pulled.load(std::sync::atomic::Ordering::SeqCst);
    assert!(n <= 18, "read {n} KiB of an over-cap body");
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(a23_json_content_type, |h: Harness| async move {
    let (order, before) = pending(&h).await;
    let token = h.notice(Postback, &order, &new_txid("webpay")).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    let req = Request::post("/mozpay/postback")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"notice": token}).to_string()))
        .unwrap();
    h.send(req).await.assert_text(415, "UNSUPPORTED_MEDIA_TYPE");
    let req = Request::post("/mozpay/postback").body(Body::from(format!("notice={token}"))).unwrap();
    h.send(req).await.assert_text(415, "UNSUPPORTED_MEDIA_TYPE");
    // Parameters and case are ignored.
    let req = Request::post("/mozpay/postback")
        .header(header::CONTENT_TYPE, "Application/X-WWW-Form-URLEncoded; charset=UTF-8")
        .body(Body::from(format!("notice={token}")))
        .unwrap();
    assert_eq!(h.send(req).await.status, 200);
    assert_ne!(h.snapshot().await, before);
});

on_every_store!(a24_missing_or_repeated_notice_field, |h: Harness| async move {
    let (order, before) = pending(&h).await;
    let token = h.notice(Postback, &order, &new_txid("webpay")).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
    h.post_form("/mozpay/postback", "other=1".into()).await.assert_text(400, "MISSING_NOTICE");
    h.post_form("/mozpay/postback", String::new()).await.assert_text(400, "MISSING_NOTICE");
    h.post_form("/mozpay/postback", "notice=".into()).await.assert_text(400, "MISSING_NOTICE");
    h.post_form("/mozpay/postback", format!("notice={token}&notice={token}")).await.assert_text(400, "MISSING_NOTICE");
    h.post_form("/mozpay/postback", "notice=abc".into()).await.assert_text(400, "INVALID_JWT");
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(a25_get_is_not_allowed, |h: Harness| async move {
    let before = h.snapshot().await;
    for path in ["/mozpay/postback", "/mozpay/chargeback"] {
        for method in ["GET", "PUT", "DELETE"] {
            let r = h.send(Request::builder().method(method).uri(path).body(Body::empty()).unwrap()).await;
            r.assert_text(405, "METHOD_NOT_ALLOWED");
            assert_eq!(r.header("allow").as_deref(), Some("POST"));
        }
    }
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(a26_chargeback_before_postback, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let txid = new_txid("webpay");
    let cb = h.notice(Chargeback, &order, &txid).await.sign(&key);
    h.post_notice(Chargeback, &cb).await.assert_text(200, &txid);
    let pb = h.notice(Postback, &order, &txid).await.sign(&key);
    h.post_notice(Postback, &pb).await.assert_text(200, &txid);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(h.order_state(&order.id).await, "refunded");
    let s = h.status(&order).await;
    assert_eq!((s["status"].as_str(), s["error"].as_str()), (Some("failed"), Some("REFUNDED")));
    assert_eq!(h.entitlement_rows(&order.id).await, 0, "never an entitlement");
    assert_eq!(h.provider.issue_calls(&txid), 0, "no receipt fetched");
});

on_every_store!(a26b_chargeback_after_completion_wins_over_late_postback, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let txid = new_txid("webpay");
    let pb = h.notice(Postback, &order, &txid).await.sign(&key);
    h.post_notice(Postback, &pb).await.assert_text(200, &txid);
    assert_eq!(h.settled_status(&order).await["status"], "complete");
    let mut cb = h.notice(Chargeback, &order, &txid).await;
    cb.response.reason = Some(mozmarket_core::pay::request::ChargebackReason::Reversal);
    h.post_notice(Chargeback, &cb.sign(&key)).await.assert_text(200, &txid);
    // A late redelivery of the postback changes nothing.
    h.advance(5000);
    let late = h.notice(Postback, &order, &txid).await.sign(&key);
    h.post_notice(Postback, &late).await.assert_text(200, &txid);
    assert_eq!(h.order_state(&order.id).await, "reversed");
    let s = h.status(&order).await;
    assert_eq!(s["error"], "REVERSED");
    assert_eq!(h.active_entitlements(&order.id).await, 0);
    assert_eq!(h.count("SELECT COUNT(*) FROM receipts WHERE revoked = 1").await, 1);
});

on_every_store!(a27_second_chargeback_other_reason, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let txid = new_txid("webpay");
    h.post_notice(Postback, &h.notice(Postback, &order, &txid).await.sign(&key)).await.assert_text(200, &txid);
    h.post_notice(Chargeback, &h.notice(Chargeback, &order, &txid).await.sign(&key)).await.assert_text(200, &txid);
    assert_eq!(h.order_state(&order.id).await, "refunded");
    let before = h.snapshot().await;
    let mut second = h.notice(Chargeback, &order, &txid).await;
    second.response.reason = Some(mozmarket_core::pay::request::ChargebackReason::Reversal);
    h.post_notice(Chargeback, &second.sign(&key)).await.assert_text(200, &txid);
    assert_eq!(h.order_state(&order.id).await, "refunded", "the first chargeback wins");
    assert_eq!(h.snapshot().await, before);
});

on_every_store!(a28_two_transactions_for_one_order, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let (first, second) = (new_txid("webpay"), new_txid("webpay"));
    h.post_notice(Postback, &h.notice(Postback, &order, &first).await.sign(&key)).await.assert_text(200, &first);
    h.post_notice(Postback, &h.notice(Postback, &order, &second).await.sign(&key)).await.assert_text(200, &second);
    let tx: String = sqlx::query_scalar("SELECT transaction_id FROM orders WHERE id = $1")
        .bind(&order.id)
        .fetch_one(&h.db().pool)
        .await
        .unwrap();
    assert_eq!(tx, first, "the order keeps the first transaction");
    let notices = h.notices_of(&order.id).await;
    assert!(notices.contains(&(first.clone(), "postback".into(), "applied".into())));
    assert!(notices.contains(&(second.clone(), "postback".into(), "duplicate".into())));
    assert_eq!(h.entitlement_rows(&order.id).await, 1);
    // A chargeback of the duplicate marks it refunded and leaves the order alone.
    h.settled_status(&order).await;
    let state = h.order_state(&order.id).await;
    h.post_notice(Chargeback, &h.notice(Chargeback, &order, &second).await.sign(&key)).await.assert_text(200, &second);
    assert_eq!(h.order_state(&order.id).await, state);
    assert_eq!(h.active_entitlements(&order.id).await, 1);
    let refunded: i64 = sqlx::query_scalar("SELECT refunded FROM notices WHERE transaction_id = $1 AND kind = 'postback'")
        .bind(&second)
        .fetch_one(&h.db().pool)
        .await
        .unwrap();
    assert_eq!(refunded, 1);
});

on_every_store!(a29_database_locked, |h: Harness| async move {
    let (order, before) = pending(&h).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let txid = new_txid("webpay");
    let token = h.notice(Postback, &order, &txid).await.sign(&key);
    // Another connection holds the write lock for longer than the 300 ms busy/lock timeout.
    use sqlx::Connection as _;
    let mut blocker = sqlx::AnyConnection::connect(&h.db_url).await.unwrap();
    if h.is_postgres() {
        sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
        let schema = h.schema.clone().unwrap();
        sqlx::query(&format!("LOCK TABLE {schema}.notices IN ACCESS EXCLUSIVE MODE"))
            .execute(&mut blocker)
            .await
            .unwrap();
    } else {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut blocker).await.unwrap();
    }
    h.post_notice(Postback, &token).await.assert_text(503, "STORE_UNAVAILABLE");
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert_eq!(h.snapshot().await, before, "nothing committed while locked");
    // The provider's retry after recovery.
    h.post_notice(Postback, &token).await.assert_text(200, &txid);
    h.post_notice(Postback, &token).await.assert_text(200, &txid);
    assert_eq!(h.count("SELECT COUNT(*) FROM notices").await, 1);
    assert_eq!(h.entitlement_rows(&order.id).await, 1);
});

on_every_store!(a30_removed_secret, |h: Harness| async move {
    let (order, _) = pending(&h).await;
    // KEY2 is rotated out: a new app over the same database without it.
    let mut cfg = h.cfg.clone();
    cfg.keys.retain(|k| k.key != KEY2);
    let app = h.build_app(cfg).await;
    let mut claims = h.claims(&h.notice(Postback, &order, &new_txid("webpay")).await);
    claims["aud"] = json!(KEY2);
    let token = sign(&claims, SECRET2);
    let before = h.snapshot().await;
    send(&app.router, notice_request(&token)).await.assert_text(400, "INVALID_SIGNATURE");
    assert_eq!(h.snapshot().await, before);
    // While configured, the same token verifies (and then fails the key-of-order check).
    h.post_notice(Postback, &token).await.assert_text(409, "ORDER_MISMATCH");
});

fn notice_request(token: &str) -> Request<Body> {
    Request::post("/mozpay/postback")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("notice={}", mozmarket_core::pay::ids::form_urlencode(token))))
        .unwrap()
}

on_every_store!(concurrent_duplicate_deliveries_make_one_change, |h: Harness| async move {
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(h.buy("shiny-pony", None).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut txids = Vec::new();
    for order in &orders {
        let txid = new_txid("webpay");
        txids.push(txid.clone());
        let token = h.notice(Postback, order, &txid).await.sign(&key);
        // 8 concurrent deliveries of the same notice, half byte-identical, half re-signed.
        for i in 0..8 {
            let router = h.router.clone();
            let token = if i % 2 == 0 { token.clone() } else {
                let mut n = h.notice(Postback, order, &txid).await;
                n.iat += i;
                n.exp += i;
                n.sign(&key)
            };
            let txid = txid.clone();
            tasks.spawn(async move {
                send(&router, notice_request(&token)).await.assert_text(200, &txid);
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM notices").await, 4);
    assert_eq!(h.count("SELECT COUNT(*) FROM entitlements").await, 4);
    for (order, txid) in orders.iter().zip(&txids) {
        assert_eq!(h.settled_status(order).await["status"], "complete");
        assert_eq!(h.provider.issue_calls(txid), 1);
    }
});

on_every_store!(concurrent_postback_and_chargeback, |h: Harness| async move {
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let order = h.buy("magical-unicorn", None).await;
    let txid = new_txid("webpay");
    let pb = h.notice(Postback, &order, &txid).await.sign(&key);
    let cb = h.notice(Chargeback, &order, &txid).await.sign(&key);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let router = h.router.clone();
        let (kind, token) = if i % 2 == 0 { ("/mozpay/postback", pb.clone()) } else { ("/mozpay/chargeback", cb.clone()) };
        let txid = txid.clone();
        tasks.spawn(async move {
            let req = Request::post(kind)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("notice={token}")))
                .unwrap();
            send(&router, req).await.assert_text(200, &txid);
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    // Whatever the order of arrival, the chargeback wins.
    assert_eq!(h.order_state(&order.id).await, "refunded");
    assert_eq!(h.active_entitlements(&order.id).await, 0);
    assert_eq!(h.count("SELECT COUNT(*) FROM notices").await, 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.order_state(&order.id).await, "refunded");
    assert_eq!(h.status(&order).await["error"], "REFUNDED");
});

on_every_store!(simulated_and_free_transactions, |h: Harness| async move {
    // A simulated order needs a simulate: transaction and the echoed simulate object.
    let mut cfg = h.cfg.clone();
    cfg.simulate = Sim::Postback;
    let app = h.build_app(cfg).await;
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let r = send(&app.router, h.buy_req("shiny-pony", None, None)).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["simulated"], true);
    let order = Order { id: r.json()["orderId"].as_str().unwrap().into(), product: "shiny-pony".into(), buyer: r.cookie().unwrap(), jwt: String::new() };
    let txid = new_txid("simulate");
    let token = h.notice(Postback, &order, &txid).await.sign(&key);
    send(&app.router, notice_request(&token)).await.assert_text(200, &txid);
    // webpay: for a simulated order is a bad transaction ID.
    let token = h.notice(Postback, &order, &new_txid("webpay")).await.sign(&key);
    send(&app.router, notice_request(&token)).await.assert_text(400, "BAD_TRANSACTION_ID");
    // Free product: free: prefix.
    let free = h.buy("free-hat", None).await;
    let txid = new_txid("free");
    h.post_notice(Postback, &h.notice(Postback, &free, &txid).await.sign(&key)).await.assert_text(200, &txid);
});

on_every_store!(concurrent_postbacks_for_many_orders, |h: Harness| async move {
    // Many distinct orders at once: the writer applies them set-wise in one transaction. Mixed
    // in: rejections (unknown order, mismatching echo) that must leave no trace, and duplicates.
    let key = Hs256Key::from_secret(SECRET).unwrap();
    let mut orders = Vec::new();
    for _ in 0..40 {
        orders.push(h.buy("shiny-pony", None).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut expected = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let txid = new_txid("webpay");
        let notice = h.notice(Postback, order, &txid).await;
        let (token, status, body) = match i % 10 {
            3 => {
                let mut c = h.claims(&notice);
                c["request"]["productData"] = json!(format!("mm_order={}", uuid::Uuid::new_v4()));
                (sign(&c, SECRET), 409, "UNKNOWN_ORDER".to_owned())
            }
            7 => {
                let mut c = h.claims(&notice);
                c["request"]["id"] = json!("magical-unicorn");
                (sign(&c, SECRET), 409, "ORDER_MISMATCH".to_owned())
            }
            _ => (notice.sign(&key), 200, txid.clone()),
        };
        expected.push((order.clone(), status, txid.clone()));
        let router = h.router.clone();
        tasks.spawn(async move { send(&router, notice_request(&token)).await.assert_text(status, &body) });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let accepted: Vec<_> = expected.iter().filter(|(_, s, _)| *s == 200).collect();
    assert_eq!(h.count("SELECT COUNT(*) FROM notices").await, accepted.len() as i64);
    assert_eq!(h.count("SELECT COUNT(*) FROM entitlements").await, accepted.len() as i64);
    for (order, status, txid) in &expected {
        if *status == 200 {
            let tx: String = sqlx::query_scalar("SELECT transaction_id FROM orders WHERE id = $1")
                .bind(&order.id)
                .fetch_one(&h.db().pool)
                .await
                .unwrap();
            assert_eq!(&tx, txid);
        } else {
            assert_eq!(h.order_state(&order.id).await, "pending");
        }
    }
    // All of them again, concurrently: every accepted one is a duplicate now.
    let before_fetches = h.provider.total_issue_calls();
    let mut tasks = tokio::task::JoinSet::new();
    for (order, status, txid) in expected.iter().filter(|(_, s, _)| *s == 200) {
        let token = h.notice(Postback, order, txid).await.sign(&key);
        let router = h.router.clone();
        let (txid, _) = (txid.clone(), status);
        tasks.spawn(async move { send(&router, notice_request(&token)).await.assert_text(200, &txid) });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM notices").await, accepted.len() as i64);
    for (order, _, _) in &accepted {
        assert_eq!(h.settled_status(order).await["status"], "complete");
    }
    assert!(h.provider.total_issue_calls() <= before_fetches + accepted.len() as u32);
});
