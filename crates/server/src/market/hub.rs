//! The developer hub's HTML pages (spec/payments.md §8): sign-in with the admin token, apps and
//! origins, in-app payment keys, products, price tiers, transactions with Refund / Chargeback /
//! Resend, checkouts, provider mode switches and signing keys. Every value shown is escaped;
//! every form carries the sign-in's CSRF token.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::api::{self, Invalid, Resend};
use super::clock::format_utc;
use super::html::{esc, page, security_headers};
use super::store::{self, Mode, RefundOutcome, TxFilter, CURRENCIES};
use super::web::{cookie, form_field, query_pairs, read_body, set_cookie};
use super::{signing, AppState, Inner};

const COOKIE: &str = "mm_dev";
const LOGIN_MS: i64 = 12 * 3600 * 1000;
const FORM_CAP: usize = 64 * 1024;

/// A signed-in developer: the CSRF token bound to the sign-in.
struct Session {
    csrf: String,
}

async fn session(st: &Inner, headers: &HeaderMap) -> anyhow::Result<Option<Session>> {
    let Some(id) = cookie(headers, COOKIE) else { return Ok(None) };
    if id.is_empty() || id.len() > 128 {
        return Ok(None);
    }
    Ok(store::login_csrf(&st.db, &store::sha256_hex(&id), st.now_ms()).await?.map(|csrf| Session { csrf }))
}

fn dev(st: &Inner) -> bool {
    !st.strict()
}

fn nav(csrf: &str) -> String {
    format!(
        "<nav class=\"hub\"><a href=\"/dev/\">Apps</a><a href=\"/dev/transactions\">Transactions</a>\
         <a href=\"/dev/checkouts\">Checkouts</a><a href=\"/dev/price-tiers\">Price tiers</a>\
         <a href=\"/dev/settings\">Provider mode</a><a href=\"/dev/signing\">Signing keys</a>\
         <form method=\"post\" action=\"/dev/logout\">{}<button type=\"submit\" class=\"secondary\">Sign out</button></form></nav>",
        csrf_input(csrf)
    )
}

fn csrf_input(csrf: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(csrf))
}

fn hub_page(st: &Inner, s: &Session, title: &str, body: &str) -> Response {
    page(StatusCode::OK, dev(st), &format!("{title} — mozmarket developer hub"), "", &format!("{}<main>{body}</main>", nav(&s.csrf)), false)
}

fn hub_error(st: &Inner, s: &Session, status: StatusCode, message: &str) -> Response {
    let body = format!("{}<main><h1>Error</h1><p>{}</p></main>", nav(&s.csrf), esc(message));
    page(status, dev(st), "Error — mozmarket developer hub", "", &body, false)
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    security_headers(r.headers_mut(), true);
    r
}

fn login_page(st: &Inner, status: StatusCode, message: Option<&str>) -> Response {
    let msg = message.map(|m| format!("<p class=\"banner mode\">{}</p>", esc(m))).unwrap_or_default();
    let body = format!(
        "<main><h1>mozmarket developer hub</h1>{msg}\
         <form method=\"post\" action=\"/dev/login\"><label>Admin token \
         <input type=\"password\" name=\"token\" autocomplete=\"current-password\" required></label> \
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"muted\">The token is the <code>market.admin_token</code> setting, or the one printed once at the first start.</p></main>"
    );
    page(status, dev(st), "Sign in — mozmarket developer hub", "", &body, false)
}

fn internal_page(st: &Inner, e: &anyhow::Error) -> Response {
    tracing::error!(error = %e, "market: hub page failed");
    page(StatusCode::INTERNAL_SERVER_ERROR, dev(st), "Error", "", "<main><h1>An unexpected error occurred.</h1></main>", false)
}

/// A form post: the session and the form pairs, after the CSRF check (403 on mismatch).
async fn form_post(st: &Inner, req: Request<Body>) -> Result<(Session, Vec<(String, String)>), Response> {
    let (parts, body) = match read_body(req, FORM_CAP).await {
        Ok(x) => x,
        Err(_) => return Err(page(StatusCode::PAYLOAD_TOO_LARGE, dev(st), "Too large", "", "<main><h1>Request too large</h1></main>", false)),
    };
    let s = match session(st, &parts.headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(login_page(st, StatusCode::UNAUTHORIZED, Some("Please sign in."))),
        Err(e) => return Err(internal_page(st, &e)),
    };
    let pairs = mozmarket_core::pay::form_pairs(&body);
    let sent = form_field(&pairs, "csrf").unwrap_or_default();
    if !mozmarket_core::hs256::ct_eq(sent.as_bytes(), s.csrf.as_bytes()) {
        return Err(page(StatusCode::FORBIDDEN, dev(st), "Forbidden", "", "<main><h1>CSRF check failed</h1></main>", false));
    }
    Ok((s, pairs))
}

macro_rules! signed_in {
    ($st:expr, $headers:expr) => {
        match session(&$st, &$headers).await {
            Ok(Some(s)) => s,
            Ok(None) => return login_page(&$st, StatusCode::OK, None),
            Err(e) => return internal_page(&$st, &e),
        }
    };
}

macro_rules! try_page {
    ($st:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return internal_page(&$st, &e),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Sign-in

pub async fn redirect_home() -> Response {
    redirect("/dev/")
}

pub async fn login(State(st): State<AppState>, req: Request<Body>) -> Response {
    let Ok((_, body)) = read_body(req, FORM_CAP).await else { return login_page(&st, StatusCode::BAD_REQUEST, None) };
    let token = form_field(&mozmarket_core::pay::form_pairs(&body), "token").unwrap_or_default();
    if token.is_empty() || !api::token_ok(&st, &token) {
        tracing::info!("market: hub sign-in refused");
        return login_page(&st, StatusCode::UNAUTHORIZED, Some("Wrong admin token."));
    }
    let id = store::random_token(32);
    let csrf = store::random_token(24);
    let now = st.now_ms();
    try_page!(st, store::create_login(&st.db, &store::sha256_hex(&id), &csrf, now, now.saturating_add(LOGIN_MS)).await);
    let mut r = redirect("/dev/");
    set_cookie(&mut r, &format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/dev; Max-Age={}", LOGIN_MS / 1000));
    r
}

pub async fn logout(State(st): State<AppState>, req: Request<Body>) -> Response {
    let id = cookie(req.headers(), COOKIE);
    if let Err(r) = form_post(&st, req).await {
        return r;
    }
    if let Some(id) = id {
        try_page!(st, store::delete_login(&st.db, &store::sha256_hex(&id)).await);
    }
    let mut r = redirect("/dev/");
    set_cookie(&mut r, &format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/dev; Max-Age=0"));
    r
}

// ---------------------------------------------------------------------------------------------
// Apps

pub async fn home(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let s = signed_in!(st, headers);
    let apps = try_page!(st, store::list_apps(&st.db).await);
    let rows: String = apps
        .iter()
        .map(|a| {
            format!(
                "<tr><td>{}</td><td><a href=\"/dev/apps/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                a.id,
                a.id,
                esc(&a.name),
                esc(&a.origins.join(" ")),
                esc(&a.notice_origins.join(" "))
            )
        })
        .collect();
    let body = format!(
        "<h1>Apps</h1><table><tr><th>Id</th><th>Name</th><th>App origins</th><th>Notice origins</th></tr>{rows}</table>\
         <h2>New app</h2><form method=\"post\" action=\"/dev/apps\">{}\
         <p><label>Name <input type=\"text\" name=\"name\" maxlength=\"100\" required></label></p>\
         <p><label>App origins (one per line; the first is the primary origin)<textarea name=\"origins\" required></textarea></label></p>\
         <p><label>Notice origins (one per line; empty: the app origins)<textarea name=\"notice_origins\"></textarea></label></p>\
         <button type=\"submit\">Create app</button></form>",
        csrf_input(&s.csrf)
    );
    hub_page(&st, &s, "Apps", &body)
}

fn lines(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn origins_of(raw: &[String], notice: bool) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for o in raw {
        let n = if notice { api::normalize_notice_origin(o)? } else { api::normalize_origin(o)? };
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

pub async fn create_app(State(st): State<AppState>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = form_field(&pairs, "name").unwrap_or_default().trim().to_owned();
    let checked = api::check_app_name(&name).and_then(|_| {
        let origins = origins_of(&lines(form_field(&pairs, "origins")), false)?;
        if origins.is_empty() {
            return Err(Invalid::new("BAD_ORIGIN", "At least one app origin is required."));
        }
        let notice = origins_of(&lines(form_field(&pairs, "notice_origins")), true)?;
        let notice = if notice.is_empty() { origins.clone() } else { notice };
        Ok((origins, notice))
    });
    let (origins, notice) = match checked {
        Ok(x) => x,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    let id = try_page!(st, store::create_app(&st.db, &name, &origins, &notice, st.now_ms()).await);
    redirect(&format!("/dev/apps/{id}"))
}

fn tier_options(tiers: &[store::Tier], selected: &str) -> String {
    tiers
        .iter()
        .map(|t| {
            let usd = t.price("USD").unwrap_or("-");
            format!(
                "<option value=\"{}\"{}>{} (USD {})</option>",
                esc(&t.id),
                if t.id == selected { " selected" } else { "" },
                esc(&t.id),
                esc(usd)
            )
        })
        .collect()
}

fn mode_options(selected: Mode) -> String {
    Mode::ALL
        .iter()
        .map(|m| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                m.as_str(),
                if *m == selected { " selected" } else { "" },
                m.as_str()
            )
        })
        .collect()
}

async fn app_page_body(st: &Inner, s: &Session, app: &store::App, notice: Option<&str>) -> anyhow::Result<String> {
    let keys = store::app_keys(&st.db, app.id).await?;
    let products = store::list_products(&st.db, app.id, false).await?;
    let tiers = store::list_tiers(&st.db).await?;
    let over = store::app_settings_override(&st.db, app.id).await?;
    let eff = store::effective_settings(&st.db, app.id).await?;
    let csrf = csrf_input(&s.csrf);
    let notice_html = notice.map(|n| format!("<div class=\"banner ok\">{n}</div>")).unwrap_or_default();
    let key_rows: String = keys
        .iter()
        .map(|k| {
            let actions = if k.active() {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/dev/keys/{key}/reset\">{csrf}<button type=\"submit\" class=\"secondary\">Reset credentials</button></form> \
                     <form class=\"inline\" method=\"post\" action=\"/dev/keys/{key}/revoke\">{csrf}<button type=\"submit\" class=\"danger\">Revoke</button></form>",
                    key = esc(&k.key)
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>",
                esc(&k.key),
                esc(&k.kind),
                esc(&k.state),
                esc(&format_utc(k.created_ms))
            )
        })
        .collect();
    let primary = app.origins.first().cloned().unwrap_or_default();
    let product_rows: String = products
        .iter()
        .map(|p| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&p.guid),
                esc(&p.name),
                esc(&p.description),
                esc(&p.price_id),
                if p.active { "yes" } else { "no" },
                esc(&format!("{primary}/mozpay/product/{}/buy", p.guid))
            )
        })
        .collect();
    let inherit_note = if over.is_some() { "This app overrides the global mode." } else { "This app follows the global mode." };
    Ok(format!(
        "{notice_html}<h1>{name}</h1><p class=\"muted\">App number {id} (the <code>id</code> in receipt storedata).</p>\
         <h2>Settings</h2><form method=\"post\" action=\"/dev/apps/{id}\">{csrf}\
         <p><label>Name <input type=\"text\" name=\"name\" value=\"{name}\" maxlength=\"100\" required></label></p>\
         <p><label>App origins (one per line; the first is the primary origin)<textarea name=\"origins\" required>{origins}</textarea></label></p>\
         <p><label>Notice origins (one per line)<textarea name=\"notice_origins\">{notice_origins}</textarea></label></p>\
         <button type=\"submit\">Save</button></form>\
         <h2>In-App Payment Keys</h2><table><tr><th>Key</th><th>Kind</th><th>State</th><th>Created (UTC)</th><th></th></tr>{key_rows}</table>\
         <form method=\"post\" action=\"/dev/apps/{id}/keys\">{csrf}<label>Kind <select name=\"kind\">\
         <option value=\"simulation\">simulation (can only simulate)</option><option value=\"live\">live</option></select></label> \
         <button type=\"submit\">Create key</button></form>\
         <h2>Products</h2><table><tr><th>guid</th><th>Name</th><th>Description</th><th>Tier</th><th>Active</th><th>Buy URL</th></tr>{product_rows}</table>\
         <h3>Add or update a product</h3><form method=\"post\" action=\"/dev/apps/{id}/products\">{csrf}\
         <p><label>guid <input type=\"text\" name=\"guid\" required maxlength=\"255\"></label>\
         <label>Name <input type=\"text\" name=\"name\" required maxlength=\"255\"></label></p>\
         <p><label>Description <input type=\"text\" name=\"description\" required maxlength=\"255\"></label>\
         <label>Price tier <select name=\"pricePoint\">{tier_opts}</select></label>\
         <label>Default locale <input type=\"text\" name=\"defaultLocale\" value=\"en\"></label>\
         <label><input type=\"checkbox\" name=\"active\" value=\"1\" checked> Active</label></p>\
         <p><label>Locales (JSON, e.g. {{\"de\": {{\"name\": \"…\"}}}})<textarea name=\"locales\"></textarea></label></p>\
         <p><label>Icons (JSON, e.g. {{\"64\": \"https://…/icon-64.png\"}})<textarea name=\"icons\"></textarea></label></p>\
         <button type=\"submit\">Save product</button></form>\
         <h2>Provider mode for this app</h2><p class=\"muted\">{inherit_note} Effective: <code>{eff_mode}</code>.</p>\
         <form method=\"post\" action=\"/dev/apps/{id}/settings\">{csrf}\
         <label>Mode <select name=\"mode\"><option value=\"inherit\">(follow the global mode)</option>{mode_opts}</select></label>\
         <label>slow_ms <input type=\"text\" name=\"slowMs\" value=\"{slow}\"></label>\
         <label><input type=\"checkbox\" name=\"simulationsEnabled\" value=\"1\"{sim_checked}> Simulations enabled</label>\
         <button type=\"submit\">Apply</button></form>",
        name = esc(&app.name),
        id = app.id,
        origins = esc(&app.origins.join("\n")),
        notice_origins = esc(&app.notice_origins.join("\n")),
        tier_opts = tier_options(&tiers, "5"),
        eff_mode = esc(eff.mode.as_str()),
        mode_opts = mode_options(over.map(|o| o.mode).unwrap_or(Mode::Normal)),
        slow = eff.slow_ms,
        sim_checked = if eff.simulations_enabled { " checked" } else { "" },
    ))
}

async fn load_app(st: &Inner, id: &str) -> anyhow::Result<Option<store::App>> {
    match id.parse::<i64>() {
        Ok(n) if n > 0 => store::get_app(&st.db, n).await,
        _ => Ok(None),
    }
}

pub async fn app_page(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = signed_in!(st, headers);
    let Some(app) = try_page!(st, load_app(&st, &id).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such app.");
    };
    let body = try_page!(st, app_page_body(&st, &s, &app, None).await);
    hub_page(&st, &s, &app.name, &body)
}

pub async fn update_app(State(st): State<AppState>, Path(id): Path<String>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(app) = try_page!(st, load_app(&st, &id).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such app.");
    };
    let name = form_field(&pairs, "name").unwrap_or_default().trim().to_owned();
    let checked = api::check_app_name(&name).and_then(|_| {
        let origins = origins_of(&lines(form_field(&pairs, "origins")), false)?;
        if origins.is_empty() {
            return Err(Invalid::new("BAD_ORIGIN", "At least one app origin is required."));
        }
        let notice = origins_of(&lines(form_field(&pairs, "notice_origins")), true)?;
        Ok((origins, notice))
    });
    let (origins, notice) = match checked {
        Ok(x) => x,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    try_page!(st, store::update_app(&st.db, app.id, Some(&name), Some(&origins), Some(&notice)).await);
    redirect(&format!("/dev/apps/{}", app.id))
}

fn secret_notice(key: &str, secret: &str, kind: &str) -> String {
    format!(
        "<p>New <strong>{}</strong> key <code>{}</code>. Its secret is shown <strong>once</strong>; copy it now:</p>\
         <p class=\"secret\"><code>{}</code></p>",
        esc(kind),
        esc(key),
        esc(secret)
    )
}

async fn show_secret(st: &Inner, s: &Session, app_id: i64, key: &str, secret: &str, kind: &str) -> Response {
    let Some(app) = try_page!(st, store::get_app(&st.db, app_id).await) else {
        return hub_error(st, s, StatusCode::NOT_FOUND, "No such app.");
    };
    let body = try_page!(st, app_page_body(st, s, &app, Some(&secret_notice(key, secret, kind))).await);
    let mut r = hub_page(st, s, &app.name, &body);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn key_error(st: &Inner, s: &Session, e: store::KeyCreateError) -> Response {
    match e {
        store::KeyCreateError::TooManyKeys => hub_error(st, s, StatusCode::CONFLICT, "An app has at most 5 active keys."),
        store::KeyCreateError::Db(e) => internal_page(st, &e),
    }
}

pub async fn create_key(State(st): State<AppState>, Path(id): Path<String>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(app) = try_page!(st, load_app(&st, &id).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such app.");
    };
    let kind = match form_field(&pairs, "kind").as_deref() {
        Some("live") => "live",
        Some("simulation") => "simulation",
        _ => return hub_error(&st, &s, StatusCode::BAD_REQUEST, "Choose a key kind."),
    };
    match store::create_key(&st.db, app.id, kind, None, st.now_ms()).await {
        Ok((key, secret)) => {
            tracing::info!(app = app.id, key = %key, kind = %kind, "market: key created");
            show_secret(&st, &s, app.id, &key, &secret, kind).await
        }
        Err(e) => key_error(&st, &s, e),
    }
}

pub async fn reset_key(State(st): State<AppState>, Path(key): Path<String>, req: Request<Body>) -> Response {
    let (s, _) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let old = match try_page!(st, store::get_key(&st.db, &key).await) {
        Some(k) if k.active() => k,
        _ => return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such active key."),
    };
    match store::create_key(&st.db, old.app_id, &old.kind, Some(&old.key), st.now_ms()).await {
        Ok((key, secret)) => {
            tracing::info!(app = old.app_id, old = %old.key, key = %key, "market: key reset");
            show_secret(&st, &s, old.app_id, &key, &secret, &old.kind).await
        }
        Err(e) => key_error(&st, &s, e),
    }
}

pub async fn revoke_key(State(st): State<AppState>, Path(key): Path<String>, req: Request<Body>) -> Response {
    let (s, _) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(k) = try_page!(st, store::get_key(&st.db, &key).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such key.");
    };
    try_page!(st, store::revoke_key(&st.db, &key, st.now_ms()).await);
    tracing::info!(key = %key, "market: key revoked");
    redirect(&format!("/dev/apps/{}", k.app_id))
}

pub async fn put_product(State(st): State<AppState>, Path(id): Path<String>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(app) = try_page!(st, load_app(&st, &id).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such app.");
    };
    let json_field = |name: &str| -> Result<Value, Invalid> {
        match form_field(&pairs, name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            None => Ok(Value::Null),
            Some(text) => serde_json::from_str(&text).map_err(|_| Invalid::new("BAD_FIELD", format!("{name} is not valid JSON"))),
        }
    };
    let built = (|| -> Result<Value, Invalid> {
        Ok(serde_json::json!({
            "name": form_field(&pairs, "name").unwrap_or_default(),
            "description": form_field(&pairs, "description").unwrap_or_default(),
            "pricePoint": form_field(&pairs, "pricePoint").unwrap_or_default(),
            "defaultLocale": form_field(&pairs, "defaultLocale").filter(|s| !s.is_empty()),
            "locales": json_field("locales")?,
            "icons": json_field("icons")?,
            "active": form_field(&pairs, "active").is_some(),
        }))
    })();
    let v = match built {
        Ok(v) => v,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    let guid = form_field(&pairs, "guid").unwrap_or_default();
    let product = match api::product_from_json(&st, app.id, guid.trim(), &v).await {
        Ok(p) => p,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    try_page!(st, store::put_product(&st.db, &product, st.now_ms()).await);
    redirect(&format!("/dev/apps/{}", app.id))
}

fn settings_from_form(base: store::Settings, pairs: &[(String, String)]) -> Result<store::Settings, Invalid> {
    let mut v = serde_json::Map::new();
    if let Some(m) = form_field(pairs, "mode") {
        v.insert("mode".into(), Value::String(m));
    }
    if let Some(ms) = form_field(pairs, "slowMs") {
        let n: i64 = ms.trim().parse().map_err(|_| Invalid::new("BAD_SLOW_MS", "slow_ms must be 0 to 60000"))?;
        v.insert("slowMs".into(), Value::from(n));
    }
    v.insert("simulationsEnabled".into(), Value::Bool(form_field(pairs, "simulationsEnabled").is_some()));
    api::merge_settings(base, &Value::Object(v))
}

pub async fn put_app_settings(State(st): State<AppState>, Path(id): Path<String>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(app) = try_page!(st, load_app(&st, &id).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such app.");
    };
    if form_field(&pairs, "mode").as_deref() == Some("inherit") {
        try_page!(st, store::delete_app_settings(&st.db, app.id).await);
        return redirect(&format!("/dev/apps/{}", app.id));
    }
    let base = try_page!(st, store::effective_settings(&st.db, app.id).await);
    let new = match settings_from_form(base, &pairs) {
        Ok(n) => n,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    try_page!(st, store::put_app_settings(&st.db, app.id, &new, st.now_ms()).await);
    tracing::info!(app = app.id, mode = new.mode.as_str(), "market: app settings changed");
    redirect(&format!("/dev/apps/{}", app.id))
}

// ---------------------------------------------------------------------------------------------
// Price tiers

pub async fn tiers_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let s = signed_in!(st, headers);
    let tiers = try_page!(st, store::list_tiers(&st.db).await);
    let csrf = csrf_input(&s.csrf);
    let head: String = CURRENCIES.iter().map(|c| format!("<th>{c}</th>")).collect();
    let rows: String = tiers
        .iter()
        .map(|t| {
            let cells: String = CURRENCIES
                .iter()
                .map(|c| {
                    format!(
                        "<td><input type=\"text\" name=\"{c}\" value=\"{}\" size=\"8\" form=\"tier-{id}\"></td>",
                        esc(t.price(c).unwrap_or("")),
                        id = esc(&t.id)
                    )
                })
                .collect();
            format!(
                "<tr><td>{id}</td>{cells}<td><form id=\"tier-{id}\" method=\"post\" action=\"/dev/price-tiers\">{csrf}\
                 <input type=\"hidden\" name=\"id\" value=\"{id}\"><button type=\"submit\">Save</button></form></td></tr>",
                id = esc(&t.id)
            )
        })
        .collect();
    let new_cells: String = CURRENCIES
        .iter()
        .map(|c| format!("<td><input type=\"text\" name=\"{c}\" size=\"8\" form=\"tier-new\"></td>"))
        .collect();
    let body = format!(
        "<h1>Price tiers</h1><p class=\"muted\">Amounts are decimal strings (e.g. 1.99). USD is required; an empty cell means no price in that currency (<code>UNSUPPORTED_PAY</code>).</p>\
         <table><tr><th>Tier</th>{head}<th></th></tr>{rows}\
         <tr><td><input type=\"text\" name=\"id\" size=\"4\" form=\"tier-new\" placeholder=\"new id\"></td>{new_cells}\
         <td><form id=\"tier-new\" method=\"post\" action=\"/dev/price-tiers\">{csrf}<button type=\"submit\">Add</button></form></td></tr></table>"
    );
    hub_page(&st, &s, "Price tiers", &body)
}

pub async fn put_tier(State(st): State<AppState>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = form_field(&pairs, "id").unwrap_or_default().trim().to_owned();
    let prices: Vec<(String, String)> = CURRENCIES
        .iter()
        .filter_map(|c| {
            form_field(&pairs, c).map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).map(|a| ((*c).to_owned(), a))
        })
        .collect();
    let prices = match api::tier_prices(&id, &prices) {
        Ok(p) => p,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    try_page!(st, store::put_tier(&st.db, &id, &prices, st.now_ms()).await);
    redirect("/dev/price-tiers")
}

// ---------------------------------------------------------------------------------------------
// Transactions and checkouts

fn notice_cell(n: Option<&store::NoticeRow>) -> String {
    match n {
        None => "—".to_owned(),
        Some(n) => format!("{} ({})", esc(&n.state), n.attempts),
    }
}

fn refund_buttons(csrf: &str, t: &store::Transaction) -> String {
    if t.state != "completed" {
        return "<span class=\"muted\">Already refunded</span>".to_owned();
    }
    let csrf = csrf_input(csrf);
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/dev/transactions/{uuid}/refund\">{csrf}<input type=\"hidden\" name=\"reason\" value=\"refund\"><button type=\"submit\" class=\"secondary\">Refund</button></form> \
         <form class=\"inline\" method=\"post\" action=\"/dev/transactions/{uuid}/refund\">{csrf}<input type=\"hidden\" name=\"reason\" value=\"reversal\"><button type=\"submit\" class=\"danger\">Chargeback</button></form>",
        uuid = esc(&t.uuid)
    )
}

fn select(name: &str, options: &[&str], selected: Option<&str>) -> String {
    let opts: String = std::iter::once("")
        .chain(options.iter().copied())
        .map(|o| {
            format!(
                "<option value=\"{o}\"{}>{}</option>",
                if Some(o) == selected { " selected" } else { "" },
                if o.is_empty() { "(any)" } else { o }
            )
        })
        .collect();
    format!("<select name=\"{name}\">{opts}</select>")
}

pub async fn transactions_page(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let s = signed_in!(st, headers);
    let pairs = query_pairs(q.as_deref());
    let f = TxFilter {
        app: form_field(&pairs, "app").and_then(|a| a.parse().ok()),
        state: form_field(&pairs, "state").filter(|v| !v.is_empty()),
        kind: form_field(&pairs, "kind").filter(|v| !v.is_empty()),
        notice_state: form_field(&pairs, "notice").filter(|v| !v.is_empty()),
    };
    let page_no: i64 = form_field(&pairs, "page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let txs = try_page!(st, store::list_transactions(&st.db, &f, 50, (page_no - 1).saturating_mul(50)).await);
    let apps = try_page!(st, store::list_apps(&st.db).await);
    let mut rows = String::new();
    for t in &txs {
        let notices = try_page!(st, store::notices_of(&st.db, t.number).await);
        let pb = notices.iter().find(|n| n.kind == "postback");
        let cb = notices.iter().find(|n| n.kind == "chargeback");
        let failed = notices.iter().any(|n| n.state == "failed");
        let last = notices.iter().max_by_key(|n| n.updated_ms).and_then(|n| n.last_outcome.clone()).unwrap_or_default();
        let app_name = apps.iter().find(|a| a.id == t.app_id).map(|a| a.name.clone()).unwrap_or_default();
        rows.push_str(&format!(
            "<tr{cls}><td><a href=\"/dev/transactions/{uuid}\"><code>{tid}</code></a></td><td>{time}</td><td>{app}<br><code>{key}</code></td>\
             <td><code>{rid}</code><br>{name}</td><td>{tier}<br>{amount} {cur}</td><td>{kind}</td><td>{state}</td>\
             <td>{pb}</td><td>{cb}</td><td>{last}</td><td>{actions}</td></tr>",
            cls = if failed { " class=\"failed\"" } else { "" },
            uuid = esc(&t.uuid),
            tid = esc(&t.transaction_id),
            time = esc(&format_utc(t.created_ms)),
            app = esc(&app_name),
            key = esc(&t.key),
            rid = esc(&t.request_id),
            name = esc(&t.name),
            tier = esc(&t.tier),
            amount = esc(&t.amount),
            cur = esc(&t.currency),
            kind = esc(&t.kind),
            state = esc(&t.state),
            pb = notice_cell(pb),
            cb = notice_cell(cb),
            last = esc(&last),
            actions = refund_buttons(&s.csrf, t),
        ));
    }
    let app_opts: String = std::iter::once(("".to_owned(), "(any)".to_owned()))
        .chain(apps.iter().map(|a| (a.id.to_string(), a.name.clone())))
        .map(|(v, l)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(&v),
                if f.app.map(|a| a.to_string()) == Some(v.clone()) { " selected" } else { "" },
                esc(&l)
            )
        })
        .collect();
    let next = if txs.len() == 50 {
        format!("<p><a href=\"/dev/transactions?page={}\">Older →</a></p>", page_no + 1)
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Transactions</h1><p><a href=\"/dev/checkouts\">Checkouts (cancelled and failed)</a></p>\
         <form method=\"get\" action=\"/dev/transactions\"><label>App <select name=\"app\">{app_opts}</select></label>\
         <label>State {}</label><label>Kind {}</label><label>Notice {}</label><button type=\"submit\">Filter</button></form>\
         <table><tr><th>Transaction ID</th><th>Created (UTC)</th><th>App / key</th><th>request.id / name</th><th>Tier / amount</th>\
         <th>Kind</th><th>State</th><th>Postback</th><th>Chargeback</th><th>Last outcome</th><th></th></tr>{rows}</table>{next}",
        select("state", &["completed", "refunded", "reversed"], f.state.as_deref()),
        select("kind", &["simulate", "live", "free"], f.kind.as_deref()),
        select("notice", &["queued", "delivering", "delivered", "retry_wait", "failed", "dropped"], f.notice_state.as_deref()),
    );
    hub_page(&st, &s, "Transactions", &body)
}

pub async fn checkouts_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let s = signed_in!(st, headers);
    let list = try_page!(st, store::list_checkouts(&st.db, 100, 0).await);
    let now = st.now_ms();
    let rows: String = list
        .iter()
        .map(|c| {
            let end = match (c.state.as_str(), c.end_code.as_deref()) {
                ("open", _) if now.saturating_sub(c.created_ms) > super::pay::CHECKOUT_LIFETIME_MS => "expired".to_owned(),
                ("open", _) => "open".to_owned(),
                ("failed", Some(code)) => format!("failed:{code}"),
                (s, _) => s.to_owned(),
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&c.id),
                esc(&format_utc(c.created_ms)),
                esc(&c.key),
                esc(&c.request_id),
                esc(&end)
            )
        })
        .collect();
    let body = format!(
        "<h1>Checkouts</h1><p class=\"muted\">Cancelled, failed and unfinished checkouts (paid ones are transactions).</p>\
         <table><tr><th>Id</th><th>Time (UTC)</th><th>Key</th><th>request.id</th><th>End state</th></tr>{rows}</table>"
    );
    hub_page(&st, &s, "Checkouts", &body)
}

pub async fn transaction_page(State(st): State<AppState>, headers: HeaderMap, Path(uuid): Path<String>, RawQuery(q): RawQuery) -> Response {
    let s = signed_in!(st, headers);
    let Some(t) = try_page!(st, store::tx_by_uuid(&st.db, &uuid).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such transaction.");
    };
    let msg = match form_field(&query_pairs(q.as_deref()), "msg").as_deref() {
        Some("refunded") => "<div class=\"banner ok\">Done: a chargeback notice is queued.</div>",
        Some("already") => "<div class=\"banner mode\">Already refunded</div>",
        Some("resent") => "<div class=\"banner ok\">A new delivery series has started.</div>",
        Some("busy") => "<div class=\"banner mode\">The notice is still being delivered; resend it once it has settled.</div>",
        _ => "",
    };
    let request_pretty = serde_json::from_str::<Value>(&t.request_json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| t.request_json.clone());
    let receipts = try_page!(st, store::issued_receipts_of(&st.db, t.number).await);
    let receipt_rows: String = receipts
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&format_utc(r.iat.saturating_mul(1000))),
                esc(&format_utc(r.exp.saturating_mul(1000))),
                esc(&r.kid),
                esc(&r.source)
            )
        })
        .collect();
    let notices = try_page!(st, store::notices_of(&st.db, t.number).await);
    let csrf = csrf_input(&s.csrf);
    let mut notice_html = String::new();
    for n in &notices {
        let attempts = try_page!(st, store::attempts_of(&st.db, n.id).await);
        let rows: String = attempts
            .iter()
            .map(|a| {
                format!(
                    "<tr{}><td>{}.{}</td><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                    if a.outcome != "DELIVERED" { " class=\"failed\"" } else { "" },
                    a.series,
                    a.attempt,
                    esc(&format_utc(a.started_ms)),
                    esc(&a.url),
                    a.duration_ms,
                    a.http_status.map(|s| s.to_string()).unwrap_or_default(),
                    esc(&a.outcome),
                    esc(a.body_prefix.as_deref().unwrap_or(""))
                )
            })
            .collect();
        let resend = if matches!(n.state.as_str(), "delivered" | "failed" | "dropped") {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/dev/transactions/{}/notices/{}/resend\">{csrf}<button type=\"submit\" class=\"secondary\">Resend {}</button></form>",
                esc(&t.uuid),
                esc(&n.kind),
                esc(&n.kind)
            )
        } else {
            String::new()
        };
        let next = n.next_attempt_at.map(|ms| format!(", next attempt {} UTC", format_utc(ms))).unwrap_or_default();
        notice_html.push_str(&format!(
            "<h3>{kind}: {state} ({attempts} attempts{next}) {resend}</h3><p class=\"muted\">{url}{reason}</p>\
             <table><tr><th>#</th><th>Time (UTC)</th><th>URL</th><th>Duration</th><th>HTTP</th><th>Outcome</th><th>Body (first 200 bytes)</th></tr>{rows}</table>",
            kind = esc(&n.kind),
            state = esc(&n.state),
            attempts = n.attempts,
            next = esc(&next),
            url = esc(&n.url),
            reason = n.reason.as_deref().map(|r| format!(" — reason {}", esc(r))).unwrap_or_default(),
        ));
    }
    let body = format!(
        "{msg}<h1>Transaction <code>{tid}</code></h1><table>\
         <tr><th>State</th><td>{state}</td></tr><tr><th>Kind</th><td>{kind}</td></tr>\
         <tr><th>Created (UTC)</th><td>{time}</td></tr><tr><th>Key</th><td><code>{key}</code></td></tr>\
         <tr><th>Amount</th><td>{amount} {cur} (tier {tier}, USD {usd})</td></tr>\
         <tr><th>Directed identifier</th><td><code>{did}</code></td></tr>\
         <tr><th>Number (contrib)</th><td>{number}</td></tr></table><p>{actions}</p>\
         <h2>Request</h2><pre>{request}</pre><h2>Receipts issued</h2>\
         <table><tr><th>iat</th><th>exp</th><th>kid</th><th>via</th></tr>{receipt_rows}</table>\
         <h2>Notices</h2>{notice_html}",
        tid = esc(&t.transaction_id),
        state = esc(&t.state),
        kind = esc(&t.kind),
        time = esc(&format_utc(t.created_ms)),
        key = esc(&t.key),
        amount = esc(&t.amount),
        cur = esc(&t.currency),
        tier = esc(&t.tier),
        usd = esc(&t.usd_amount),
        did = esc(&t.directed_id),
        number = t.number,
        actions = refund_buttons(&s.csrf, &t),
        request = esc(&request_pretty),
    );
    hub_page(&st, &s, &t.transaction_id, &body)
}

pub async fn refund(State(st): State<AppState>, Path(uuid): Path<String>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let reason = match form_field(&pairs, "reason").as_deref() {
        Some("reversal") => "reversal",
        _ => "refund",
    };
    let Some(t) = try_page!(st, store::tx_by_uuid(&st.db, &uuid).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such transaction.");
    };
    let out = try_page!(st, api::do_refund(&st, &t.transaction_id, reason).await);
    let msg = match out {
        RefundOutcome::Done => "refunded",
        RefundOutcome::AlreadyRefunded => "already",
        RefundOutcome::NotFound => return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such transaction."),
    };
    redirect(&format!("/dev/transactions/{}?msg={msg}", t.uuid))
}

pub async fn resend(State(st): State<AppState>, Path((uuid, kind)): Path<(String, String)>, req: Request<Body>) -> Response {
    let (s, _) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(t) = try_page!(st, store::tx_by_uuid(&st.db, &uuid).await) else {
        return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such transaction.");
    };
    let msg = match try_page!(st, api::do_resend(&st, &t.transaction_id, &kind).await) {
        Resend::Queued => "resent",
        Resend::Busy => "busy",
        Resend::NoSuchNotice => return hub_error(&st, &s, StatusCode::NOT_FOUND, "No such notice."),
    };
    redirect(&format!("/dev/transactions/{}?msg={msg}", t.uuid))
}

// ---------------------------------------------------------------------------------------------
// Settings and signing keys

pub async fn settings_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let s = signed_in!(st, headers);
    let g = try_page!(st, store::global_settings(&st.db).await);
    let rules = if st.strict() { "strict" } else { "dev" };
    let body = format!(
        "<h1>Provider mode</h1><p class=\"muted\">Rule set (<code>market.mode</code>): <code>{rules}</code>. \
         Changes take effect for the next request; an app's own override wins (see the app's page).</p>\
         <form method=\"post\" action=\"/dev/settings\">{}\
         <p><label>Mode <select name=\"mode\">{}</select></label></p>\
         <ul class=\"muted\"><li><code>slow</code>: delays confirm, catalogue, receipt issue, verify and every notice attempt by slow_ms</li>\
         <li><code>fail</code>: confirm fails with TRANS_FAILED</li><li><code>disabled</code>: the pay page answers PAY_DISABLED</li>\
         <li><code>drop_notices</code>: notices are created dropped and sent only on Resend</li>\
         <li><code>corrupt_notices</code>: notices are signed with a wrong secret</li>\
         <li><code>verify_pending</code>: the verify service answers pending instead of ok</li></ul>\
         <p><label>slow_ms <input type=\"text\" name=\"slowMs\" value=\"{}\"></label></p>\
         <p><label><input type=\"checkbox\" name=\"simulationsEnabled\" value=\"1\"{}> Simulations enabled</label></p>\
         <button type=\"submit\">Apply</button></form>",
        csrf_input(&s.csrf),
        mode_options(g.mode),
        g.slow_ms,
        if g.simulations_enabled { " checked" } else { "" }
    );
    hub_page(&st, &s, "Provider mode", &body)
}

pub async fn put_settings(State(st): State<AppState>, req: Request<Body>) -> Response {
    let (s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let base = try_page!(st, store::global_settings(&st.db).await);
    let new = match settings_from_form(base, &pairs) {
        Ok(n) => n,
        Err(e) => return hub_error(&st, &s, StatusCode::BAD_REQUEST, &e.message),
    };
    try_page!(st, store::put_global_settings(&st.db, &new, st.now_ms()).await);
    tracing::info!(mode = new.mode.as_str(), "market: global settings changed");
    redirect("/dev/settings")
}

pub async fn signing_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let s = signed_in!(st, headers);
    let roots = try_page!(st, store::signing_keys(&st.db, "root").await);
    let ephs = try_page!(st, store::signing_keys(&st.db, "ephemeral").await);
    let csrf = csrf_input(&s.csrf);
    let root_rows: String = roots
        .iter()
        .map(|r| {
            let retire = if r.state == "published" {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/dev/signing/{}/retire\">{csrf}<button type=\"submit\" class=\"danger\">Retire</button></form>",
                    esc(&r.kid)
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{retire}</td></tr>",
                esc(&r.kid),
                esc(&r.alg),
                esc(&r.state),
                esc(&format_utc(r.created_ms))
            )
        })
        .collect();
    let eph_rows: String = ephs
        .iter()
        .take(20)
        .map(|r| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&r.kid),
                esc(&r.alg),
                esc(&r.state),
                esc(r.parent_kid.as_deref().unwrap_or("")),
                esc(&format_utc(r.not_before_ms)),
                esc(&format_utc(r.not_after_ms))
            )
        })
        .collect();
    let body = format!(
        "<h1>Receipt signing keys</h1><p>Root keys are published at <a href=\"/public_keys/root.jwk\">/public_keys/root.jwk</a> \
         and <a href=\"/.well-known/jwks.json\">/.well-known/jwks.json</a>.</p>\
         <h2>Root keys</h2><table><tr><th>kid</th><th>alg</th><th>state</th><th>created (UTC)</th><th></th></tr>{root_rows}</table>\
         <h2>Ephemeral keys (certified)</h2><table><tr><th>kid</th><th>alg</th><th>state</th><th>root</th><th>certificate nbf</th><th>certificate exp</th></tr>{eph_rows}</table>\
         <form class=\"inline\" method=\"post\" action=\"/dev/signing/rotate\">{csrf}<input type=\"hidden\" name=\"which\" value=\"ephemeral\"><button type=\"submit\">Certify a new ephemeral key</button></form> \
         <form class=\"inline\" method=\"post\" action=\"/dev/signing/rotate\">{csrf}<input type=\"hidden\" name=\"which\" value=\"root\"><button type=\"submit\" class=\"danger\">Rotate root key</button></form>"
    );
    hub_page(&st, &s, "Signing keys", &body)
}

pub async fn rotate(State(st): State<AppState>, req: Request<Body>) -> Response {
    let (_s, pairs) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let which = if form_field(&pairs, "which").as_deref() == Some("root") { "root" } else { "ephemeral" };
    try_page!(st, signing::rotate(&st, which).await);
    redirect("/dev/signing")
}

pub async fn retire_root(State(st): State<AppState>, Path(kid): Path<String>, req: Request<Body>) -> Response {
    let (s, _) = match form_post(&st, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !try_page!(st, signing::retire_root(&st, &kid).await) {
        return hub_error(&st, &s, StatusCode::CONFLICT, "Only a published, non-active root key can be retired.");
    }
    redirect("/dev/signing")
}
