//! The provider role: simulated marketplace and payment provider (spec/payments.md §3–§6, §8).
//!
//! OWNER: the market engineer. The app role and `main.rs` use only [`MarketConfig`], [`DemoApp`]
//! and [`build`] (and, for the optional knobs, [`MarketOptions`] with [`build_with`]).
//!
//! Layout:
//! - [`clock`]: the injectable clock;
//! - `store`: the provider's tables (§8.8) behind typed queries;
//! - `pay`: the pay page, confirm and cancel (§3.4, §5.3, §5.4);
//! - `notify`: the notice queue and its delivery worker with the SSRF guard (§4);
//! - `signing`: root and ephemeral receipt keys, certificates, receipt signing (§6.3);
//! - `receipts`: the issue API, key publication, verify, reissue and detail pages (§6);
//! - `hub`, `api`: the developer hub pages and its JSON API (§8);
//! - `demo`: the local demo bootstrap (§8.9).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context as _;

mod api;
pub mod clock;
mod demo;
mod html;
mod hub;
mod notify;
mod pay;
mod receipts;
mod signing;
mod store;
mod web;

pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use notify::{ssrf_check_addrs, BlockReason, NetPolicy};

/// Configuration of the provider role.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// The provider origin, e.g. `http://127.0.0.1:7802` (§1.1).
    pub origin: String,
    /// `sqlite://path` or `postgres://…`.
    pub database_url: String,
    /// `market.admin_token`; generated and printed once when unset (§8.1).
    pub admin_token: Option<String>,
    /// §8.9 local demo bootstrap: the app origin to register the demo app for.
    pub demo_app_origin: Option<String>,
}

impl MarketConfig {
    /// A configuration with no admin token and no demo bootstrap.
    pub fn new(origin: impl Into<String>, database_url: impl Into<String>) -> Self {
        MarketConfig {
            origin: origin.into(),
            database_url: database_url.into(),
            admin_token: None,
            demo_app_origin: None,
        }
    }
}

/// What the demo bootstrap created, for configuring the app role (§8.9).
#[derive(Debug, Clone)]
pub struct DemoApp {
    /// `(key, secret)` pairs: the simulation key first, then the live key.
    pub keys: Vec<(String, String)>,
    /// The key the app signs pay JWTs with (the simulation key).
    pub signing_key: String,
    /// The provider's receipt root public keys as a JWKS JSON text (for the verifier's trustedKeys).
    pub root_jwks: String,
}

/// `market.mode` (§8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleSet {
    /// The default: loopback `http` allowed, loopback delivery allowed, developer messages shown.
    #[default]
    Dev,
    /// Approximates production rules.
    Strict,
}

/// Notice delivery settings (§4.4, `notify.*`).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Wait after the first failed attempt, in ms (`notify.base_ms`, default 5000).
    pub base_ms: u64,
    /// Growth of the wait per attempt (`notify.factor`, default 3).
    pub factor: f64,
    /// Relative jitter, `U(1 - jitter, 1 + jitter)` (`notify.jitter`, default 0.2).
    pub jitter: f64,
    /// Attempts in one series (`notify.max_attempts`, default 7).
    pub max_attempts: u32,
    /// Connect timeout in ms (default 5000).
    pub connect_timeout_ms: u64,
    /// Total timeout of one attempt in ms (default 15000).
    pub total_timeout_ms: u64,
    /// `notify.allow_loopback`: `None` follows the rule set (allowed in dev, not in strict).
    pub allow_loopback: Option<bool>,
    /// `notify.allow_private` (default false).
    pub allow_private: bool,
    /// Concurrent deliveries (default 4).
    pub workers: usize,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            base_ms: 5000,
            factor: 3.0,
            jitter: 0.2,
            max_attempts: 7,
            connect_timeout_ms: 5000,
            total_timeout_ms: 15_000,
            allow_loopback: None,
            allow_private: false,
            workers: 4,
        }
    }
}

/// Receipt settings (§6.2, §6.3, §6.5).
#[derive(Debug, Clone)]
pub struct ReceiptConfig {
    /// `receipt.alg`: ES256 (default) or RS256 (RSA-2048).
    pub alg: ReceiptAlg,
    /// `receipt.lifetime_s` (default 182 days).
    pub lifetime_s: i64,
    /// `receipt.reissue_on_expired` (default true).
    pub reissue_on_expired: bool,
    /// The certificates' `price_limit` in USD (default 1000).
    pub price_limit: f64,
}

/// The receipt signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceiptAlg {
    /// ES256 (P-256), the default.
    #[default]
    Es256,
    /// RS256 (RSA).
    Rs256,
}

impl Default for ReceiptConfig {
    fn default() -> Self {
        ReceiptConfig {
            alg: ReceiptAlg::Es256,
            lifetime_s: mozmarket_core::pay::RECEIPT_LIFETIME_SECS,
            reissue_on_expired: true,
            price_limit: mozmarket_core::pay::DEFAULT_PRICE_LIMIT,
        }
    }
}

/// Resolves a host name for notice delivery (§4.5 rule 2). Injectable so tests can make a name
/// resolve to a blocked address without any DNS.
pub trait Resolver: Send + Sync + std::fmt::Debug {
    /// The addresses of `host` (with `port`).
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>>;
}

/// The system resolver (IP literals are parsed, names go through `getaddrinfo`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
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
            Ok(tokio::net::lookup_host((bare, port)).await?.collect())
        })
    }
}

/// Optional knobs of the provider role. `Default` gives the spec's defaults (§10).
#[derive(Debug, Clone)]
pub struct MarketOptions {
    /// `market.mode`.
    pub rules: RuleSet,
    /// Notice delivery: retries, timeouts, network rules.
    pub notify: NotifyConfig,
    /// Receipt signing: algorithm, lifetime, reissue, price limit.
    pub receipt: ReceiptConfig,
    /// The clock (tests inject an [`OffsetClock`]).
    pub clock: Arc<dyn Clock>,
    /// The resolver used by notice delivery.
    pub resolver: Arc<dyn Resolver>,
    /// Start the notice delivery worker (default true).
    pub run_notifier: bool,
    /// The `User-Agent` version of notices.
    pub version: String,
    /// Database tuning (PostgreSQL schema, busy timeout, pool size).
    pub db: crate::db::OpenOptions,
}

impl Default for MarketOptions {
    fn default() -> Self {
        MarketOptions {
            rules: RuleSet::Dev,
            notify: NotifyConfig::default(),
            receipt: ReceiptConfig::default(),
            clock: Arc::new(SystemClock),
            resolver: Arc::new(SystemResolver),
            run_notifier: true,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            db: crate::db::OpenOptions::default(),
        }
    }
}

/// The shared state of every handler.
pub(crate) struct Inner {
    pub db: crate::db::Db,
    /// The provider origin without a trailing slash.
    pub origin: String,
    /// The provider domain (§1.1 rule 3): host plus non-default port.
    pub domain: String,
    pub opts: MarketOptions,
    /// SHA-256 (hex) of the admin token.
    pub admin_hash: String,
    /// Wakes the notice worker when a notice is queued.
    pub wake: tokio::sync::Notify,
    /// Serialises signing-key creation (one ephemeral key at a time).
    pub signing_lock: tokio::sync::Mutex<()>,
    /// Set by [`MarketHandle::shutdown`]: the notice worker stops claiming notices.
    pub stop: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("origin", &self.origin).field("domain", &self.domain).finish_non_exhaustive()
    }
}

pub(crate) type AppState = Arc<Inner>;

impl Inner {
    pub fn now_ms(&self) -> i64 {
        self.opts.clock.now_ms()
    }

    pub fn now_secs(&self) -> i64 {
        self.opts.clock.now_secs()
    }

    pub fn strict(&self) -> bool {
        self.opts.rules == RuleSet::Strict
    }
}

/// A running provider: the router, the demo bootstrap result and a handle for tests and tools.
#[derive(Debug, Clone)]
pub struct Market {
    /// The provider's routes.
    pub router: axum::Router,
    /// The demo app, when the demo bootstrap ran.
    pub demo: Option<DemoApp>,
    /// Internals for tests and tools.
    pub handle: MarketHandle,
}

/// A handle on the provider's internals, for tests and the process that runs it.
#[derive(Debug, Clone)]
pub struct MarketHandle {
    inner: AppState,
}

impl MarketHandle {
    /// The provider's database.
    pub fn db(&self) -> &crate::db::Db {
        &self.inner.db
    }

    /// The provider domain (`aud` of pay JWTs).
    pub fn domain(&self) -> &str {
        &self.inner.domain
    }

    /// Wakes the notice worker (for example after a test moved the clock).
    pub fn wake_notifier(&self) {
        self.inner.wake.notify_one();
    }

    /// Stops the notice worker (attempts in flight finish). Used on shutdown and by tests that
    /// simulate a restart.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.inner.wake.notify_one();
    }

    /// The published root keys as a JWKS JSON text.
    pub async fn root_jwks(&self) -> anyhow::Result<String> {
        signing::root_jwks_text(&self.inner).await
    }

    /// Signs a receipt for a transaction (by transaction ID) as the issue API would.
    pub async fn sign_receipt_for(&self, transaction_id: &str) -> anyhow::Result<String> {
        receipts::sign_for_transaction_id(&self.inner, transaction_id).await
    }
}

/// A fresh receipt signing key (for the `keygen` tool).
pub fn signing_generate(alg: ReceiptAlg) -> anyhow::Result<mozmarket_core::sign::SigningKey> {
    signing::generate(alg)
}

/// PKCS#8 DER of a signing key (for the `keygen` tool).
pub fn signing_pkcs8_der(key: &mozmarket_core::sign::SigningKey) -> anyhow::Result<Vec<u8>> {
    signing::to_pkcs8_der(key)
}

/// A fresh app secret: 32 random bytes as base64url (43 characters, §8.2).
pub fn random_secret() -> String {
    store::random_token(32)
}

/// The provider domain of an origin (§1.1 rule 3): the host plus `:port` when the port is not
/// the scheme's default, with no scheme.
pub fn provider_domain(origin: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(origin).with_context(|| format!("bad provider origin {origin:?}"))?;
    let host = url.host_str().context("the provider origin has no host")?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Opens the database, runs migrations, bootstraps the demo if asked, and returns the router.
pub async fn build(cfg: MarketConfig) -> anyhow::Result<(axum::Router, Option<DemoApp>)> {
    let market = build_with(cfg, MarketOptions::default()).await?;
    Ok((market.router, market.demo))
}

/// As [`build`], with the optional knobs; also returns a [`MarketHandle`].
pub async fn build_with(cfg: MarketConfig, opts: MarketOptions) -> anyhow::Result<Market> {
    let origin = cfg.origin.trim_end_matches('/').to_owned();
    let domain = provider_domain(&origin)?;
    let db = crate::db::open_with(&cfg.database_url, crate::db::Role::Market, opts.db.clone()).await?;
    let admin_hash = store::admin_token_hash(&db, cfg.admin_token.as_deref(), opts.clock.now_ms())
        .await
        .context("setting up the admin token")?;
    let run_notifier = opts.run_notifier;
    let inner = Arc::new(Inner {
        db,
        origin,
        domain,
        opts,
        admin_hash,
        wake: tokio::sync::Notify::new(),
        signing_lock: tokio::sync::Mutex::new(()),
        stop: std::sync::atomic::AtomicBool::new(false),
    });
    signing::ensure_root(&inner).await.context("creating the receipt root key")?;
    let demo = match cfg.demo_app_origin.as_deref() {
        Some(app_origin) => Some(demo::bootstrap(&inner, app_origin).await.context("demo bootstrap")?),
        None => None,
    };
    store::recover_delivering(&inner.db, inner.now_ms()).await?;
    if run_notifier {
        notify::spawn_worker(inner.clone());
    }
    let router = web::router(inner.clone());
    Ok(Market { router, demo, handle: MarketHandle { inner } })
}
