//! The pay page (spec/payments.md §3.4, §5.3, §5.4): `GET /mozpay/?req=<jwt>` validates the pay
//! JWT through core's §3.4 stages and shows the confirm or error screen; `POST /mozpay/pay`
//! confirms a checkout; `POST /mozpay/cancel` cancels it. The page's script is the static file
//! `pay.js`; the server passes it data through `data-*` attributes only.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use mozmarket_core::hs256::{is_expired, Hs256Key};
use mozmarket_core::json::Json;
use mozmarket_core::pay::{
    decode_pay_jwt, PayCode, PayContext, PayError, PayKey, TierCheck, TransactionId, TxKind, ValidPay,
};
use mozmarket_core::url::NativeUrlParser;

use super::html::{clip_chars, esc, page};
use super::store::{self, Checkout, InsertTx, Mode, NewTransaction, CURRENCIES};
use super::web::{cookie, form_field, query_pairs, read_body, set_cookie};
use super::AppState;

/// A checkout lives 15 minutes (§5.3).
pub const CHECKOUT_LIFETIME_MS: i64 = 15 * 60 * 1000;
const BUYER_COOKIE: &str = "mm_market_buyer";
const CURRENCY_COOKIE: &str = "mm_market_currency";

pub async fn static_js() -> Response {
    static_file(include_str!("static/pay.js"), "text/javascript; charset=utf-8")
}

pub async fn static_css() -> Response {
    static_file(include_str!("static/market.css"), "text/css; charset=utf-8")
}

fn static_file(body: &'static str, ctype: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// `GET /mozpay/dev/error_legend` (§3.5).
pub async fn error_legend() -> Response {
    let body = Json::Obj(vec![("errors".to_owned(), mozmarket_core::pay::error_legend())]);
    let mut resp = super::web::json_text(StatusCode::OK, body.to_json_text());
    resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

// ---------------------------------------------------------------------------------------------
// Locale (§7.9 rules, driven by Accept-Language)

const UI_LOCALES: [&str; 6] = ["en", "de", "fr", "es", "pt-BR", "zh-TW"];

/// The UI locale for one candidate tag, or `None` to try the next one (§7.9 rules 1–5).
fn match_locale(tag: &str) -> Option<&'static str> {
    let lower = tag.to_ascii_lowercase();
    if let Some(exact) = UI_LOCALES.iter().find(|l| l.eq_ignore_ascii_case(&lower)) {
        return Some(exact);
    }
    if lower == "pt" || lower.starts_with("pt-") {
        return Some("pt-BR");
    }
    if matches!(lower.as_str(), "zh-tw" | "zh-hk" | "zh-mo") || lower.starts_with("zh-hant") {
        return Some("zh-TW");
    }
    if lower == "zh" || lower.starts_with("zh-") {
        return None;
    }
    ["de", "fr", "es", "en"].into_iter().find(|l| lower.starts_with(&format!("{l}-")))
}

/// The UI locale from `Accept-Language` (by q-value, then order); `en` by default.
pub fn ui_locale(headers: &HeaderMap) -> &'static str {
    let Some(value) = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
        return "en";
    };
    let mut tags: Vec<(String, f64, usize)> = value
        .split(',')
        .enumerate()
        .filter_map(|(idx, part)| {
            let mut it = part.split(';');
            let tag = it.next()?.trim().to_owned();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.parse::<f64>().ok())
                .next()
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((tag, q, idx))
        })
        .collect();
    tags.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then(a.2.cmp(&b.2)));
    tags.iter().find_map(|(t, _, _)| match_locale(t)).unwrap_or("en")
}

/// The product name, description and their language tag for UI locale `l` (§7.9 "Product
/// text").
pub fn localized_text(request: &Json, l: &str) -> (String, String, String) {
    let top_name = request.get("name").and_then(Json::as_str).unwrap_or_default().to_owned();
    let top_desc = request.get("description").and_then(Json::as_str).unwrap_or_default().to_owned();
    let default_tag = request.get("defaultLocale").and_then(Json::as_str).unwrap_or("en").to_owned();
    let Some(locales) = request.get("locales").and_then(Json::as_object) else {
        return (top_name, top_desc, default_tag);
    };
    let primary = l.split('-').next().unwrap_or(l).to_ascii_lowercase();
    let entry = locales.iter().find(|(k, _)| k.eq_ignore_ascii_case(l)).or_else(|| {
        let mut same: Vec<&(String, Json)> = locales
            .iter()
            .filter(|(k, _)| k.split('-').next().is_some_and(|p| p.eq_ignore_ascii_case(&primary)))
            .collect();
        same.sort_by(|a, b| a.0.cmp(&b.0));
        same.first().copied()
    });
    match entry {
        Some((tag, e)) => (
            e.get("name").and_then(Json::as_str).map(str::to_owned).unwrap_or(top_name),
            e.get("description").and_then(Json::as_str).map(str::to_owned).unwrap_or(top_desc),
            tag.clone(),
        ),
        None => (top_name, top_desc, default_tag),
    }
}

/// `<amount> <currency>` with a decimal comma for de, fr, es and pt-BR (§5.3).
pub fn format_price(amount: &str, currency: &str, locale: &str) -> String {
    let amount = if matches!(locale, "de" | "fr" | "es" | "pt-BR") { amount.replace('.', ",") } else { amount.to_owned() };
    format!("{amount} {currency}")
}

// ---------------------------------------------------------------------------------------------
// Screens

/// What the page's script should do with the opener.
struct PageData {
    screen: &'static str,
    code: Option<&'static str>,
    origins: Vec<String>,
}

fn body_attrs(d: &PageData) -> String {
    let origins = serde_json::Value::from(d.origins.clone()).to_string();
    let mut attrs = format!("data-screen=\"{}\" data-origins=\"{}\"", d.screen, esc(&origins));
    if let Some(code) = d.code {
        attrs.push_str(&format!(" data-code=\"{}\"", esc(code)));
    }
    attrs
}

fn mode_banner(mode: Mode) -> String {
    if mode == Mode::Normal {
        String::new()
    } else {
        format!("<p class=\"banner mode\" role=\"status\">Provider mode: <code>{}</code></p>", esc(mode.as_str()))
    }
}

/// Whether the developer message is shown (§3.5, §8.6).
fn show_developer_message(st: &AppState, simulation_key: bool) -> bool {
    !st.strict() || simulation_key
}

fn error_screen(st: &AppState, err: &PayError, origins: Vec<String>, dev_msg: bool, mode: Mode) -> Response {
    let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let code = err.code.as_str();
    let developer = if dev_msg {
        format!("<p class=\"developer\"><span class=\"label\">Developer message:</span> {}</p>", esc(&err.developer_message()))
    } else {
        String::new()
    };
    let body = format!(
        "<main class=\"pay\">{}<h1>Payment error</h1>\
         <p>This payment request could not be processed.</p>\
         <p class=\"code\">Error code: <code>{}</code></p>{developer}\
         <p class=\"no-opener hidden\" id=\"no-opener\">Return to the app to continue.</p>\
         <p><button type=\"button\" id=\"close\">Close</button></p></main>",
        mode_banner(mode),
        esc(code)
    );
    let data = PageData { screen: "error", code: Some(code), origins };
    page(status, !st.strict(), "Payment error", &body_attrs(&data), &body, true)
}

fn ok_screen(st: &AppState, already: bool, origins: Vec<String>) -> Response {
    let text = if already { "This purchase is already complete." } else { "Payment complete." };
    let body = format!(
        "<main class=\"pay\"><h1>{text}</h1>\
         <p class=\"hidden\" id=\"close-hint\">You can close this window.</p>\
         <p class=\"no-opener hidden\" id=\"no-opener\">Payment complete. Return to the app to continue.</p></main>"
    );
    let data = PageData { screen: if already { "already" } else { "success" }, code: None, origins };
    page(StatusCode::OK, !st.strict(), text, &body_attrs(&data), &body, true)
}

fn cancelled_screen(st: &AppState, origins: Vec<String>) -> Response {
    let body = "<main class=\"pay\"><h1>Payment cancelled</h1><p>You have not been charged.</p>\
                <p class=\"no-opener hidden\" id=\"no-opener\">Return to the app to continue.</p></main>";
    let data = PageData { screen: "cancelled", code: Some("USER_CANCELLED"), origins };
    page(StatusCode::OK, !st.strict(), "Payment cancelled", &body_attrs(&data), body, true)
}

// ---------------------------------------------------------------------------------------------
// GET /mozpay/?req=<jwt>

/// The app context known once `iss` names a key: message targets and developer-message rule.
struct Known {
    origins: Vec<String>,
    simulation_key: bool,
    mode: Mode,
}

fn reject(st: &AppState, err: PayError, known: Option<&Known>, iss: Option<&str>) -> Response {
    tracing::info!(
        code = err.code.as_str(),
        detail = err.detail.unwrap_or(""),
        iss = iss.unwrap_or(""),
        "market: pay request rejected"
    );
    let (origins, sim, mode) = match known {
        Some(k) => (k.origins.clone(), k.simulation_key, k.mode),
        None => (Vec::new(), false, Mode::Normal),
    };
    error_screen(st, &err, origins, show_developer_message(st, sim), mode)
}

fn buyer_currency(headers: &HeaderMap) -> String {
    cookie(headers, CURRENCY_COOKIE)
        .filter(|c| CURRENCIES.contains(&c.as_str()))
        .unwrap_or_else(|| "USD".to_owned())
}

fn valid_buyer_id(v: &str) -> bool {
    v.len() == 22 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn pay_get(State(st): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    match pay_get_inner(&st, &headers, query.as_deref()).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "market: pay page failed");
            reject(&st, PayError::new(PayCode::UnexpectedError), None, None)
        }
    }
}

async fn pay_get_inner(st: &AppState, headers: &HeaderMap, query: Option<&str>) -> anyhow::Result<Response> {
    let global = store::global_settings(&st.db).await?;
    // Step 0.
    if global.mode == Mode::Disabled {
        return Ok(reject(st, PayError::new(PayCode::PayDisabled), None, None));
    }
    // Steps 1–6.
    let pairs = query_pairs(query);
    let req = form_field(&pairs, "req");
    let jwt = match decode_pay_jwt(req.as_deref()) {
        Ok(j) => j,
        Err(e) => return Ok(reject(st, e, None, None)),
    };
    let iss = jwt.iss().to_owned();
    // Step 7.
    let key = store::get_key(&st.db, &iss).await?;
    let Some(key) = key else {
        return Ok(reject(st, PayError::new(PayCode::BadJwtIssuer), None, Some(&iss)));
    };
    let Some(app) = store::get_app(&st.db, key.app_id).await? else {
        return Ok(reject(st, PayError::new(PayCode::BadJwtIssuer), None, Some(&iss)));
    };
    let settings = store::effective_settings(&st.db, app.id).await?;
    let known = Known { origins: app.origins.clone(), simulation_key: key.kind == "simulation", mode: settings.mode };
    if !key.active() {
        return Ok(reject(st, PayError::new(PayCode::BadJwtIssuer), Some(&known), Some(&iss)));
    }
    let secret = Hs256Key::from_secret(&key.secret).map_err(|_| anyhow::anyhow!("stored secret too short"))?;
    let pay_key = PayKey {
        secret: &secret,
        simulation_only: known.simulation_key,
        notice_origins: &app.notice_origins,
        pay_disabled: settings.mode == Mode::Disabled,
        simulations_enabled: settings.simulations_enabled,
    };
    // Steps 8–32 (the context holds a `&dyn UrlParser`, so it lives only across this call).
    let verified = {
        let urls = NativeUrlParser;
        let ctx = PayContext {
            provider_domain: &st.domain,
            now_secs: st.now_secs(),
            pay_disabled: false,
            strict: st.strict(),
            urls: &urls,
        };
        jwt.verify(&pay_key, &ctx)
    };
    let valid = match verified {
        Ok(v) => v,
        Err(e) => return Ok(reject(st, e, Some(&known), Some(&iss))),
    };
    // Steps 33–34.
    let currency = buyer_currency(headers);
    let tier = store::get_tier(&st.db, &valid.pay.request.price_point).await?;
    let check = match &tier {
        None => TierCheck::Unknown,
        Some(t) if t.price(&currency).is_none() => TierCheck::NoPriceInCurrency,
        Some(_) => TierCheck::Available,
    };
    if let Err(e) = valid.check_tier(check) {
        return Ok(reject(st, e, Some(&known), Some(&iss)));
    }
    let Some(tier) = tier else {
        return Ok(reject(st, PayError::new(PayCode::BadPricePoint), Some(&known), Some(&iss)));
    };
    // Step 35.
    let payload_hash = hex::encode(valid.payload_sha256);
    if store::tx_by_payload(&st.db, &key.key, &payload_hash).await?.is_some() {
        tracing::info!(iss = %iss, request_id = %valid.pay.request.id, "market: pay request already paid");
        return Ok(ok_screen(st, true, app.origins));
    }
    // The checkout.
    let existing_buyer = cookie(headers, BUYER_COOKIE).filter(|b| valid_buyer_id(b));
    let buyer_id = existing_buyer.clone().unwrap_or_else(|| store::random_token(16));
    let checkout = Checkout {
        id: store::random_token(16),
        csrf: store::random_token(24),
        buyer_id: buyer_id.clone(),
        key: key.key.clone(),
        app_id: app.id,
        request_id: valid.pay.request.id.clone(),
        price_point: valid.pay.request.price_point.clone(),
        request_json: valid.request_json.to_json_text(),
        payload_sha256: payload_hash,
        jwt_exp: valid.pay.exp,
        simulate_json: valid.pay.request.simulate.map(|s| s.to_json().to_json_text()),
        state: "open".to_owned(),
        end_code: None,
        created_ms: st.now_ms(),
        ended_ms: None,
    };
    store::insert_checkout(&st.db, &checkout).await?;
    tracing::info!(iss = %iss, request_id = %checkout.request_id, "market: checkout created");
    let mut resp = confirm_screen(st, headers, &valid, &checkout, &tier, &currency, &known);
    if existing_buyer.is_none() {
        set_cookie(&mut resp, &format!("{BUYER_COOKIE}={buyer_id}; HttpOnly; SameSite=Lax; Path=/"));
    }
    Ok(resp)
}

fn icon_url(request: &Json) -> Option<String> {
    let icons = request.get("icons")?.as_object()?;
    if let Some(u) = icons.iter().find(|(k, _)| k == "64").and_then(|(_, v)| v.as_str()) {
        return Some(u.to_owned());
    }
    icons
        .iter()
        .filter_map(|(k, v)| Some((k.parse::<u32>().ok()?, v.as_str()?)))
        .max_by_key(|(size, _)| *size)
        .map(|(_, u)| u.to_owned())
}

fn confirm_screen(
    st: &AppState,
    headers: &HeaderMap,
    valid: &ValidPay,
    checkout: &Checkout,
    tier: &store::Tier,
    currency: &str,
    known: &Known,
) -> Response {
    let locale = ui_locale(headers);
    let (name, description, tag) = localized_text(&valid.request_json, locale);
    let description = clip_chars(&description, 255);
    let simulated = valid.is_simulated();
    let free = valid.pay.request.price_point == "0";
    let price = tier.price(currency).unwrap_or("0.00");
    let icon = icon_url(&valid.request_json)
        .map(|u| format!("<img class=\"icon\" src=\"{}\" alt=\"\" width=\"64\" height=\"64\" referrerpolicy=\"no-referrer\">", esc(&u)))
        .unwrap_or_default();
    let sim_banner = if simulated {
        "<p class=\"banner sim\" role=\"status\">Simulated payment — no money moves</p>"
    } else {
        ""
    };
    let options: String = tier
        .prices
        .iter()
        .map(|(c, a)| {
            format!(
                "<option value=\"{}\" data-display=\"{}\"{}>{}</option>",
                esc(c),
                esc(&format_price(a, c, locale)),
                if c == currency { " selected" } else { "" },
                esc(c)
            )
        })
        .collect();
    let card = if simulated {
        String::new()
    } else {
        "<fieldset class=\"card\"><legend>Simulated card</legend>\
         <label><input type=\"radio\" name=\"card\" value=\"approve\" checked> Approve</label>\
         <label><input type=\"radio\" name=\"card\" value=\"decline\"> Decline</label></fieldset>"
            .to_owned()
    };
    let confirm_label = if free { "Get" } else { "Confirm" };
    let body = format!(
        "<main class=\"pay\">{mode}{sim_banner}\
         <div class=\"product\">{icon}<div><h1 lang=\"{tag}\" id=\"product-name\">{name}</h1>\
         <p class=\"description\" lang=\"{tag}\">{description}</p>\
         <p class=\"price\">Price: <strong id=\"price\">{price_text}</strong></p></div></div>\
         <form method=\"post\" action=\"/mozpay/pay\" id=\"confirm-form\">\
         <input type=\"hidden\" name=\"checkout\" value=\"{cid}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Currency <select name=\"currency\" id=\"currency\">{options}</select></label>\
         {card}<button type=\"submit\" id=\"confirm\">{confirm_label}</button></form>\
         <form method=\"post\" action=\"/mozpay/cancel\" id=\"cancel-form\">\
         <input type=\"hidden\" name=\"checkout\" value=\"{cid}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" id=\"cancel\">Cancel</button></form></main>",
        mode = mode_banner(known.mode),
        tag = esc(&tag),
        name = esc(&name),
        description = esc(&description),
        price_text = esc(&format_price(price, currency, locale)),
        cid = esc(&checkout.id),
        csrf = esc(&checkout.csrf),
    );
    let data = PageData { screen: "confirm", code: None, origins: known.origins.clone() };
    page(StatusCode::OK, !st.strict(), "Confirm payment", &body_attrs(&data), &body, true)
}

// ---------------------------------------------------------------------------------------------
// POST /mozpay/pay and /mozpay/cancel

struct ConfirmForm {
    checkout: String,
    csrf: String,
    currency: Option<String>,
    decline: bool,
}

fn parse_confirm_form(body: &[u8]) -> ConfirmForm {
    let pairs = mozmarket_core::pay::form_pairs(body);
    ConfirmForm {
        checkout: form_field(&pairs, "checkout").unwrap_or_default(),
        csrf: form_field(&pairs, "csrf").unwrap_or_default(),
        currency: form_field(&pairs, "currency"),
        decline: form_field(&pairs, "card").is_some_and(|c| c == "decline"),
    }
}

/// The app context of a checkout, for error screens after the checkout is known.
async fn checkout_known(st: &AppState, c: &Checkout) -> anyhow::Result<Known> {
    let app = store::get_app(&st.db, c.app_id).await?;
    let key = store::get_key(&st.db, &c.key).await?;
    let settings = store::effective_settings(&st.db, c.app_id).await?;
    Ok(Known {
        origins: app.map(|a| a.origins).unwrap_or_default(),
        simulation_key: key.is_some_and(|k| k.kind == "simulation"),
        mode: settings.mode,
    })
}

/// Loads the checkout named by the form and checks it is open and the CSRF token matches
/// (confirm steps 1–2): `BAD_REQUEST` otherwise.
async fn open_checkout(st: &AppState, form: &ConfirmForm) -> anyhow::Result<Option<Checkout>> {
    if form.checkout.is_empty() || form.checkout.len() > 64 {
        return Ok(None);
    }
    let Some(c) = store::get_checkout(&st.db, &form.checkout).await? else { return Ok(None) };
    if c.state != "open" || !mozmarket_core::hs256::ct_eq(c.csrf.as_bytes(), form.csrf.as_bytes()) {
        return Ok(None);
    }
    Ok(Some(c))
}

pub async fn pay_confirm(State(st): State<AppState>, req: Request<Body>) -> Response {
    let Ok((_parts, body)) = read_body(req, 4096).await else {
        return reject(&st, PayError::new(PayCode::BadRequest), None, None);
    };
    let form = parse_confirm_form(&body);
    match confirm_inner(&st, &form).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "market: confirm failed");
            reject(&st, PayError::new(PayCode::UnexpectedError), None, None)
        }
    }
}

async fn fail_checkout(st: &AppState, c: &Checkout, known: &Known, code: PayCode, state: &str) -> anyhow::Result<Response> {
    store::end_checkout(&st.db, &c.id, state, Some(code.as_str()), st.now_ms()).await?;
    Ok(reject(st, PayError::new(code), Some(known), Some(&c.key)))
}

async fn confirm_inner(st: &AppState, form: &ConfirmForm) -> anyhow::Result<Response> {
    // 1, 2.
    let Some(c) = open_checkout(st, form).await? else {
        return Ok(reject(st, PayError::new(PayCode::BadRequest), None, None));
    };
    let known = checkout_known(st, &c).await?;
    let now_ms = st.now_ms();
    // 3.
    if now_ms.saturating_sub(c.created_ms) > CHECKOUT_LIFETIME_MS {
        return fail_checkout(st, &c, &known, PayCode::TransExpired, "expired").await;
    }
    // 4.
    if is_expired(c.jwt_exp, st.now_secs()) {
        return fail_checkout(st, &c, &known, PayCode::ExpiredJwt, "failed").await;
    }
    // 5.
    let settings = store::effective_settings(&st.db, c.app_id).await?;
    let global = store::global_settings(&st.db).await?;
    if settings.mode == Mode::Disabled || global.mode == Mode::Disabled {
        return fail_checkout(st, &c, &known, PayCode::PayDisabled, "failed").await;
    }
    if settings.mode == Mode::Slow {
        tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(settings.slow_ms).unwrap_or(0))).await;
    }
    if settings.mode == Mode::Fail {
        return fail_checkout(st, &c, &known, PayCode::TransFailed, "failed").await;
    }
    let simulated = c.simulate_json.is_some();
    // 6.
    if !simulated && form.decline {
        return fail_checkout(st, &c, &known, PayCode::TransFailed, "failed").await;
    }
    // The buyer's currency (step 34 again, for the currency chosen on the confirm screen).
    let currency = form
        .currency
        .clone()
        .filter(|cur| CURRENCIES.contains(&cur.as_str()))
        .unwrap_or_else(|| "USD".to_owned());
    let Some(tier) = store::get_tier(&st.db, &c.price_point).await? else {
        return fail_checkout(st, &c, &known, PayCode::BadPricePoint, "failed").await;
    };
    let Some(amount) = tier.price(&currency).map(str::to_owned) else {
        return fail_checkout(st, &c, &known, PayCode::UnsupportedPay, "failed").await;
    };
    let usd_amount = tier.price("USD").unwrap_or("0.00").to_owned();
    let request = mozmarket_core::json::parse_with(c.request_json.as_bytes(), mozmarket_core::hs256::LIMITS)
        .map_err(|e| anyhow::anyhow!("stored request does not parse: {e:?}"))?;
    let kind = TxKind::for_request(simulated, &c.price_point);
    let uuid = store::uuid_v4();
    let tid = TransactionId::new(kind, &uuid).ok_or_else(|| anyhow::anyhow!("bad transaction uuid"))?;
    let simulate = c
        .simulate_json
        .as_deref()
        .and_then(|s| mozmarket_core::json::parse(s.as_bytes()).ok());
    let sim_result = simulate.as_ref().and_then(|s| s.get("result")).and_then(Json::as_str).map(str::to_owned);
    let sim_reason = simulate.as_ref().and_then(|s| s.get("reason")).and_then(Json::as_str).map(str::to_owned);
    let chargeback_only = sim_result.as_deref() == Some("chargeback");
    let (state, notice_kind, url_field, reason) = if chargeback_only {
        let reason = sim_reason.unwrap_or_else(|| "refund".to_owned());
        let state = if reason == "reversal" { "reversed" } else { "refunded" };
        (state, "chargeback", "chargebackURL", Some(reason))
    } else {
        ("completed", "postback", "postbackURL", None)
    };
    let notice_url = request.get(url_field).and_then(Json::as_str).unwrap_or_default().to_owned();
    let name = request.get("name").and_then(Json::as_str).unwrap_or_default().to_owned();
    let new = NewTransaction {
        uuid: uuid.clone(),
        transaction_id: tid.as_str().to_owned(),
        app_id: c.app_id,
        key: c.key.clone(),
        kind: match kind {
            TxKind::Simulate => "simulate",
            TxKind::Free => "free",
            TxKind::Webpay => "live",
        }
        .to_owned(),
        request_id: c.request_id.clone(),
        name,
        tier: c.price_point.clone(),
        amount,
        currency: currency.clone(),
        usd_amount,
        buyer_id: c.buyer_id.clone(),
        request_json: c.request_json.clone(),
        payload_sha256: c.payload_sha256.clone(),
        state: state.to_owned(),
        checkout_id: c.id.clone(),
        notice_kind: notice_kind.to_owned(),
        notice_url,
        notice_reason: reason,
        drop_notice: settings.mode == Mode::DropNotices,
        now_ms: st.now_ms(),
    };
    // 7 (the unique constraint decides a race between two tabs).
    match store::insert_transaction(&st.db, &new).await? {
        InsertTx::Created { number } => {
            tracing::info!(
                transaction_id = %new.transaction_id, number, request_id = %new.request_id,
                "market: payment completed"
            );
            st.wake.notify_one();
            let mut resp = ok_screen(st, false, known.origins);
            set_cookie(&mut resp, &format!("{CURRENCY_COOKIE}={currency}; SameSite=Lax; Path=/; Max-Age=31536000"));
            Ok(resp)
        }
        InsertTx::AlreadyPaid => {
            store::end_checkout(&st.db, &c.id, "failed", Some("ALREADY_PAID"), st.now_ms()).await?;
            Ok(ok_screen(st, true, known.origins))
        }
        InsertTx::CheckoutGone => Ok(reject(st, PayError::new(PayCode::BadRequest), Some(&known), None)),
    }
}

pub async fn pay_cancel(State(st): State<AppState>, req: Request<Body>) -> Response {
    let Ok((_parts, body)) = read_body(req, 4096).await else {
        return reject(&st, PayError::new(PayCode::BadRequest), None, None);
    };
    let form = parse_confirm_form(&body);
    let result: anyhow::Result<Response> = async {
        let Some(c) = open_checkout(&st, &form).await? else {
            return Ok(reject(&st, PayError::new(PayCode::BadRequest), None, None));
        };
        let known = checkout_known(&st, &c).await?;
        if !store::end_checkout(&st.db, &c.id, "cancelled", Some("USER_CANCELLED"), st.now_ms()).await? {
            return Ok(reject(&st, PayError::new(PayCode::BadRequest), Some(&known), None));
        }
        tracing::info!(request_id = %c.request_id, "market: checkout cancelled");
        Ok(cancelled_screen(&st, known.origins))
    }
    .await;
    result.unwrap_or_else(|e| {
        tracing::error!(error = %e, "market: cancel failed");
        reject(&st, PayError::new(PayCode::UnexpectedError), None, None)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn headers(al: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(al).unwrap());
        h
    }

    #[test]
    fn picks_ui_locales() {
        assert_eq!(ui_locale(&HeaderMap::new()), "en");
        assert_eq!(ui_locale(&headers("de-AT,en;q=0.5")), "de");
        assert_eq!(ui_locale(&headers("zh-CN,pt;q=0.8")), "pt-BR");
        assert_eq!(ui_locale(&headers("zh-Hant-TW")), "zh-TW");
        assert_eq!(ui_locale(&headers("en;q=0.1,fr;q=0.9")), "fr");
        assert_eq!(ui_locale(&headers("xx")), "en");
    }

    #[test]
    fn localizes_product_text() {
        let req = mozmarket_core::json::parse(
            br#"{"name":"Magical Unicorn","description":"Game item","defaultLocale":"en",
                "locales":{"de":{"name":"Magisches Einhorn"},"pt-PT":{"description":"Item"}}}"#,
        )
        .unwrap();
        assert_eq!(localized_text(&req, "de"), ("Magisches Einhorn".into(), "Game item".into(), "de".into()));
        assert_eq!(localized_text(&req, "pt-BR"), ("Magical Unicorn".into(), "Item".into(), "pt-PT".into()));
        assert_eq!(localized_text(&req, "fr"), ("Magical Unicorn".into(), "Game item".into(), "en".into()));
    }

    #[test]
    fn formats_prices() {
        assert_eq!(format_price("1.89", "EUR", "de"), "1,89 EUR");
        assert_eq!(format_price("1.99", "USD", "en"), "1.99 USD");
        assert_eq!(format_price("60.00", "TWD", "zh-TW"), "60.00 TWD");
    }
}
