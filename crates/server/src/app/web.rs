//! The demo web app (§1.1 "also serves a demo page"): `/` (index.html), `/strict.html` (one Buy
//! button under the strictest CSP the package supports, §9.6 F38), `/www/…`, the built package at
//! `/pkg/…`, and `/demo/config.json` with what the pages need (§8.9).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use mozmarket_core::Json;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::json_response;
use super::AppState;

/// The policy of the demo shop (and of every asset served next to it): scripts and the wasm only
/// from this origin, no inline script or style, Trusted Types for every script sink, and
/// connections to this origin and the marketplace (verify service, root keys).
fn demo_csp(provider_origin: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         connect-src 'self' {provider_origin}; object-src 'none'; base-uri 'none'; \
         require-trusted-types-for 'script'"
    )
}

/// The policy of `/strict.html`: exactly the one the README and spec/receipts.md §8.7 name.
fn strict_csp(provider_origin: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         connect-src 'self' {provider_origin}; require-trusted-types-for 'script'"
    )
}

fn csp_layer(value: &str) -> Option<SetResponseHeaderLayer<HeaderValue>> {
    HeaderValue::from_str(value)
        .ok()
        .map(|v| SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, v))
}

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let Some(root) = state.cfg.web_root.clone() else { return Router::new() };
    let mut demo = Router::new()
        .route_service("/", ServeFile::new(root.join("index.html")))
        .route_service("/index.html", ServeFile::new(root.join("index.html")))
        .nest_service("/www", ServeDir::new(root.join("www")))
        .nest_service("/pkg", ServeDir::new(root.join("pkg")))
        .route("/demo/config.json", get(config))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }));
    if let Some(layer) = csp_layer(&demo_csp(&state.cfg.provider_origin)) {
        demo = demo.layer(layer);
    }
    let mut strict = Router::new().route_service("/strict.html", ServeFile::new(root.join("www").join("strict.html")));
    if let Some(layer) = csp_layer(&strict_csp(&state.cfg.provider_origin)) {
        strict = strict.layer(layer);
    }
    demo.merge(strict)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// `GET /demo/config.json`: the provider origin, the app's path prefix, the trusted root keys
/// and the active catalogue products.
async fn config(State(state): State<AppState>) -> Response {
    let s = |x: &str| Json::Str(x.to_owned());
    let products = match state.catalogue.products(&state).await {
        Some(list) => Json::Arr(
            list.iter()
                .filter(|p| p.active)
                .map(|p| {
                    Json::Obj(vec![
                        ("id".to_owned(), s(&p.guid)),
                        ("name".to_owned(), s(&p.name)),
                        ("description".to_owned(), s(&p.description)),
                        ("pricePoint".to_owned(), s(&p.price_id)),
                    ])
                })
                .collect(),
        ),
        None => Json::Null,
    };
    let trusted = state
        .cfg
        .demo
        .root_jwks
        .as_deref()
        .and_then(|t| mozmarket_core::json::parse(t.as_bytes()).ok())
        .unwrap_or(Json::Null);
    let body = Json::Obj(vec![
        ("appOrigin".to_owned(), s(&state.cfg.public_origin)),
        ("marketOrigin".to_owned(), s(&state.cfg.provider_origin)),
        ("pathPrefix".to_owned(), s(&state.cfg.path_prefix)),
        ("trustedKeys".to_owned(), trusted),
        ("products".to_owned(), products),
    ]);
    let mut res = json_response(StatusCode::OK, &body);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.into_response()
}
