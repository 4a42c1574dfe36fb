//! Receipts, restore and entitlements (§2.6).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mozmarket_core::Json;

use super::error::{json_response, ApiError};
use super::guard::{buyer_or_new, check_guard, with_cookie};
use super::provider::{fetch, Fetched};
use super::store::{self, BuyerOrder, OrderState, StoreError};
use super::AppState;

/// A stored receipt expiring within this many seconds is refreshed first.
const REFRESH_WITHIN_S: i64 = 7 * 86_400;

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable => ApiError::StoreUnavailable,
        StoreError::Internal => ApiError::InternalError,
    }
}

fn entry(o: &BuyerOrder, receipt: &str) -> Json {
    let s = |x: &str| Json::Str(x.to_owned());
    Json::Obj(vec![
        ("productId".to_owned(), s(&o.product_id)),
        ("orderId".to_owned(), s(&o.id)),
        ("transactionID".to_owned(), s(o.transaction_id.as_deref().unwrap_or(""))),
        ("receipt".to_owned(), s(receipt)),
    ])
}

/// The receipt of a complete order, refreshed first when it expires within 7 days (the stored
/// one when the refresh fails).
async fn current_receipt(state: &AppState, o: &BuyerOrder, buyer: &str) -> Option<String> {
    let stored = o.receipt.clone()?;
    let expiring = o.receipt_exp_s.is_none_or(|exp| exp - state.now_s() <= REFRESH_WITHIN_S);
    if !expiring {
        return Some(stored);
    }
    let Some(txid) = &o.transaction_id else { return Some(stored) };
    if fetch(state, &o.id, &o.app_key, txid, false).await == Fetched::Stored {
        if let Ok(Some(v)) = store::order_view(&state.db, &o.id, buyer).await {
            if v.state == OrderState::Complete {
                return v.receipt.or(Some(stored));
            }
        }
    }
    Some(stored)
}

/// `GET /mozpay/receipts`.
pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = check_guard(&state, &headers) {
        return e.into_response();
    }
    let (buyer, is_new) = buyer_or_new(&headers);
    let orders = match store::buyer_orders(&state.db, &buyer, None, &[OrderState::Complete]).await {
        Ok(o) => o,
        Err(e) => return store_error(e).into_response(),
    };
    let mut receipts = Vec::with_capacity(orders.len());
    for o in &orders {
        if let Some(receipt) = current_receipt(&state, o, &buyer).await {
            receipts.push(entry(o, &receipt));
        }
    }
    let body = Json::Obj(vec![("receipts".to_owned(), Json::Arr(receipts))]);
    with_cookie(&state, json_response(StatusCode::OK, &body), &buyer, is_new)
}

/// `GET /mozpay/product/{id}/receipt`.
pub(crate) async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    if let Err(e) = check_guard(&state, &headers) {
        return e.into_response();
    }
    let (buyer, is_new) = buyer_or_new(&headers);
    let res = match one_inner(&state, &buyer, path.ok().map(|Path(p)| p)).await {
        Ok(j) => json_response(StatusCode::OK, &j),
        Err(e) => e.into_response(),
    };
    with_cookie(&state, res, &buyer, is_new)
}

async fn one_inner(state: &AppState, buyer: &str, product: Option<String>) -> Result<Json, ApiError> {
    let product = product.filter(|p| (1..=255).contains(&p.chars().count())).ok_or(ApiError::NoPurchase)?;
    use OrderState as S;
    let orders = store::buyer_orders(
        &state.db,
        buyer,
        Some(&product),
        &[S::Paid, S::Complete, S::Refunded, S::Reversed],
    )
    .await
    .map_err(store_error)?;
    let Some(newest) = orders.first() else { return Err(ApiError::NoPurchase) };
    let complete = orders.iter().find(|o| o.state == S::Complete);
    let paid = orders.iter().find(|o| o.state == S::Paid);
    let chosen = match newest.state {
        S::Complete | S::Paid => newest,
        _ => match complete.or(paid) {
            Some(o) => o,
            None => return Err(ApiError::Refunded),
        },
    };
    if chosen.state == S::Complete {
        let receipt = current_receipt(state, chosen, buyer).await.ok_or(ApiError::ReceiptUnavailable)?;
        return Ok(entry(chosen, &receipt));
    }
    // `paid` without a receipt: one fetch now.
    let txid = chosen.transaction_id.as_deref().ok_or(ApiError::ReceiptUnavailable)?;
    if fetch(state, &chosen.id, &chosen.app_key, txid, false).await == Fetched::Stored {
        if let Ok(Some(v)) = store::order_view(&state.db, &chosen.id, buyer).await {
            if let (S::Complete, Some(receipt)) = (v.state, v.receipt) {
                return Ok(entry(chosen, &receipt));
            }
        }
    }
    Err(ApiError::ReceiptUnavailable)
}

/// `GET /mozpay/entitlements`.
pub(crate) async fn entitlements(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = check_guard(&state, &headers) {
        return e.into_response();
    }
    let (buyer, is_new) = buyer_or_new(&headers);
    let list = match store::entitlements(&state.db, &buyer).await {
        Ok(l) => l,
        Err(e) => return store_error(e).into_response(),
    };
    let products = list
        .iter()
        .map(|e| {
            Json::Obj(vec![
                ("productId".to_owned(), Json::Str(e.product_id.clone())),
                ("orderId".to_owned(), Json::Str(e.order_id.clone())),
                ("transactionID".to_owned(), Json::Str(e.transaction_id.clone())),
                ("grantedAt".to_owned(), Json::Num(e.granted_ms as f64)),
            ])
        })
        .collect();
    let body = Json::Obj(vec![("products".to_owned(), Json::Arr(products))]);
    with_cookie(&state, json_response(StatusCode::OK, &body), &buyer, is_new)
}
