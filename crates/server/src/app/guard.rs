//! The browser request guard, CORS, `Cache-Control: no-store` and the `mm_buyer` cookie (§2.1).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore as _;

use super::error::ApiError;
use super::AppState;

/// The name of the buyer cookie.
pub(crate) const BUYER_COOKIE: &str = "mm_buyer";

/// `X-Mozmarket-Version`.
pub(crate) static VERSION_HEADER: HeaderName = HeaderName::from_static("x-mozmarket-version");

/// The `Origin` of a request, when it has one (a non-UTF-8 value counts as a foreign origin).
fn origin_of(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    headers.get(header::ORIGIN).map(|v| v.to_str().map_err(|_| ()))
}

fn is_allowed_cors_origin(state: &AppState, origin: &str) -> bool {
    state.cfg.allowed_origins.iter().any(|o| o == origin)
}

/// Guard rule 1: an `Origin`, when present, is the app origin or one of `app.allowed_origins`.
pub(crate) fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match origin_of(headers) {
        None => Ok(()),
        Some(Ok(o)) if o == state.cfg.public_origin || is_allowed_cors_origin(state, o) => Ok(()),
        Some(_) => Err(ApiError::OriginNotAllowed),
    }
}

/// Guard rule 2: `X-Mozmarket-Version` is present with 1 to 32 printable ASCII characters.
pub(crate) fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut values = headers.get_all(&VERSION_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => {
            let b = v.as_bytes();
            if (1..=32).contains(&b.len()) && b.iter().all(|c| (0x20..=0x7e).contains(c)) {
                Ok(())
            } else {
                Err(ApiError::CsrfCheckFailed)
            }
        }
        _ => Err(ApiError::CsrfCheckFailed),
    }
}

/// The full guard (buy, status, receipts, entitlements).
pub(crate) fn check_guard(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    check_origin(state, headers)?;
    check_version(headers)
}

fn cors_headers(headers: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, idempotency-key, x-mozmarket-version"),
        );
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    }
}

/// Middleware of the browser endpoints: answers CORS preflights, adds CORS headers for
/// `app.allowed_origins`, and `Cache-Control: no-store` on every answer.
pub(crate) async fn browser_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = match origin_of(req.headers()) {
        Some(Ok(o)) if is_allowed_cors_origin(&state, o) => Some(o.to_owned()),
        _ => None,
    };
    let mut res = if req.method() == Method::OPTIONS {
        match &origin {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None if check_origin(&state, req.headers()).is_err() => {
                ApiError::OriginNotAllowed.into_response()
            }
            None => {
                let mut r = StatusCode::NO_CONTENT.into_response();
                r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
                r
            }
        }
    } else {
        next.run(req).await
    };
    let headers = res.headers_mut();
    if let Some(o) = &origin {
        cors_headers(headers, o);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Whether a cookie value is a buyer id we could have issued: 22 base64url characters
/// (128 bits).
fn valid_buyer_id(v: &str) -> bool {
    v.len() == 22 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `mm_buyer` id from the request's cookies, when present and well-formed.
pub(crate) fn buyer_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BUYER_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|v| valid_buyer_id(v))
        .map(str::to_owned)
}

/// A fresh buyer id: 128 random bits, base64url.
pub(crate) fn new_buyer_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    mozmarket_core::b64::encode(&bytes)
}

fn is_loopback_http(origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else { return false };
    url.scheme() == "http"
        && match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// The `Set-Cookie` value for a new buyer (§2.1).
pub(crate) fn buyer_cookie(state: &AppState, id: &str) -> Option<HeaderValue> {
    let mut v = format!("{BUYER_COOKIE}={id}; HttpOnly; Path=/; Max-Age=63072000");
    if state.cfg.cookie_cross_site {
        v.push_str("; SameSite=None; Secure");
    } else {
        v.push_str("; SameSite=Lax");
        if !is_loopback_http(&state.cfg.public_origin) {
            v.push_str("; Secure");
        }
    }
    HeaderValue::from_str(&v).ok()
}

/// The caller's buyer id, or a new one (with `true`) when the request has none.
pub(crate) fn buyer_or_new(headers: &HeaderMap) -> (String, bool) {
    match buyer_of(headers) {
        Some(id) => (id, false),
        None => (new_buyer_id(), true),
    }
}

/// Adds `Set-Cookie` for a new buyer to a successful answer.
pub(crate) fn with_cookie(state: &AppState, mut res: Response, buyer: &str, is_new: bool) -> Response {
    if is_new && res.status().is_success() {
        if let Some(v) = buyer_cookie(state, buyer) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
