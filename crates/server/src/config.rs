//! Configuration of both roles (spec/payments.md §10 "Defaults at a glance") and the `serve`
//! command line.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default app origin (§1.1).
pub const DEFAULT_APP_ORIGIN: &str = "http://localhost:7801";
/// Default provider origin (§1.1).
pub const DEFAULT_MARKET_ORIGIN: &str = "http://127.0.0.1:7802";
/// Default app listen address.
pub const DEFAULT_APP_LISTEN: &str = "127.0.0.1:7801";
/// Default provider listen address.
pub const DEFAULT_MARKET_LISTEN: &str = "127.0.0.1:7802";

/// Which roles `serve` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Roles {
    /// Both roles in one process (the default).
    Both,
    /// Only the app server.
    App,
    /// Only the simulated marketplace.
    Market,
}

/// `mozmarket-server serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Which roles to run.
    #[arg(long, value_enum, default_value = "both")]
    pub roles: Roles,
    /// Run the local demo bootstrap (§8.9): a demo app, keys and products, and configure the
    /// app role with them.
    #[arg(long)]
    pub demo: bool,
    /// Where the app role listens.
    #[arg(long, default_value = DEFAULT_APP_LISTEN)]
    pub app_listen: SocketAddr,
    /// Where the provider role listens.
    #[arg(long, default_value = DEFAULT_MARKET_LISTEN)]
    pub market_listen: SocketAddr,
    /// The app origin (its host must differ from the provider's, §1.1 rule 1).
    #[arg(long, default_value = DEFAULT_APP_ORIGIN)]
    pub app_origin: String,
    /// The provider origin.
    #[arg(long, default_value = DEFAULT_MARKET_ORIGIN)]
    pub market_origin: String,
    /// Directory for the SQLite files when no database URL is given.
    #[arg(long, default_value = "mozmarket-data")]
    pub data_dir: PathBuf,
    /// The app role's database URL (`sqlite://…` or `postgres://…`). Default: `DATABASE_URL`
    /// when set, else `<data-dir>/app.sqlite`.
    #[arg(long)]
    pub app_db: Option<String>,
    /// The provider role's database URL. Default: `DATABASE_URL` when set, else
    /// `<data-dir>/market.sqlite`.
    #[arg(long)]
    pub market_db: Option<String>,
    /// A PostgreSQL URL used for both roles (each in its own schema).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// `market.admin_token` (generated and printed once when unset).
    #[arg(long, env = "MOZMARKET_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// `app.keys` as `key=secret` pairs, comma-separated (not needed with `--demo`).
    #[arg(long = "app-key", env = "MOZMARKET_APP_KEYS", value_delimiter = ',', hide_env_values = true)]
    pub app_keys: Vec<String>,
    /// `app.signing_key` (default: the first of `app.keys`).
    #[arg(long)]
    pub signing_key: Option<String>,
    /// `app.simulate`: none, postback, chargeback-refund or chargeback-reversal (`--demo`:
    /// postback).
    #[arg(long)]
    pub simulate: Option<String>,
    /// `app.allowed_origins` (repeatable): other origins allowed to call the browser endpoints.
    #[arg(long = "allowed-origin")]
    pub allowed_origins: Vec<String>,
    /// `app.path_prefix`.
    #[arg(long, default_value = "/mozpay")]
    pub path_prefix: String,
    /// Turn the status event stream off (`app.sse = false`).
    #[arg(long)]
    pub no_sse: bool,
    /// `SameSite=None; Secure` on the buyer cookie (widget on another site).
    #[arg(long)]
    pub cookie_cross_site: bool,
    /// Directory with `index.html`, `www/` and `pkg/` for the demo web app.
    #[arg(long, default_value = ".")]
    pub web_root: PathBuf,
}

impl ServeArgs {
    /// The database URL of a role: the explicit flag, else `DATABASE_URL`, else a SQLite file.
    pub fn db_url(&self, explicit: Option<&String>, file: &str) -> String {
        if let Some(url) = explicit {
            return url.clone();
        }
        if let Some(url) = &self.database_url {
            return url.clone();
        }
        format!("sqlite://{}", self.data_dir.join(file).display())
    }
}

/// Splits `key=secret`.
pub fn parse_key_pair(s: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => anyhow::bail!("app keys must be given as key=secret"),
    }
}
