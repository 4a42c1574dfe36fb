//! Receipts (spec/payments.md §6): the issue API for app servers, key publication, the verify
//! service with its CORS rules, reissue, and the receipt detail page.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use mozmarket_core::hs256::{numeric_date, Hs256Key};
use mozmarket_core::json::Json;
use mozmarket_core::pay::{
    decode_issue_jwt, issue_token_from_form, receipt_payload, sign_receipt, IssueCode, IssueError,
    ReceiptInput, ReceiptKind, ISSUE_BODY_CAP, JTI_MEMORY_SECS, ROOT_DOCUMENT_PATH,
};
use mozmarket_core::url::NativeUrlParser;

use super::html::{esc, page};
use super::store::{self, Mode, Transaction};
use super::web::{internal, json_error, json_text, read_body, BodyError};
use super::{signing, AppState, Inner};

/// The verify service's body cap (§6.5).
const VERIFY_BODY_CAP: usize = 64 * 1024;
/// A receipt expiring sooner than this is `expired` at the verify service (§6.5 step 12).
const EXPIRY_MARGIN_SECS: i64 = 10;
async fn slow(st: &Inner, app_id: Option<i64>) {
    let settings = match app_id {
        Some(id) => store::effective_settings(&st.db, id).await,
        None => store::global_settings(&st.db).await,
    };
    if let Ok(s) = settings {
        if s.mode == Mode::Slow {
            tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(s.slow_ms).unwrap_or(0))).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signing a receipt for a transaction

/// A signed receipt and its times.
pub struct Signed {
    pub receipt: String,
    pub exp: i64,
}

/// Signs a new receipt for `tx` (§6.2, §6.3) and records it. `app_origin` overrides the app's
/// primary origin (reissue keeps the old `product.url`).
pub async fn sign_for_tx(st: &Inner, tx: &Transaction, app_origin: Option<&str>, source: &str) -> anyhow::Result<Signed> {
    let primary = match app_origin {
        Some(o) => o.to_owned(),
        None => {
            let app = store::get_app(&st.db, tx.app_id).await?.ok_or_else(|| anyhow::anyhow!("transaction without app"))?;
            app.origins.first().cloned().ok_or_else(|| anyhow::anyhow!("app without origin"))?
        }
    };
    let kind = if tx.kind == "simulate" { ReceiptKind::Test } else { ReceiptKind::Purchase };
    let iat = st.now_secs();
    let lifetime = st.opts.receipt.lifetime_s;
    let exp = iat.saturating_add(lifetime);
    let (cert, eph) = signing::signer_for(st, exp).await?;
    let payload = receipt_payload(&ReceiptInput {
        kind,
        provider_origin: &st.origin,
        app_origin: &primary,
        app_id: u64::try_from(tx.app_id).unwrap_or(0),
        contrib: u64::try_from(tx.number).unwrap_or(0),
        inapp_id: &tx.request_id,
        user: &tx.directed_id,
        transaction_uuid: &tx.uuid,
        iat,
        lifetime_secs: lifetime,
    });
    let receipt = sign_receipt(&cert, &eph, &payload).map_err(|e| anyhow::anyhow!("signing receipt: {e}"))?;
    store::record_issued_receipt(&st.db, tx.number, iat, exp, &cert.kid, source, st.now_ms()).await?;
    tracing::info!(transaction_id = %tx.transaction_id, kid = %cert.kid, "market: receipt issued");
    Ok(Signed { receipt, exp })
}

/// For tools and tests: sign a receipt for a transaction ID.
pub async fn sign_for_transaction_id(st: &Inner, transaction_id: &str) -> anyhow::Result<String> {
    let tx = store::tx_by_id(&st.db, transaction_id).await?.ok_or_else(|| anyhow::anyhow!("no such transaction"))?;
    Ok(sign_for_tx(st, &tx, None, "tool").await?.receipt)
}

// ---------------------------------------------------------------------------------------------
// §6.1 issue API

fn issue_error(e: IssueError) -> Response {
    json_error(e.http_status(), e.code.as_str(), e.code.message())
}

pub async fn issue(State(st): State<AppState>, req: Request<Body>) -> Response {
    let body = match read_body(req, ISSUE_BODY_CAP).await {
        Ok((_, b)) => b,
        Err(BodyError::TooLarge) => return issue_error(IssueError::new(IssueCode::BodyTooLarge, "body")),
        Err(BodyError::Read) => return issue_error(IssueError::new(IssueCode::InvalidJwt, "body")),
    };
    match issue_inner(&st, &body).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => {
            tracing::info!(code = e.code.as_str(), detail = e.detail, "market: receipt issue refused");
            issue_error(e)
        }
        Err(e) => internal(&e),
    }
}

async fn issue_inner(st: &AppState, body: &[u8]) -> anyhow::Result<Result<Response, IssueError>> {
    let token = match issue_token_from_form(body) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let jwt = match decode_issue_jwt(&token) {
        Ok(j) => j,
        Err(e) => return Ok(Err(e)),
    };
    let key = match store::get_key(&st.db, jwt.iss()).await? {
        Some(k) if k.active() => k,
        _ => return Ok(Err(IssueError::new(IssueCode::BadJwtIssuer, "iss"))),
    };
    slow(st, Some(key.app_id)).await;
    let Ok(secret) = Hs256Key::from_secret(&key.secret) else {
        anyhow::bail!("stored secret too short");
    };
    let request = match jwt.verify(&secret, &st.domain, st.now_secs()) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if !store::remember_jti(&st.db, &request.jti, st.now_ms(), JTI_MEMORY_SECS.saturating_mul(1000)).await? {
        return Ok(Err(IssueError::new(IssueCode::JtiReplayed, "jti")));
    }
    let tx = match store::tx_by_id(&st.db, &request.transaction_id).await? {
        Some(t) if t.app_id == key.app_id => t,
        _ => return Ok(Err(IssueError::new(IssueCode::TransMissing, "transactionID"))),
    };
    if tx.state == "refunded" || tx.state == "reversed" {
        return Ok(Err(IssueError::new(IssueCode::TransRefunded, "state")));
    }
    if tx.state != "completed" {
        return Ok(Err(IssueError::new(IssueCode::TransNotComplete, "state")));
    }
    let usd: f64 = tx.usd_amount.parse().unwrap_or(f64::INFINITY);
    if usd > st.opts.receipt.price_limit {
        return Ok(Err(IssueError::new(IssueCode::PriceLimitExceeded, "price_limit")));
    }
    let signed = sign_for_tx(st, &tx, None, "issue").await?;
    let body = Json::Obj(vec![
        ("receipt".to_owned(), Json::Str(signed.receipt)),
        ("exp".to_owned(), Json::Num(signed.exp as f64)),
    ]);
    let mut resp = json_text(StatusCode::CREATED, body.to_json_text());
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(Ok(resp))
}

// ---------------------------------------------------------------------------------------------
// §6.4 key publication

fn key_document(text: String) -> Response {
    let mut resp = json_text(StatusCode::OK, text);
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

pub async fn root_document(State(st): State<AppState>) -> Response {
    match signing::root_document_text(&st).await {
        Ok(t) => key_document(t),
        Err(e) => internal(&e),
    }
}

pub async fn jwks(State(st): State<AppState>) -> Response {
    match signing::root_jwks_text(&st).await {
        Ok(t) => key_document(t),
        Err(e) => internal(&e),
    }
}

// ---------------------------------------------------------------------------------------------
// §6.5 verify service and §6.6 reissue

/// A verify-service verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Pending,
    Refunded,
    Expired { fresh: Option<String> },
    Invalid(&'static str),
}

impl Verdict {
    fn to_json(&self, reissue: bool) -> Json {
        let st = |s: &str| ("status".to_owned(), Json::Str(s.to_owned()));
        match self {
            Verdict::Ok => Json::Obj(vec![st("ok")]),
            Verdict::Pending => Json::Obj(vec![st("pending")]),
            Verdict::Refunded => Json::Obj(vec![st("refunded")]),
            Verdict::Expired { fresh } => {
                let mut m = vec![st("expired")];
                if let Some(r) = fresh {
                    m.push(("receipt".to_owned(), Json::Str(r.clone())));
                }
                if reissue {
                    m.push(("reason".to_owned(), Json::Str(String::new())));
                }
                Json::Obj(m)
            }
            Verdict::Invalid(reason) => {
                Json::Obj(vec![st("invalid"), ("reason".to_owned(), Json::Str((*reason).to_owned()))])
            }
        }
    }
}

fn cors(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, x-fxpay-version, x-mozmarket-version"),
    );
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

fn bare(status: StatusCode) -> Response {
    let mut resp = (status, "").into_response();
    cors(&mut resp);
    resp
}

/// Which endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Verify(ReceiptKind),
    Reissue,
}

pub async fn verify_purchase(State(st): State<AppState>, req: Request<Body>) -> Response {
    verify_endpoint(st, req, Endpoint::Verify(ReceiptKind::Purchase)).await
}

pub async fn verify_test(State(st): State<AppState>, req: Request<Body>) -> Response {
    verify_endpoint(st, req, Endpoint::Verify(ReceiptKind::Test)).await
}

pub async fn reissue(State(st): State<AppState>, req: Request<Body>) -> Response {
    verify_endpoint(st, req, Endpoint::Reissue).await
}

async fn verify_endpoint(st: AppState, req: Request<Body>, endpoint: Endpoint) -> Response {
    if req.method() == Method::OPTIONS {
        return bare(StatusCode::NO_CONTENT);
    }
    if req.method() != Method::POST {
        let mut resp = bare(StatusCode::METHOD_NOT_ALLOWED);
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        return resp;
    }
    let body = match read_body(req, VERIFY_BODY_CAP).await {
        Ok((_, b)) => b,
        Err(BodyError::TooLarge) => return bare(StatusCode::PAYLOAD_TOO_LARGE),
        Err(BodyError::Read) => return bare(StatusCode::BAD_REQUEST),
    };
    slow(&st, None).await;
    let receipt = std::str::from_utf8(&body).map(|s| s.trim_matches(|c: char| c.is_ascii_whitespace()));
    let verdict = match receipt {
        Ok(r) => check_receipt(&st, r, endpoint).await,
        Err(_) => Ok(Verdict::Invalid("ERROR_DECODING")),
    };
    match verdict {
        Ok(v) => {
            if let Verdict::Invalid(reason) = &v {
                tracing::info!(reason = *reason, "market: receipt verified invalid");
            }
            let mut resp = (StatusCode::OK, v.to_json(endpoint == Endpoint::Reissue).to_json_text()).into_response();
            cors(&mut resp);
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "market: verify service failed");
            bare(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn num(claims: &Json, name: &str) -> Option<i64> {
    claims.get(name).and_then(numeric_date)
}

fn string<'a>(claims: &'a Json, path: &[&str]) -> Option<&'a str> {
    let mut v = claims;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

/// The receipt payload after the §6.3 chain check with the §6.5 relaxation, against this
/// marketplace's trusted roots (the rule itself is core's `check_issued_chain`).
pub(crate) async fn chain_check(st: &Inner, receipt: &str) -> anyhow::Result<Option<Json>> {
    let roots = signing::trusted_roots(st).await?;
    let root_doc = format!("{}{ROOT_DOCUMENT_PATH}", st.origin);
    Ok(mozmarket_core::pay::check_issued_chain(receipt, &roots, &root_doc, &NativeUrlParser))
}

/// host:port of a URL (default port filled in).
fn host_port(u: &url::Url) -> Option<(String, u16)> {
    Some((u.host_str()?.to_ascii_lowercase(), u.port_or_known_default()?))
}

/// The §6.5 checks (§6.6 for reissue).
async fn check_receipt(st: &Inner, receipt: &str, endpoint: Endpoint) -> anyhow::Result<Verdict> {
    use Verdict::Invalid;
    // 1.
    let Some(claims) = chain_check(st, receipt).await? else { return Ok(Invalid("ERROR_DECODING")) };
    // 2.
    if string(&claims, &["user", "type"]) != Some("directed-identifier") {
        return Ok(Invalid("NO_DIRECTED_IDENTIFIER"));
    }
    // 3.
    let typ = string(&claims, &["typ"]).unwrap_or_default();
    let kind = match (endpoint, typ) {
        (Endpoint::Verify(k), t) if t == k.typ() => k,
        (Endpoint::Reissue, "purchase-receipt") => ReceiptKind::Purchase,
        (Endpoint::Reissue, "test-receipt") => ReceiptKind::Test,
        _ => return Ok(Invalid("WRONG_TYPE")),
    };
    // 4, 5.
    let Ok(verify) = url::Url::parse(string(&claims, &["verify"]).unwrap_or_default()) else {
        return Ok(Invalid("WRONG_DOMAIN"));
    };
    let ours = url::Url::parse(&st.origin).ok().as_ref().and_then(host_port);
    if host_port(&verify).is_none() || host_port(&verify) != ours {
        return Ok(Invalid("WRONG_DOMAIN"));
    }
    if verify.path() != kind.verify_path() {
        return Ok(Invalid("WRONG_PATH"));
    }
    // 6.
    let user = string(&claims, &["user", "value"]).unwrap_or_default();
    if !store::directed_id_known(&st.db, user).await? {
        return Ok(Invalid("NO_USER"));
    }
    // 7.
    let storedata = string(&claims, &["product", "storedata"]).unwrap_or_default();
    let pairs = mozmarket_core::pay::form_pairs(storedata.as_bytes());
    let field = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let int = |v: Option<&str>| {
        v.filter(|s| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<i64>().ok())
    };
    let (Some(app_id), Some(contrib), Some(inapp_id)) =
        (int(field("id")), int(field("contrib")), field("inapp_id").filter(|s| !s.is_empty()))
    else {
        return Ok(Invalid("WRONG_STOREDATA"));
    };
    // 8.
    let tx = match store::tx_by_number(&st.db, contrib).await? {
        Some(t) if t.app_id == app_id => t,
        _ => return Ok(Invalid("NO_PURCHASE")),
    };
    // 9.
    if tx.request_id != inapp_id || tx.directed_id != user {
        return Ok(Invalid("WRONG_PURCHASE"));
    }
    // 10.
    if tx.state == "refunded" || tx.state == "reversed" {
        return Ok(Verdict::Refunded);
    }
    // 11.
    if store::effective_settings(&st.db, tx.app_id).await?.mode == Mode::VerifyPending {
        return Ok(Verdict::Pending);
    }
    // 12.
    let exp = num(&claims, "exp").unwrap_or(0);
    if exp < st.now_secs().saturating_add(EXPIRY_MARGIN_SECS) {
        let fresh = if endpoint == Endpoint::Reissue || st.opts.receipt.reissue_on_expired {
            let url = string(&claims, &["product", "url"]).map(str::to_owned);
            Some(sign_for_tx(st, &tx, url.as_deref(), "reissue").await?.receipt)
        } else {
            None
        };
        return Ok(Verdict::Expired { fresh });
    }
    Ok(Verdict::Ok)
}

// ---------------------------------------------------------------------------------------------
// Receipt detail page (§6.2 `detail`)

pub async fn detail(State(st): State<AppState>, Path(uuid): Path<String>) -> Response {
    let tx = match store::tx_by_uuid(&st.db, &uuid).await {
        Ok(t) => t,
        Err(e) => return internal(&e),
    };
    let dev = !st.strict();
    let Some(tx) = tx else {
        return page(StatusCode::NOT_FOUND, dev, "Receipt not found", "", "<main><h1>Receipt not found</h1></main>", false);
    };
    let state = match tx.state.as_str() {
        "completed" => "Completed",
        "refunded" => "Refunded",
        "reversed" => "Reversed",
        other => other,
    };
    let body = format!(
        "<main><h1>Purchase</h1><table>\
         <tr><th>Product</th><td>{}</td></tr>\
         <tr><th>Date</th><td>{} UTC</td></tr>\
         <tr><th>Price</th><td>{} {}</td></tr>\
         <tr><th>State</th><td>{}</td></tr>\
         <tr><th>Transaction</th><td><code>{}</code></td></tr></table></main>",
        esc(&tx.name),
        esc(&super::clock::format_utc(tx.created_ms)),
        esc(&tx.amount),
        esc(&tx.currency),
        esc(state),
        esc(&tx.transaction_id)
    );
    page(StatusCode::OK, dev, "Purchase", "", &body, false)
}
