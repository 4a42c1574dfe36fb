//! `POST /mozpay/product/{id}/buy` (§2.2).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mozmarket_core::pay::request::{PayRequest, RequestObject};
use mozmarket_core::Json;

use super::error::{json_response, ApiError};
use super::guard::{buyer_or_new, check_guard, with_cookie};
use super::store::{CreateOutcome, NewOrder, Op, OpResult, StoreError};
use super::AppState;

/// The browser endpoints' body cap (§2.1).
pub(crate) const BODY_CAP: usize = 4096;

/// Reads a browser request body with the 4 KiB cap (`413 BODY_TOO_LARGE`).
pub(crate) async fn read_capped(headers: &HeaderMap, body: axum::body::Body) -> Result<bytes::Bytes, ApiError> {
    if content_length(headers).is_some_and(|n| n > BODY_CAP as u64) {
        return Err(ApiError::BodyTooLarge);
    }
    axum::body::to_bytes(body, BODY_CAP).await.map_err(|_| ApiError::BodyTooLarge)
}

/// The `Content-Length` value, when present and numeric.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn is_json_media_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => {
            let b = v.as_bytes();
            let ok = (8..=64).contains(&b.len())
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-');
            if ok {
                Ok(v.to_str().ok().map(str::to_owned))
            } else {
                Err(ApiError::BadIdempotencyKey)
            }
        }
        (Some(_), Some(_)) => Err(ApiError::BadIdempotencyKey),
    }
}

/// The §2.2 success body (identical for a replay).
fn buy_body(state: &AppState, order_id: &str, product_id: &str, jwt: &str, simulated: bool) -> Json {
    let p = &state.cfg.path_prefix;
    let status_url = format!("{p}/status/{order_id}");
    let mut m = vec![
        ("orderId".to_owned(), Json::Str(order_id.to_owned())),
        ("productId".to_owned(), Json::Str(product_id.to_owned())),
        ("jwt".to_owned(), Json::Str(jwt.to_owned())),
        ("statusURL".to_owned(), Json::Str(status_url.clone())),
    ];
    if state.cfg.sse {
        m.push(("statusEventsURL".to_owned(), Json::Str(format!("{status_url}/events"))));
    }
    m.push(("simulated".to_owned(), Json::Bool(simulated)));
    Json::Obj(m)
}

fn with_location(mut res: Response, state: &AppState, order_id: &str) -> Response {
    let url = format!("{}/status/{order_id}", state.cfg.path_prefix);
    if let Ok(v) = HeaderValue::from_str(&url) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

pub(crate) async fn buy(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    match buy_inner(&state, path.ok().map(|Path(id)| id), req).await {
        Ok(res) => res,
        Err(e) => {
            tracing::info!(code = e.code(), "buy rejected");
            e.into_response()
        }
    }
}

async fn buy_inner(state: &AppState, product: Option<String>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    // 2. Request guard.
    check_guard(state, headers)?;
    // 3. Body cap.
    let body = read_capped(headers, body).await?;
    if !body.is_empty() {
        // 4. Media type.
        if !is_json_media_type(headers) {
            return Err(ApiError::UnsupportedMediaType);
        }
        // 5. A JSON object (unknown members ignored).
        match mozmarket_core::json::parse(&body) {
            Ok(v) if v.is_object() => {}
            _ => return Err(ApiError::BadRequest),
        }
    }
    // 6. Idempotency-Key.
    let key = idempotency_key(headers)?;
    // 7–8. Catalogue.
    let product = product.filter(|id| (1..=255).contains(&id.chars().count()));
    let found = state.catalogue.product(state, product.as_deref().unwrap_or("")).await;
    let product = match (found, product) {
        (None, _) => return Err(ApiError::CatalogueUnavailable),
        (Some(Some(p)), Some(_)) => p,
        _ => return Err(ApiError::ProductNotFound),
    };
    // 9–11. In one write: replay, pending limit, the order.
    let (buyer, is_new) = buyer_or_new(headers);
    let secret = state.secret_of(&state.cfg.signing_key).ok_or(ApiError::InternalError)?;
    let order_id = uuid::Uuid::new_v4().to_string();
    let p = &state.cfg.path_prefix;
    let origin = &state.cfg.public_origin;
    let request = RequestObject {
        id: product.guid.clone(),
        price_point: product.price_id.clone(),
        name: product.name.clone(),
        description: product.description.clone(),
        postback_url: format!("{origin}{p}/postback"),
        chargeback_url: format!("{origin}{p}/chargeback"),
        product_data: Some(format!("mm_order={order_id}")),
        icons: product.icons.clone(),
        default_locale: product.default_locale.clone(),
        locales: product.locales.clone(),
        simulate: state.cfg.simulate.to_simulate(),
    };
    let simulated = request.simulate.is_some();
    let pay = PayRequest::new(&state.cfg.signing_key, &state.cfg.provider_domain, state.now_s(), request);
    let jwt = pay.sign(secret);
    let new = NewOrder {
        id: order_id.clone(),
        buyer_id: buyer.clone(),
        product_id: product.guid.clone(),
        price_point: product.price_id.clone(),
        app_key: state.cfg.signing_key.clone(),
        request_json: pay.request.to_json().to_json_text(),
        jwt: jwt.clone(),
        simulated,
        iat_s: pay.iat,
        exp_s: pay.exp,
        idempotency_key: key,
        now_ms: state.now_ms(),
        max_pending: state.cfg.max_pending,
    };
    let res = match state.writer.run(Op::CreateOrder(new)).await {
        Ok(OpResult::Order(CreateOutcome::Created)) => {
            tracing::info!(order = %order_id, product = %product.guid, "order created");
            let body = buy_body(state, &order_id, &product.guid, &jwt, simulated);
            with_location(json_response(StatusCode::CREATED, &body), state, &order_id)
        }
        Ok(OpResult::Order(CreateOutcome::Replay { order_id, product_id, jwt, simulated })) => {
            let body = buy_body(state, &order_id, &product_id, &jwt, simulated);
            with_location(json_response(StatusCode::OK, &body), state, &order_id)
        }
        Ok(OpResult::Order(CreateOutcome::KeyReused)) => return Err(ApiError::IdempotencyKeyReused),
        Ok(OpResult::Order(CreateOutcome::TooManyPending)) => return Err(ApiError::TooManyPendingOrders),
        Ok(_) | Err(StoreError::Internal) | Err(StoreError::Unavailable) => {
            return Err(ApiError::InternalError)
        }
    };
    Ok(with_cookie(state, res, &buyer, is_new))
}
