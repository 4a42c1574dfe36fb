//! The provider role: simulated marketplace and payment provider (spec/payments.md §3–§6, §8).
//!
//! OWNER: the market engineer. The app role and `main.rs` use only [`MarketConfig`], [`DemoApp`]
//! and [`build`].

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

/// Opens the database, runs migrations, bootstraps the demo if asked, and returns the router.
pub async fn build(cfg: MarketConfig) -> anyhow::Result<(axum::Router, Option<DemoApp>)> {
    let _ = cfg;
    anyhow::bail!("the market role is not built yet")
}
