//! Shared set-up of the market tests: a provider router on a real database (a fresh SQLite file,
//! and a fresh PostgreSQL schema when `MOZMARKET_TEST_POSTGRES_URL` is set), an app with keys
//! made through the developer JSON API, pay JWT builders and a scriptable notice receiver on
//! 127.0.0.1:0.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use mozmarket_core::hs256::{sign_hs256, Hs256Key};
use mozmarket_core::json::Json;
use mozmarket_server::market::{
    build_with, Clock, ManualClock, MarketConfig, MarketHandle, MarketOptions, NotifyConfig,
};
use serde_json::{json, Value};
use sqlx::Row as _;
use tower::ServiceExt as _;

pub const ADMIN: &str = "test-admin-token-0123456789abcdef";
pub const APP_ORIGIN: &str = "http://localhost:7801";
/// A fixed start time: 2026-01-01T00:00:00Z.
pub const T0_MS: i64 = 1_767_225_600_000;

/// Which databases to run on: SQLite always; PostgreSQL when configured.
pub fn backends() -> Vec<&'static str> {
    if std::env::var("MOZMARKET_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        vec!["sqlite", "postgres"]
    } else {
        // Written to the real stderr (not the test harness's capture), once per test binary.
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            use std::io::Write as _;
            let _ = std::io::stderr()
                .write_all(b"market tests: MOZMARKET_TEST_POSTGRES_URL is not set; PostgreSQL runs skipped (SQLite only)\n");
        });
        vec!["sqlite"]
    }
}

/// A fresh database of a backend: a new SQLite file, or a new schema in the PostgreSQL test
/// database.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub url: String,
    pub schema: Option<String>,
}

impl TestDb {
    /// Points the options at this database's schema.
    pub fn apply(&self, opts: &mut MarketOptions) {
        opts.db.schema = self.schema.clone();
    }
}

pub async fn fresh_db(backend: &str) -> TestDb {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        "postgres" => TestDb {
            url: std::env::var("MOZMARKET_TEST_POSTGRES_URL").unwrap(),
            schema: Some(format!("mm_test_{}", &id[..16])),
        },
        _ => {
            let dir = std::env::temp_dir().join(format!("mozmarket-market-test-{id}"));
            std::fs::create_dir_all(&dir).unwrap();
            TestDb { url: format!("sqlite://{}/market.db", dir.display()), schema: None }
        }
    }
}

/// Test options: a manual clock at [`T0_MS`], no worker unless asked, a fast schedule.
pub fn options(clock: Arc<dyn Clock>) -> MarketOptions {
    MarketOptions {
        clock,
        run_notifier: false,
        notify: NotifyConfig {
            base_ms: 30,
            factor: 2.0,
            jitter: 0.2,
            max_attempts: 7,
            connect_timeout_ms: 2000,
            total_timeout_ms: 2000,
            ..NotifyConfig::default()
        },
        ..MarketOptions::default()
    }
}

pub struct Env {
    pub router: Router,
    pub handle: MarketHandle,
    pub db: TestDb,
    pub app_id: i64,
    /// (key, secret)
    pub sim: (String, String),
    pub live: (String, String),
    pub notice_origin: String,
}

impl Env {
    pub fn domain(&self) -> String {
        self.handle.domain().to_owned()
    }

    pub fn sim_key(&self) -> Hs256Key {
        Hs256Key::from_secret(&self.sim.1).unwrap()
    }

    pub fn live_key(&self) -> Hs256Key {
        Hs256Key::from_secret(&self.live.1).unwrap()
    }

    pub async fn call(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp { status, headers, body }
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.call(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::get(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.call(b.body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&self, uri: &str, body: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.call(b.body(Body::from(body.to_owned())).unwrap()).await
    }

    pub async fn api(&self, method: &str, uri: &str, body: Option<Value>) -> Resp {
        let b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .header(header::CONTENT_TYPE, "application/json");
        let body = body.map(|v| Body::from(v.to_string())).unwrap_or_else(Body::empty);
        self.call(b.body(body).unwrap()).await
    }

    /// Opens the pay page for a JWT.
    pub async fn pay_page(&self, jwt: &str) -> Resp {
        self.get(&format!("/mozpay/?req={}", enc(jwt))).await
    }

    /// Number of rows in a provider table.
    pub async fn count(&self, table: &str) -> i64 {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&self.handle.db().pool)
            .await
            .unwrap();
        row.try_get::<i64, _>("n").unwrap()
    }

    /// Sets the global provider mode through the API.
    pub async fn set_mode(&self, body: Value) {
        let r = self.api("PUT", "/dev/api/settings", Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }

    /// A full purchase: pay page, confirm; returns the transaction ID.
    pub async fn buy(&self, jwt: &str) -> String {
        let page = self.pay_page(jwt).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let (checkout, csrf) = page.checkout();
        let cookie = page.set_cookie("mm_market_buyer");
        let mut headers = Vec::new();
        let c;
        if let Some(v) = cookie {
            c = format!("mm_market_buyer={v}");
            headers.push(("cookie", c.as_str()));
        }
        let r = self
            .post_form("/mozpay/pay", &format!("checkout={checkout}&csrf={csrf}&currency=USD&card=approve"), &headers)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("Payment complete."), "{}", r.text());
        self.last_transaction_id().await
    }

    pub async fn last_transaction_id(&self) -> String {
        let row = sqlx::query("SELECT transaction_id FROM transactions ORDER BY number DESC LIMIT 1")
            .fetch_one(&self.handle.db().pool)
            .await
            .unwrap();
        row.try_get::<String, _>("transaction_id").unwrap()
    }

    pub async fn notice_state(&self, tid: &str, kind: &str) -> (String, i64) {
        let row = sqlx::query(
            "SELECT n.state AS state, n.attempts AS attempts FROM notices n JOIN transactions t
             ON t.number = n.transaction_number WHERE t.transaction_id = $1 AND n.kind = $2",
        )
        .bind(tid)
        .bind(kind)
        .fetch_one(&self.handle.db().pool)
        .await
        .unwrap();
        (row.try_get("state").unwrap(), row.try_get("attempts").unwrap())
    }

    /// Outcomes of every attempt of a notice, in order.
    pub async fn outcomes(&self, tid: &str, kind: &str) -> Vec<String> {
        let rows = sqlx::query(
            "SELECT a.outcome AS outcome FROM notice_attempts a JOIN notices n ON n.id = a.notice_id
             JOIN transactions t ON t.number = n.transaction_number
             WHERE t.transaction_id = $1 AND n.kind = $2 ORDER BY a.id",
        )
        .bind(tid)
        .bind(kind)
        .fetch_all(&self.handle.db().pool)
        .await
        .unwrap();
        rows.iter().map(|r| r.try_get::<String, _>("outcome").unwrap()).collect()
    }

    /// Waits (real time, bounded) until the notice reaches one of `states`.
    pub async fn wait_notice(&self, tid: &str, kind: &str, states: &[&str]) -> (String, i64) {
        for _ in 0..400 {
            let s = self.notice_state(tid, kind).await;
            if states.contains(&s.0.as_str()) {
                return s;
            }
            self.handle.wake_notifier();
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("notice {kind} of {tid} never reached {states:?}: {:?}", self.notice_state(tid, kind).await);
    }

    /// A valid pay JWT for `key` with `request` members merged over the defaults.
    pub fn claims(&self, key: &str, now: i64, request: Value) -> Value {
        let mut req = json!({
            "id": "shiny-pony",
            "pricePoint": "5",
            "name": "Shiny Pony",
            "description": "A pony that shines in the dark.",
            "postbackURL": format!("{}/mozpay/postback", self.notice_origin),
            "chargebackURL": format!("{}/mozpay/chargeback", self.notice_origin),
            "productData": format!("mm_order={}", uuid::Uuid::new_v4()),
        });
        if let (Value::Object(base), Value::Object(extra)) = (&mut req, request) {
            for (k, v) in extra {
                if v.is_null() {
                    base.remove(&k);
                } else {
                    base.insert(k, v);
                }
            }
        }
        json!({
            "iss": key,
            "aud": self.domain(),
            "typ": "mozilla/payments/pay/v1",
            "iat": now,
            "exp": now + 3600,
            "request": req,
        })
    }

    /// A simulated purchase JWT (simulation key).
    pub fn sim_jwt(&self, now: i64, request: Value) -> String {
        let mut extra = json!({"simulate": {"result": "postback"}});
        if let (Value::Object(e), Value::Object(r)) = (&mut extra, request) {
            e.extend(r);
        }
        sign(&self.claims(&self.sim.0, now, extra), &self.sim_key())
    }

    /// A "live" purchase JWT (live key, no simulate).
    pub fn live_jwt(&self, now: i64, request: Value) -> String {
        sign(&self.claims(&self.live.0, now, request), &self.live_key())
    }
}

/// Signs claims (serde JSON) with HS256.
pub fn sign(claims: &Value, key: &Hs256Key) -> String {
    sign_hs256(&to_core(claims), key)
}

pub fn to_core(v: &Value) -> Json {
    mozmarket_core::json::parse(v.to_string().as_bytes()).unwrap()
}

pub fn enc(s: &str) -> String {
    mozmarket_core::pay::form_urlencode(s)
}

pub fn b64(s: &[u8]) -> String {
    mozmarket_core::b64::encode(s)
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or("").to_owned()))
    }

    /// The error code shown on an error screen.
    pub fn error_code(&self) -> Option<String> {
        let t = self.text();
        let start = t.find("data-code=\"")? + "data-code=\"".len();
        let end = t[start..].find('"')? + start;
        Some(t[start..end].to_owned())
    }

    fn hidden(&self, name: &str) -> String {
        let t = self.text();
        let marker = format!("name=\"{name}\" value=\"");
        let start = t.find(&marker).unwrap_or_else(|| panic!("no {name} in {t}")) + marker.len();
        let end = t[start..].find('"').unwrap() + start;
        t[start..end].to_owned()
    }

    /// (checkout id, CSRF token) of a confirm screen.
    pub fn checkout(&self) -> (String, String) {
        (self.hidden("checkout"), self.hidden("csrf"))
    }
}

/// Builds a provider with an app (app origin [`APP_ORIGIN`], notice origins as given, or the app
/// origin) and one simulation and one live key, made through the JSON API.
pub async fn setup_with(backend: &str, mut opts: MarketOptions, notice_origins: &[String]) -> Env {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("MOZMARKET_TEST_LOG").unwrap_or_else(|_| "warn".to_owned()),
        ))
        .try_init();
    let db = fresh_db(backend).await;
    db.apply(&mut opts);
    let mut cfg = MarketConfig::new("http://127.0.0.1:7802", db.url.clone());
    cfg.admin_token = Some(ADMIN.to_owned());
    let market = build_with(cfg, opts).await.unwrap();
    let mut env = Env {
        router: market.router,
        handle: market.handle,
        db,
        app_id: 0,
        sim: (String::new(), String::new()),
        live: (String::new(), String::new()),
        notice_origin: notice_origins.first().cloned().unwrap_or_else(|| APP_ORIGIN.to_owned()),
    };
    let notice: Vec<String> = if notice_origins.is_empty() { vec![APP_ORIGIN.to_owned()] } else { notice_origins.to_vec() };
    let r = env
        .api("POST", "/dev/api/apps", Some(json!({"name": "Test app", "origins": [APP_ORIGIN], "noticeOrigins": notice})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    env.app_id = r.json()["id"].as_i64().unwrap();
    for kind in ["simulation", "live"] {
        let r = env.api("POST", &format!("/dev/api/apps/{}/keys", env.app_id), Some(json!({"kind": kind}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let v = r.json();
        let pair = (v["key"].as_str().unwrap().to_owned(), v["secret"].as_str().unwrap().to_owned());
        if kind == "simulation" {
            env.sim = pair;
        } else {
            env.live = pair;
        }
    }
    env
}

/// A provider on a manual clock at [`T0_MS`] with no notice worker.
pub async fn setup_manual(backend: &str) -> (Env, Arc<ManualClock>) {
    let clock = ManualClock::new(T0_MS);
    let env = setup_with(backend, options(clock.clone()), &[]).await;
    (env, clock)
}

// ---------------------------------------------------------------------------------------------
// A scriptable notice receiver on 127.0.0.1:0

#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with exactly the transaction ID.
    Echo,
    /// 200 with the transaction ID and a newline.
    EchoNewline,
    /// 200 with another transaction ID.
    OtherId,
    /// 200 with an empty body.
    Empty,
    /// 200 with an HTML page.
    Html,
    /// A status and a body.
    Status(u16, &'static str),
    /// 302 to another URL.
    Redirect,
    /// Answers after this many ms.
    Sleep(u64),
    /// 200 with this body, `{tid}` replaced by the transaction ID.
    Body(&'static str),
    /// 200 with a body of this many bytes.
    Big(usize),
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub hits: Arc<AtomicUsize>,
    pub notices: Arc<Mutex<Vec<Value>>>,
    pub script: Arc<Mutex<VecDeque<Reply>>>,
    pub default: Arc<Mutex<Option<Reply>>>,
    pub origin: String,
    /// When set, notices whose HS256 signature does not verify with it get
    /// `400 INVALID_SIGNATURE`, as an app server would answer.
    pub secret: Arc<Mutex<Option<String>>>,
    /// `(user-agent, content-type)` of each request.
    pub headers: Arc<Mutex<Vec<(String, String)>>>,
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or("");
    let bytes = mozmarket_core::b64::decode_strict(payload).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut rx = Receiver { origin: format!("http://127.0.0.1:{}", addr.port()), ..Receiver::default() };
        *rx.default.lock().unwrap() = Some(Reply::Echo);
        let state = rx.clone();
        let app = Router::new().fallback(move |headers: axum::http::HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                state.headers.lock().unwrap().push((h(header::USER_AGENT), h(header::CONTENT_TYPE)));
                state.answer(&body).await
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        rx.origin = format!("http://127.0.0.1:{}", addr.port());
        rx
    }

    pub fn push(&self, replies: &[Reply]) {
        self.script.lock().unwrap().extend(replies.iter().cloned());
    }

    pub fn verify_with(&self, secret: &str) {
        *self.secret.lock().unwrap() = Some(secret.to_owned());
    }

    pub fn set_default(&self, r: Reply) {
        *self.default.lock().unwrap() = Some(r);
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn notices(&self) -> Vec<Value> {
        self.notices.lock().unwrap().clone()
    }

    async fn answer(&self, body: &[u8]) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        self.hits.fetch_add(1, Ordering::SeqCst);
        let form = mozmarket_core::pay::form_pairs(body);
        let token = form.iter().find(|(k, _)| k == "notice").map(|(_, v)| v.clone()).unwrap_or_default();
        let claims = claims_of(&token);
        let tid = claims["response"]["transactionID"].as_str().unwrap_or("").to_owned();
        self.notices.lock().unwrap().push(json!({"token": token, "claims": claims}));
        let secret = self.secret.lock().unwrap().clone();
        if let Some(secret) = secret {
            let key = Hs256Key::from_secret(&secret).unwrap();
            let ok = mozmarket_core::hs256::decode(&token, mozmarket_core::hs256::JwsAlg::Hs256, 16_384)
                .ok()
                .is_some_and(|j| j.verify_hs256(&key).is_ok());
            if !ok {
                return (StatusCode::BAD_REQUEST, "INVALID_SIGNATURE").into_response();
            }
        }
        let reply = self.script.lock().unwrap().pop_front().or_else(|| self.default.lock().unwrap().clone());
        let mut reply = reply.unwrap_or(Reply::Echo);
        if let Reply::Sleep(ms) = reply {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            reply = Reply::Echo;
        }
        match reply {
            Reply::Echo | Reply::Sleep(_) => (StatusCode::OK, tid).into_response(),
            Reply::EchoNewline => (StatusCode::OK, format!("{tid}\n")).into_response(),
            Reply::OtherId => (StatusCode::OK, "webpay:00000000-0000-4000-8000-000000000000").into_response(),
            Reply::Empty => (StatusCode::OK, "").into_response(),
            Reply::Html => (StatusCode::OK, "<html><body>Welcome <b>home</b></body></html>").into_response(),
            Reply::Status(s, b) => (StatusCode::from_u16(s).unwrap(), b).into_response(),
            Reply::Redirect => (StatusCode::FOUND, [(header::LOCATION, "http://127.0.0.1:9/elsewhere")], "").into_response(),
            Reply::Body(b) => (StatusCode::OK, b.replace("{tid}", &tid)).into_response(),
            Reply::Big(n) => (StatusCode::OK, "x".repeat(n)).into_response(),
        }
    }
}
