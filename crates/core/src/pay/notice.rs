//! Postback and chargeback notices (payments §4.1): building and signing them for the provider,
//! and the app server's checks of §2.5 (steps 3–9, plus the helpers for steps 10 and 11).

use super::ids::{
    is_form_urlencoded, normalize_price_point, single_form_field, TransactionId, TxKind,
};
use super::request::ChargebackReason;
use crate::hs256::{
    self, is_expired, is_issued_in_future, is_not_yet_valid, numeric_date, Hs256Key, JwsAlg,
};
use crate::json::Json;

/// `typ` of a postback (payments §0.1).
pub const POSTBACK_TYP: &str = "mozilla/payments/pay/postback/v1";
/// `typ` of a chargeback (payments §0.1).
pub const CHARGEBACK_TYP: &str = "mozilla/payments/pay/chargeback/v1";
/// `exp - iat` of every notice (payments §4.1).
pub const NOTICE_LIFETIME_SECS: i64 = 3600;
/// The largest accepted `now - iat` (payments §2.5 step 7f).
pub const NOTICE_MAX_AGE_SECS: i64 = 3660;
/// The receivers' body cap (payments §2.5 step 2); also the token length limit.
pub const NOTICE_BODY_CAP: usize = 16_384;

/// The two notice kinds; each receiver accepts only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// A payment completed (`/mozpay/postback`).
    Postback,
    /// A payment was refunded or reversed (`/mozpay/chargeback`).
    Chargeback,
}

impl NoticeKind {
    /// The `typ` claim of this kind.
    pub fn typ(self) -> &'static str {
        match self {
            NoticeKind::Postback => POSTBACK_TYP,
            NoticeKind::Chargeback => CHARGEBACK_TYP,
        }
    }

    /// `"postback"` or `"chargeback"` (the `notices.kind` column).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Postback => "postback",
            NoticeKind::Chargeback => "chargeback",
        }
    }
}

/// `response.price` (payments §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// A decimal string with the currency's minor-unit digits, e.g. `"1.99"`, `"0.00"`.
    pub amount: String,
    /// ISO 4217, three upper-case letters.
    pub currency: String,
}

/// The `response` object of a notice (payments §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeResponse {
    /// `transactionID` (payments §4.2).
    pub transaction_id: String,
    /// `price`: always sent; required in postbacks.
    pub price: Option<Price>,
    /// `reason`: chargebacks only.
    pub reason: Option<ChargebackReason>,
}

impl NoticeResponse {
    /// The JSON object `{"transactionID", "price"?: {"amount", "currency"}, "reason"?}`.
    pub fn to_json(&self) -> Json {
        let mut m = vec![("transactionID".to_owned(), Json::Str(self.transaction_id.clone()))];
        if let Some(p) = &self.price {
            m.push((
                "price".to_owned(),
                Json::Obj(vec![
                    ("amount".to_owned(), Json::Str(p.amount.clone())),
                    ("currency".to_owned(), Json::Str(p.currency.clone())),
                ]),
            ));
        }
        if let Some(r) = self.reason {
            m.push(("reason".to_owned(), Json::Str(r.as_str().to_owned())));
        }
        Json::Obj(m)
    }
}

/// The claims of a notice (payments §4.1). `typ` follows from `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Postback or chargeback (decides `typ`).
    pub kind: NoticeKind,
    /// `iss`: the provider domain.
    pub iss: String,
    /// `aud`: the app key (the pay request's `iss`).
    pub aud: String,
    /// The time of this delivery attempt.
    pub iat: i64,
    /// `iat + 3600`.
    pub exp: i64,
    /// Never sent by the provider; accepted when a sender adds it.
    pub nbf: Option<i64>,
    /// The pay request's `request` object, echoed as decoded (unknown members included).
    pub request: Json,
    /// The `response` object: the transaction and its price or chargeback reason.
    pub response: NoticeResponse,
}

impl Notice {
    /// A notice for one delivery attempt at `iat` (`exp = iat + 3600`, payments §4.4 step 1).
    pub fn new(
        kind: NoticeKind,
        provider_domain: &str,
        app_key: &str,
        iat: i64,
        request: Json,
        response: NoticeResponse,
    ) -> Self {
        Notice {
            kind,
            iss: provider_domain.to_owned(),
            aud: app_key.to_owned(),
            iat,
            exp: iat.saturating_add(NOTICE_LIFETIME_SECS),
            nbf: None,
            request,
            response,
        }
    }

    /// The claims object: `iss`, `aud`, `typ`, `iat`, `exp`, `nbf` (if set), `request`,
    /// `response`.
    pub fn to_claims_json(&self) -> Json {
        let mut m = vec![
            ("iss".to_owned(), Json::Str(self.iss.clone())),
            ("aud".to_owned(), Json::Str(self.aud.clone())),
            ("typ".to_owned(), Json::Str(self.kind.typ().to_owned())),
            ("iat".to_owned(), Json::Num(self.iat as f64)),
            ("exp".to_owned(), Json::Num(self.exp as f64)),
        ];
        if let Some(nbf) = self.nbf {
            m.push(("nbf".to_owned(), Json::Num(nbf as f64)));
        }
        m.push(("request".to_owned(), self.request.clone()));
        m.push(("response".to_owned(), self.response.to_json()));
        Json::Obj(m)
    }

    /// The signed notice JWT (HS256 with the secret of the key named by the pay request's
    /// `iss`).
    pub fn sign(&self, secret: &Hs256Key) -> String {
        hs256::sign_hs256(&self.to_claims_json(), secret)
    }
}

/// The rejection codes of the notice receivers (payments §2.5), answered as `text/plain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeCode {
    /// `405`: not a POST (step 1).
    MethodNotAllowed,
    /// `413`: the body is over 16 KiB (step 2).
    BodyTooLarge,
    /// `415`: not `application/x-www-form-urlencoded` (step 3).
    UnsupportedMediaType,
    /// `400`: no single non-empty `notice` field (step 4).
    MissingNotice,
    /// `400`: not a strict HS256 compact JWS (step 5).
    InvalidJwt,
    /// `400`: no configured secret verifies the signature (step 6).
    InvalidSignature,
    /// `400`: `typ` is not this endpoint's (step 7a).
    WrongTyp,
    /// `400`: `aud` is not the verifying secret's app key (step 7b).
    WrongAud,
    /// `400`: `iss` is not the provider domain (step 7c).
    WrongIss,
    /// `400`: a claim has the wrong type or value (steps 7d, 9).
    BadClaim,
    /// `400`: `exp` has passed (step 7e).
    Expired,
    /// `400`: `iat` (or `nbf`) in the future, or `iat` too old (step 7f).
    BadIat,
    /// `400`: a required `request` / `response` member is missing (step 8).
    MissingClaim,
    /// `400`: `transactionID` has the wrong form or prefix (step 9).
    BadTransactionId,
    /// `409`: `productData` names no existing order (step 10).
    UnknownOrder,
    /// `409`: the echoed request or the app key does not match the order (step 11).
    OrderMismatch,
    /// `503`: the database is busy or down; nothing was committed (step 12).
    StoreUnavailable,
    /// `500`: an unexpected internal error; nothing was committed.
    InternalError,
}

impl NoticeCode {
    /// The reply body, e.g. `INVALID_SIGNATURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            NoticeCode::BodyTooLarge => "BODY_TOO_LARGE",
            NoticeCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            NoticeCode::MissingNotice => "MISSING_NOTICE",
            NoticeCode::InvalidJwt => "INVALID_JWT",
            NoticeCode::InvalidSignature => "INVALID_SIGNATURE",
            NoticeCode::WrongTyp => "WRONG_TYP",
            NoticeCode::WrongAud => "WRONG_AUD",
            NoticeCode::WrongIss => "WRONG_ISS",
            NoticeCode::BadClaim => "BAD_CLAIM",
            NoticeCode::Expired => "EXPIRED",
            NoticeCode::BadIat => "BAD_IAT",
            NoticeCode::MissingClaim => "MISSING_CLAIM",
            NoticeCode::BadTransactionId => "BAD_TRANSACTION_ID",
            NoticeCode::UnknownOrder => "UNKNOWN_ORDER",
            NoticeCode::OrderMismatch => "ORDER_MISMATCH",
            NoticeCode::StoreUnavailable => "STORE_UNAVAILABLE",
            NoticeCode::InternalError => "INTERNAL_ERROR",
        }
    }

    /// The HTTP status of payments §2.5.
    pub fn http_status(self) -> u16 {
        match self {
            NoticeCode::MethodNotAllowed => 405,
            NoticeCode::BodyTooLarge => 413,
            NoticeCode::UnsupportedMediaType => 415,
            NoticeCode::UnknownOrder | NoticeCode::OrderMismatch => 409,
            NoticeCode::StoreUnavailable => 503,
            NoticeCode::InternalError => 500,
            _ => 400,
        }
    }
}

impl std::fmt::Display for NoticeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected notice: the §2.5 code and a short reason for the log (never claim values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeError {
    /// The code and HTTP status answered.
    pub code: NoticeCode,
    /// Which check failed, e.g. `exp`, `request.id`, `prefix`, or a [`hs256::JwtError`] code.
    pub detail: &'static str,
}

impl NoticeError {
    /// A rejection with `code` and a log detail.
    pub fn new(code: NoticeCode, detail: &'static str) -> Self {
        NoticeError { code, detail }
    }

    /// The HTTP status.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl std::fmt::Display for NoticeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for NoticeError {}

/// One configured `{key, secret}` pair of `app.keys` (payments §2.2, §2.5 "Secret rotation").
#[derive(Debug, Clone)]
pub struct AppSecret {
    /// The app key (public id, UUID v4).
    pub key: String,
    /// The app secret (at least 32 bytes).
    pub secret: Hs256Key,
}

/// The `request` members a notice echoes, typed after §2.5 steps 8–9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoedRequest {
    /// `request.id`: the product id.
    pub id: String,
    /// `pricePoint` normalised to a string.
    pub price_point: String,
    /// `request.name`.
    pub name: String,
    /// `request.description`.
    pub description: String,
    /// `request.productData`, when present (it carries `mm_order=<uuid>`).
    pub product_data: Option<String>,
    /// `request.simulate` was present.
    pub simulated: bool,
}

/// A notice that passed §2.5 steps 5–9.
#[derive(Debug, Clone)]
pub struct VerifiedNotice<'k> {
    /// *K*: the configured pair whose secret verified the signature.
    pub app: &'k AppSecret,
    /// The claims (`request` exactly as echoed).
    pub notice: Notice,
    /// The typed `request` members (steps 8–9).
    pub echo: EchoedRequest,
    /// `response.transactionID`, parsed: the idempotency key together with the kind.
    pub transaction_id: TransactionId,
}

/// Step 3: the media type must be `application/x-www-form-urlencoded` (`None`: no header).
pub fn check_notice_content_type(content_type: Option<&str>) -> Result<(), NoticeError> {
    if content_type.is_some_and(is_form_urlencoded) {
        Ok(())
    } else {
        Err(NoticeError::new(NoticeCode::UnsupportedMediaType, "content_type"))
    }
}

/// Step 4: exactly one non-empty `notice` field in the form body.
pub fn notice_from_form(body: &[u8]) -> Result<String, NoticeError> {
    single_form_field(body, "notice").ok_or(NoticeError::new(NoticeCode::MissingNotice, "notice"))
}

/// Steps 5–9 of payments §2.5 on the `notice` token received at the `kind` endpoint, with the
/// configured active pairs `apps` (all are tried), the provider domain and the current time.
pub fn verify_notice<'k>(
    token: &str,
    kind: NoticeKind,
    apps: &'k [AppSecret],
    provider_domain: &str,
    now_secs: i64,
) -> Result<VerifiedNotice<'k>, NoticeError> {
    let err = NoticeError::new;
    // 5.
    let jwt = hs256::decode(token, JwsAlg::Hs256, NOTICE_BODY_CAP)
        .map_err(|e| err(NoticeCode::InvalidJwt, e.code()))?;
    // 6.
    let (verified, app) = jwt
        .verify_hs256_any(apps, |a| &a.secret)
        .map_err(|_| err(NoticeCode::InvalidSignature, "signature"))?;
    let claims = verified.into_claims();
    // 7a–c.
    if claims.get("typ").and_then(Json::as_str) != Some(kind.typ()) {
        return Err(err(NoticeCode::WrongTyp, "typ"));
    }
    let aud = match claims.get("aud") {
        Some(Json::Str(aud)) if *aud == app.key => aud.clone(),
        _ => return Err(err(NoticeCode::WrongAud, "aud")),
    };
    let iss = match claims.get("iss") {
        Some(Json::Str(iss)) if iss == provider_domain => iss.clone(),
        _ => return Err(err(NoticeCode::WrongIss, "iss")),
    };
    // 7d.
    let exp = claims.get("exp").and_then(numeric_date).ok_or(err(NoticeCode::BadClaim, "exp"))?;
    let iat = claims.get("iat").and_then(numeric_date).ok_or(err(NoticeCode::BadClaim, "iat"))?;
    let nbf = match claims.get("nbf") {
        None => None,
        Some(v) => Some(numeric_date(v).ok_or(err(NoticeCode::BadClaim, "nbf"))?),
    };
    // 7e.
    if is_expired(exp, now_secs) {
        return Err(err(NoticeCode::Expired, "exp"));
    }
    // 7f.
    if is_issued_in_future(iat, now_secs) {
        return Err(err(NoticeCode::BadIat, "iat"));
    }
    if now_secs.saturating_sub(iat) > NOTICE_MAX_AGE_SECS {
        return Err(err(NoticeCode::BadIat, "iat_age"));
    }
    if nbf.is_some_and(|nbf| is_not_yet_valid(nbf, now_secs)) {
        return Err(err(NoticeCode::BadIat, "nbf"));
    }
    let request = claims.get("request").cloned().unwrap_or(Json::Null);
    let response = claims.get("response").cloned().unwrap_or(Json::Null);
    // 8.
    let mut required: Vec<(&Json, &[&str], &'static str)> = vec![
        (&request, &["id"], "request.id"),
        (&request, &["pricePoint"], "request.pricePoint"),
        (&request, &["name"], "request.name"),
        (&request, &["description"], "request.description"),
        (&response, &["transactionID"], "response.transactionID"),
    ];
    match kind {
        NoticeKind::Postback => {
            required.push((&response, &["price", "amount"], "response.price.amount"));
            required.push((&response, &["price", "currency"], "response.price.currency"));
        }
        NoticeKind::Chargeback => required.push((&response, &["reason"], "response.reason")),
    }
    for (root, path, name) in required {
        if path.iter().try_fold(root, |v, member| v.get(member)).is_none() {
            return Err(err(NoticeCode::MissingClaim, name));
        }
    }
    // 9.
    let (echo, transaction_id, price, reason) = check_values(&request, &response, kind)?;
    let notice = Notice {
        kind,
        iss,
        aud,
        iat,
        exp,
        nbf,
        request,
        response: NoticeResponse {
            transaction_id: transaction_id.as_str().to_owned(),
            price,
            reason,
        },
    };
    Ok(VerifiedNotice { app, notice, echo, transaction_id })
}

type Checked = (EchoedRequest, TransactionId, Option<Price>, Option<ChargebackReason>);

/// Step 9: types and values, in the order the spec lists them.
fn check_values(request: &Json, response: &Json, kind: NoticeKind) -> Result<Checked, NoticeError> {
    let bad = |detail| NoticeError::new(NoticeCode::BadClaim, detail);
    let text = |name: &str, detail: &'static str| -> Result<String, NoticeError> {
        request.get(name).and_then(Json::as_str).map(str::to_owned).ok_or(bad(detail))
    };
    let id = text("id", "request.id")?;
    let price_point = request
        .get("pricePoint")
        .and_then(normalize_price_point)
        .ok_or(bad("request.pricePoint"))?;
    let name = text("name", "request.name")?;
    let description = text("description", "request.description")?;
    let product_data = match request.get("productData") {
        None => None,
        Some(Json::Str(s)) => Some(s.clone()),
        Some(_) => return Err(bad("request.productData")),
    };
    let simulated = request.get("simulate").is_some();
    let transaction_id = response
        .get("transactionID")
        .and_then(Json::as_str)
        .and_then(TransactionId::parse)
        .ok_or(NoticeError::new(NoticeCode::BadTransactionId, "form"))?;
    if transaction_id.kind() != TxKind::for_request(simulated, &price_point) {
        return Err(NoticeError::new(NoticeCode::BadTransactionId, "prefix"));
    }
    let price = match response.get("price") {
        None => None,
        Some(p) => {
            let amount = p.get("amount").and_then(Json::as_str).filter(|a| decimal_ok(a));
            let amount = amount.ok_or(bad("response.price.amount"))?;
            let currency = p.get("currency").and_then(Json::as_str).filter(|c| currency_ok(c));
            let currency = currency.ok_or(bad("response.price.currency"))?;
            Some(Price { amount: amount.to_owned(), currency: currency.to_owned() })
        }
    };
    let reason = match (kind, response.get("reason")) {
        (NoticeKind::Chargeback, Some(r)) => {
            Some(r.as_str().and_then(ChargebackReason::parse).ok_or(bad("response.reason"))?)
        }
        // Postbacks carry no reason; an unknown member is ignored.
        _ => None,
    };
    let echo = EchoedRequest { id, price_point, name, description, product_data, simulated };
    Ok((echo, transaction_id, price, reason))
}

/// A decimal string: `digits` or `digits.digits` (at most 32 characters).
fn decimal_ok(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    s.len() <= 32
        && !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Three upper-case ASCII letters.
fn currency_ok(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Step 10: the order id named by `productData`, parsed as a form string: the value of the only
/// `mm_order` field when it is a lowercase UUID v4. `None` (answer `409 UNKNOWN_ORDER`) when
/// there is no such field, several, or a malformed value.
pub fn order_id_from_product_data(product_data: &str) -> Option<String> {
    let mut found = super::ids::form_pairs(product_data.as_bytes())
        .into_iter()
        .filter(|(name, _)| name == "mm_order");
    match (found.next(), found.next()) {
        (Some((_, id)), None) if super::ids::is_uuid_v4(&id) => Some(id),
        _ => None,
    }
}

/// Step 11 (request part): the echoed `request` matches the order's stored request in `id`,
/// `pricePoint` (normalised to a string), `productData` and `simulate` (deep equality; member
/// order does not matter). Both absent counts as equal. The server also checks that the order's
/// app key is *K* ([`VerifiedNotice::app`]).
pub fn request_matches_order(echo: &Json, stored: &Json) -> bool {
    let same = |name: &str| match (echo.get(name), stored.get(name)) {
        (None, None) => true,
        (Some(a), Some(b)) => json_deep_eq(a, b),
        _ => false,
    };
    let price = |v: &Json| v.get("pricePoint").and_then(normalize_price_point);
    let price_ok = matches!((price(echo), price(stored)), (Some(a), Some(b)) if a == b);
    same("id") && price_ok && same("productData") && same("simulate")
}

/// Deep JSON equality where object member order does not matter (duplicates cannot occur in
/// strictly parsed values).
pub fn json_deep_eq(a: &Json, b: &Json) -> bool {
    // Iterative, so hostile nesting cannot exhaust the stack.
    let mut work = vec![(a, b)];
    while let Some((a, b)) = work.pop() {
        match (a, b) {
            (Json::Arr(x), Json::Arr(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                work.extend(x.iter().zip(y.iter()));
            }
            (Json::Obj(x), Json::Obj(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x {
                    match b.get(k) {
                        Some(w) => work.push((v, w)),
                        None => return false,
                    }
                }
            }
            (Json::Arr(_) | Json::Obj(_), _) | (_, Json::Arr(_) | Json::Obj(_)) => return false,
            (x, y) => {
                if x != y {
                    return false;
                }
            }
        }
    }
    true
}

/// The provider's success rule for one delivery attempt (payments §4.4): status exactly 200 and
/// the body, with leading and trailing ASCII whitespace removed, equal to the transaction ID
/// byte for byte.
pub fn notice_delivered(status: u16, body: &[u8], transaction_id: &str) -> bool {
    status == 200 && body.trim_ascii() == transaction_id.as_bytes()
}
