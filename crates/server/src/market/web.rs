//! The provider's router and the helpers its handlers share: JSON errors, cookies, capped body
//! reading.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::Router;

use super::{api, hub, pay, receipts, AppState};

/// The provider's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        // Pay page (§5.3).
        .route("/mozpay/", get(pay::pay_get))
        .route("/mozpay", get(pay::pay_get))
        .route("/mozpay/pay", post(pay::pay_confirm))
        .route("/mozpay/cancel", post(pay::pay_cancel))
        .route("/mozpay/static/pay.js", get(pay::static_js))
        .route("/mozpay/static/market.css", get(pay::static_css))
        .route("/mozpay/dev/error_legend", get(pay::error_legend))
        // Browsers ask for it on every page (pay page, hub): 204, as the app role, not a 404
        // console error.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        // Receipts (§6).
        .route("/api/v1/receipts/inapp/", post(receipts::issue))
        .route("/api/v1/receipts/inapp", post(receipts::issue))
        .route("/public_keys/root.jwk", get(receipts::root_document))
        .route("/.well-known/jwks.json", get(receipts::jwks))
        .route("/receipts/verify", any(receipts::verify_purchase))
        .route("/receipts/verify/test", any(receipts::verify_test))
        .route("/receipts/reissue", any(receipts::reissue))
        .route("/receipts/detail/{uuid}", get(receipts::detail))
        // Catalogue (§8.3).
        .route("/api/v1/apps/{key}/products", get(api::catalogue))
        // Developer hub (§8).
        .route("/dev", get(hub::redirect_home))
        .route("/dev/", get(hub::home))
        .route("/dev/login", post(hub::login))
        .route("/dev/logout", post(hub::logout))
        .route("/dev/apps", post(hub::create_app))
        .route("/dev/apps/{id}", get(hub::app_page).post(hub::update_app))
        .route("/dev/apps/{id}/keys", post(hub::create_key))
        .route("/dev/apps/{id}/products", post(hub::put_product))
        .route("/dev/apps/{id}/settings", post(hub::put_app_settings))
        .route("/dev/keys/{key}/reset", post(hub::reset_key))
        .route("/dev/keys/{key}/revoke", post(hub::revoke_key))
        .route("/dev/price-tiers", get(hub::tiers_page).post(hub::put_tier))
        .route("/dev/transactions", get(hub::transactions_page))
        .route("/dev/checkouts", get(hub::checkouts_page))
        .route("/dev/transactions/{uuid}", get(hub::transaction_page))
        .route("/dev/transactions/{uuid}/refund", post(hub::refund))
        .route("/dev/transactions/{uuid}/notices/{kind}/resend", post(hub::resend))
        .route("/dev/settings", get(hub::settings_page).post(hub::put_settings))
        .route("/dev/signing", get(hub::signing_page))
        .route("/dev/signing/rotate", post(hub::rotate))
        .route("/dev/signing/{kid}/retire", post(hub::retire_root))
        // Developer JSON API (§8.7).
        .route("/dev/api/apps", get(api::list_apps).post(api::create_app))
        .route("/dev/api/apps/{id}", get(api::get_app).patch(api::patch_app))
        .route("/dev/api/apps/{id}/keys", post(api::create_key))
        .route("/dev/api/keys/{key}/reset", post(api::reset_key))
        .route("/dev/api/keys/{key}/revoke", post(api::revoke_key))
        .route("/dev/api/apps/{id}/products", get(api::list_products))
        .route("/dev/api/apps/{id}/products/{guid}", put(api::put_product))
        .route("/dev/api/price-tiers", get(api::list_tiers))
        .route("/dev/api/price-tiers/{id}", put(api::put_tier))
        .route("/dev/api/transactions", get(api::list_transactions))
        .route("/dev/api/transactions/{tid}", get(api::get_transaction))
        .route("/dev/api/transactions/{tid}/refund", post(api::refund))
        .route("/dev/api/transactions/{tid}/notices/{kind}/resend", post(api::resend))
        .route("/dev/api/settings", get(api::get_settings).put(api::put_settings))
        .route(
            "/dev/api/apps/{id}/settings",
            get(api::get_app_settings).put(api::put_app_settings).delete(api::delete_app_settings),
        )
        .route("/dev/api/signing/rotate", post(api::rotate))
        .with_state(state)
}

/// A JSON error `{"error_code", "error"}` (§0).
pub fn json_error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "error_code": code, "error": message });
    json_response(status, &body)
}

/// A JSON body with `Content-Type: application/json`.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A JSON text body (already serialised).
pub fn json_text(status: StatusCode, text: String) -> Response {
    let mut resp = (status, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// `500 UNEXPECTED_ERROR`, with the cause logged (never a token or secret: errors here come from
/// the database or the signer).
pub fn internal(e: &anyhow::Error) -> Response {
    tracing::error!(error = %e, "market: internal error");
    json_error(500, "UNEXPECTED_ERROR", "An unexpected error occurred.")
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Why a capped body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Read,
}

/// Reads a request body of at most `cap` bytes (checking `Content-Length` first).
pub async fn read_body(req: Request<Body>, cap: usize) -> Result<(axum::http::request::Parts, Vec<u8>), BodyError> {
    let (parts, body) = req.into_parts();
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > u64::try_from(cap).unwrap_or(u64::MAX) {
            return Err(BodyError::TooLarge);
        }
    }
    match axum::body::to_bytes(body, cap).await {
        Ok(b) => Ok((parts, b.to_vec())),
        Err(e) => {
            // to_bytes reports the length limit as an error whose source is LengthLimitError.
            let limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if limit || format!("{e:?}").contains("LengthLimit") {
                Err(BodyError::TooLarge)
            } else {
                Err(BodyError::Read)
            }
        }
    }
}

/// The first value of a form field (WHATWG form decoding, as core does it).
pub fn form_field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// Percent-decodes a query string into pairs.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| mozmarket_core::pay::form_pairs(q.as_bytes())).unwrap_or_default()
}

