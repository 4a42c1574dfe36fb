//! Receipt issue calls to the provider (§2.8, §6.1).

use mozmarket_core::pay::issue::IssueRequest;
use mozmarket_core::Json;

use super::store::{Op, OpResult, ReceiptOutcome};
use super::AppState;

/// One attempt's result.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// `201 {receipt, exp}`.
    Receipt { receipt: String, exp_s: i64 },
    /// `409 TRANS_REFUNDED`: the chargeback path decides.
    Refunded,
    /// Any other `4xx`, an unusable answer, or a key no longer configured: stop, mark
    /// `RECEIPT_UNAVAILABLE`.
    Refused(&'static str),
    /// Network error, timeout, `5xx`: retry.
    Transient(&'static str),
}

/// The final result of a fetch (with retries or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// A receipt was stored (order `complete`, or refreshed).
    Stored,
    /// Nothing stored; the order is flagged `receipt_unavailable` when it was refused for good.
    Unavailable,
    /// The transaction was refunded; the receipt (if any) was discarded.
    Refunded,
}

/// The `exp` of a receipt `cert~receipt` from its payload (unverified: it is only a hint for
/// when to refresh; the verify service and the client decide validity).
fn receipt_exp(receipt: &str) -> Option<i64> {
    let (cert, jwt) = receipt.split_once('~')?;
    if cert.is_empty() || jwt.contains('~') {
        return None;
    }
    let payload = jwt.split('.').nth(1)?;
    let bytes = mozmarket_core::b64::decode_strict(payload)?;
    let claims = mozmarket_core::json::parse(&bytes).ok()?;
    claims.get("exp").and_then(mozmarket_core::hs256::numeric_date)
}

/// One call of `POST /api/v1/receipts/inapp/`.
pub(crate) async fn attempt(state: &AppState, app_key: &str, txid: &str) -> Attempt {
    let Some(secret) = state.secret_of(app_key) else {
        return Attempt::Refused("key_removed");
    };
    let jti = uuid::Uuid::new_v4().to_string();
    let token = IssueRequest::new(app_key, &state.cfg.provider_domain, state.now_s(), &jti, txid).sign(secret);
    let url = format!("{}/api/v1/receipts/inapp/", state.cfg.provider_origin);
    let res = match state.http.post(url).form(&[("request", token.as_str())]).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Attempt::Transient("timeout"),
        Err(_) => return Attempt::Transient("connect"),
    };
    let status = res.status().as_u16();
    let body = match read_capped(res, 256 * 1024).await {
        Ok(Some(b)) => b,
        Ok(None) => return Attempt::Refused("too_large"),
        Err(_) => return Attempt::Transient("body"),
    };
    let doc = mozmarket_core::json::parse(&body).ok();
    match status {
        201 | 200 => {
            let Some(receipt) = doc.as_ref().and_then(|d| d.get("receipt")).and_then(Json::as_str) else {
                return Attempt::Refused("no_receipt");
            };
            let exp = doc
                .as_ref()
                .and_then(|d| d.get("exp"))
                .and_then(mozmarket_core::hs256::numeric_date)
                .or_else(|| receipt_exp(receipt));
            match (exp, receipt_exp(receipt)) {
                (Some(exp_s), Some(_)) => Attempt::Receipt { receipt: receipt.to_owned(), exp_s },
                _ => Attempt::Refused("malformed_receipt"),
            }
        }
        409 if doc.as_ref().and_then(|d| d.get("error_code")).and_then(Json::as_str)
            == Some("TRANS_REFUNDED") =>
        {
            Attempt::Refunded
        }
        400..=499 => Attempt::Refused("http_4xx"),
        _ => Attempt::Transient("http_status"),
    }
}

/// Fetches and stores a receipt for a paid order, with the §2.8 retry schedule when `retry`
/// (else one attempt, for the on-demand paths of §2.6).
pub(crate) async fn fetch(state: &AppState, order_id: &str, app_key: &str, txid: &str, retry: bool) -> Fetched {
    let delays: Vec<std::time::Duration> = if retry {
        state.cfg.receipt_retry_delays.clone()
    } else {
        vec![std::time::Duration::ZERO]
    };
    let mut last = "none";
    for (n, delay) in delays.iter().enumerate() {
        if !delay.is_zero() {
            tokio::time::sleep(*delay).await;
        }
        match attempt(state, app_key, txid).await {
            Attempt::Receipt { receipt, exp_s } => {
                let op = Op::StoreReceipt { order_id: order_id.to_owned(), receipt, exp_s, now_ms: state.now_ms() };
                return match state.writer.run(op).await {
                    Ok(OpResult::Receipt(ReceiptOutcome::Completed | ReceiptOutcome::Refreshed)) => {
                        tracing::info!(order = %order_id, transaction_id = %txid, "receipt stored");
                        Fetched::Stored
                    }
                    Ok(_) => {
                        tracing::info!(order = %order_id, transaction_id = %txid, "receipt discarded (order charged back)");
                        Fetched::Refunded
                    }
                    Err(e) => {
                        tracing::warn!(order = %order_id, error = ?e, "receipt could not be stored");
                        Fetched::Unavailable
                    }
                };
            }
            Attempt::Refunded => {
                tracing::info!(order = %order_id, transaction_id = %txid, "receipt issue: transaction refunded");
                return Fetched::Refunded;
            }
            Attempt::Refused(reason) => {
                tracing::warn!(order = %order_id, transaction_id = %txid, reason, "receipt issue refused");
                if retry {
                    flag_unavailable(state, order_id).await;
                }
                return Fetched::Unavailable;
            }
            Attempt::Transient(reason) => {
                tracing::info!(order = %order_id, attempt = n + 1, reason, "receipt issue failed");
                last = reason;
            }
        }
    }
    tracing::warn!(order = %order_id, transaction_id = %txid, reason = last, "receipt issue gave up");
    if retry {
        flag_unavailable(state, order_id).await;
    }
    Fetched::Unavailable
}

async fn flag_unavailable(state: &AppState, order_id: &str) {
    let op = Op::ReceiptUnavailable { order_id: order_id.to_owned(), now_ms: state.now_ms() };
    if let Err(e) = state.writer.run(op).await {
        tracing::warn!(order = %order_id, error = ?e, "could not flag receipt_unavailable");
    }
}

/// Starts the post-commit receipt fetch of a newly paid order (one per order at a time).
pub(crate) fn spawn_fetch(state: &AppState, order_id: &str, app_key: &str, txid: &str) {
    if !state.cfg.receipt_fetch {
        return;
    }
    {
        let Ok(mut set) = state.fetching.lock() else { return };
        if !set.insert(order_id.to_owned()) {
            return;
        }
    }
    let state = state.clone();
    let (order_id, app_key, txid) = (order_id.to_owned(), app_key.to_owned(), txid.to_owned());
    tokio::spawn(async move {
        fetch(&state, &order_id, &app_key, &txid, true).await;
        if let Ok(mut set) = state.fetching.lock() {
            set.remove(&order_id);
        }
    });
}

/// Reads a response body of at most `cap` bytes. `Ok(None)` when the declared length or the bytes
/// received pass the cap: reading stops there, so a hostile peer cannot make us buffer more.
pub(crate) async fn read_capped(mut res: reqwest::Response, cap: usize) -> reqwest::Result<Option<Vec<u8>>> {
    if res.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
