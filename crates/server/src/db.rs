//! Database access shared by both roles: one `sqlx::AnyPool` per role, SQLite by default and
//! PostgreSQL when the URL starts with `postgres://`. Queries use `$1, $2, …` placeholders in
//! order of appearance (both backends accept them), and store times as integer milliseconds.
//!
//! On PostgreSQL each role lives in its own schema (`mozmarket_app`, `mozmarket_market` by
//! default), so one `DATABASE_URL` can serve both roles without sharing a table — not even the
//! migrations table.

use anyhow::Context as _;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Connection as _, Executor as _};

/// Which role's schema a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The app server (schema `mozmarket_app` on PostgreSQL).
    App,
    /// The simulated marketplace (schema `mozmarket_market` on PostgreSQL).
    Market,
}

impl Role {
    /// The default PostgreSQL schema of the role.
    pub fn default_schema(self) -> &'static str {
        match self {
            Role::App => "mozmarket_app",
            Role::Market => "mozmarket_market",
        }
    }
}

/// The backend behind a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `Postgres` for a `postgres://` or `postgresql://` URL, else `Sqlite`.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// A role's database: the pool and its backend.
#[derive(Clone)]
pub struct Db {
    /// The connection pool (sqlx `Any` driver).
    pub pool: AnyPool,
    /// Which database it is, for the few statements that differ.
    pub backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// Tuning of [`open_with`]. The defaults are the spec's (§8.8: 5 s busy timeout).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// SQLite `busy_timeout`; on PostgreSQL the `lock_timeout`. A write that cannot get its lock
    /// within this time fails (the notice receivers answer `503 STORE_UNAVAILABLE`).
    pub busy_timeout_ms: u64,
    /// Pool size; `None` for the backend's default (SQLite 8, PostgreSQL 10).
    pub max_connections: Option<u32>,
    /// PostgreSQL schema; `None` for the role's default. Created when missing. Ignored on SQLite.
    pub schema: Option<String>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { busy_timeout_ms: 5000, max_connections: None, schema: None }
    }
}

/// Opens (creating a SQLite file if needed) and migrates a role's database with the default
/// [`OpenOptions`].
pub async fn open(url: &str, role: Role) -> anyhow::Result<Db> {
    open_with(url, role, OpenOptions::default()).await
}

/// Whether `s` is a plain SQL identifier (`[a-z_][a-z0-9_]{0,62}`), safe to splice into SQL.
fn plain_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && s.len() <= 63
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// Opens and migrates a role's database.
///
/// SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction is on disk before
/// anyone is told it succeeded. PostgreSQL commits are durable with its default
/// `synchronous_commit=on`.
pub async fn open_with(url: &str, role: Role, opts: OpenOptions) -> anyhow::Result<Db> {
    install_default_drivers();
    let backend = Backend::of_url(url);
    let url = match backend {
        Backend::Sqlite if !url.contains("mode=") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        }
        _ => url.to_owned(),
    };
    let busy_ms = opts.busy_timeout_ms;
    let mut options = AnyPoolOptions::new();
    match backend {
        Backend::Sqlite => {
            options = options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute(format!("PRAGMA busy_timeout={busy_ms}").as_str()).await?;
                    conn.execute("PRAGMA synchronous=FULL").await?;
                    conn.execute("PRAGMA foreign_keys=ON").await?;
                    // 16 MiB page cache per connection (the default is 2 MiB).
                    conn.execute("PRAGMA cache_size=-16384").await?;
                    Ok(())
                })
            });
        }
        Backend::Postgres => {
            let schema = opts.schema.clone().unwrap_or_else(|| role.default_schema().to_owned());
            anyhow::ensure!(plain_identifier(&schema), "invalid PostgreSQL schema name {schema:?}");
            // Create the schema once, on a connection of its own, before the pool exists
            // (concurrent `CREATE SCHEMA IF NOT EXISTS` can race on the catalog).
            let mut conn = sqlx::AnyConnection::connect(&url)
                .await
                .with_context(|| format!("connecting to the {role:?} database"))?;
            conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                .await
                .with_context(|| format!("creating schema {schema}"))?;
            conn.close().await.ok();
            options = options.after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(async move {
                    conn.execute(format!("SET search_path TO {schema}").as_str()).await?;
                    conn.execute(format!("SET lock_timeout = {busy_ms}").as_str()).await?;
                    Ok(())
                })
            });
        }
    }
    let max = opts.max_connections.unwrap_or(match backend {
        Backend::Sqlite => 8,
        Backend::Postgres => 10,
    });
    let pool = options
        .max_connections(max)
        .connect(&url)
        .await
        .with_context(|| format!("opening the {role:?} database"))?;
    let migrator = match (role, backend) {
        (Role::App, Backend::Sqlite) => sqlx::migrate!("migrations/app/sqlite"),
        (Role::App, Backend::Postgres) => sqlx::migrate!("migrations/app/postgres"),
        (Role::Market, Backend::Sqlite) => sqlx::migrate!("migrations/market/sqlite"),
        (Role::Market, Backend::Postgres) => sqlx::migrate!("migrations/market/postgres"),
    };
    migrator.run(&pool).await.with_context(|| format!("migrating the {role:?} database"))?;
    Ok(Db { pool, backend })
}

/// Drops a PostgreSQL schema and everything in it (test clean-up). Refuses names that are not
/// plain identifiers.
pub async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    install_default_drivers();
    anyhow::ensure!(plain_identifier(schema), "invalid PostgreSQL schema name {schema:?}");
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    conn.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str()).await?;
    conn.close().await.ok();
    Ok(())
}
