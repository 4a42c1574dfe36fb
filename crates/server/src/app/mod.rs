//! The app server role (spec/payments.md §2): buy, status and status events, the notice
//! receivers, receipts / restore / entitlements, and the demo web app.
//!
//! Every write goes through one writer task ([`store`]) that batches whatever is waiting into a
//! single database transaction (group commit), answers each caller only after that transaction
//! committed, and then announces the changed orders on a broadcast channel that the status event
//! streams listen to. Reads go straight to the pool.

mod buy;
mod catalogue;
mod error;
mod guard;
mod notice;
mod provider;
mod receipts;
mod status;
pub mod store;
mod web;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::routing::{get, post};
use axum::Router;
use mozmarket_core::hs256::Hs256Key;
use mozmarket_core::pay::notice::AppSecret;
use mozmarket_core::pay::request::{ChargebackReason, Simulate};
use tokio::sync::broadcast;

use crate::db::Db;

pub use catalogue::Product;

/// `app.simulate` (§2.2): whether and how the app server adds `request.simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulateMode {
    /// No `simulate` member (the default).
    None,
    /// `{"result":"postback"}`.
    Postback,
    /// `{"result":"chargeback","reason":"refund"}`.
    ChargebackRefund,
    /// `{"result":"chargeback","reason":"reversal"}`.
    ChargebackReversal,
}

impl SimulateMode {
    /// Parses the configuration value: `none`, `postback`, `chargeback-refund`,
    /// `chargeback-reversal`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(SimulateMode::None),
            "postback" => Some(SimulateMode::Postback),
            "chargeback-refund" => Some(SimulateMode::ChargebackRefund),
            "chargeback-reversal" => Some(SimulateMode::ChargebackReversal),
            _ => None,
        }
    }

    fn to_simulate(self) -> Option<Simulate> {
        match self {
            SimulateMode::None => None,
            SimulateMode::Postback => Some(Simulate::postback()),
            SimulateMode::ChargebackRefund => Some(Simulate::chargeback(ChargebackReason::Refund)),
            SimulateMode::ChargebackReversal => {
                Some(Simulate::chargeback(ChargebackReason::Reversal))
            }
        }
    }
}

/// One `{key, secret}` pair of `app.keys`. `Debug` never shows the secret.
#[derive(Clone)]
pub struct KeyPair {
    /// The app key (public).
    pub key: String,
    /// The app secret (at least 32 bytes).
    pub secret: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair {{ key: {:?}, secret: <redacted> }}", self.key)
    }
}

/// What the demo page needs besides the catalogue (§8.9).
#[derive(Debug, Clone, Default)]
pub struct DemoPage {
    /// The provider's receipt root keys as a JWKS JSON text (the verifier's `trustedKeys`).
    pub root_jwks: Option<String>,
}

/// Configuration of the app role. [`AppConfig::new`] fills in the §10 defaults.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The app origin, e.g. `http://localhost:7801` (§1.1).
    pub public_origin: String,
    /// `app.allowed_origins`: other origins that may call the browser endpoints (with CORS).
    pub allowed_origins: Vec<String>,
    /// `app.path_prefix`, default `/mozpay`.
    pub path_prefix: String,
    /// The provider origin, e.g. `http://127.0.0.1:7802`.
    pub provider_origin: String,
    /// The provider domain (`aud` of pay JWTs, `iss` of notices), e.g. `127.0.0.1:7802`.
    pub provider_domain: String,
    /// `app.keys`: every accepted `{key, secret}` pair.
    pub keys: Vec<KeyPair>,
    /// `app.signing_key`: the key pay JWTs are signed with (one of `keys`).
    pub signing_key: String,
    /// `app.simulate`.
    pub simulate: SimulateMode,
    /// `app.sse`: offer the status event stream (default true).
    pub sse: bool,
    /// SSE keep-alive comment interval (15 s).
    pub sse_keepalive: Duration,
    /// Maximum SSE stream time (60 s).
    pub sse_max: Duration,
    /// `SameSite=None; Secure` on `mm_buyer`, for a widget on another site.
    pub cookie_cross_site: bool,
    /// Fetch receipts after a postback (default true). Only the load benchmark turns it off.
    pub receipt_fetch: bool,
    /// Waits before each receipt-issue attempt: 0, 1, 2, 4, 8 s (§2.8).
    pub receipt_retry_delays: Vec<Duration>,
    /// Timeout of every call to the provider (5 s).
    pub provider_timeout: Duration,
    /// Catalogue cache freshness (60 s).
    pub catalogue_ttl: Duration,
    /// How long a stale catalogue stays usable while the provider is unreachable (24 h).
    pub catalogue_stale: Duration,
    /// Pending orders allowed per buyer (20).
    pub max_pending: i64,
    /// Age at which a pending order is abandoned (24 h).
    pub abandon_after: Duration,
    /// How often the abandon sweep runs (60 s).
    pub sweep_interval: Duration,
    /// Most jobs committed in one transaction.
    pub write_batch_max: usize,
    /// Directory holding `index.html`, `www/` and `pkg/` for the demo web app; `None` serves
    /// no pages.
    pub web_root: Option<PathBuf>,
    /// Demo page data.
    pub demo: DemoPage,
}

impl AppConfig {
    /// A configuration with the §10 defaults.
    pub fn new(
        public_origin: &str,
        provider_origin: &str,
        keys: Vec<KeyPair>,
        signing_key: &str,
    ) -> Self {
        AppConfig {
            public_origin: public_origin.trim_end_matches('/').to_owned(),
            allowed_origins: Vec::new(),
            path_prefix: "/mozpay".to_owned(),
            provider_origin: provider_origin.trim_end_matches('/').to_owned(),
            provider_domain: provider_domain_of(provider_origin).unwrap_or_default(),
            keys,
            signing_key: signing_key.to_owned(),
            simulate: SimulateMode::None,
            sse: true,
            sse_keepalive: Duration::from_secs(15),
            sse_max: Duration::from_secs(60),
            cookie_cross_site: false,
            receipt_fetch: true,
            receipt_retry_delays: [0, 1, 2, 4, 8].into_iter().map(Duration::from_secs).collect(),
            provider_timeout: Duration::from_secs(5),
            catalogue_ttl: Duration::from_secs(60),
            catalogue_stale: Duration::from_secs(24 * 3600),
            max_pending: 20,
            abandon_after: Duration::from_secs(24 * 3600),
            sweep_interval: Duration::from_secs(60),
            write_batch_max: 512,
            web_root: None,
            demo: DemoPage::default(),
        }
    }
}

/// The provider domain of an origin (§1.1 rule 3): the host, plus `:port` unless it is the
/// scheme's default; no scheme. `None` for something that is not an `http(s)` origin.
pub fn provider_domain_of(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// The clock: milliseconds since the Unix epoch. Tests inject their own.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    })
}

/// The shared state of the app role.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

#[doc(hidden)]
pub struct Inner {
    pub(crate) cfg: AppConfig,
    pub(crate) secrets: Vec<AppSecret>,
    pub(crate) db: Db,
    pub(crate) writer: store::Writer,
    pub(crate) clock: Clock,
    pub(crate) events: broadcast::Sender<Arc<str>>,
    pub(crate) catalogue: catalogue::Catalogue,
    pub(crate) http: reqwest::Client,
    /// Orders with a receipt fetch under way (one at a time per order).
    pub(crate) fetching: std::sync::Mutex<HashSet<String>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Now, in milliseconds.
    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    /// Now, in whole seconds (NumericDate).
    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The writer's counters (batches, ops, time applying and committing).
    pub fn writer_stats(&self) -> &store::WriterStats {
        self.writer.stats()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Runs the 24 h sweep once (§2.7): pending orders older than `abandon_after` become
    /// `abandoned`. Returns how many changed.
    pub async fn sweep_now(&self) -> anyhow::Result<u64> {
        let abandon_ms = i64::try_from(self.cfg.abandon_after.as_millis()).unwrap_or(i64::MAX);
        let cutoff_ms = self.now_ms().saturating_sub(abandon_ms);
        match self.writer.run(store::Op::Sweep { cutoff_ms, now_ms: self.now_ms() }).await {
            Ok(store::OpResult::Swept(n)) => Ok(n),
            Ok(_) => anyhow::bail!("unexpected writer answer"),
            Err(e) => anyhow::bail!("sweep failed: {e:?}"),
        }
    }

    fn secret_of(&self, key: &str) -> Option<&Hs256Key> {
        self.secrets.iter().find(|s| s.key == key).map(|s| &s.secret)
    }
}

/// The app role: its router and its state.
pub struct App {
    /// The app server's routes.
    pub router: Router,
    /// Its shared state (for tests and tools).
    pub state: AppState,
}

/// Checks the configuration, starts the writer and the sweep, and builds the router.
pub async fn build(cfg: AppConfig, db: Db, clock: Clock) -> anyhow::Result<App> {
    anyhow::ensure!(
        cfg.path_prefix.starts_with('/') && !cfg.path_prefix.ends_with('/'),
        "app.path_prefix must start with '/' and not end with '/'"
    );
    anyhow::ensure!(!cfg.provider_domain.is_empty(), "the provider domain is empty");
    anyhow::ensure!(!cfg.keys.is_empty(), "app.keys is empty");
    // Event streams need a real keep-alive period and a bounded lifetime (§2.4); either out of
    // range would stop a stream from starting (a zero interval, an instant past the clock's range).
    anyhow::ensure!(
        !cfg.sse_keepalive.is_zero() && cfg.sse_keepalive <= Duration::from_secs(3600),
        "app.sse_keepalive must be between 1 ms and 1 h"
    );
    anyhow::ensure!(
        !cfg.sse_max.is_zero() && cfg.sse_max <= Duration::from_secs(24 * 3600),
        "app.sse_max must be between 1 ms and 24 h"
    );
    let mut secrets = Vec::with_capacity(cfg.keys.len());
    for pair in &cfg.keys {
        let secret = Hs256Key::from_secret(&pair.secret)
            .with_context(|| format!("the secret of app key {}", pair.key))?;
        secrets.push(AppSecret { key: pair.key.clone(), secret });
    }
    anyhow::ensure!(
        secrets.iter().any(|s| s.key == cfg.signing_key),
        "app.signing_key is not one of app.keys"
    );
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.provider_timeout)
        .connect_timeout(cfg.provider_timeout)
        .user_agent(concat!("mozmarket-app/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let (events, _) = broadcast::channel(1024);
    let writer = store::Writer::spawn(db.clone(), events.clone(), cfg.write_batch_max.max(1));
    let state = AppState(Arc::new(Inner {
        catalogue: catalogue::Catalogue::default(),
        cfg,
        secrets,
        db,
        writer,
        clock,
        events,
        http,
        fetching: std::sync::Mutex::new(HashSet::new()),
    }));
    spawn_sweep(state.clone());
    let router = router(state.clone());
    Ok(App { router, state })
}

fn spawn_sweep(state: AppState) {
    let weak = Arc::downgrade(&state.0);
    let every = state.cfg.sweep_interval.max(Duration::from_secs(1));
    drop(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else { break };
            if let Err(e) = AppState(inner).sweep_now().await {
                tracing::warn!(error = %e, "order sweep failed");
            }
        }
    });
}

fn router(state: AppState) -> Router {
    let p = state.cfg.path_prefix.clone();
    let browser = Router::new()
        .route(&format!("{p}/product/{{id}}/buy"), post(buy::buy).fallback(error::method_not_allowed_post))
        .route(&format!("{p}/status/{{order_id}}"), get(status::status).fallback(error::method_not_allowed_get))
        .route(
            &format!("{p}/status/{{order_id}}/events"),
            get(status::events).fallback(error::method_not_allowed_get),
        )
        .route(&format!("{p}/receipts"), get(receipts::list).fallback(error::method_not_allowed_get))
        .route(
            &format!("{p}/product/{{id}}/receipt"),
            get(receipts::one).fallback(error::method_not_allowed_get),
        )
        .route(
            &format!("{p}/entitlements"),
            get(receipts::entitlements).fallback(error::method_not_allowed_get),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::browser_layer));
    let notices = Router::new()
        .route(&format!("{p}/postback"), post(notice::postback).fallback(notice::method_not_allowed))
        .route(&format!("{p}/chargeback"), post(notice::chargeback).fallback(notice::method_not_allowed));
    let mut app = Router::new().merge(browser).merge(notices);
    if state.cfg.web_root.is_some() {
        app = app.merge(web::routes(&state));
    }
    app.with_state(state)
}
