//! Database access shared by both roles: one `sqlx::AnyPool` per role, SQLite by default and
//! PostgreSQL when the URL starts with `postgres://`. Queries use `$1, $2, …` placeholders in
//! order of appearance (both backends accept them), and store times as integer milliseconds.

use anyhow::Context as _;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::AnyPool;

/// Which role's schema a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    App,
    Market,
}

/// The backend behind a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
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
    pub pool: AnyPool,
    pub backend: Backend,
}

/// Opens (creating a SQLite file if needed) and migrates a role's database.
/// SQLite runs in WAL mode with a 5 s busy timeout and `synchronous=FULL`, so a committed
/// transaction is on disk before anyone is told it succeeded.
pub async fn open(url: &str, role: Role) -> anyhow::Result<Db> {
    install_default_drivers();
    let backend = Backend::of_url(url);
    let url = match backend {
        Backend::Sqlite if !url.contains("mode=") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        }
        _ => url.to_owned(),
    };
    let mut options = AnyPoolOptions::new();
    if backend == Backend::Sqlite {
        options = options.after_connect(|conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor as _;
                conn.execute("PRAGMA journal_mode=WAL").await?;
                conn.execute("PRAGMA busy_timeout=5000").await?;
                conn.execute("PRAGMA synchronous=FULL").await?;
                conn.execute("PRAGMA foreign_keys=ON").await?;
                Ok(())
            })
        });
    }
    let pool = options
        .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
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
