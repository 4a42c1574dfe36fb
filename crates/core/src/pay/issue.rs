//! The receipt-issue request JWT (payments §6.1): built and signed by the app server, checked by
//! the provider. The `jti` memory ("not seen in the last 10 min") and the transaction checks are
//! the provider's; everything that needs no storage is here.

use super::ids::{is_uuid_v4, single_form_field, TransactionId};
use crate::hs256::{
    self, is_expired, is_issued_in_future, is_not_yet_valid, numeric_date, Hs256Key, JwsAlg,
    UnverifiedJwt, MAX_TOKEN_BYTES,
};
use crate::json::Json;

/// `typ` of a receipt-issue request (payments §0.1).
pub const ISSUE_TYP: &str = "mozmarket/receipts/issue/v1";
/// The maximum `exp - iat` of an issue JWT; the app server sets exactly this (payments §6.1).
pub const ISSUE_JWT_LIFETIME_SECS: i64 = 300;
/// How long the provider remembers a `jti` (payments §6.1, §10). An accepted token is usable at
/// most from `iat - 60` to `exp + 60`, a window of at most 420 s, so 600 s covers it.
pub const JTI_MEMORY_SECS: i64 = 600;
/// The issue API's body cap (payments §6.1).
pub const ISSUE_BODY_CAP: usize = 16_384;

/// The claims of a receipt-issue request (payments §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// `iss`: the app key.
    pub iss: String,
    /// `aud`: the provider domain.
    pub aud: String,
    /// `iat`: issued at, seconds since the epoch.
    pub iat: i64,
    /// `exp`: expiry, seconds since the epoch.
    pub exp: i64,
    /// `nbf`: not before, seconds since the epoch, when present.
    pub nbf: Option<i64>,
    /// `jti`: a fresh UUID v4 per request.
    pub jti: String,
    /// `transactionID` of the paid order.
    pub transaction_id: String,
}

impl IssueRequest {
    /// A request issued at `iat` with `exp = iat + 300`. `jti` is a fresh UUID v4 from the
    /// caller (see [`super::uuid_v4_from_bytes`]).
    pub fn new(
        app_key: &str,
        provider_domain: &str,
        iat: i64,
        jti: &str,
        transaction_id: &str,
    ) -> Self {
        IssueRequest {
            iss: app_key.to_owned(),
            aud: provider_domain.to_owned(),
            iat,
            exp: iat.saturating_add(ISSUE_JWT_LIFETIME_SECS),
            nbf: None,
            jti: jti.to_owned(),
            transaction_id: transaction_id.to_owned(),
        }
    }

    /// The claims object: `iss`, `aud`, `typ`, `iat`, `exp`, `nbf` (if set), `jti`,
    /// `transactionID`.
    pub fn to_claims_json(&self) -> Json {
        let mut m = vec![
            ("iss".to_owned(), Json::Str(self.iss.clone())),
            ("aud".to_owned(), Json::Str(self.aud.clone())),
            ("typ".to_owned(), Json::Str(ISSUE_TYP.to_owned())),
            ("iat".to_owned(), Json::Num(self.iat as f64)),
            ("exp".to_owned(), Json::Num(self.exp as f64)),
        ];
        if let Some(nbf) = self.nbf {
            m.push(("nbf".to_owned(), Json::Num(nbf as f64)));
        }
        m.push(("jti".to_owned(), Json::Str(self.jti.clone())));
        m.push(("transactionID".to_owned(), Json::Str(self.transaction_id.clone())));
        Json::Obj(m)
    }

    /// The signed issue JWT (HS256 with the app secret). The body to POST is
    /// `request=<this>` (base64url and `.` need no form encoding).
    pub fn sign(&self, secret: &Hs256Key) -> String {
        hs256::sign_hs256(&self.to_claims_json(), secret)
    }
}

/// The answers of the receipt-issue API (payments §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueCode {
    /// 413: body over 16 KiB.
    BodyTooLarge,
    /// 401: parsing, `alg`, signature, `typ`, `aud`, time claims, lifetime (also a missing
    /// `request` field, a malformed `jti` or `transactionID`).
    InvalidJwt,
    /// 403: `iss` unknown or revoked.
    BadJwtIssuer,
    /// 409: `jti` seen in the last 10 min.
    JtiReplayed,
    /// 404: no such transaction for the key's app.
    TransMissing,
    /// 409: refunded or reversed.
    TransRefunded,
    /// 409: not `completed`.
    TransNotComplete,
    /// 409: the tier's USD price is above the signing certificate's `price_limit`.
    PriceLimitExceeded,
}

impl IssueCode {
    /// The `error_code`, e.g. `JTI_REPLAYED`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::BodyTooLarge => "BODY_TOO_LARGE",
            IssueCode::InvalidJwt => "INVALID_JWT",
            IssueCode::BadJwtIssuer => "BAD_JWT_ISSUER",
            IssueCode::JtiReplayed => "JTI_REPLAYED",
            IssueCode::TransMissing => "TRANS_MISSING",
            IssueCode::TransRefunded => "TRANS_REFUNDED",
            IssueCode::TransNotComplete => "TRANS_NOT_COMPLETE",
            IssueCode::PriceLimitExceeded => "PRICE_LIMIT_EXCEEDED",
        }
    }

    /// The HTTP status of payments §6.1.
    pub fn http_status(self) -> u16 {
        match self {
            IssueCode::BodyTooLarge => 413,
            IssueCode::InvalidJwt => 401,
            IssueCode::BadJwtIssuer => 403,
            IssueCode::TransMissing => 404,
            IssueCode::JtiReplayed
            | IssueCode::TransRefunded
            | IssueCode::TransNotComplete
            | IssueCode::PriceLimitExceeded => 409,
        }
    }

    /// The English developer message for the `{"error_code", "error"}` body.
    pub fn message(self) -> &'static str {
        use super::request::PayCode;
        match self {
            IssueCode::BodyTooLarge => "The request body is too large.",
            IssueCode::InvalidJwt => PayCode::InvalidJwt.message(),
            IssueCode::BadJwtIssuer => PayCode::BadJwtIssuer.message(),
            IssueCode::JtiReplayed => "This receipt request (jti) was already used.",
            IssueCode::TransMissing => PayCode::TransMissing.message(),
            IssueCode::TransRefunded => PayCode::TransRefunded.message(),
            IssueCode::TransNotComplete => PayCode::TransNotComplete.message(),
            IssueCode::PriceLimitExceeded => PayCode::PriceLimitExceeded.message(),
        }
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused issue request: the code and which check failed (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueError {
    /// The error code answered to the app server.
    pub code: IssueCode,
    /// Which check failed (for the provider's log, not sent).
    pub detail: &'static str,
}

impl IssueError {
    /// A refusal with `code` and a log detail.
    pub fn new(code: IssueCode, detail: &'static str) -> Self {
        IssueError { code, detail }
    }

    fn invalid(detail: &'static str) -> Self {
        IssueError::new(IssueCode::InvalidJwt, detail)
    }

    /// The HTTP status.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl std::fmt::Display for IssueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for IssueError {}

/// An issue JWT that parsed strictly with `alg` HS256 and a string `iss`; not yet verified.
#[derive(Debug, Clone)]
pub struct IssueJwt {
    jwt: UnverifiedJwt,
    iss: String,
}

/// The `request` field of the form body (exactly one, non-empty), else `401 INVALID_JWT`.
pub fn issue_token_from_form(body: &[u8]) -> Result<String, IssueError> {
    single_form_field(body, "request").ok_or(IssueError::invalid("request"))
}

/// Strict parsing and `alg` (payments §6.1, first row), and `iss` must be a string.
pub fn decode_issue_jwt(token: &str) -> Result<IssueJwt, IssueError> {
    let jwt = hs256::decode(token, JwsAlg::Hs256, MAX_TOKEN_BYTES)
        .map_err(|e| IssueError::invalid(e.code()))?;
    let iss = match jwt.unverified_claims().get("iss") {
        Some(Json::Str(iss)) => iss.clone(),
        _ => return Err(IssueError::invalid("iss")),
    };
    Ok(IssueJwt { jwt, iss })
}

impl IssueJwt {
    /// The unverified `iss`: the app key whose secret to use (unknown or revoked: answer
    /// `403 BAD_JWT_ISSUER`).
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The signature with the key's secret, then `typ`, `aud`, the time claims (leeway 60 s),
    /// `exp - iat <= 300`, `jti` (UUID v4) and `transactionID` (payments §4.2 form).
    pub fn verify(
        self,
        secret: &Hs256Key,
        provider_domain: &str,
        now_secs: i64,
    ) -> Result<IssueRequest, IssueError> {
        let invalid = IssueError::invalid;
        let claims = self.jwt.verify_hs256(secret).map_err(|_| invalid("signature"))?.into_claims();
        if claims.get("typ").and_then(Json::as_str) != Some(ISSUE_TYP) {
            return Err(invalid("typ"));
        }
        let aud = match claims.get("aud") {
            Some(Json::Str(aud)) if aud == provider_domain => aud.clone(),
            _ => return Err(invalid("aud")),
        };
        let exp = claims.get("exp").and_then(numeric_date).ok_or(invalid("exp"))?;
        let iat = claims.get("iat").and_then(numeric_date).ok_or(invalid("iat"))?;
        let nbf = match claims.get("nbf") {
            None => None,
            Some(v) => Some(numeric_date(v).ok_or(invalid("nbf"))?),
        };
        if is_expired(exp, now_secs) {
            return Err(invalid("exp"));
        }
        if is_issued_in_future(iat, now_secs) {
            return Err(invalid("iat"));
        }
        if nbf.is_some_and(|nbf| is_not_yet_valid(nbf, now_secs)) {
            return Err(invalid("nbf"));
        }
        if exp.saturating_sub(iat) > ISSUE_JWT_LIFETIME_SECS {
            return Err(invalid("lifetime"));
        }
        let jti = match claims.get("jti") {
            Some(Json::Str(jti)) if is_uuid_v4(jti) => jti.clone(),
            _ => return Err(invalid("jti")),
        };
        let transaction_id = claims
            .get("transactionID")
            .and_then(Json::as_str)
            .and_then(TransactionId::parse)
            .ok_or(invalid("transactionID"))?;
        Ok(IssueRequest {
            iss: self.iss,
            aud,
            iat,
            exp,
            nbf,
            jti,
            transaction_id: transaction_id.as_str().to_owned(),
        })
    }
}

/// The first row and the time row of payments §6.1 in one call: strict parsing, `iss` looked up
/// with `secret_for` (`None`: `403 BAD_JWT_ISSUER`), then [`IssueJwt::verify`].
pub fn verify_issue_jwt<'k>(
    token: &str,
    secret_for: impl FnOnce(&str) -> Option<&'k Hs256Key>,
    provider_domain: &str,
    now_secs: i64,
) -> Result<IssueRequest, IssueError> {
    let jwt = decode_issue_jwt(token)?;
    let secret = secret_for(jwt.iss()).ok_or(IssueError::new(IssueCode::BadJwtIssuer, "iss"))?;
    jwt.verify(secret, provider_domain, now_secs)
}
