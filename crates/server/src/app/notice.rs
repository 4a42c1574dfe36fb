//! The notice receivers `POST /mozpay/postback` and `POST /mozpay/chargeback` (§2.5).
//!
//! Steps 3–9 are `mozmarket_core::pay::notice`; this module reads the body (step 2), finds the
//! order (step 10), hands the change to the writer (steps 11–12) and answers (step 13) only after
//! the commit. Nothing is written before step 12, and a rejection is logged, never stored.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mozmarket_core::hs256::{self, JwsAlg};
use mozmarket_core::pay::notice::{
    check_notice_content_type, notice_from_form, order_id_from_product_data, verify_notice,
    NoticeCode, NoticeError, NoticeKind, NOTICE_BODY_CAP,
};
use mozmarket_core::Json;

use super::buy::content_length;
use super::store::{NoticeOp, NoticeOutcome, Op, OpResult, OrderState, StoreError};
use super::AppState;

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn reject(code: NoticeCode) -> Response {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    text(status, code.as_str().to_owned())
}

/// `405 METHOD_NOT_ALLOWED` with `Allow: POST` (step 1).
pub(crate) async fn method_not_allowed() -> Response {
    let mut res = reject(NoticeCode::MethodNotAllowed);
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    res
}

pub(crate) async fn postback(State(state): State<AppState>, req: Request) -> Response {
    receive(&state, NoticeKind::Postback, req).await
}

pub(crate) async fn chargeback(State(state): State<AppState>, req: Request) -> Response {
    receive(&state, NoticeKind::Chargeback, req).await
}

/// A claim value fit for a log line: at most 64 characters, escaped by `Debug`.
fn loggable(v: Option<&Json>) -> String {
    match v.and_then(Json::as_str) {
        Some(s) => format!("{:?}", s.chars().take(64).collect::<String>()),
        None => "-".to_owned(),
    }
}

/// Logs a rejection with the reason code and, when the token decodes, its `iss`, `aud`, `typ`
/// and transaction ID — never the token itself.
fn log_rejection(kind: NoticeKind, e: &NoticeError, token: Option<&str>) {
    let claims = token.and_then(|t| hs256::decode(t, JwsAlg::Hs256, NOTICE_BODY_CAP).ok());
    let claims = claims.as_ref().map(|j| j.unverified_claims());
    let get = |name: &str| loggable(claims.and_then(|c| c.get(name)));
    let txid = loggable(claims.and_then(|c| c.get("response")).and_then(|r| r.get("transactionID")));
    tracing::info!(
        kind = kind.as_str(),
        code = e.code.as_str(),
        detail = e.detail,
        iss = %get("iss"),
        aud = %get("aud"),
        typ = %get("typ"),
        transaction_id = %txid,
        "notice rejected"
    );
}

async fn receive(state: &AppState, kind: NoticeKind, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // 2. Body cap: the declared length, then a hard cap while reading.
    if content_length(&parts.headers).is_some_and(|n| n > NOTICE_BODY_CAP as u64) {
        log_rejection(kind, &NoticeError::new(NoticeCode::BodyTooLarge, "content_length"), None);
        return reject(NoticeCode::BodyTooLarge);
    }
    let body = match axum::body::to_bytes(body, NOTICE_BODY_CAP).await {
        Ok(b) => b,
        Err(_) => {
            log_rejection(kind, &NoticeError::new(NoticeCode::BodyTooLarge, "body"), None);
            return reject(NoticeCode::BodyTooLarge);
        }
    };
    // 3. Media type.
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if let Err(e) = check_notice_content_type(content_type) {
        log_rejection(kind, &e, None);
        return reject(e.code);
    }
    // 4. Exactly one non-empty `notice`.
    let token = match notice_from_form(&body) {
        Ok(t) => t,
        Err(e) => {
            log_rejection(kind, &e, None);
            return reject(e.code);
        }
    };
    // 5–9. Strict parsing, signature with every active secret, claims, members, values.
    let now_s = state.now_s();
    let verified = match verify_notice(&token, kind, &state.secrets, &state.cfg.provider_domain, now_s) {
        Ok(v) => v,
        Err(e) => {
            log_rejection(kind, &e, Some(&token));
            return reject(e.code);
        }
    };
    let txid = verified.transaction_id.as_str().to_owned();
    // 10. `mm_order=<uuid>` in productData (the order's existence is checked by the writer).
    let Some(order_id) = verified.echo.product_data.as_deref().and_then(order_id_from_product_data)
    else {
        log_rejection(kind, &NoticeError::new(NoticeCode::UnknownOrder, "product_data"), Some(&token));
        return reject(NoticeCode::UnknownOrder);
    };
    let app_key = verified.app.key.clone();
    let op = NoticeOp {
        kind,
        transaction_id: txid.clone(),
        order_id: order_id.clone(),
        app_key: app_key.clone(),
        request: verified.notice.request,
        reason: verified.notice.response.reason,
        iat_s: verified.notice.iat,
        now_ms: state.now_ms(),
    };
    // 11–12. One transaction, in the writer.
    let outcome = match state.writer.run(Op::Notice(op)).await {
        Ok(OpResult::Notice(o)) => o,
        Ok(_) | Err(StoreError::Internal) => {
            tracing::warn!(kind = kind.as_str(), transaction_id = %txid, "notice: internal error");
            return reject(NoticeCode::InternalError);
        }
        Err(StoreError::Unavailable) => {
            tracing::warn!(kind = kind.as_str(), transaction_id = %txid, "notice: store unavailable");
            return reject(NoticeCode::StoreUnavailable);
        }
    };
    match outcome {
        NoticeOutcome::UnknownOrder => {
            log_rejection(kind, &NoticeError::new(NoticeCode::UnknownOrder, "order"), Some(&token));
            return reject(NoticeCode::UnknownOrder);
        }
        NoticeOutcome::OrderMismatch => {
            log_rejection(kind, &NoticeError::new(NoticeCode::OrderMismatch, "request"), Some(&token));
            return reject(NoticeCode::OrderMismatch);
        }
        NoticeOutcome::Duplicate => {
            tracing::info!(kind = kind.as_str(), transaction_id = %txid, "notice: duplicate delivery");
        }
        NoticeOutcome::Recorded { new_state, duplicate_of_order } => {
            if duplicate_of_order {
                tracing::warn!(
                    kind = kind.as_str(),
                    transaction_id = %txid,
                    order = %order_id,
                    "notice for another transaction of an order that already has one: recorded as duplicate"
                );
            } else {
                tracing::info!(
                    kind = kind.as_str(),
                    transaction_id = %txid,
                    order = %order_id,
                    state = new_state.map(OrderState::as_str).unwrap_or("unchanged"),
                    "notice applied"
                );
            }
            if new_state == Some(OrderState::Paid) {
                super::provider::spawn_fetch(state, &order_id, &app_key, &txid);
            }
        }
    }
    // 13. After the commit: exactly the transaction ID.
    text(StatusCode::OK, txid)
}
