//! Notice delivery: spec/payments.md §9.4 rows D01–D12, the exact transaction-ID reply rule, the
//! notice-origin allowlist (URLs outside it are never called) and the SSRF guard, against a real
//! database and a scriptable receiver on 127.0.0.1:0. The retry schedule is shortened through
//! `NotifyConfig`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod market_support;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use market_support::*;
use mozmarket_core::hs256::{decode, JwsAlg};
use mozmarket_server::market::{Clock, MarketOptions, OffsetClock, Resolver, RuleSet};
use serde_json::{json, Value};
use sqlx::Row as _;

/// A provider with a running notice worker whose app's notice origins are `origins`.
async fn env_with(backend: &str, origins: &[String], tweak: impl FnOnce(&mut MarketOptions)) -> (Env, Arc<OffsetClock>) {
    let clock = OffsetClock::new();
    let mut opts = options(clock.clone());
    opts.run_notifier = true;
    tweak(&mut opts);
    (setup_with(backend, opts, origins).await, clock)
}

fn now(clock: &OffsetClock) -> i64 {
    clock.now_secs()
}

async fn attempt_rows(env: &Env, tid: &str, kind: &str) -> Vec<(i64, i64, String)> {
    let rows = sqlx::query(
        "SELECT a.attempt AS attempt, a.started_ms AS started, a.outcome AS outcome FROM notice_attempts a
         JOIN notices n ON n.id = a.notice_id JOIN transactions t ON t.number = n.transaction_number
         WHERE t.transaction_id = $1 AND n.kind = $2 ORDER BY a.id",
    )
    .bind(tid)
    .bind(kind)
    .fetch_all(&env.handle.db().pool)
    .await
    .unwrap();
    rows.iter()
        .map(|r| (r.try_get("attempt").unwrap(), r.try_get("started").unwrap(), r.try_get("outcome").unwrap()))
        .collect()
}

async fn tx_state(env: &Env, tid: &str) -> String {
    env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json()["state"].as_str().unwrap().to_owned()
}

/// D01 (empty body), and the retry schedule: 7 attempts, waits growing by the factor with at
/// most ±20 % jitter, then `failed`; the transaction stays `completed`; the hub shows it.
#[tokio::test]
async fn d01_empty_body_retries_then_fails() {
    for backend in backends() {
        let rx = Receiver::start().await;
        rx.set_default(Reply::Empty);
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |_| {}).await;
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        let (state, attempts) = env.wait_notice(&tid, "postback", &["failed"]).await;
        assert_eq!((state.as_str(), attempts), ("failed", 7));
        let rows = attempt_rows(&env, &tid, "postback").await;
        assert_eq!(rows.len(), 7);
        assert!(rows.iter().all(|r| r.2 == "WRONG_BODY"), "{rows:?}");
        assert_eq!(rx.hits(), 7);
        // base 30 ms × 2^(n-1) × U(0.8, 1.2): each gap at least 0.8 × nominal.
        for n in 1..rows.len() {
            let gap = rows[n].1 - rows[n - 1].1;
            let nominal = 30.0 * 2f64.powi(i32::try_from(n).unwrap() - 1);
            assert!(gap as f64 >= 0.8 * nominal - 2.0, "gap {n}: {gap} ms < 0.8 × {nominal}");
        }
        assert_eq!(tx_state(&env, &tid).await, "completed");
        let d = env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json();
        assert_eq!(d["postback"]["state"], "failed");
        assert_eq!(d["postback"]["attempts"], 7);
        assert_eq!(d["lastOutcome"], "WRONG_BODY");
        // Nothing more happens after giving up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(rx.hits(), 7);
        // Resend starts a new series from attempt 1.
        rx.set_default(Reply::Echo);
        let r = env.api("POST", &format!("/dev/api/transactions/{tid}/notices/postback/resend"), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        let (state, attempts) = env.wait_notice(&tid, "postback", &["delivered"]).await;
        assert_eq!((state.as_str(), attempts), ("delivered", 1));
        assert_eq!(rx.hits(), 8);
        // A chargeback that was never created cannot be resent.
        let r = env.api("POST", &format!("/dev/api/transactions/{tid}/notices/chargeback/resend"), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

/// D02, D03, D04 and the exact reply rule: only 200 with the transaction ID (trimmed of ASCII
/// whitespace) delivers; anything else is retried.
#[tokio::test]
async fn d02_d03_d04_reply_rules() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |_| {}).await;
        let cases: Vec<(Vec<Reply>, Vec<&str>)> = vec![
            (vec![Reply::OtherId, Reply::Html, Reply::Echo], vec!["WRONG_BODY", "WRONG_BODY", "DELIVERED"]),
            (vec![Reply::EchoNewline], vec!["DELIVERED"]),
            (vec![Reply::Body(" \t{tid}\r\n")], vec!["DELIVERED"]),
            (vec![Reply::Body("{tid}x"), Reply::Body("ok {tid}"), Reply::Body("{tid}")], vec!["WRONG_BODY", "WRONG_BODY", "DELIVERED"]),
            (vec![Reply::Redirect, Reply::Echo], vec!["REDIRECT", "DELIVERED"]),
            (vec![Reply::Status(201, "{tid}"), Reply::Status(204, ""), Reply::Echo], vec!["HTTP_201", "HTTP_204", "DELIVERED"]),
            (vec![Reply::Big(2000), Reply::Echo], vec!["BODY_TOO_LARGE", "DELIVERED"]),
        ];
        for (i, (replies, expected)) in cases.into_iter().enumerate() {
            rx.push(&replies);
            let tid = env.buy(&env.sim_jwt(now(&clock), json!({"id": format!("case-{i}")}))).await;
            env.wait_notice(&tid, "postback", &["delivered", "failed"]).await;
            assert_eq!(env.outcomes(&tid, "postback").await, expected, "case {i}");
        }
        // The redirect target (127.0.0.1:9) was never followed: the receiver saw every attempt.
        assert_eq!(rx.hits(), 3 + 1 + 1 + 3 + 2 + 3 + 2);
        // What was sent: form body, User-Agent, the claims of §4.1.
        let (ua, ct) = rx.headers.lock().unwrap()[0].clone();
        assert!(ua.starts_with("mozmarket-notifier/"), "{ua}");
        assert_eq!(ct, "application/x-www-form-urlencoded");
        let claims = &rx.notices()[0]["claims"];
        assert_eq!(claims["iss"], env.domain());
        assert_eq!(claims["aud"], env.sim.0);
        assert_eq!(claims["typ"], "mozilla/payments/pay/postback/v1");
        assert_eq!(claims["exp"].as_i64().unwrap(), claims["iat"].as_i64().unwrap() + 3600);
        assert_eq!(claims["response"]["price"], json!({"amount": "1.99", "currency": "USD"}));
        assert_eq!(claims["request"]["id"], "case-0");
        assert!(claims["response"].get("reason").is_none());
    }
}

/// D05: no answer within the total time limit → TIMEOUT, retried.
#[tokio::test]
async fn d05_timeout() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |o| o.notify.total_timeout_ms = 300).await;
        rx.push(&[Reply::Sleep(900), Reply::Echo]);
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        env.wait_notice(&tid, "postback", &["delivered", "failed"]).await;
        assert_eq!(env.outcomes(&tid, "postback").await, vec!["TIMEOUT", "DELIVERED"]);
    }
}

/// D06: 500 once, then correct. Attempt 2 is re-signed: newer `iat`/`exp`, same transaction ID
/// and `request`, and both verify with the key's secret.
#[tokio::test]
async fn d06_resigned_on_retry() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |o| o.notify.base_ms = 1_000).await;
        rx.push(&[Reply::Status(500, "oops"), Reply::Echo]);
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({"futureMember": {"kept": true}}))).await;
        env.wait_notice(&tid, "postback", &["retry_wait"]).await;
        clock.advance_ms(5_000);
        env.wait_notice(&tid, "postback", &["delivered"]).await;
        assert_eq!(env.outcomes(&tid, "postback").await, vec!["HTTP_500", "DELIVERED"]);
        let n = rx.notices();
        assert_eq!(n.len(), 2);
        let (a, b) = (&n[0]["claims"], &n[1]["claims"]);
        assert!(b["iat"].as_i64().unwrap() > a["iat"].as_i64().unwrap());
        assert_eq!(b["exp"].as_i64().unwrap(), b["iat"].as_i64().unwrap() + 3600);
        assert_eq!(a["response"], b["response"]);
        assert_eq!(a["request"], b["request"]);
        assert_eq!(a["request"]["futureMember"], json!({"kept": true}), "unknown members are echoed");
        assert_ne!(n[0]["token"], n[1]["token"]);
        let key = env.sim_key();
        for t in &n {
            let jwt = decode(t["token"].as_str().unwrap(), JwsAlg::Hs256, 16_384).unwrap();
            assert!(jwt.verify_hs256(&key).is_ok());
        }
        // The hub shows the failed attempt's body as text.
        let d = env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json();
        assert_eq!(d["notices"][0]["history"][0]["body"], "oops");
        assert_eq!(d["notices"][0]["history"][0]["httpStatus"], 500);
    }
}

/// A resolver that maps test host names to fixed addresses (no DNS), and parses IP literals.
#[derive(Debug, Default)]
struct MapResolver {
    map: HashMap<String, Vec<std::net::IpAddr>>,
}

impl Resolver for MapResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            match self.map.get(bare) {
                Some(ips) => Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect()),
                None => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "unknown test host")),
            }
        })
    }
}

/// D07: a notice origin that resolves to a blocked address is refused without connecting: no
/// retry, notice `failed`. (The blocked addresses are never contacted: the guard runs before
/// any connection, and the resolver here is a table, not DNS.)
#[tokio::test]
async fn d07_ssrf_blocked_addresses() {
    for backend in backends() {
        let mut map = HashMap::new();
        map.insert("metadata.test".to_owned(), vec!["169.254.169.254".parse().unwrap()]);
        map.insert("mixed.test".to_owned(), vec!["127.0.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap()]);
        let origins = vec![
            "http://metadata.test:8080".to_owned(),
            "http://10.0.0.5:8080".to_owned(),
            "http://mixed.test:8080".to_owned(),
        ];
        let (env, clock) = env_with(backend, &origins, |o| o.resolver = Arc::new(MapResolver { map })).await;
        for (i, origin) in origins.iter().enumerate() {
            let jwt = env.sim_jwt(
                now(&clock),
                json!({"id": format!("ssrf-{i}"), "postbackURL": format!("{origin}/mozpay/postback")}),
            );
            let tid = env.buy(&jwt).await;
            let (state, attempts) = env.wait_notice(&tid, "postback", &["failed", "delivered"]).await;
            assert_eq!((state.as_str(), attempts), ("failed", 1), "{origin}: no retry");
            assert_eq!(env.outcomes(&tid, "postback").await, vec!["SSRF_BLOCKED"], "{origin}");
        }
    }
}

/// D08: strict mode refuses delivery to loopback addresses (unless `notify.allow_loopback`).
#[tokio::test]
async fn d08_strict_mode_blocks_loopback() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |o| o.rules = RuleSet::Strict).await;
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        env.wait_notice(&tid, "postback", &["failed"]).await;
        assert_eq!(env.outcomes(&tid, "postback").await, vec!["SSRF_BLOCKED"]);
        assert_eq!(rx.hits(), 0);
        // notify.allow_loopback lifts it.
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |o| {
            o.rules = RuleSet::Strict;
            o.notify.allow_loopback = Some(true);
        })
        .await;
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        env.wait_notice(&tid, "postback", &["delivered"]).await;
        assert_eq!(rx.hits(), 1);
    }
}

/// D09 and the allowlist: a postback URL outside the app's notice origins is refused at the pay
/// page, and an origin removed after validation is refused at delivery; neither listener is
/// ever called.
#[tokio::test]
async fn d09_allowlist_never_calls_outside_origins() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let outside = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |_| {}).await;
        // At validation (§4.5 rule 3): URL_NOT_ALLOWED, nothing created.
        for field in ["postbackURL", "chargebackURL"] {
            let jwt = env.sim_jwt(now(&clock), json!({ field: format!("{}/mozpay/postback", outside.origin) }));
            let r = env.pay_page(&jwt).await;
            assert_eq!(r.error_code().as_deref(), Some("URL_NOT_ALLOWED"), "{field}");
        }
        assert_eq!(env.count("checkouts").await, 0);
        // At delivery: the origin was removed between the pay page and the confirm.
        let jwt = env.sim_jwt(now(&clock), json!({"id": "removed"}));
        let page = env.pay_page(&jwt).await;
        let (c, csrf) = page.checkout();
        let r = env
            .api("PATCH", &format!("/dev/api/apps/{}", env.app_id), Some(json!({"noticeOrigins": [outside.origin]})))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = env.post_form("/mozpay/pay", &format!("checkout={c}&csrf={csrf}"), &[]).await;
        assert!(r.text().contains("Payment complete."));
        let tid = env.last_transaction_id().await;
        let (state, attempts) = env.wait_notice(&tid, "postback", &["failed", "delivered"]).await;
        assert_eq!((state.as_str(), attempts), ("failed", 1));
        assert_eq!(env.outcomes(&tid, "postback").await, vec!["SSRF_BLOCKED"]);
        // The hub's refund also targets the removed origin: blocked too.
        let r = env.api("POST", &format!("/dev/api/transactions/{tid}/refund"), Some(json!({"reason": "refund"}))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        env.wait_notice(&tid, "chargeback", &["failed"]).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(rx.hits(), 0, "the removed origin was never called");
        assert_eq!(outside.hits(), 0, "the unregistered origin was never called");
    }
}

/// D10: Refund pressed while the postback is in `retry_wait`: the chargeback waits until the
/// postback is delivered. Refund twice: `409 ALREADY_REFUNDED`, nothing changes.
#[tokio::test]
async fn d10_chargeback_waits_for_postback() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |o| o.notify.base_ms = 600).await;
        rx.push(&[Reply::Status(503, "busy")]);
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        env.wait_notice(&tid, "postback", &["retry_wait"]).await;
        let r = env.api("POST", &format!("/dev/api/transactions/{tid}/refund"), Some(json!({"reason": "refund"}))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        // While the postback waits, the chargeback is not attempted.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(env.notice_state(&tid, "chargeback").await.0, "queued");
        assert_eq!(rx.hits(), 1);
        env.wait_notice(&tid, "chargeback", &["delivered"]).await;
        let pb = attempt_rows(&env, &tid, "postback").await;
        let cb = attempt_rows(&env, &tid, "chargeback").await;
        assert_eq!(pb.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(), vec!["HTTP_503", "DELIVERED"]);
        assert_eq!(cb.len(), 1);
        assert!(cb[0].1 >= pb[1].1, "the chargeback started after the postback was delivered");
        let kinds: Vec<String> = rx.notices().iter().map(|n| n["claims"]["typ"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kinds.last().unwrap(), "mozilla/payments/pay/chargeback/v1");
        let cbc = &rx.notices()[2]["claims"];
        assert_eq!(cbc["response"]["reason"], "refund");
        assert_eq!(cbc["response"]["transactionID"], tid);
        assert_eq!(cbc["response"]["price"]["amount"], "1.99");
        assert_eq!(tx_state(&env, &tid).await, "refunded");
        let r = env.api("POST", &format!("/dev/api/transactions/{tid}/refund"), Some(json!({"reason": "reversal"}))).await;
        assert_eq!(r.status.as_u16(), 409);
        assert_eq!(r.json()["error_code"], "ALREADY_REFUNDED");
        assert_eq!(tx_state(&env, &tid).await, "refunded");
        assert_eq!(env.count("refunds").await, 1);
    }
}

/// D11: a restart during `retry_wait` resumes at the stored `next_attempt_at`.
#[tokio::test]
async fn d11_restart_resumes() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let clock = OffsetClock::new();
        let mut opts = options(clock.clone());
        opts.run_notifier = true;
        opts.notify.base_ms = 1_500;
        opts.notify.jitter = 0.0;
        let env = setup_with(backend, opts.clone(), std::slice::from_ref(&rx.origin)).await;
        rx.push(&[Reply::Status(500, "down")]);
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        env.wait_notice(&tid, "postback", &["retry_wait"]).await;
        env.handle.shutdown();
        let next: i64 = sqlx::query("SELECT next_attempt_at FROM notices")
            .fetch_one(&env.handle.db().pool)
            .await
            .unwrap()
            .try_get("next_attempt_at")
            .unwrap();
        // "Restart": a new provider on the same database.
        let mut cfg = mozmarket_server::market::MarketConfig::new("http://127.0.0.1:7802", env.db.url.clone());
        cfg.admin_token = Some(ADMIN.to_owned());
        let mut opts = opts;
        env.db.apply(&mut opts);
        let market = mozmarket_server::market::build_with(cfg, opts).await.unwrap();
        let env2 = Env { router: market.router, handle: market.handle, ..env };
        env2.wait_notice(&tid, "postback", &["delivered"]).await;
        let rows = attempt_rows(&env2, &tid, "postback").await;
        assert_eq!(rows.len(), 2);
        assert!(rows[1].1 >= next, "resumed at {} before next_attempt_at {next}", rows[1].1);
        assert_eq!(rx.hits(), 2);
        env2.handle.shutdown();
    }
}

/// D12: mode `corrupt_notices`: every attempt is refused by the receiver (400
/// INVALID_SIGNATURE) and the notice ends `failed`.
#[tokio::test]
async fn d12_corrupt_notices() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |o| o.notify.max_attempts = 4).await;
        rx.verify_with(&env.sim.1);
        env.set_mode(json!({"mode": "corrupt_notices"})).await;
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        let (state, attempts) = env.wait_notice(&tid, "postback", &["failed"]).await;
        assert_eq!((state.as_str(), attempts), ("failed", 4));
        assert_eq!(env.outcomes(&tid, "postback").await, vec!["HTTP_400"; 4]);
        let d = env.api("GET", &format!("/dev/api/transactions/{tid}"), None).await.json();
        assert_eq!(d["notices"][0]["history"][3]["body"], "INVALID_SIGNATURE");
        // Back to normal, Resend delivers a correctly signed notice.
        env.set_mode(json!({"mode": "normal"})).await;
        env.api("POST", &format!("/dev/api/transactions/{tid}/notices/postback/resend"), None).await;
        env.wait_notice(&tid, "postback", &["delivered"]).await;
    }
}

/// Mode `drop_notices`: the notice is created `dropped` and sent only on Resend. Connection
/// failures are CONNECT_ERROR. Notices of a revoked key's transactions are still signed with it.
#[tokio::test]
async fn dropped_connect_error_and_revoked_keys() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            drop(l);
            format!("http://127.0.0.1:{port}")
        };
        let (env, clock) = env_with(backend, &[rx.origin.clone(), closed.clone()], |o| o.notify.max_attempts = 2).await;
        rx.verify_with(&env.sim.1);
        env.set_mode(json!({"mode": "drop_notices"})).await;
        let tid = env.buy(&env.sim_jwt(now(&clock), json!({}))).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(env.notice_state(&tid, "postback").await, ("dropped".to_owned(), 0));
        assert_eq!(rx.hits(), 0);
        env.set_mode(json!({"mode": "normal"})).await;
        // The key is revoked meanwhile: the notice is still signed with its secret.
        let r = env.api("POST", &format!("/dev/api/keys/{}/revoke", env.sim.0), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = env.api("POST", &format!("/dev/api/transactions/{tid}/notices/postback/resend"), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        env.wait_notice(&tid, "postback", &["delivered"]).await;
        assert_eq!(rx.hits(), 1);
        // A closed port.
        let env_b = {
            let r = env
                .api("POST", &format!("/dev/api/apps/{}/keys", env.app_id), Some(json!({"kind": "simulation"})))
                .await
                .json();
            (r["key"].as_str().unwrap().to_owned(), r["secret"].as_str().unwrap().to_owned())
        };
        let claims = env.claims(
            &env_b.0,
            now(&clock),
            json!({"simulate": {"result": "postback"}, "postbackURL": format!("{closed}/mozpay/postback")}),
        );
        let jwt = sign(&claims, &mozmarket_core::hs256::Hs256Key::from_secret(&env_b.1).unwrap());
        let tid = env.buy(&jwt).await;
        env.wait_notice(&tid, "postback", &["failed"]).await;
        assert_eq!(env.outcomes(&tid, "postback").await, vec!["CONNECT_ERROR", "CONNECT_ERROR"]);
    }
}

/// A simulated chargeback purchase sends one chargeback with `simulate.reason` and no postback.
#[tokio::test]
async fn simulated_chargeback_sends_only_a_chargeback() {
    for backend in backends() {
        let rx = Receiver::start().await;
        let (env, clock) = env_with(backend, std::slice::from_ref(&rx.origin), |_| {}).await;
        let jwt = env.sim_jwt(now(&clock), json!({"simulate": {"result": "chargeback", "reason": "reversal"}}));
        let tid = env.buy(&jwt).await;
        env.wait_notice(&tid, "chargeback", &["delivered"]).await;
        let n = rx.notices();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0]["claims"]["typ"], "mozilla/payments/pay/chargeback/v1");
        assert_eq!(n[0]["claims"]["response"]["reason"], "reversal");
        assert!(tid.starts_with("simulate:"));
        assert_eq!(tx_state(&env, &tid).await, "reversed");
        let _: Value = env.api("GET", "/dev/api/transactions?state=reversed", None).await.json();
    }
}
