//! `GET /mozpay/status/{orderId}` (§2.3) and its server-sent events (§2.4).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use mozmarket_core::Json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::error::{json_response, ApiError};
use super::guard::{buyer_of, check_guard, check_origin};
use super::store::{order_view, OrderState, OrderView, StoreError};
use super::AppState;

/// The §2.3 answer for an order.
pub(crate) fn status_json(v: &OrderView) -> Json {
    let s = |x: &str| Json::Str(x.to_owned());
    let failed = |code: &str, message: &str| {
        Json::Obj(vec![
            ("status".to_owned(), s("failed")),
            ("error".to_owned(), s(code)),
            ("message".to_owned(), s(message)),
        ])
    };
    match v.state {
        OrderState::Complete => match (&v.receipt, &v.transaction_id) {
            (Some(receipt), Some(txid)) => Json::Obj(vec![
                ("status".to_owned(), s("complete")),
                ("receipt".to_owned(), s(receipt)),
                ("productId".to_owned(), s(&v.product_id)),
                ("transactionID".to_owned(), s(txid)),
            ]),
            _ => Json::Obj(vec![("status".to_owned(), s("pending"))]),
        },
        OrderState::Paid if v.receipt_unavailable => failed(
            "RECEIPT_UNAVAILABLE",
            "The payment was received, but the provider did not issue a receipt.",
        ),
        OrderState::Pending | OrderState::Paid => Json::Obj(vec![("status".to_owned(), s("pending"))]),
        OrderState::Refunded => failed("REFUNDED", "The payment was refunded."),
        OrderState::Reversed => failed("REVERSED", "The payment was reversed."),
        OrderState::Abandoned => failed("ABANDONED", "No payment was received within 24 hours."),
    }
}

fn is_final(j: &Json) -> bool {
    matches!(j.get("status").and_then(Json::as_str), Some("complete" | "failed"))
}

/// The order's status for its owner; `ORDER_NOT_FOUND` for a malformed id, an unknown order, a
/// missing cookie and another buyer's order alike.
async fn lookup(state: &AppState, headers: &HeaderMap, id: Option<&str>) -> Result<Json, ApiError> {
    let buyer = buyer_of(headers).ok_or(ApiError::OrderNotFound)?;
    let id = id.filter(|id| mozmarket_core::pay::ids::is_uuid_v4(id)).ok_or(ApiError::OrderNotFound)?;
    match order_view(&state.db, id, &buyer).await {
        Ok(Some(v)) => Ok(status_json(&v)),
        Ok(None) => Err(ApiError::OrderNotFound),
        Err(StoreError::Unavailable) => Err(ApiError::StoreUnavailable),
        Err(StoreError::Internal) => Err(ApiError::InternalError),
    }
}

pub(crate) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let id = path.ok().map(|Path(id)| id);
    let result = async {
        check_guard(&state, &headers)?;
        lookup(&state, &headers, id.as_deref()).await
    }
    .await;
    match result {
        Ok(j) => json_response(StatusCode::OK, &j),
        Err(e) => e.into_response(),
    }
}

fn event(j: &Json) -> Bytes {
    Bytes::from(format!("event: status\ndata: {}\n\n", j.to_json_text()))
}

pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    if !state.cfg.sse {
        return ApiError::OrderNotFound.into_response();
    }
    let id = path.ok().map(|Path(id)| id);
    // EventSource cannot send headers: only the Origin rule applies (§2.1).
    if let Err(e) = check_origin(&state, &headers) {
        return e.into_response();
    }
    // Subscribe before the first read, so no change between the two is missed.
    let mut changes = state.events.subscribe();
    let first = match lookup(&state, &headers, id.as_deref()).await {
        Ok(j) => j,
        Err(e) => return e.into_response(),
    };
    let (Some(order_id), Some(buyer)) = (id, buyer_of(&headers)) else {
        return ApiError::OrderNotFound.into_response();
    };
    let order_id: Arc<str> = Arc::from(order_id.as_str());
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(8);
    let keepalive = state.cfg.sse_keepalive;
    let deadline = tokio::time::Instant::now() + state.cfg.sse_max;
    tokio::spawn(async move {
        let mut last = first;
        let first_frame = format!("retry: 2000\nevent: status\ndata: {}\n\n", last.to_json_text());
        if tx.send(Ok(Bytes::from(first_frame))).await.is_err() || is_final(&last) {
            return;
        }
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        loop {
            let changed = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = ping.tick() => {
                    if tx.send(Ok(Bytes::from_static(b": keep-alive\n\n"))).await.is_err() {
                        return;
                    }
                    false
                }
                _ = tx.closed() => return,
                msg = changes.recv() => match msg {
                    Ok(id) => *id == *order_id,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                },
            };
            if !changed {
                continue;
            }
            let now = match order_view(&state.db, &order_id, &buyer).await {
                Ok(Some(v)) => status_json(&v),
                _ => continue,
            };
            if now != last {
                if tx.send(Ok(event(&now))).await.is_err() || is_final(&now) {
                    return;
                }
                last = now;
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
            (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
        ],
        body,
    )
        .into_response()
}
