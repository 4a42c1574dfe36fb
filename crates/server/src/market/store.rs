//! The provider's tables (spec/payments.md §8.8) behind typed queries. Placeholders are `$1..$n`
//! in order; times are integer milliseconds; booleans are 0/1 integers.

use anyhow::Context as _;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::db::Db;

/// The five currencies the provider prices in (§5.3, §8.3).
pub const CURRENCIES: [&str; 5] = ["USD", "EUR", "GBP", "BRL", "TWD"];

/// Hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `n` random bytes as unpadded base64url.
pub fn random_token(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh lowercase hyphenated UUID v4.
pub fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether an error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation)
                || d.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

fn s(row: &AnyRow, col: &str) -> anyhow::Result<String> {
    row.try_get::<String, _>(col).with_context(|| format!("column {col}"))
}
fn os(row: &AnyRow, col: &str) -> anyhow::Result<Option<String>> {
    row.try_get::<Option<String>, _>(col).with_context(|| format!("column {col}"))
}
fn i(row: &AnyRow, col: &str) -> anyhow::Result<i64> {
    row.try_get::<i64, _>(col).with_context(|| format!("column {col}"))
}
fn oi(row: &AnyRow, col: &str) -> anyhow::Result<Option<i64>> {
    row.try_get::<Option<i64>, _>(col).with_context(|| format!("column {col}"))
}

// ---------------------------------------------------------------------------------------------
// Admin token and hub sign-ins (§8.1)

/// The SHA-256 of the admin token: the configured one, else the stored one, else a new random
/// token that is printed once to standard output and stored only as its hash.
pub async fn admin_token_hash(db: &Db, configured: Option<&str>, now_ms: i64) -> anyhow::Result<String> {
    if let Some(token) = configured.filter(|t| !t.is_empty()) {
        return Ok(sha256_hex(token));
    }
    let row = sqlx::query("SELECT token_sha256 FROM admin_token WHERE id = 1")
        .fetch_optional(&db.pool)
        .await?;
    if let Some(row) = row {
        return s(&row, "token_sha256");
    }
    let token = random_token(32);
    let hash = sha256_hex(&token);
    sqlx::query("INSERT INTO admin_token (id, token_sha256, created_ms) VALUES (1, $1, $2)")
        .bind(&hash)
        .bind(now_ms)
        .execute(&db.pool)
        .await?;
    println!("mozmarket market: developer hub admin token (shown once, keep it): {token}");
    Ok(hash)
}

pub async fn create_login(db: &Db, id_hash: &str, csrf: &str, now_ms: i64, expires_ms: i64) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM dev_logins WHERE expires_ms < $1").bind(now_ms).execute(&db.pool).await?;
    sqlx::query("INSERT INTO dev_logins (id_sha256, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
        .bind(id_hash)
        .bind(csrf)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The CSRF token of a live sign-in.
pub async fn login_csrf(db: &Db, id_hash: &str, now_ms: i64) -> anyhow::Result<Option<String>> {
    let row = sqlx::query("SELECT csrf FROM dev_logins WHERE id_sha256 = $1 AND expires_ms > $2")
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| s(&r, "csrf")).transpose()
}

pub async fn delete_login(db: &Db, id_hash: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM dev_logins WHERE id_sha256 = $1").bind(id_hash).execute(&db.pool).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Settings (§8.5)

/// A provider mode (§8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Slow,
    Fail,
    Disabled,
    DropNotices,
    CorruptNotices,
    VerifyPending,
}

impl Mode {
    pub const ALL: [Mode; 7] = [
        Mode::Normal,
        Mode::Slow,
        Mode::Fail,
        Mode::Disabled,
        Mode::DropNotices,
        Mode::CorruptNotices,
        Mode::VerifyPending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Slow => "slow",
            Mode::Fail => "fail",
            Mode::Disabled => "disabled",
            Mode::DropNotices => "drop_notices",
            Mode::CorruptNotices => "corrupt_notices",
            Mode::VerifyPending => "verify_pending",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// One row of `settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub slow_ms: i64,
    pub simulations_enabled: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { mode: Mode::Normal, slow_ms: 5000, simulations_enabled: true }
    }
}

fn settings_from_row(row: &AnyRow) -> anyhow::Result<Settings> {
    Ok(Settings {
        mode: Mode::parse(&s(row, "mode")?).unwrap_or(Mode::Normal),
        slow_ms: i(row, "slow_ms")?,
        simulations_enabled: i(row, "simulations_enabled")? != 0,
    })
}

fn app_scope(app_id: i64) -> String {
    format!("app:{app_id}")
}

pub async fn global_settings(db: &Db) -> anyhow::Result<Settings> {
    let row = sqlx::query("SELECT mode, slow_ms, simulations_enabled FROM settings WHERE scope = 'global'")
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| settings_from_row(&r)).transpose().map(Option::unwrap_or_default)
}

/// The per-app override, if any.
pub async fn app_settings_override(db: &Db, app_id: i64) -> anyhow::Result<Option<Settings>> {
    let row = sqlx::query("SELECT mode, slow_ms, simulations_enabled FROM settings WHERE scope = $1")
        .bind(app_scope(app_id))
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| settings_from_row(&r)).transpose()
}

/// The effective settings of an app: its override wins over the global row.
pub async fn effective_settings(db: &Db, app_id: i64) -> anyhow::Result<Settings> {
    match app_settings_override(db, app_id).await? {
        Some(s) => Ok(s),
        None => global_settings(db).await,
    }
}

async fn put_settings_scope(db: &Db, scope: &str, st: &Settings, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO settings (scope, mode, slow_ms, simulations_enabled, updated_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (scope) DO UPDATE SET mode = excluded.mode, slow_ms = excluded.slow_ms,
         simulations_enabled = excluded.simulations_enabled, updated_ms = excluded.updated_ms",
    )
    .bind(scope)
    .bind(st.mode.as_str())
    .bind(st.slow_ms)
    .bind(i64::from(st.simulations_enabled))
    .bind(now_ms)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn put_global_settings(db: &Db, st: &Settings, now_ms: i64) -> anyhow::Result<()> {
    put_settings_scope(db, "global", st, now_ms).await
}

pub async fn put_app_settings(db: &Db, app_id: i64, st: &Settings, now_ms: i64) -> anyhow::Result<()> {
    put_settings_scope(db, &app_scope(app_id), st, now_ms).await
}

pub async fn delete_app_settings(db: &Db, app_id: i64) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM settings WHERE scope = $1").bind(app_scope(app_id)).execute(&db.pool).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Apps, origins and keys (§8.2)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: i64,
    pub name: String,
    /// App origins; the first is the primary origin.
    pub origins: Vec<String>,
    /// Notice origins.
    pub notice_origins: Vec<String>,
}

async fn app_origins(db: &Db, app_id: i64, kind: &str) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query("SELECT origin FROM app_origins WHERE app_id = $1 AND kind = $2 ORDER BY position, id")
        .bind(app_id)
        .bind(kind)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(|r| s(r, "origin")).collect()
}

pub async fn get_app(db: &Db, app_id: i64) -> anyhow::Result<Option<App>> {
    let row = sqlx::query("SELECT id, name FROM apps WHERE id = $1").bind(app_id).fetch_optional(&db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(App {
        id: i(&row, "id")?,
        name: s(&row, "name")?,
        origins: app_origins(db, app_id, "app").await?,
        notice_origins: app_origins(db, app_id, "notice").await?,
    }))
}

pub async fn list_apps(db: &Db) -> anyhow::Result<Vec<App>> {
    let rows = sqlx::query("SELECT id FROM apps ORDER BY id").fetch_all(&db.pool).await?;
    let mut apps = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(app) = get_app(db, i(&row, "id")?).await? {
            apps.push(app);
        }
    }
    Ok(apps)
}

async fn replace_origins(
    conn: &mut sqlx::AnyConnection,
    app_id: i64,
    kind: &str,
    origins: &[String],
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM app_origins WHERE app_id = $1 AND kind = $2")
        .bind(app_id)
        .bind(kind)
        .execute(&mut *conn)
        .await?;
    for (pos, origin) in origins.iter().enumerate() {
        sqlx::query("INSERT INTO app_origins (app_id, origin, kind, position) VALUES ($1, $2, $3, $4)")
            .bind(app_id)
            .bind(origin)
            .bind(kind)
            .bind(i64::try_from(pos).unwrap_or(i64::MAX))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn create_app(
    db: &Db,
    name: &str,
    origins: &[String],
    notice_origins: &[String],
    now_ms: i64,
) -> anyhow::Result<i64> {
    let mut tx = db.pool.begin().await?;
    let row = sqlx::query("INSERT INTO apps (name, created_ms) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
    let id = i(&row, "id")?;
    replace_origins(&mut tx, id, "app", origins).await?;
    replace_origins(&mut tx, id, "notice", notice_origins).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_app(
    db: &Db,
    app_id: i64,
    name: Option<&str>,
    origins: Option<&[String]>,
    notice_origins: Option<&[String]>,
) -> anyhow::Result<()> {
    let mut tx = db.pool.begin().await?;
    if let Some(name) = name {
        sqlx::query("UPDATE apps SET name = $1 WHERE id = $2").bind(name).bind(app_id).execute(&mut *tx).await?;
    }
    if let Some(o) = origins {
        replace_origins(&mut tx, app_id, "app", o).await?;
    }
    if let Some(o) = notice_origins {
        replace_origins(&mut tx, app_id, "notice", o).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An in-app payment key (§8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub key: String,
    pub app_id: i64,
    pub secret: String,
    /// `simulation` or `live`.
    pub kind: String,
    /// `active` or `revoked`.
    pub state: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

impl KeyRow {
    pub fn active(&self) -> bool {
        self.state == "active"
    }
}

fn key_from_row(row: &AnyRow) -> anyhow::Result<KeyRow> {
    Ok(KeyRow {
        key: s(row, "key")?,
        app_id: i(row, "app_id")?,
        secret: s(row, "secret")?,
        kind: s(row, "kind")?,
        state: s(row, "state")?,
        created_ms: i(row, "created_ms")?,
        revoked_ms: oi(row, "revoked_ms")?,
    })
}

const KEY_COLS: &str = "key, app_id, secret, kind, state, created_ms, revoked_ms";

/// A key by its id, active or revoked.
pub async fn get_key(db: &Db, key: &str) -> anyhow::Result<Option<KeyRow>> {
    let row = sqlx::query(&format!("SELECT {KEY_COLS} FROM keys WHERE key = $1"))
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| key_from_row(&r)).transpose()
}

pub async fn app_keys(db: &Db, app_id: i64) -> anyhow::Result<Vec<KeyRow>> {
    let rows = sqlx::query(&format!("SELECT {KEY_COLS} FROM keys WHERE app_id = $1 ORDER BY created_ms, key"))
        .bind(app_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(key_from_row).collect()
}

/// The maximum number of active keys per app (§8.2).
pub const MAX_ACTIVE_KEYS: usize = 5;

/// Why a key could not be created.
#[derive(Debug)]
pub enum KeyCreateError {
    TooManyKeys,
    Db(anyhow::Error),
}

impl From<anyhow::Error> for KeyCreateError {
    fn from(e: anyhow::Error) -> Self {
        KeyCreateError::Db(e)
    }
}

impl From<sqlx::Error> for KeyCreateError {
    fn from(e: sqlx::Error) -> Self {
        KeyCreateError::Db(e.into())
    }
}

/// Creates a key of `kind` for the app (optionally revoking `replaces` in the same transaction)
/// and returns `(key, secret)`. The secret is 32 random bytes as base64url (43 characters).
pub async fn create_key(
    db: &Db,
    app_id: i64,
    kind: &str,
    replaces: Option<&str>,
    now_ms: i64,
) -> Result<(String, String), KeyCreateError> {
    let mut tx = db.pool.begin().await?;
    if let Some(old) = replaces {
        sqlx::query("UPDATE keys SET state = 'revoked', revoked_ms = $1 WHERE key = $2 AND state = 'active'")
            .bind(now_ms)
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    let row = sqlx::query("SELECT COUNT(*) AS n FROM keys WHERE app_id = $1 AND state = 'active'")
        .bind(app_id)
        .fetch_one(&mut *tx)
        .await?;
    let active = usize::try_from(i(&row, "n")?).unwrap_or(usize::MAX);
    if active >= MAX_ACTIVE_KEYS {
        return Err(KeyCreateError::TooManyKeys);
    }
    let key = uuid_v4();
    let secret = random_token(32);
    sqlx::query("INSERT INTO keys (key, app_id, secret, kind, state, created_ms) VALUES ($1, $2, $3, $4, 'active', $5)")
        .bind(&key)
        .bind(app_id)
        .bind(&secret)
        .bind(kind)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((key, secret))
}

/// Revokes a key; false when it was not active.
pub async fn revoke_key(db: &Db, key: &str, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query("UPDATE keys SET state = 'revoked', revoked_ms = $1 WHERE key = $2 AND state = 'active'")
        .bind(now_ms)
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

// ---------------------------------------------------------------------------------------------
// Price tiers (§8.3)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub id: String,
    /// `(currency, amount)` in [`CURRENCIES`] order.
    pub prices: Vec<(String, String)>,
}

impl Tier {
    pub fn price(&self, currency: &str) -> Option<&str> {
        self.prices.iter().find(|(c, _)| c == currency).map(|(_, a)| a.as_str())
    }
}

fn tier_sort_key(id: &str) -> (u64, String) {
    (id.parse::<u64>().unwrap_or(u64::MAX), id.to_owned())
}

fn currency_rank(c: &str) -> usize {
    CURRENCIES.iter().position(|x| *x == c).unwrap_or(CURRENCIES.len())
}

pub async fn list_tiers(db: &Db) -> anyhow::Result<Vec<Tier>> {
    let tiers = sqlx::query("SELECT id FROM price_tiers").fetch_all(&db.pool).await?;
    let prices = sqlx::query("SELECT tier_id, currency, amount FROM prices").fetch_all(&db.pool).await?;
    let mut out: Vec<Tier> = tiers
        .iter()
        .map(|r| Ok(Tier { id: s(r, "id")?, prices: Vec::new() }))
        .collect::<anyhow::Result<_>>()?;
    for p in &prices {
        let tier_id = s(p, "tier_id")?;
        if let Some(t) = out.iter_mut().find(|t| t.id == tier_id) {
            t.prices.push((s(p, "currency")?, s(p, "amount")?));
        }
    }
    for t in &mut out {
        t.prices.sort_by_key(|(c, _)| currency_rank(c));
    }
    out.sort_by_key(|t| tier_sort_key(&t.id));
    Ok(out)
}

pub async fn get_tier(db: &Db, id: &str) -> anyhow::Result<Option<Tier>> {
    let row = sqlx::query("SELECT id FROM price_tiers WHERE id = $1").bind(id).fetch_optional(&db.pool).await?;
    if row.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query("SELECT currency, amount FROM prices WHERE tier_id = $1")
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    let mut prices: Vec<(String, String)> =
        rows.iter().map(|r| Ok((s(r, "currency")?, s(r, "amount")?))).collect::<anyhow::Result<_>>()?;
    prices.sort_by_key(|(c, _)| currency_rank(c));
    Ok(Some(Tier { id: id.to_owned(), prices }))
}

/// Creates or replaces a tier's prices. Returns true when the tier was created.
pub async fn put_tier(db: &Db, id: &str, prices: &[(String, String)], now_ms: i64) -> anyhow::Result<bool> {
    let mut tx = db.pool.begin().await?;
    let exists = sqlx::query("SELECT id FROM price_tiers WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    if exists.is_none() {
        sqlx::query("INSERT INTO price_tiers (id, created_ms) VALUES ($1, $2)")
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM prices WHERE tier_id = $1").bind(id).execute(&mut *tx).await?;
    for (currency, amount) in prices {
        sqlx::query("INSERT INTO prices (tier_id, currency, amount) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(currency)
            .bind(amount)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(exists.is_none())
}

// ---------------------------------------------------------------------------------------------
// Products (§8.3)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub app_id: i64,
    pub guid: String,
    pub name: String,
    pub description: String,
    pub price_id: String,
    pub default_locale: String,
    /// JSON object text: tag → {name, description}.
    pub locales_json: String,
    /// JSON object text: size → URL.
    pub icons_json: String,
    pub active: bool,
}

fn product_from_row(row: &AnyRow) -> anyhow::Result<Product> {
    Ok(Product {
        app_id: i(row, "app_id")?,
        guid: s(row, "guid")?,
        name: s(row, "name")?,
        description: s(row, "description")?,
        price_id: s(row, "price_id")?,
        default_locale: s(row, "default_locale")?,
        locales_json: s(row, "locales_json")?,
        icons_json: s(row, "icons_json")?,
        active: i(row, "active")? != 0,
    })
}

const PRODUCT_COLS: &str = "app_id, guid, name, description, price_id, default_locale, locales_json, icons_json, active";

pub async fn list_products(db: &Db, app_id: i64, active_only: bool) -> anyhow::Result<Vec<Product>> {
    let sql = if active_only {
        format!("SELECT {PRODUCT_COLS} FROM products WHERE app_id = $1 AND active = 1 ORDER BY id")
    } else {
        format!("SELECT {PRODUCT_COLS} FROM products WHERE app_id = $1 ORDER BY id")
    };
    let rows = sqlx::query(&sql).bind(app_id).fetch_all(&db.pool).await?;
    rows.iter().map(product_from_row).collect()
}

/// Creates or updates a product; true when created.
pub async fn put_product(db: &Db, p: &Product, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE products SET name = $1, description = $2, price_id = $3, default_locale = $4,
         locales_json = $5, icons_json = $6, active = $7, updated_ms = $8 WHERE app_id = $9 AND guid = $10",
    )
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.price_id)
    .bind(&p.default_locale)
    .bind(&p.locales_json)
    .bind(&p.icons_json)
    .bind(i64::from(p.active))
    .bind(now_ms)
    .bind(p.app_id)
    .bind(&p.guid)
    .execute(&db.pool)
    .await?;
    if r.rows_affected() > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO products (app_id, guid, name, description, price_id, default_locale, locales_json,
         icons_json, active, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(p.app_id)
    .bind(&p.guid)
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.price_id)
    .bind(&p.default_locale)
    .bind(&p.locales_json)
    .bind(&p.icons_json)
    .bind(i64::from(p.active))
    .bind(now_ms)
    .bind(now_ms)
    .execute(&db.pool)
    .await?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Checkouts (§5.3)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub id: String,
    pub csrf: String,
    pub buyer_id: String,
    pub key: String,
    pub app_id: i64,
    pub request_id: String,
    pub price_point: String,
    pub request_json: String,
    pub payload_sha256: String,
    pub jwt_exp: i64,
    pub simulate_json: Option<String>,
    pub state: String,
    pub end_code: Option<String>,
    pub created_ms: i64,
    pub ended_ms: Option<i64>,
}

fn checkout_from_row(row: &AnyRow) -> anyhow::Result<Checkout> {
    Ok(Checkout {
        id: s(row, "id")?,
        csrf: s(row, "csrf")?,
        buyer_id: s(row, "buyer_id")?,
        key: s(row, "key")?,
        app_id: i(row, "app_id")?,
        request_id: s(row, "request_id")?,
        price_point: s(row, "price_point")?,
        request_json: s(row, "request_json")?,
        payload_sha256: s(row, "payload_sha256")?,
        jwt_exp: i(row, "jwt_exp")?,
        simulate_json: os(row, "simulate_json")?,
        state: s(row, "state")?,
        end_code: os(row, "end_code")?,
        created_ms: i(row, "created_ms")?,
        ended_ms: oi(row, "ended_ms")?,
    })
}

const CHECKOUT_COLS: &str = "id, csrf, buyer_id, key, app_id, request_id, price_point, request_json, payload_sha256, jwt_exp, simulate_json, state, end_code, created_ms, ended_ms";

pub async fn insert_checkout(db: &Db, c: &Checkout) -> anyhow::Result<()> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("INSERT INTO buyers (id, created_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
        .bind(&c.buyer_id)
        .bind(c.created_ms)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO checkouts ({CHECKOUT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&c.id)
    .bind(&c.csrf)
    .bind(&c.buyer_id)
    .bind(&c.key)
    .bind(c.app_id)
    .bind(&c.request_id)
    .bind(&c.price_point)
    .bind(&c.request_json)
    .bind(&c.payload_sha256)
    .bind(c.jwt_exp)
    .bind(c.simulate_json.as_deref())
    .bind(&c.state)
    .bind(c.end_code.as_deref())
    .bind(c.created_ms)
    .bind(c.ended_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_checkout(db: &Db, id: &str) -> anyhow::Result<Option<Checkout>> {
    let row = sqlx::query(&format!("SELECT {CHECKOUT_COLS} FROM checkouts WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| checkout_from_row(&r)).transpose()
}

/// Ends an open checkout; false when it was no longer open.
pub async fn end_checkout(db: &Db, id: &str, state: &str, code: Option<&str>, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query("UPDATE checkouts SET state = $1, end_code = $2, ended_ms = $3 WHERE id = $4 AND state = 'open'")
        .bind(state)
        .bind(code)
        .bind(now_ms)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn list_checkouts(db: &Db, limit: i64, offset: i64) -> anyhow::Result<Vec<Checkout>> {
    let rows = sqlx::query(&format!(
        "SELECT {CHECKOUT_COLS} FROM checkouts WHERE state <> 'paid' ORDER BY created_ms DESC, id LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(checkout_from_row).collect()
}

// ---------------------------------------------------------------------------------------------
// Transactions (§4.2, §8.4)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub number: i64,
    pub uuid: String,
    pub transaction_id: String,
    pub app_id: i64,
    pub key: String,
    /// `simulate`, `live` or `free`.
    pub kind: String,
    pub request_id: String,
    pub name: String,
    pub tier: String,
    pub amount: String,
    pub currency: String,
    pub usd_amount: String,
    pub buyer_id: String,
    pub directed_id: String,
    pub request_json: String,
    pub payload_sha256: String,
    /// `completed`, `refunded` or `reversed`.
    pub state: String,
    pub checkout_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

fn tx_from_row(row: &AnyRow) -> anyhow::Result<Transaction> {
    Ok(Transaction {
        number: i(row, "number")?,
        uuid: s(row, "uuid")?,
        transaction_id: s(row, "transaction_id")?,
        app_id: i(row, "app_id")?,
        key: s(row, "key")?,
        kind: s(row, "kind")?,
        request_id: s(row, "request_id")?,
        name: s(row, "name")?,
        tier: s(row, "tier")?,
        amount: s(row, "amount")?,
        currency: s(row, "currency")?,
        usd_amount: s(row, "usd_amount")?,
        buyer_id: s(row, "buyer_id")?,
        directed_id: s(row, "directed_id")?,
        request_json: s(row, "request_json")?,
        payload_sha256: s(row, "payload_sha256")?,
        state: s(row, "state")?,
        checkout_id: s(row, "checkout_id")?,
        created_ms: i(row, "created_ms")?,
        updated_ms: i(row, "updated_ms")?,
    })
}

const TX_COLS: &str = "number, uuid, transaction_id, app_id, key, kind, request_id, name, tier, amount, currency, usd_amount, buyer_id, directed_id, request_json, payload_sha256, state, checkout_id, created_ms, updated_ms";

pub async fn tx_by_id(db: &Db, transaction_id: &str) -> anyhow::Result<Option<Transaction>> {
    let row = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE transaction_id = $1"))
        .bind(transaction_id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| tx_from_row(&r)).transpose()
}

pub async fn tx_by_uuid(db: &Db, uuid: &str) -> anyhow::Result<Option<Transaction>> {
    let row = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE uuid = $1"))
        .bind(uuid)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| tx_from_row(&r)).transpose()
}

pub async fn tx_by_number(db: &Db, number: i64) -> anyhow::Result<Option<Transaction>> {
    let row = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE number = $1"))
        .bind(number)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| tx_from_row(&r)).transpose()
}

/// Step 35: a transaction of the same key and payload hash.
pub async fn tx_by_payload(db: &Db, key: &str, payload_sha256: &str) -> anyhow::Result<Option<Transaction>> {
    let row = sqlx::query(&format!("SELECT {TX_COLS} FROM transactions WHERE key = $1 AND payload_sha256 = $2"))
        .bind(key)
        .bind(payload_sha256)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| tx_from_row(&r)).transpose()
}

/// Filters of the transactions list (§8.4).
#[derive(Debug, Clone, Default)]
pub struct TxFilter {
    pub app: Option<i64>,
    pub state: Option<String>,
    pub kind: Option<String>,
    /// A notice state: transactions with any notice in that state.
    pub notice_state: Option<String>,
}

pub async fn list_transactions(db: &Db, f: &TxFilter, limit: i64, offset: i64) -> anyhow::Result<Vec<Transaction>> {
    let mut sql = format!("SELECT {TX_COLS} FROM transactions t WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if f.app.is_some() {
        sql.push_str(&format!(" AND t.app_id = ${}", next()));
    }
    if f.state.is_some() {
        sql.push_str(&format!(" AND t.state = ${}", next()));
    }
    if f.kind.is_some() {
        sql.push_str(&format!(" AND t.kind = ${}", next()));
    }
    if f.notice_state.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM notices x WHERE x.transaction_number = t.number AND x.state = ${})",
            next()
        ));
    }
    let limit_idx = next();
    let offset_idx = next();
    sql.push_str(&format!(" ORDER BY t.number DESC LIMIT ${limit_idx} OFFSET ${offset_idx}"));
    let mut q = sqlx::query(&sql);
    if let Some(app) = f.app {
        q = q.bind(app);
    }
    if let Some(st) = &f.state {
        q = q.bind(st.clone());
    }
    if let Some(k) = &f.kind {
        q = q.bind(k.clone());
    }
    if let Some(ns) = &f.notice_state {
        q = q.bind(ns.clone());
    }
    let rows = q.bind(limit).bind(offset).fetch_all(&db.pool).await?;
    rows.iter().map(tx_from_row).collect()
}

/// Everything a confirmed payment writes, in one database transaction (§1.3 step 7).
#[derive(Debug, Clone)]
pub struct NewTransaction {
    pub uuid: String,
    pub transaction_id: String,
    pub app_id: i64,
    pub key: String,
    pub kind: String,
    pub request_id: String,
    pub name: String,
    pub tier: String,
    pub amount: String,
    pub currency: String,
    pub usd_amount: String,
    pub buyer_id: String,
    pub request_json: String,
    pub payload_sha256: String,
    /// `completed`, or `refunded`/`reversed` for a simulated chargeback.
    pub state: String,
    pub checkout_id: String,
    /// The notice to queue: kind, URL, chargeback reason.
    pub notice_kind: String,
    pub notice_url: String,
    pub notice_reason: Option<String>,
    /// Create the notice `dropped` (mode `drop_notices`) instead of `queued`.
    pub drop_notice: bool,
    pub now_ms: i64,
}

/// Outcome of [`insert_transaction`].
#[derive(Debug)]
pub enum InsertTx {
    Created { number: i64 },
    /// The unique constraint on `(key, payload_sha256)` fired: already paid (step 35).
    AlreadyPaid,
    /// The checkout was no longer open.
    CheckoutGone,
}

pub async fn insert_transaction(db: &Db, t: &NewTransaction) -> anyhow::Result<InsertTx> {
    let mut tx = db.pool.begin().await?;
    let ended = sqlx::query("UPDATE checkouts SET state = 'paid', ended_ms = $1 WHERE id = $2 AND state = 'open'")
        .bind(t.now_ms)
        .bind(&t.checkout_id)
        .execute(&mut *tx)
        .await?;
    if ended.rows_affected() == 0 {
        return Ok(InsertTx::CheckoutGone);
    }
    sqlx::query("INSERT INTO buyers (id, created_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
        .bind(&t.buyer_id)
        .bind(t.now_ms)
        .execute(&mut *tx)
        .await?;
    // The buyer's directed identifier for this app (stable per (buyer, app)).
    let fresh = uuid_v4();
    sqlx::query(
        "INSERT INTO directed_ids (buyer_id, app_id, value, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (buyer_id, app_id) DO NOTHING",
    )
    .bind(&t.buyer_id)
    .bind(t.app_id)
    .bind(&fresh)
    .bind(t.now_ms)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query("SELECT value FROM directed_ids WHERE buyer_id = $1 AND app_id = $2")
        .bind(&t.buyer_id)
        .bind(t.app_id)
        .fetch_one(&mut *tx)
        .await?;
    let directed = s(&row, "value")?;
    let inserted = sqlx::query(&format!(
        "INSERT INTO transactions ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING number",
        TX_COLS.trim_start_matches("number, ")
    ))
    .bind(&t.uuid)
    .bind(&t.transaction_id)
    .bind(t.app_id)
    .bind(&t.key)
    .bind(&t.kind)
    .bind(&t.request_id)
    .bind(&t.name)
    .bind(&t.tier)
    .bind(&t.amount)
    .bind(&t.currency)
    .bind(&t.usd_amount)
    .bind(&t.buyer_id)
    .bind(&directed)
    .bind(&t.request_json)
    .bind(&t.payload_sha256)
    .bind(&t.state)
    .bind(&t.checkout_id)
    .bind(t.now_ms)
    .bind(t.now_ms)
    .fetch_one(&mut *tx)
    .await;
    let number = match inserted {
        Ok(row) => i(&row, "number")?,
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            return Ok(InsertTx::AlreadyPaid);
        }
        Err(e) => return Err(e.into()),
    };
    if t.state != "completed" {
        if let Some(reason) = &t.notice_reason {
            sqlx::query("INSERT INTO refunds (transaction_number, reason, source, created_ms) VALUES ($1, $2, 'simulate', $3)")
                .bind(number)
                .bind(reason)
                .bind(t.now_ms)
                .execute(&mut *tx)
                .await?;
        }
    }
    insert_notice(&mut tx, number, &t.notice_kind, &t.notice_url, t.notice_reason.as_deref(), t.drop_notice, t.now_ms)
        .await?;
    tx.commit().await?;
    Ok(InsertTx::Created { number })
}

async fn insert_notice(
    conn: &mut sqlx::AnyConnection,
    number: i64,
    kind: &str,
    url: &str,
    reason: Option<&str>,
    dropped: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    let (state, next): (&str, Option<i64>) = if dropped { ("dropped", None) } else { ("queued", Some(now_ms)) };
    sqlx::query(
        "INSERT INTO notices (transaction_number, kind, url, reason, state, series, attempts, next_attempt_at,
         created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7, $8)",
    )
    .bind(number)
    .bind(kind)
    .bind(url)
    .bind(reason)
    .bind(state)
    .bind(next)
    .bind(now_ms)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Outcome of [`refund_transaction`].
#[derive(Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    Done,
    AlreadyRefunded,
    NotFound,
}

/// Refund (`refund`) or chargeback (`reversal`) of a completed transaction (§1.4, §8.4): state,
/// refund record and a queued chargeback notice, in one database transaction.
pub async fn refund_transaction(
    db: &Db,
    transaction_id: &str,
    reason: &str,
    chargeback_url: &str,
    drop_notice: bool,
    now_ms: i64,
) -> anyhow::Result<RefundOutcome> {
    let new_state = if reason == "reversal" { "reversed" } else { "refunded" };
    let mut tx = db.pool.begin().await?;
    let row = sqlx::query("SELECT number, state FROM transactions WHERE transaction_id = $1")
        .bind(transaction_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(RefundOutcome::NotFound) };
    let number = i(&row, "number")?;
    let r = sqlx::query("UPDATE transactions SET state = $1, updated_ms = $2 WHERE number = $3 AND state = 'completed'")
        .bind(new_state)
        .bind(now_ms)
        .bind(number)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 0 {
        return Ok(RefundOutcome::AlreadyRefunded);
    }
    sqlx::query("INSERT INTO refunds (transaction_number, reason, source, created_ms) VALUES ($1, $2, 'hub', $3)")
        .bind(number)
        .bind(reason)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    let existing = sqlx::query("SELECT id FROM notices WHERE transaction_number = $1 AND kind = 'chargeback'")
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
    if existing.is_none() {
        insert_notice(&mut tx, number, "chargeback", chargeback_url, Some(reason), drop_notice, now_ms).await?;
    }
    tx.commit().await?;
    Ok(RefundOutcome::Done)
}

// ---------------------------------------------------------------------------------------------
// Notices and attempts (§4.4)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: i64,
    pub transaction_number: i64,
    pub kind: String,
    pub url: String,
    pub reason: Option<String>,
    pub state: String,
    pub series: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_outcome: Option<String>,
    pub last_status: Option<i64>,
    pub last_body: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

fn notice_from_row(row: &AnyRow) -> anyhow::Result<NoticeRow> {
    Ok(NoticeRow {
        id: i(row, "id")?,
        transaction_number: i(row, "transaction_number")?,
        kind: s(row, "kind")?,
        url: s(row, "url")?,
        reason: os(row, "reason")?,
        state: s(row, "state")?,
        series: i(row, "series")?,
        attempts: i(row, "attempts")?,
        next_attempt_at: oi(row, "next_attempt_at")?,
        last_outcome: os(row, "last_outcome")?,
        last_status: oi(row, "last_status")?,
        last_body: os(row, "last_body")?,
        created_ms: i(row, "created_ms")?,
        updated_ms: i(row, "updated_ms")?,
    })
}

const NOTICE_COLS: &str = "id, transaction_number, kind, url, reason, state, series, attempts, next_attempt_at, last_outcome, last_status, last_body, created_ms, updated_ms";

pub async fn notices_of(db: &Db, number: i64) -> anyhow::Result<Vec<NoticeRow>> {
    let rows = sqlx::query(&format!("SELECT {NOTICE_COLS} FROM notices WHERE transaction_number = $1 ORDER BY id"))
        .bind(number)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(notice_from_row).collect()
}

/// Notices due at `now_ms`, oldest first: `queued` or `retry_wait` with `next_attempt_at <= now`,
/// skipping a chargeback whose transaction's postback is still pending (§4.4 ordering) and any
/// notice whose transaction already has a notice in flight.
pub async fn due_notices(db: &Db, now_ms: i64, limit: i64) -> anyhow::Result<Vec<NoticeRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {NOTICE_COLS} FROM notices n
         WHERE n.state IN ('queued', 'retry_wait') AND n.next_attempt_at <= $1
           AND NOT EXISTS (SELECT 1 FROM notices p WHERE p.transaction_number = n.transaction_number
                           AND p.id <> n.id AND p.state = 'delivering')
           AND NOT (n.kind = 'chargeback' AND EXISTS (SELECT 1 FROM notices p
                    WHERE p.transaction_number = n.transaction_number AND p.kind = 'postback'
                    AND p.state IN ('queued', 'retry_wait', 'delivering')))
         ORDER BY n.next_attempt_at, n.id LIMIT $2"
    ))
    .bind(now_ms)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(notice_from_row).collect()
}

/// The earliest `next_attempt_at` of a waiting notice.
pub async fn next_due_ms(db: &Db) -> anyhow::Result<Option<i64>> {
    let row = sqlx::query("SELECT MIN(next_attempt_at) AS m FROM notices WHERE state IN ('queued', 'retry_wait')")
        .fetch_one(&db.pool)
        .await?;
    oi(&row, "m")
}

/// Claims a due notice for delivery; false when another worker got it first.
pub async fn claim_notice(db: &Db, id: i64, from_state: &str, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query("UPDATE notices SET state = 'delivering', updated_ms = $1 WHERE id = $2 AND state = $3")
        .bind(now_ms)
        .bind(id)
        .bind(from_state)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// One attempt's record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub notice_id: i64,
    pub series: i64,
    pub attempt: i64,
    pub started_ms: i64,
    pub duration_ms: i64,
    pub url: String,
    pub http_status: Option<i64>,
    pub outcome: String,
    pub body_prefix: Option<String>,
    pub iat: i64,
}

/// Records an attempt and moves the notice to `new_state` (`delivered`, `retry_wait`, `failed`).
pub async fn finish_attempt(
    db: &Db,
    a: &AttemptRecord,
    new_state: &str,
    next_attempt_at: Option<i64>,
    now_ms: i64,
) -> anyhow::Result<()> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO notice_attempts (notice_id, series, attempt, started_ms, duration_ms, url, http_status, outcome,
         body_prefix, iat) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.notice_id)
    .bind(a.series)
    .bind(a.attempt)
    .bind(a.started_ms)
    .bind(a.duration_ms)
    .bind(&a.url)
    .bind(a.http_status)
    .bind(&a.outcome)
    .bind(a.body_prefix.as_deref())
    .bind(a.iat)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE notices SET state = $1, attempts = $2, next_attempt_at = $3, last_outcome = $4, last_status = $5,
         last_body = $6, updated_ms = $7 WHERE id = $8 AND series = $9",
    )
    .bind(new_state)
    .bind(a.attempt)
    .bind(next_attempt_at)
    .bind(&a.outcome)
    .bind(a.http_status)
    .bind(a.body_prefix.as_deref())
    .bind(now_ms)
    .bind(a.notice_id)
    .bind(a.series)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Resend (§4.4): a new series from attempt 1, allowed from `failed`, `dropped` and `delivered`.
/// Returns false when the notice is in another state.
pub async fn resend_notice(db: &Db, id: i64, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE notices SET state = 'queued', series = series + 1, attempts = 0, next_attempt_at = $1, updated_ms = $2
         WHERE id = $3 AND state IN ('failed', 'dropped', 'delivered')",
    )
    .bind(now_ms)
    .bind(now_ms)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// After a restart, notices caught mid-attempt are retried at once.
pub async fn recover_delivering(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE notices SET state = 'retry_wait', next_attempt_at = $1, updated_ms = $2 WHERE state = 'delivering'")
        .bind(now_ms)
        .bind(now_ms)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub series: i64,
    pub attempt: i64,
    pub started_ms: i64,
    pub duration_ms: i64,
    pub url: String,
    pub http_status: Option<i64>,
    pub outcome: String,
    pub body_prefix: Option<String>,
    pub iat: i64,
}

pub async fn attempts_of(db: &Db, notice_id: i64) -> anyhow::Result<Vec<AttemptRow>> {
    let rows = sqlx::query(
        "SELECT series, attempt, started_ms, duration_ms, url, http_status, outcome, body_prefix, iat
         FROM notice_attempts WHERE notice_id = $1 ORDER BY id",
    )
    .bind(notice_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttemptRow {
                series: i(r, "series")?,
                attempt: i(r, "attempt")?,
                started_ms: i(r, "started_ms")?,
                duration_ms: i(r, "duration_ms")?,
                url: s(r, "url")?,
                http_status: oi(r, "http_status")?,
                outcome: s(r, "outcome")?,
                body_prefix: os(r, "body_prefix")?,
                iat: i(r, "iat")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Directed identifiers, issued receipts, jtis (§6)

pub async fn directed_id_known(db: &Db, value: &str) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT value FROM directed_ids WHERE value = $1").bind(value).fetch_optional(&db.pool).await?;
    Ok(row.is_some())
}

pub async fn record_issued_receipt(db: &Db, number: i64, iat: i64, exp: i64, kid: &str, source: &str, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO issued_receipts (transaction_number, iat, exp, kid, source, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(number)
        .bind(iat)
        .bind(exp)
        .bind(kid)
        .bind(source)
        .bind(now_ms)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedReceipt {
    pub iat: i64,
    pub exp: i64,
    pub kid: String,
    pub source: String,
}

pub async fn issued_receipts_of(db: &Db, number: i64) -> anyhow::Result<Vec<IssuedReceipt>> {
    let rows = sqlx::query("SELECT iat, exp, kid, source FROM issued_receipts WHERE transaction_number = $1 ORDER BY id")
        .bind(number)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok(IssuedReceipt { iat: i(r, "iat")?, exp: i(r, "exp")?, kid: s(r, "kid")?, source: s(r, "source")? }))
        .collect()
}

/// Records a receipt-issue `jti`; false when it was seen in the last 10 minutes (§6.1). Older
/// entries are pruned first.
pub async fn remember_jti(db: &Db, jti: &str, now_ms: i64, memory_ms: i64) -> anyhow::Result<bool> {
    sqlx::query("DELETE FROM issue_jtis WHERE seen_ms < $1")
        .bind(now_ms.saturating_sub(memory_ms))
        .execute(&db.pool)
        .await?;
    let r = sqlx::query("INSERT INTO issue_jtis (jti, seen_ms) VALUES ($1, $2)")
        .bind(jti)
        .bind(now_ms)
        .execute(&db.pool)
        .await;
    match r {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Signing keys (§6.3)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    /// `root` or `ephemeral`.
    pub role: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// PKCS#8 DER, base64.
    pub private_pkcs8: String,
    /// Public JWK JSON text.
    pub public_jwk: String,
    pub certificate: Option<String>,
    pub parent_kid: Option<String>,
    pub price_limit: Option<i64>,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    /// `active` (root: signs certificates; ephemeral: signs receipts), `published` (old root,
    /// still in the key documents) or `retired`.
    pub state: String,
    pub created_ms: i64,
}

fn signing_key_from_row(row: &AnyRow) -> anyhow::Result<SigningKeyRow> {
    Ok(SigningKeyRow {
        kid: s(row, "kid")?,
        role: s(row, "role")?,
        alg: s(row, "alg")?,
        private_pkcs8: s(row, "private_pkcs8")?,
        public_jwk: s(row, "public_jwk")?,
        certificate: os(row, "certificate")?,
        parent_kid: os(row, "parent_kid")?,
        price_limit: oi(row, "price_limit")?,
        not_before_ms: i(row, "not_before_ms")?,
        not_after_ms: i(row, "not_after_ms")?,
        state: s(row, "state")?,
        created_ms: i(row, "created_ms")?,
    })
}

const SK_COLS: &str = "kid, role, alg, private_pkcs8, public_jwk, certificate, parent_kid, price_limit, not_before_ms, not_after_ms, state, created_ms";

pub async fn insert_signing_key(db: &Db, k: &SigningKeyRow) -> anyhow::Result<()> {
    sqlx::query(&format!("INSERT INTO signing_keys ({SK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
        .bind(&k.kid)
        .bind(&k.role)
        .bind(&k.alg)
        .bind(&k.private_pkcs8)
        .bind(&k.public_jwk)
        .bind(k.certificate.as_deref())
        .bind(k.parent_kid.as_deref())
        .bind(k.price_limit)
        .bind(k.not_before_ms)
        .bind(k.not_after_ms)
        .bind(&k.state)
        .bind(k.created_ms)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Signing keys of a role, newest first.
pub async fn signing_keys(db: &Db, role: &str) -> anyhow::Result<Vec<SigningKeyRow>> {
    let rows = sqlx::query(&format!("SELECT {SK_COLS} FROM signing_keys WHERE role = $1 ORDER BY created_ms DESC, kid DESC"))
        .bind(role)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(signing_key_from_row).collect()
}

pub async fn set_signing_key_state(db: &Db, kid: &str, state: &str) -> anyhow::Result<bool> {
    let r = sqlx::query("UPDATE signing_keys SET state = $1 WHERE kid = $2").bind(state).bind(kid).execute(&db.pool).await?;
    Ok(r.rows_affected() > 0)
}

/// Makes `kid` the only active key of its role; the other active ones become `to_state`.
pub async fn activate_signing_key(db: &Db, role: &str, kid: &str, to_state: &str) -> anyhow::Result<()> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE signing_keys SET state = $1 WHERE role = $2 AND state = 'active' AND kid <> $3")
        .bind(to_state)
        .bind(role)
        .bind(kid)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE signing_keys SET state = 'active' WHERE kid = $1").bind(kid).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
