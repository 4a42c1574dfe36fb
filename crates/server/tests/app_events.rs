//! spec/payments.md §2.4: the status event stream, over a real listener on 127.0.0.1:0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod app_support;

use std::time::{Duration, Instant};

use app_support::*;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::pay::notice::NoticeKind::{Chargeback, Postback};

async fn listen(h: &Harness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = h.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Reads the stream to its end (bounded by 5 s), returning the text and how long it took.
async fn read_all(mut res: reqwest::Response) -> (String, Duration) {
    let start = Instant::now();
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(5), res.chunk()).await {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    (text, start.elapsed())
}

async fn fast_harness(store: Store) -> Harness {
    Harness::with(store, |cfg| {
        cfg.sse_keepalive = Duration::from_millis(150);
        cfg.sse_max = Duration::from_millis(900);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_push_changes_and_close_on_final() {
    for store in stores() {
        let h = fast_harness(store).await;
        let base = listen(&h).await;
        let order = h.buy("shiny-pony", None).await;
        let res = client()
            .get(format!("{base}/mozpay/status/{}/events", order.id))
            .header("cookie", format!("mm_buyer={}", order.buyer))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["x-accel-buffering"], "no");
        let mut res = res;
        let first = res.chunk().await.unwrap().unwrap();
        assert_eq!(std::str::from_utf8(&first).unwrap(), "retry: 2000\nevent: status\ndata: {\"status\":\"pending\"}\n\n");
        // The notice path pushes the change; nothing polls.
        let txid = new_txid("webpay");
        let token = h.notice(Postback, &order, &txid).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
        h.post_notice(Postback, &token).await.assert_text(200, &txid);
        let (rest, took) = read_all(res).await;
        assert!(took < Duration::from_millis(850), "closed right after the final event ({took:?})");
        let events: Vec<&str> = rest.split("\n\n").filter(|e| e.starts_with("event:")).collect();
        assert_eq!(events.len(), 1, "{rest}");
        let data = events[0].strip_prefix("event: status\ndata: ").unwrap();
        let j: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(j["status"], "complete");
        assert_eq!(j["transactionID"], txid.as_str());
        assert!(!data.contains('\n'));
        h.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_keep_alive_and_max_time() {
    for store in stores() {
        let h = fast_harness(store).await;
        let base = listen(&h).await;
        let order = h.buy("shiny-pony", None).await;
        let res = client()
            .get(format!("{base}/mozpay/status/{}/events", order.id))
            .header("cookie", format!("mm_buyer={}", order.buyer))
            .send()
            .await
            .unwrap();
        let (text, took) = read_all(res).await;
        assert!(took >= Duration::from_millis(800) && took < Duration::from_secs(3), "{took:?}");
        assert!(text.starts_with("retry: 2000\nevent: status\n"));
        assert!(text.matches(": keep-alive\n\n").count() >= 3, "{text}");
        assert_eq!(text.matches("event: status").count(), 1);
        h.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_for_a_final_order_send_one_event() {
    for store in stores() {
        let h = fast_harness(store).await;
        let base = listen(&h).await;
        let order = h.buy("shiny-pony", None).await;
        let txid = new_txid("webpay");
        let token = h.notice(Chargeback, &order, &txid).await.sign(&Hs256Key::from_secret(SECRET).unwrap());
        h.post_notice(Chargeback, &token).await.assert_text(200, &txid);
        let res = client()
            .get(format!("{base}/mozpay/status/{}/events", order.id))
            .header("cookie", format!("mm_buyer={}", order.buyer))
            .send()
            .await
            .unwrap();
        let (text, took) = read_all(res).await;
        assert!(took < Duration::from_millis(500));
        assert!(text.contains(r#"data: {"status":"failed","error":"REFUNDED""#), "{text}");
        h.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_guard_and_ownership() {
    for store in stores() {
        let h = fast_harness(store).await;
        let base = listen(&h).await;
        let order = h.buy("shiny-pony", None).await;
        let other = h.buy("shiny-pony", None).await;
        let url = format!("{base}/mozpay/status/{}/events", order.id);
        let r = client().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let r = client().get(&url).header("cookie", format!("mm_buyer={}", other.buyer)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.text().await.unwrap(), r#"{"error_code":"ORDER_NOT_FOUND","error":"No such order."}"#);
        let r = client()
            .get(&url)
            .header("cookie", format!("mm_buyer={}", order.buyer))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // No X-Mozmarket-Version needed (EventSource cannot send it).
        let r = client().get(&url).header("cookie", format!("mm_buyer={}", order.buyer)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        drop(r);
        h.cleanup().await;
    }
}
