//! The developer JSON API (spec/payments.md §8.7) and the public catalogue API (§8.3), plus the
//! input rules both the API and the HTML hub apply (§8.2, §8.3).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::store::{self, KeyCreateError, Mode, Product, RefundOutcome, Settings, TxFilter, CURRENCIES};
use super::web::{form_field, internal, json_error, json_response, query_pairs};
use super::{signing, AppState, Inner};

// ---------------------------------------------------------------------------------------------
// Authentication (§8.1)

/// Whether `token` is the admin token (constant-time on the hashes).
pub fn token_ok(st: &Inner, token: &str) -> bool {
    let h = store::sha256_hex(token);
    mozmarket_core::hs256::ct_eq(h.as_bytes(), st.admin_hash.as_bytes())
}

fn bearer_ok(st: &Inner, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| token_ok(st, t.trim()))
}

fn unauthorized() -> Response {
    let mut r = json_error(401, "UNAUTHORIZED", "A valid admin token is required (Authorization: Bearer <token>).");
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

macro_rules! auth {
    ($st:expr, $headers:expr) => {
        if !bearer_ok(&$st, &$headers) {
            return unauthorized();
        }
    };
}

/// An input error: `400 <code>` with a message.
#[derive(Debug, Clone)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Invalid { code, message: message.into() }
    }

    fn response(&self) -> Response {
        json_error(400, self.code, &self.message)
    }
}

#[allow(clippy::result_large_err)]
fn parse_body(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(json_error(400, "BAD_REQUEST", "The body must be a JSON object.")),
    }
}

// ---------------------------------------------------------------------------------------------
// Input rules shared with the hub

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Whether a host is a loopback name (§4.5).
pub fn loopback_host(host: &str) -> bool {
    mozmarket_core::pay::is_loopback_host(host)
}

/// Normalises an app origin (§8.2): `scheme://host[:port]`, no path, query, fragment or
/// userinfo; `http` only for loopback hosts.
pub fn normalize_origin(input: &str) -> Result<String, Invalid> {
    normalize_origin_with(input, false)
}

/// Normalises a notice origin: as [`normalize_origin`], but `http` is accepted for any host,
/// because simulated requests may use `http` notice URLs (§8.6); the pay-JWT URL rules and the
/// SSRF guard still apply to every URL on it (§4.5).
pub fn normalize_notice_origin(input: &str) -> Result<String, Invalid> {
    normalize_origin_with(input, true)
}

fn normalize_origin_with(input: &str, http_any_host: bool) -> Result<String, Invalid> {
    let bad = || Invalid::new("BAD_ORIGIN", format!("Not an origin (scheme://host[:port]): {input}"));
    let url = url::Url::parse(input.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(bad());
    }
    let origin = url.origin().ascii_serialization();
    let host = url.host_str().unwrap_or_default();
    if url.scheme() == "http" && !http_any_host && !loopback_host(host) {
        return Err(Invalid::new("BAD_ORIGIN", format!("http origins are accepted only for loopback hosts: {input}")));
    }
    Ok(origin)
}

fn origins_from(v: Option<&Value>, field: &str, required: bool) -> Result<Option<Vec<String>>, Invalid> {
    let notice = field == "noticeOrigins";
    let Some(v) = v else {
        return if required { Err(Invalid::new("BAD_ORIGIN", format!("{field} is required"))) } else { Ok(None) };
    };
    let Some(arr) = v.as_array() else { return Err(Invalid::new("BAD_ORIGIN", format!("{field} must be an array"))) };
    let mut out: Vec<String> = Vec::new();
    for item in arr {
        let s = item.as_str().ok_or_else(|| Invalid::new("BAD_ORIGIN", format!("{field} must hold strings")))?;
        let o = if notice { normalize_notice_origin(s)? } else { normalize_origin(s)? };
        if !out.contains(&o) {
            out.push(o);
        }
    }
    if out.is_empty() && required {
        return Err(Invalid::new("BAD_ORIGIN", format!("{field} needs at least one origin")));
    }
    Ok(Some(out))
}

/// App name: 1–100 characters.
pub fn check_app_name(name: &str) -> Result<(), Invalid> {
    let n = char_len(name.trim());
    if n == 0 || n > 100 {
        return Err(Invalid::new("BAD_NAME", "The app name must have 1 to 100 characters."));
    }
    Ok(())
}

fn guid_ok(g: &str) -> bool {
    !g.is_empty() && g.len() <= 255 && g.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn icon_key_ok(k: &str) -> bool {
    let b = k.as_bytes();
    !b.is_empty() && b.len() <= 4 && b.iter().all(u8::is_ascii_digit) && b.first() != Some(&b'0')
}

/// Validates a product's fields (§8.3) into a [`Product`].
pub async fn product_from_json(st: &Inner, app_id: i64, guid: &str, v: &Value) -> Result<Product, Invalid> {
    if !guid_ok(guid) {
        return Err(Invalid::new("BAD_GUID", "guid must match ^[A-Za-z0-9._:-]{1,255}$"));
    }
    let text = |field: &str| -> Result<String, Invalid> {
        let s = v.get(field).and_then(Value::as_str).unwrap_or_default();
        let n = char_len(s);
        if n == 0 || n > 255 {
            return Err(Invalid::new("BAD_FIELD", format!("{field} must have 1 to 255 characters")));
        }
        Ok(s.to_owned())
    };
    let name = text("name")?;
    let description = text("description")?;
    let price_id = match v.get("pricePoint") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
        _ => return Err(Invalid::new("BAD_PRICE_POINT", "pricePoint must be a tier id")),
    };
    match store::get_tier(&st.db, &price_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(Invalid::new("BAD_PRICE_POINT", "pricePoint is not a known tier")),
        Err(e) => return Err(Invalid::new("BAD_REQUEST", e.to_string())),
    }
    let default_locale = match v.get("defaultLocale") {
        None | Some(Value::Null) => "en".to_owned(),
        Some(Value::String(s)) if mozmarket_core::pay::language_tag_ok(s) => s.clone(),
        _ => return Err(Invalid::new("BAD_LOCALE", "defaultLocale must be a BCP 47 tag")),
    };
    let locales = match v.get("locales") {
        None | Some(Value::Null) => json!({}),
        Some(Value::Object(m)) => {
            if m.len() > 50 {
                return Err(Invalid::new("BAD_LOCALE", "at most 50 locales"));
            }
            let mut out = serde_json::Map::new();
            for (tag, entry) in m {
                if !mozmarket_core::pay::language_tag_ok(tag) {
                    return Err(Invalid::new("BAD_LOCALE", format!("bad language tag {tag}")));
                }
                let Some(e) = entry.as_object() else {
                    return Err(Invalid::new("BAD_LOCALE", "locale entries must be objects"));
                };
                let mut clean = serde_json::Map::new();
                for f in ["name", "description"] {
                    match e.get(f) {
                        None | Some(Value::Null) => {}
                        Some(Value::String(s)) if char_len(s) <= 255 && !s.is_empty() => {
                            clean.insert(f.to_owned(), Value::String(s.clone()));
                        }
                        _ => return Err(Invalid::new("BAD_LOCALE", format!("locale {f} must have 1 to 255 characters"))),
                    }
                }
                out.insert(tag.clone(), Value::Object(clean));
            }
            Value::Object(out)
        }
        _ => return Err(Invalid::new("BAD_LOCALE", "locales must be an object")),
    };
    let icons = match v.get("icons") {
        None | Some(Value::Null) => json!({}),
        Some(Value::Object(m)) => {
            for (k, u) in m {
                if !icon_key_ok(k) {
                    return Err(Invalid::new("BAD_ICON_KEY", format!("bad icon size {k}")));
                }
                let Some(u) = u.as_str() else { return Err(Invalid::new("BAD_ICON", "icon URLs must be strings")) };
                let ok = u.len() <= 2048
                    && url::Url::parse(u).is_ok_and(|p| {
                        p.scheme() == "https" || (p.scheme() == "http" && !st.strict() && p.host_str().is_some_and(loopback_host))
                    });
                if !ok {
                    return Err(Invalid::new("BAD_ICON", format!("icon {k}: an absolute https URL (http only on loopback in dev mode)")));
                }
            }
            Value::Object(m.clone())
        }
        _ => return Err(Invalid::new("BAD_ICON_KEY", "icons must be an object")),
    };
    let active = match v.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        _ => return Err(Invalid::new("BAD_FIELD", "active must be a boolean")),
    };
    Ok(Product {
        app_id,
        guid: guid.to_owned(),
        name,
        description,
        price_id,
        default_locale,
        locales_json: locales.to_string(),
        icons_json: icons.to_string(),
        active,
    })
}

fn amount_ok(a: &str) -> bool {
    match a.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && int.len() <= 12
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.len() == 2
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Validates a tier id and its prices (§8.3): decimal id, USD required, amounts with 2 decimals.
pub fn tier_prices(id: &str, prices: &[(String, String)]) -> Result<Vec<(String, String)>, Invalid> {
    if id.is_empty() || id.len() > 9 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new("BAD_PRICE_POINT", "A tier id is a decimal string."));
    }
    let mut out = Vec::new();
    for (c, a) in prices {
        if !CURRENCIES.contains(&c.as_str()) {
            return Err(Invalid::new("BAD_CURRENCY", format!("Unsupported currency {c} (USD, EUR, GBP, BRL, TWD).")));
        }
        if !amount_ok(a) {
            return Err(Invalid::new("BAD_AMOUNT", format!("{c}: amounts are decimal strings like 1.99")));
        }
        out.push((c.clone(), a.clone()));
    }
    if !out.iter().any(|(c, _)| c == "USD") {
        return Err(Invalid::new("BAD_AMOUNT", "Every tier needs a USD price."));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// JSON views

pub fn app_json(app: &store::App) -> Value {
    json!({ "id": app.id, "name": app.name, "origins": app.origins, "noticeOrigins": app.notice_origins })
}

fn settings_json(s: &Settings) -> Value {
    json!({ "mode": s.mode.as_str(), "slowMs": s.slow_ms, "simulationsEnabled": s.simulations_enabled })
}

fn product_json(p: &Product) -> Value {
    json!({
        "guid": p.guid,
        "name": p.name,
        "description": p.description,
        "price_id": p.price_id,
        "default_locale": p.default_locale,
        "locales": serde_json::from_str::<Value>(&p.locales_json).unwrap_or_else(|_| json!({})),
        "icons": serde_json::from_str::<Value>(&p.icons_json).unwrap_or_else(|_| json!({})),
        "active": p.active,
    })
}

fn notice_json(n: &store::NoticeRow) -> Value {
    json!({ "state": n.state, "attempts": n.attempts, "lastOutcome": n.last_outcome, "url": n.url })
}

pub async fn tx_json(st: &Inner, t: &store::Transaction, detail: bool) -> anyhow::Result<Value> {
    let notices = store::notices_of(&st.db, t.number).await?;
    let pb = notices.iter().find(|n| n.kind == "postback");
    let cb = notices.iter().find(|n| n.kind == "chargeback");
    let last = notices.iter().max_by_key(|n| n.updated_ms).and_then(|n| n.last_outcome.clone());
    let mut v = json!({
        "transactionID": t.transaction_id,
        "uuid": t.uuid,
        "number": t.number,
        "created": t.created_ms,
        "app": t.app_id,
        "key": t.key,
        "requestId": t.request_id,
        "name": t.name,
        "tier": t.tier,
        "amount": t.amount,
        "currency": t.currency,
        "kind": t.kind,
        "state": t.state,
        "postback": pb.map(notice_json),
        "chargeback": cb.map(notice_json),
        "lastOutcome": last,
    });
    if detail {
        let mut ns = Vec::new();
        for n in &notices {
            let attempts = store::attempts_of(&st.db, n.id).await?;
            ns.push(json!({
                "kind": n.kind,
                "state": n.state,
                "url": n.url,
                "reason": n.reason,
                "series": n.series,
                "attempts": n.attempts,
                "nextAttemptAt": n.next_attempt_at,
                "lastOutcome": n.last_outcome,
                "history": attempts.iter().map(|a| json!({
                    "series": a.series, "attempt": a.attempt, "time": a.started_ms, "durationMs": a.duration_ms,
                    "url": a.url, "httpStatus": a.http_status, "outcome": a.outcome, "body": a.body_prefix, "iat": a.iat,
                })).collect::<Vec<_>>(),
            }));
        }
        let receipts = store::issued_receipts_of(&st.db, t.number).await?;
        if let Value::Object(m) = &mut v {
            m.insert("request".into(), serde_json::from_str(&t.request_json).unwrap_or(Value::Null));
            m.insert("directedId".into(), Value::String(t.directed_id.clone()));
            m.insert("notices".into(), Value::Array(ns));
            m.insert(
                "receipts".into(),
                Value::Array(receipts.iter().map(|r| json!({"iat": r.iat, "exp": r.exp, "kid": r.kid})).collect()),
            );
        }
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Shared actions (API and hub)

/// Refund or chargeback (§8.4).
pub async fn do_refund(st: &AppState, transaction_id: &str, reason: &str) -> anyhow::Result<RefundOutcome> {
    let Some(tx) = store::tx_by_id(&st.db, transaction_id).await? else { return Ok(RefundOutcome::NotFound) };
    let request: Value = serde_json::from_str(&tx.request_json).unwrap_or(Value::Null);
    let url = request.get("chargebackURL").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mode = store::effective_settings(&st.db, tx.app_id).await?.mode;
    let out = store::refund_transaction(&st.db, transaction_id, reason, &url, mode == Mode::DropNotices, st.now_ms()).await?;
    if out == RefundOutcome::Done {
        tracing::info!(transaction_id = %transaction_id, reason = %reason, "market: transaction refunded");
        st.wake.notify_one();
    }
    Ok(out)
}

/// Resend outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum Resend {
    Queued,
    NoSuchNotice,
    Busy,
}

pub async fn do_resend(st: &AppState, transaction_id: &str, kind: &str) -> anyhow::Result<Resend> {
    let Some(tx) = store::tx_by_id(&st.db, transaction_id).await? else { return Ok(Resend::NoSuchNotice) };
    let notices = store::notices_of(&st.db, tx.number).await?;
    let Some(n) = notices.iter().find(|n| n.kind == kind) else { return Ok(Resend::NoSuchNotice) };
    if store::resend_notice(&st.db, n.id, st.now_ms()).await? {
        st.wake.notify_one();
        Ok(Resend::Queued)
    } else {
        Ok(Resend::Busy)
    }
}

/// Merges a `{mode, slowMs, simulationsEnabled}` body over `base`.
pub fn merge_settings(base: Settings, v: &Value) -> Result<Settings, Invalid> {
    let mut s = base;
    if let Some(m) = v.get("mode") {
        s.mode = m.as_str().and_then(Mode::parse).ok_or_else(|| Invalid::new("BAD_MODE", "unknown mode"))?;
    }
    if let Some(ms) = v.get("slowMs") {
        s.slow_ms = ms
            .as_i64()
            .filter(|n| (0..=60_000).contains(n))
            .ok_or_else(|| Invalid::new("BAD_SLOW_MS", "slowMs must be 0 to 60000"))?;
    }
    if let Some(b) = v.get("simulationsEnabled") {
        s.simulations_enabled =
            b.as_bool().ok_or_else(|| Invalid::new("BAD_FIELD", "simulationsEnabled must be a boolean"))?;
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// §8.3 catalogue

pub async fn catalogue(State(st): State<AppState>, Path(key): Path<String>, RawQuery(q): RawQuery) -> Response {
    let active_only = form_field(&query_pairs(q.as_deref()), "active").is_some_and(|v| v == "1");
    let result: anyhow::Result<Response> = async {
        let key = match store::get_key(&st.db, &key).await? {
            Some(k) if k.active() => k,
            _ => {
                let mut r = json_error(404, "BAD_JWT_ISSUER", "No one has been registered for this JWT issuer.");
                r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                return Ok(r);
            }
        };
        let settings = store::effective_settings(&st.db, key.app_id).await?;
        if settings.mode == Mode::Slow {
            tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(settings.slow_ms).unwrap_or(0))).await;
        }
        let products = store::list_products(&st.db, key.app_id, active_only).await?;
        let body = json!({ "objects": products.iter().map(product_json).collect::<Vec<_>>() });
        let mut r = json_response(StatusCode::OK, &body);
        r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
        Ok(r)
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

// ---------------------------------------------------------------------------------------------
// §8.7 handlers

fn app_id_of(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|n| *n > 0)
}

fn app_not_found() -> Response {
    json_error(404, "APP_NOT_FOUND", "No such app.")
}

async fn load_app(st: &Inner, id: &str) -> anyhow::Result<Option<store::App>> {
    match app_id_of(id) {
        Some(n) => store::get_app(&st.db, n).await,
        None => Ok(None),
    }
}

pub async fn list_apps(State(st): State<AppState>, headers: HeaderMap) -> Response {
    auth!(st, headers);
    match store::list_apps(&st.db).await {
        Ok(apps) => json_response(StatusCode::OK, &json!({ "objects": apps.iter().map(app_json).collect::<Vec<_>>() })),
        Err(e) => internal(&e),
    }
}

pub async fn create_app(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let name = v.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if let Err(e) = check_app_name(&name) {
        return e.response();
    }
    let origins = match origins_from(v.get("origins"), "origins", true) {
        Ok(Some(o)) => o,
        Ok(None) => return Invalid::new("BAD_ORIGIN", "origins is required").response(),
        Err(e) => return e.response(),
    };
    let notice = match origins_from(v.get("noticeOrigins"), "noticeOrigins", false) {
        Ok(o) => o.unwrap_or_else(|| origins.clone()),
        Err(e) => return e.response(),
    };
    let result: anyhow::Result<Response> = async {
        let id = store::create_app(&st.db, &name, &origins, &notice, st.now_ms()).await?;
        let app = store::get_app(&st.db, id).await?.ok_or_else(|| anyhow::anyhow!("app vanished"))?;
        Ok(json_response(StatusCode::CREATED, &app_json(&app)))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn get_app(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(st, headers);
    match load_app(&st, &id).await {
        Ok(Some(app)) => json_response(StatusCode::OK, &app_json(&app)),
        Ok(None) => app_not_found(),
        Err(e) => internal(&e),
    }
}

pub async fn patch_app(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let name = v.get("name").and_then(Value::as_str).map(|s| s.trim().to_owned());
    if let Some(n) = &name {
        if let Err(e) = check_app_name(n) {
            return e.response();
        }
    }
    let origins = match origins_from(v.get("origins"), "origins", false) {
        Ok(o) => o,
        Err(e) => return e.response(),
    };
    if origins.as_ref().is_some_and(Vec::is_empty) {
        return Invalid::new("BAD_ORIGIN", "origins needs at least one origin").response();
    }
    let notice = match origins_from(v.get("noticeOrigins"), "noticeOrigins", false) {
        Ok(o) => o,
        Err(e) => return e.response(),
    };
    let result: anyhow::Result<Response> = async {
        let Some(app) = load_app(&st, &id).await? else { return Ok(app_not_found()) };
        store::update_app(&st.db, app.id, name.as_deref(), origins.as_deref(), notice.as_deref()).await?;
        let app = store::get_app(&st.db, app.id).await?.ok_or_else(|| anyhow::anyhow!("app vanished"))?;
        Ok(json_response(StatusCode::OK, &app_json(&app)))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

fn key_created(key: String, secret: String, kind: &str) -> Response {
    let mut r = json_response(StatusCode::CREATED, &json!({ "key": key, "secret": secret, "kind": kind }));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn key_error(e: KeyCreateError) -> Response {
    match e {
        KeyCreateError::TooManyKeys => json_error(409, "TOO_MANY_KEYS", "An app has at most 5 active keys."),
        KeyCreateError::Db(e) => internal(&e),
    }
}

pub async fn create_key(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let kind = match v.get("kind").and_then(Value::as_str) {
        Some(k @ ("simulation" | "live")) => k.to_owned(),
        _ => return Invalid::new("BAD_KIND", "kind must be \"simulation\" or \"live\"").response(),
    };
    let app = match load_app(&st, &id).await {
        Ok(Some(a)) => a,
        Ok(None) => return app_not_found(),
        Err(e) => return internal(&e),
    };
    match store::create_key(&st.db, app.id, &kind, None, st.now_ms()).await {
        Ok((key, secret)) => {
            tracing::info!(app = app.id, key = %key, kind = %kind, "market: key created");
            key_created(key, secret, &kind)
        }
        Err(e) => key_error(e),
    }
}

pub async fn reset_key(State(st): State<AppState>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    auth!(st, headers);
    let old = match store::get_key(&st.db, &key).await {
        Ok(Some(k)) if k.active() => k,
        Ok(_) => return json_error(404, "KEY_NOT_FOUND", "No such active key."),
        Err(e) => return internal(&e),
    };
    match store::create_key(&st.db, old.app_id, &old.kind, Some(&old.key), st.now_ms()).await {
        Ok((key, secret)) => {
            tracing::info!(app = old.app_id, old = %old.key, key = %key, "market: key reset");
            key_created(key, secret, &old.kind)
        }
        Err(e) => key_error(e),
    }
}

pub async fn revoke_key(State(st): State<AppState>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    auth!(st, headers);
    match store::revoke_key(&st.db, &key, st.now_ms()).await {
        Ok(true) => {
            tracing::info!(key = %key, "market: key revoked");
            axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT)
        }
        Ok(false) => json_error(404, "KEY_NOT_FOUND", "No such active key."),
        Err(e) => internal(&e),
    }
}

pub async fn list_products(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(st, headers);
    let result: anyhow::Result<Response> = async {
        let Some(app) = load_app(&st, &id).await? else { return Ok(app_not_found()) };
        let products = store::list_products(&st.db, app.id, false).await?;
        Ok(json_response(StatusCode::OK, &json!({ "objects": products.iter().map(product_json).collect::<Vec<_>>() })))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn put_product(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((id, guid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let app = match load_app(&st, &id).await {
        Ok(Some(a)) => a,
        Ok(None) => return app_not_found(),
        Err(e) => return internal(&e),
    };
    let product = match product_from_json(&st, app.id, &guid, &v).await {
        Ok(p) => p,
        Err(e) => return e.response(),
    };
    match store::put_product(&st.db, &product, st.now_ms()).await {
        Ok(created) => json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &product_json(&product)),
        Err(e) => internal(&e),
    }
}

pub async fn list_tiers(State(st): State<AppState>, headers: HeaderMap) -> Response {
    auth!(st, headers);
    match store::list_tiers(&st.db).await {
        Ok(tiers) => {
            let objects: Vec<Value> = tiers
                .iter()
                .map(|t| {
                    let prices: serde_json::Map<String, Value> =
                        t.prices.iter().map(|(c, a)| (c.clone(), Value::String(a.clone()))).collect();
                    json!({ "id": t.id, "prices": prices })
                })
                .collect();
            json_response(StatusCode::OK, &json!({ "objects": objects }))
        }
        Err(e) => internal(&e),
    }
}

pub async fn put_tier(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(prices) = v.get("prices").and_then(Value::as_object) else {
        return Invalid::new("BAD_AMOUNT", "prices must be an object of currency → amount").response();
    };
    let mut pairs = Vec::new();
    for (c, a) in prices {
        let Some(a) = a.as_str() else { return Invalid::new("BAD_AMOUNT", "amounts are decimal strings").response() };
        pairs.push((c.clone(), a.to_owned()));
    }
    let pairs = match tier_prices(&id, &pairs) {
        Ok(p) => p,
        Err(e) => return e.response(),
    };
    match store::put_tier(&st.db, &id, &pairs, st.now_ms()).await {
        Ok(_) => {
            let prices: serde_json::Map<String, Value> = pairs.into_iter().map(|(c, a)| (c, Value::String(a))).collect();
            json_response(StatusCode::OK, &json!({ "id": id, "prices": prices }))
        }
        Err(e) => internal(&e),
    }
}

pub async fn list_transactions(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    auth!(st, headers);
    let pairs = query_pairs(q.as_deref());
    let f = TxFilter {
        app: form_field(&pairs, "app").and_then(|s| app_id_of(&s)),
        state: form_field(&pairs, "state").filter(|s| !s.is_empty()),
        kind: form_field(&pairs, "kind").filter(|s| !s.is_empty()),
        notice_state: form_field(&pairs, "notice").filter(|s| !s.is_empty()),
    };
    let page: i64 = form_field(&pairs, "page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let result: anyhow::Result<Response> = async {
        let txs = store::list_transactions(&st.db, &f, 50, (page - 1).saturating_mul(50)).await?;
        let mut objects = Vec::with_capacity(txs.len());
        for t in &txs {
            objects.push(tx_json(&st, t, false).await?);
        }
        Ok(json_response(StatusCode::OK, &json!({ "objects": objects })))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

fn tx_not_found() -> Response {
    json_error(404, "TRANS_MISSING", "No such transaction.")
}

pub async fn get_transaction(State(st): State<AppState>, headers: HeaderMap, Path(tid): Path<String>) -> Response {
    auth!(st, headers);
    let result: anyhow::Result<Response> = async {
        let Some(t) = store::tx_by_id(&st.db, &tid).await? else { return Ok(tx_not_found()) };
        Ok(json_response(StatusCode::OK, &tx_json(&st, &t, true).await?))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn refund(State(st): State<AppState>, headers: HeaderMap, Path(tid): Path<String>, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let reason = match v.get("reason") {
        None => "refund".to_owned(),
        Some(Value::String(r)) if r == "refund" || r == "reversal" => r.clone(),
        _ => return Invalid::new("BAD_REASON", "reason must be \"refund\" or \"reversal\"").response(),
    };
    match do_refund(&st, &tid, &reason).await {
        Ok(RefundOutcome::Done) => json_response(StatusCode::ACCEPTED, &json!({ "transactionID": tid, "reason": reason })),
        Ok(RefundOutcome::AlreadyRefunded) => json_error(409, "ALREADY_REFUNDED", "Already refunded."),
        Ok(RefundOutcome::NotFound) => tx_not_found(),
        Err(e) => internal(&e),
    }
}

pub async fn resend(State(st): State<AppState>, headers: HeaderMap, Path((tid, kind)): Path<(String, String)>) -> Response {
    auth!(st, headers);
    if kind != "postback" && kind != "chargeback" {
        return json_error(404, "NOTICE_NOT_FOUND", "No such notice.");
    }
    match do_resend(&st, &tid, &kind).await {
        Ok(Resend::Queued) => json_response(StatusCode::ACCEPTED, &json!({ "transactionID": tid, "kind": kind })),
        Ok(Resend::NoSuchNotice) => json_error(404, "NOTICE_NOT_FOUND", "No such notice."),
        Ok(Resend::Busy) => json_error(409, "NOTICE_BUSY", "The notice is still being delivered."),
        Err(e) => internal(&e),
    }
}

pub async fn get_settings(State(st): State<AppState>, headers: HeaderMap) -> Response {
    auth!(st, headers);
    match store::global_settings(&st.db).await {
        Ok(s) => json_response(StatusCode::OK, &settings_json(&s)),
        Err(e) => internal(&e),
    }
}

pub async fn put_settings(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result: anyhow::Result<Response> = async {
        let cur = store::global_settings(&st.db).await?;
        let new = match merge_settings(cur, &v) {
            Ok(s) => s,
            Err(e) => return Ok(e.response()),
        };
        store::put_global_settings(&st.db, &new, st.now_ms()).await?;
        tracing::info!(mode = new.mode.as_str(), "market: global settings changed");
        Ok(json_response(StatusCode::OK, &settings_json(&new)))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn get_app_settings(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(st, headers);
    let result: anyhow::Result<Response> = async {
        let Some(app) = load_app(&st, &id).await? else { return Ok(app_not_found()) };
        let over = store::app_settings_override(&st.db, app.id).await?;
        let eff = store::effective_settings(&st.db, app.id).await?;
        let mut v = settings_json(&eff);
        if let Value::Object(m) = &mut v {
            m.insert("override".into(), Value::Bool(over.is_some()));
        }
        Ok(json_response(StatusCode::OK, &v))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn put_app_settings(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result: anyhow::Result<Response> = async {
        let Some(app) = load_app(&st, &id).await? else { return Ok(app_not_found()) };
        let base = store::effective_settings(&st.db, app.id).await?;
        let new = match merge_settings(base, &v) {
            Ok(s) => s,
            Err(e) => return Ok(e.response()),
        };
        store::put_app_settings(&st.db, app.id, &new, st.now_ms()).await?;
        tracing::info!(app = app.id, mode = new.mode.as_str(), "market: app settings changed");
        let mut out = settings_json(&new);
        if let Value::Object(m) = &mut out {
            m.insert("override".into(), Value::Bool(true));
        }
        Ok(json_response(StatusCode::OK, &out))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn delete_app_settings(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    auth!(st, headers);
    let result: anyhow::Result<Response> = async {
        let Some(app) = load_app(&st, &id).await? else { return Ok(app_not_found()) };
        store::delete_app_settings(&st.db, app.id).await?;
        Ok(axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT))
    }
    .await;
    result.unwrap_or_else(|e| internal(&e))
}

pub async fn rotate(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    auth!(st, headers);
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let which = match v.get("which").and_then(Value::as_str) {
        Some(w @ ("ephemeral" | "root")) => w.to_owned(),
        _ => return Invalid::new("BAD_FIELD", "which must be \"ephemeral\" or \"root\"").response(),
    };
    match signing::rotate(&st, &which).await {
        Ok(kid) => json_response(StatusCode::CREATED, &json!({ "kid": kid })),
        Err(e) => internal(&e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn origins_are_normalized() {
        assert_eq!(normalize_origin("http://localhost:7801").unwrap(), "http://localhost:7801");
        assert_eq!(normalize_origin("http://localhost:7801/").unwrap(), "http://localhost:7801");
        assert_eq!(normalize_origin("https://Example.com:443").unwrap(), "https://example.com");
        assert!(normalize_origin("http://example.com").is_err());
        assert!(normalize_origin("https://example.com/path").is_err());
        assert!(normalize_origin("https://u:p@example.com").is_err());
        assert!(normalize_origin("ftp://example.com").is_err());
        assert!(normalize_origin("nonsense").is_err());
    }

    #[test]
    fn tier_rules() {
        let p = |c: &str, a: &str| (c.to_owned(), a.to_owned());
        assert!(tier_prices("12", &[p("USD", "1.00"), p("EUR", "0.90")]).is_ok());
        assert!(tier_prices("12", &[p("EUR", "0.90")]).is_err());
        assert!(tier_prices("12", &[p("USD", "1")]).is_err());
        assert!(tier_prices("x", &[p("USD", "1.00")]).is_err());
        assert!(tier_prices("12", &[p("USD", "1.00"), p("JPY", "100.00")]).is_err());
    }
}
