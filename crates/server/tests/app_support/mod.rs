//! Shared harness of the app-role integration tests: a real database (a fresh SQLite file, and a
//! fresh PostgreSQL schema when `MOZMARKET_TEST_POSTGRES_URL` is set), an injected clock, a fake
//! provider on 127.0.0.1:0, and helpers to sign notices and inspect every table.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use futures_util::StreamExt as _;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::pay::ids::{form_urlencode, single_form_field};
use mozmarket_core::pay::notice::{Notice, NoticeKind, NoticeResponse, Price};
use mozmarket_core::pay::request::ChargebackReason;
use mozmarket_core::Json;
use mozmarket_server::app::{self, AppConfig, AppState, KeyPair};
use mozmarket_server::db::{self, Backend, Db, OpenOptions, Role};
use sqlx::Row as _;
use tower::ServiceExt as _;

pub const KEY: &str = "8e6b1f9e-2f4a-4b8e-9d2c-5b1a7c3e9f10";
pub const SECRET: &str = "this-is-the-demo-app-secret-0123456789abcdef";
pub const KEY2: &str = "1c1b9f6e-7a41-4f0c-8d3e-2a9b6c5d4e3f";
pub const SECRET2: &str = "a-second-app-secret-for-rotation-tests-0123456789";
pub const OTHER_KEY: &str = "5d2f8a1b-3c4e-4a6b-9c8d-7e6f5a4b3c2d";
pub const OTHER_SECRET: &str = "someone-elses-secret-which-is-long-enough-000";
pub const APP_ORIGIN: &str = "http://localhost:7801";
pub const DOMAIN_PLACEHOLDER: &str = "provider";
/// 2026-01-01T00:00:00Z.
pub const T0_MS: i64 = 1_767_225_600_000;
pub const VERSION: &str = "0.1.0";

/// Which database a harness uses.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite,
    Postgres(String),
}

/// SQLite always; PostgreSQL too when `MOZMARKET_TEST_POSTGRES_URL` is set.
pub fn stores() -> Vec<Store> {
    let mut v = vec![Store::Sqlite];
    match std::env::var("MOZMARKET_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => v.push(Store::Postgres(url)),
        _ => {
            static ONCE: Once = Once::new();
            ONCE.call_once(|| {
                // Written to the real stderr (not libtest's captured output), so it shows.
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "NOTICE: MOZMARKET_TEST_POSTGRES_URL is not set: the app storage tests skip PostgreSQL and run on SQLite only"
                );
            });
        }
    }
    v
}

/// Runs a test body against every configured store.
#[macro_export]
macro_rules! on_every_store {
    ($name:ident, $body:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for store in app_support::stores() {
                let h = app_support::Harness::new(store.clone()).await;
                let f = $body;
                f(h.clone()).await;
                h.cleanup().await;
            }
        }
    };
}

/// What the fake provider does for receipt-issue calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueMode {
    Ok,
    /// `500` this many times, then ok.
    FailTimes(u32),
    /// `400 INVALID_JWT`.
    Refuse,
    /// `409 TRANS_REFUNDED`.
    Refunded,
    /// `201` declaring a 1 GB body, sending a few bytes, then stalling: a hostile provider.
    Huge,
}

/// The fake provider: catalogue and receipt issue.
pub struct FakeProvider {
    pub addr: SocketAddr,
    pub catalogue_up: AtomicBool,
    pub catalogue_calls: AtomicU16,
    pub issue_mode: Mutex<IssueMode>,
    pub issue_failures: Mutex<u32>,
    /// Successful and failed issue calls per transaction ID.
    pub issue_calls: Mutex<HashMap<String, u32>>,
    pub receipt_exp_s: AtomicI64,
    pub clock: Arc<AtomicI64>,
}

fn b64(s: &[u8]) -> String {
    mozmarket_core::b64::encode(s)
}

/// A receipt-shaped string `cert~jwt` whose receipt payload has `exp` (not really signed).
pub fn fake_receipt(txid: &str, exp_s: i64, n: u32) -> String {
    let cert = format!("{}.{}.c2ln", b64(br#"{"alg":"ES256"}"#), b64(br#"{"typ":"certified-key"}"#));
    let payload = format!(r#"{{"typ":"test-receipt","exp":{exp_s},"n":{n},"detail":"{txid}"}}"#);
    format!("{cert}~{}.{}.c2ln", b64(br#"{"alg":"ES256"}"#), b64(payload.as_bytes()))
}

async fn catalogue(State(p): State<Arc<FakeProvider>>) -> axum::response::Response {
    p.catalogue_calls.fetch_add(1, Ordering::SeqCst);
    if !p.catalogue_up.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let body = r#"{"objects": [
        {"guid": "shiny-pony", "name": "Shiny Pony", "description": "A shiny pony", "price_id": "5",
         "default_locale": "en", "locales": {}, "icons": {"64": "http://localhost:7801/img/pony-64.png"}, "active": true},
        {"guid": "magical-unicorn", "name": "Magical Unicorn", "description": "Adventure Game item", "price_id": 4,
         "default_locale": "en", "locales": {"de": {"name": "Magisches Einhorn", "description": "Adventure Game Artikel"}},
         "icons": {}, "active": true},
        {"guid": "free-hat", "name": "Free Hat", "description": "A hat", "price_id": "0", "default_locale": "en",
         "active": true},
        {"guid": "old-thing", "name": "Old", "description": "Retired", "price_id": "1", "default_locale": "en",
         "active": false}
    ]}"#;
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn issue(State(p): State<Arc<FakeProvider>>, body: axum::body::Bytes) -> axum::response::Response {
    let Some(token) = single_form_field(&body, "request") else {
        return (StatusCode::UNAUTHORIZED, r#"{"error_code":"INVALID_JWT"}"#).into_response();
    };
    let now_s = p.clock.load(Ordering::SeqCst) / 1000;
    let secret = Hs256Key::from_secret(SECRET).unwrap();
    let secret2 = Hs256Key::from_secret(SECRET2).unwrap();
    let req = mozmarket_core::pay::issue::verify_issue_jwt(
        &token,
        |iss| match iss {
            KEY => Some(&secret),
            KEY2 => Some(&secret2),
            _ => None,
        },
        &provider_domain(p.addr),
        now_s,
    );
    let Ok(req) = req else {
        return (StatusCode::UNAUTHORIZED, r#"{"error_code":"INVALID_JWT"}"#).into_response();
    };
    let n = {
        let mut calls = p.issue_calls.lock().unwrap();
        let c = calls.entry(req.transaction_id.clone()).or_default();
        *c += 1;
        *c
    };
    let mode = *p.issue_mode.lock().unwrap();
    let json = [(header::CONTENT_TYPE, "application/json")];
    match mode {
        IssueMode::Ok => {}
        IssueMode::FailTimes(k) => {
            let mut failed = p.issue_failures.lock().unwrap();
            if *failed < k {
                *failed += 1;
                return (StatusCode::INTERNAL_SERVER_ERROR, json, "{}").into_response();
            }
        }
        IssueMode::Refuse => {
            return (StatusCode::BAD_REQUEST, json, r#"{"error_code":"TRANS_NOT_COMPLETE"}"#).into_response()
        }
        IssueMode::Refunded => {
            return (StatusCode::CONFLICT, json, r#"{"error_code":"TRANS_REFUNDED"}"#).into_response()
        }
        IssueMode::Huge => {
            let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"{\"receipt\":\""))])
                .chain(futures_util::stream::pending());
            return (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/json"), (header::CONTENT_LENGTH, "1000000000")],
                axum::body::Body::from_stream(chunks),
            )
                .into_response();
        }
    }
    let exp = p.receipt_exp_s.load(Ordering::SeqCst);
    let exp = if exp == 0 { now_s + 15_724_800 } else { exp };
    let receipt = fake_receipt(&req.transaction_id, exp, n);
    let body = format!(r#"{{"receipt":"{receipt}","exp":{exp}}}"#);
    (StatusCode::CREATED, json, body).into_response()
}

pub fn provider_domain(addr: SocketAddr) -> String {
    format!("127.0.0.1:{}", addr.port())
}

impl FakeProvider {
    pub async fn start(clock: Arc<AtomicI64>) -> Arc<FakeProvider> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let p = Arc::new(FakeProvider {
            addr,
            catalogue_up: AtomicBool::new(true),
            catalogue_calls: AtomicU16::new(0),
            issue_mode: Mutex::new(IssueMode::Ok),
            issue_failures: Mutex::new(0),
            issue_calls: Mutex::new(HashMap::new()),
            receipt_exp_s: AtomicI64::new(0),
            clock,
        });
        let router = Router::new()
            .route("/api/v1/apps/{key}/products", get(catalogue))
            .route("/api/v1/receipts/inapp/", post(issue))
            .with_state(p.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        p
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    pub fn issue_calls(&self, txid: &str) -> u32 {
        self.issue_calls.lock().unwrap().get(txid).copied().unwrap_or(0)
    }

    pub fn total_issue_calls(&self) -> u32 {
        self.issue_calls.lock().unwrap().values().sum()
    }
}

/// One app role on a fresh database.
#[derive(Clone)]
pub struct Harness {
    pub store: Store,
    pub db_url: String,
    pub schema: Option<String>,
    pub dir: Option<std::path::PathBuf>,
    pub clock: Arc<AtomicI64>,
    pub provider: Arc<FakeProvider>,
    pub state: AppState,
    pub router: Router,
    pub cfg: AppConfig,
}

pub fn test_config(provider: &FakeProvider) -> AppConfig {
    let keys = vec![
        KeyPair { key: KEY.into(), secret: SECRET.into() },
        KeyPair { key: KEY2.into(), secret: SECRET2.into() },
    ];
    let mut cfg = AppConfig::new(APP_ORIGIN, &provider.origin(), keys, KEY);
    cfg.allowed_origins = vec!["http://widget.test:8000".into()];
    cfg.receipt_retry_delays = [0, 40, 40, 40, 40].into_iter().map(Duration::from_millis).collect();
    cfg.provider_timeout = Duration::from_secs(2);
    cfg.sweep_interval = Duration::from_secs(3600);
    cfg
}

impl Harness {
    pub async fn new(store: Store) -> Harness {
        Self::with(store, |_| {}).await
    }

    pub async fn with(store: Store, tweak: impl FnOnce(&mut AppConfig)) -> Harness {
        let clock = Arc::new(AtomicI64::new(T0_MS));
        let provider = FakeProvider::start(clock.clone()).await;
        let mut cfg = test_config(&provider);
        tweak(&mut cfg);
        let (db_url, schema, dir) = match &store {
            Store::Sqlite => {
                let dir = std::env::temp_dir().join(format!("mozmarket-app-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).unwrap();
                (format!("sqlite://{}", dir.join("app.sqlite").display()), None, Some(dir))
            }
            Store::Postgres(url) => {
                let schema = format!("mm_test_{}", uuid::Uuid::new_v4().simple());
                (url.clone(), Some(schema), None)
            }
        };
        let built = build_app(&db_url, schema.as_deref(), &clock, cfg.clone()).await;
        Harness { store, db_url, schema, dir, clock, provider, state: built.state, router: built.router, cfg }
    }

    /// Builds another app role over the same database (e.g. with other keys).
    pub async fn build_app(&self, cfg: AppConfig) -> app::App {
        build_app(&self.db_url, self.schema.as_deref(), &self.clock, cfg).await
    }

    pub async fn cleanup(&self) {
        self.state.db().pool.close().await;
        if let (Store::Postgres(url), Some(schema)) = (&self.store, &self.schema) {
            db::drop_schema(url, schema).await.unwrap();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    pub fn db(&self) -> &Db {
        self.state.db()
    }

    pub fn is_postgres(&self) -> bool {
        self.db().backend == Backend::Postgres
    }

    pub fn domain(&self) -> String {
        provider_domain(self.provider.addr)
    }

    pub fn now_s(&self) -> i64 {
        self.clock.load(Ordering::SeqCst) / 1000
    }

    pub fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        send(&self.router, req).await
    }

    // ---- browser side

    pub fn get(&self, path: &str, cookie: Option<&str>) -> Request<Body> {
        let mut b = Request::get(path).header("x-mozmarket-version", VERSION);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("mm_buyer={c}"));
        }
        b.body(Body::empty()).unwrap()
    }

    pub fn buy_req(&self, product: &str, cookie: Option<&str>, key: Option<&str>) -> Request<Body> {
        let mut b = Request::post(format!("/mozpay/product/{product}/buy"))
            .header("x-mozmarket-version", VERSION)
            .header("accept", "application/json")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("mm_buyer={c}"));
        }
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        b.body(Body::from("{}")).unwrap()
    }

    /// Buys `product` as `cookie` (or a new buyer); asserts success; returns the order.
    pub async fn buy(&self, product: &str, cookie: Option<&str>) -> Order {
        let r = self.send(self.buy_req(product, cookie, None)).await;
        assert_eq!(r.status, 201, "buy failed: {}", r.text());
        let buyer = r.cookie().or(cookie.map(str::to_owned)).unwrap();
        let j = r.json();
        Order {
            id: j["orderId"].as_str().unwrap().to_owned(),
            product: product.to_owned(),
            buyer,
            jwt: j["jwt"].as_str().unwrap().to_owned(),
        }
    }

    /// The stored `request` object of an order.
    pub async fn request_of(&self, order: &str) -> Json {
        let row = sqlx::query("SELECT request_json FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(&self.db().pool)
            .await
            .unwrap();
        let text: String = row.try_get(0).unwrap();
        mozmarket_core::json::parse(text.as_bytes()).unwrap()
    }

    pub async fn status(&self, order: &Order) -> serde_json::Value {
        let r = self.send(self.get(&format!("/mozpay/status/{}", order.id), Some(&order.buyer))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// Polls the status until it is not `pending` (or 5 s pass).
    pub async fn settled_status(&self, order: &Order) -> serde_json::Value {
        for _ in 0..250 {
            let s = self.status(order).await;
            if s["status"] != "pending" {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.status(order).await
    }

    // ---- notices

    /// A valid notice for `order` with a fresh transaction ID.
    pub async fn notice(&self, kind: NoticeKind, order: &Order, txid: &str) -> Notice {
        let request = self.request_of(&order.id).await;
        let reason = (kind == NoticeKind::Chargeback).then_some(ChargebackReason::Refund);
        Notice::new(
            kind,
            &self.domain(),
            KEY,
            self.now_s(),
            request,
            NoticeResponse {
                transaction_id: txid.to_owned(),
                price: Some(Price { amount: "1.99".into(), currency: "USD".into() }),
                reason,
            },
        )
    }

    /// The claims of `notice` as a mutable JSON tree (for building defective tokens).
    pub fn claims(&self, notice: &Notice) -> serde_json::Value {
        serde_json::from_str(&notice.to_claims_json().to_json_text()).unwrap()
    }

    pub async fn post_notice(&self, kind: NoticeKind, token: &str) -> Resp {
        let path = match kind {
            NoticeKind::Postback => "/mozpay/postback",
            NoticeKind::Chargeback => "/mozpay/chargeback",
        };
        self.post_form(path, format!("notice={}", form_urlencode(token))).await
    }

    pub async fn post_form(&self, path: &str, body: String) -> Resp {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    // ---- database inspection

    /// Every row of every app table, as text: equal snapshots mean nothing was persisted.
    pub async fn snapshot(&self) -> Vec<String> {
        let queries = [
            "SELECT 'buyer', id, CAST(created_ms AS TEXT) FROM buyers ORDER BY id",
            "SELECT 'order', id || '|' || state || '|' || COALESCE(transaction_id, '-') || '|' || \
             CAST(receipt_unavailable AS TEXT) || '|' || CAST(updated_ms AS TEXT) || '|' || \
             COALESCE(idempotency_key, '-'), '' FROM orders ORDER BY id",
            "SELECT 'notice', transaction_id || '|' || kind || '|' || order_id || '|' || effect || '|' || \
             COALESCE(reason, '-') || '|' || CAST(refunded AS TEXT), '' FROM notices ORDER BY transaction_id, kind",
            "SELECT 'entitlement', order_id || '|' || COALESCE(CAST(revoked_ms AS TEXT), '-'), '' \
             FROM entitlements ORDER BY order_id",
            "SELECT 'receipt', order_id || '|' || CAST(revoked AS TEXT) || '|' || receipt, '' \
             FROM receipts ORDER BY order_id",
        ];
        let mut out = Vec::new();
        for q in queries {
            for row in sqlx::query(q).fetch_all(&self.db().pool).await.unwrap() {
                let a: String = row.try_get(0).unwrap();
                let b: String = row.try_get(1).unwrap();
                let c: String = row.try_get(2).unwrap();
                out.push(format!("{a}:{b}:{c}"));
            }
        }
        out
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(&self.db().pool).await.unwrap().try_get(0).unwrap()
    }

    pub async fn order_state(&self, order: &str) -> String {
        sqlx::query("SELECT state FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(&self.db().pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    pub async fn notices_of(&self, order: &str) -> Vec<(String, String, String)> {
        sqlx::query("SELECT transaction_id, kind, effect FROM notices WHERE order_id = $1 ORDER BY received_ms, kind")
            .bind(order)
            .fetch_all(&self.db().pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap(), r.try_get(2).unwrap()))
            .collect()
    }

    pub async fn active_entitlements(&self, order: &str) -> i64 {
        sqlx::query("SELECT COUNT(*) FROM entitlements WHERE order_id = $1 AND revoked_ms IS NULL")
            .bind(order)
            .fetch_one(&self.db().pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    pub async fn entitlement_rows(&self, order: &str) -> i64 {
        sqlx::query("SELECT COUNT(*) FROM entitlements WHERE order_id = $1")
            .bind(order)
            .fetch_one(&self.db().pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }
}

/// Opens the test database (a new pool each time; busy/lock timeout 300 ms) and builds an app.
pub async fn build_app(url: &str, schema: Option<&str>, clock: &Arc<AtomicI64>, cfg: AppConfig) -> app::App {
    let opts = OpenOptions { busy_timeout_ms: 300, max_connections: Some(6), schema: schema.map(str::to_owned) };
    let db = db::open_with(url, Role::App, opts).await.unwrap();
    let clock = clock.clone();
    app::build(cfg, db, Arc::new(move || clock.load(Ordering::SeqCst))).await.unwrap()
}

/// An order created through the buy endpoint.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub product: String,
    pub buyer: String,
    pub jwt: String,
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }
    /// The `mm_buyer` value set by this response.
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("mm_buyer="))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }
    /// Asserts a plain-text notice answer.
    pub fn assert_text(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.text().as_str()), (status, body));
        assert_eq!(self.header("content-type").as_deref(), Some("text/plain; charset=utf-8"));
    }
    /// Asserts a JSON error answer.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(self.json()["error_code"], code, "body: {}", self.text());
        assert!(self.json()["error"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(self.header("content-type").as_deref(), Some("application/json"));
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Resp {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 1 << 24).await.unwrap().to_vec();
    Resp { status, headers, body }
}

/// Signs arbitrary claims (serde JSON) with HS256 and `secret`, with a given header text.
pub fn sign_raw(header_json: &str, claims: &serde_json::Value, secret: &str) -> String {
    let input = format!("{}.{}", b64(header_json.as_bytes()), b64(claims.to_string().as_bytes()));
    let tag = Hs256Key::from_secret(secret).unwrap().tag(input.as_bytes());
    format!("{input}.{}", b64(&tag))
}

/// Signs claims with the standard header.
pub fn sign(claims: &serde_json::Value, secret: &str) -> String {
    sign_raw(r#"{"alg":"HS256","typ":"JWT"}"#, claims, secret)
}

pub fn new_txid(prefix: &str) -> String {
    format!("{prefix}:{}", uuid::Uuid::new_v4())
}

pub fn set_mode(p: &FakeProvider, mode: IssueMode) {
    *p.issue_mode.lock().unwrap() = mode;
}

#[allow(unused_imports)]
pub use mozmarket_server::app::SimulateMode as Sim;
