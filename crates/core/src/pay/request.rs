//! The payment request JWT (payments §3): typed claims, building and signing for the app server,
//! and the provider's validation in the exact order of §3.4 with the error legend of §3.5.

use super::ids::normalize_price_point;
use crate::hs256::{
    self, is_expired, is_issued_in_future, is_not_yet_valid, numeric_date, Hs256Key, JwsAlg,
    JwtError, UnverifiedJwt,
};
use crate::json::Json;
use crate::url::{origin, UrlParser, UrlParts};

/// `typ` of a pay request (payments §0.1).
pub const PAY_TYP: &str = "mozilla/payments/pay/v1";
/// Maximum pay JWT length in bytes (payments §3.4 step 2).
pub const MAX_PAY_JWT_BYTES: usize = 8192;
/// The pay JWT lifetime the app server sets and the provider's maximum `exp - iat` (§3.2).
pub const PAY_JWT_LIFETIME_SECS: i64 = 3600;
/// The short field limit, in Unicode scalar values (payments §3.3, §0 "Text limits").
pub const MAX_FIELD_CHARS: usize = 255;
/// Maximum icon URL length in characters (payments §3.3).
pub const MAX_ICON_URL_CHARS: usize = 2048;
/// Maximum number of `locales` entries (payments §3.3).
pub const MAX_LOCALES: usize = 50;
/// Maximum language tag length in `locales` (payments §3.3).
pub const MAX_LOCALE_TAG_CHARS: usize = 35;

/// `simulate.result` (payments §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimResult {
    /// `"postback"`: a simulated successful payment.
    Postback,
    /// `"chargeback"`: only a chargeback notice, with `reason`.
    Chargeback,
}

impl SimResult {
    /// `"postback"` or `"chargeback"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SimResult::Postback => "postback",
            SimResult::Chargeback => "chargeback",
        }
    }
}

/// A chargeback reason (payments §3.3 `simulate.reason`, §4.1 `response.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargebackReason {
    /// `"refund"`: refunded on request of the buyer or an admin.
    Refund,
    /// `"reversal"`: the buyer's bank reversed it.
    Reversal,
}

impl ChargebackReason {
    /// `"refund"` or `"reversal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChargebackReason::Refund => "refund",
            ChargebackReason::Reversal => "reversal",
        }
    }

    /// Parses `"refund"` or `"reversal"` exactly.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "refund" => Some(ChargebackReason::Refund),
            "reversal" => Some(ChargebackReason::Reversal),
            _ => None,
        }
    }
}

/// `request.simulate` (payments §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Simulate {
    /// `result`: what the simulated payment ends with.
    pub result: SimResult,
    /// Required for [`SimResult::Chargeback`].
    pub reason: Option<ChargebackReason>,
}

impl Simulate {
    /// `{"result":"postback"}`.
    pub fn postback() -> Self {
        Simulate { result: SimResult::Postback, reason: None }
    }

    /// `{"result":"chargeback","reason":…}`.
    pub fn chargeback(reason: ChargebackReason) -> Self {
        Simulate { result: SimResult::Chargeback, reason: Some(reason) }
    }

    /// The JSON object `{"result", "reason"?}`.
    pub fn to_json(&self) -> Json {
        let mut members = vec![("result".to_owned(), Json::Str(self.result.as_str().to_owned()))];
        if let Some(reason) = self.reason {
            members.push(("reason".to_owned(), Json::Str(reason.as_str().to_owned())));
        }
        Json::Obj(members)
    }
}

/// One `locales` entry: per-language overrides (other members are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocaleEntry {
    /// The localised product name.
    pub name: Option<String>,
    /// The localised description.
    pub description: Option<String>,
}

/// The `request` object of a pay JWT (payments §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestObject {
    /// `id`: the seller's product id (the catalogue `guid`).
    pub id: String,
    /// `pricePoint`, normalised to its string form (a tier id).
    pub price_point: String,
    /// `name` in `defaultLocale`.
    pub name: String,
    /// `description` (no length limit; display is trimmed to 255).
    pub description: String,
    /// `postbackURL`.
    pub postback_url: String,
    /// `chargebackURL`.
    pub chargeback_url: String,
    /// `productData`: the reference app server writes `mm_order=<order uuid>`.
    pub product_data: Option<String>,
    /// `icons`: size → absolute URL, in document order.
    pub icons: Option<Vec<(String, String)>>,
    /// `defaultLocale`: required when `locales` is present.
    pub default_locale: Option<String>,
    /// `locales`: tag → overrides, in document order.
    pub locales: Option<Vec<(String, LocaleEntry)>>,
    /// `simulate`.
    pub simulate: Option<Simulate>,
}

impl RequestObject {
    /// The JSON object, members in the order of the §3.2 example: `id`, `pricePoint`, `name`,
    /// `description`, `icons`, `productData`, `postbackURL`, `chargebackURL`, `defaultLocale`,
    /// `locales`, `simulate`. Absent optional members are omitted.
    pub fn to_json(&self) -> Json {
        let s = |v: &str| Json::Str(v.to_owned());
        let mut m: Vec<(String, Json)> = vec![
            ("id".into(), s(&self.id)),
            ("pricePoint".into(), s(&self.price_point)),
            ("name".into(), s(&self.name)),
            ("description".into(), s(&self.description)),
        ];
        if let Some(icons) = &self.icons {
            let icons = icons.iter().map(|(k, v)| (k.clone(), s(v))).collect();
            m.push(("icons".into(), Json::Obj(icons)));
        }
        if let Some(pd) = &self.product_data {
            m.push(("productData".into(), s(pd)));
        }
        m.push(("postbackURL".into(), s(&self.postback_url)));
        m.push(("chargebackURL".into(), s(&self.chargeback_url)));
        if let Some(dl) = &self.default_locale {
            m.push(("defaultLocale".into(), s(dl)));
        }
        if let Some(locales) = &self.locales {
            let entries = locales
                .iter()
                .map(|(tag, e)| {
                    let mut fields = Vec::new();
                    if let Some(n) = &e.name {
                        fields.push(("name".to_owned(), s(n)));
                    }
                    if let Some(d) = &e.description {
                        fields.push(("description".to_owned(), s(d)));
                    }
                    (tag.clone(), Json::Obj(fields))
                })
                .collect();
            m.push(("locales".into(), Json::Obj(entries)));
        }
        if let Some(sim) = &self.simulate {
            m.push(("simulate".into(), sim.to_json()));
        }
        Json::Obj(m)
    }
}

/// The claims of a pay JWT (payments §3.2). `typ` is always [`PAY_TYP`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayRequest {
    /// `iss`: the app key.
    pub iss: String,
    /// `aud`: the provider domain (payments §1.1 rule 3), e.g. `127.0.0.1:7802`.
    pub aud: String,
    /// `iat`: issued at, seconds since the epoch.
    pub iat: i64,
    /// `exp`: expiry, seconds since the epoch (`iat + 3600` when made by [`PayRequest::new`]).
    pub exp: i64,
    /// `nbf`: not before, seconds since the epoch, when present.
    pub nbf: Option<i64>,
    /// The `request` object: the product, its price point and the notice URLs.
    pub request: RequestObject,
}

impl PayRequest {
    /// A new pay request issued at `iat` with `exp = iat + 3600` and no `nbf` (payments §3.2).
    pub fn new(app_key: &str, provider_domain: &str, iat: i64, request: RequestObject) -> Self {
        PayRequest {
            iss: app_key.to_owned(),
            aud: provider_domain.to_owned(),
            iat,
            exp: iat.saturating_add(PAY_JWT_LIFETIME_SECS),
            nbf: None,
            request,
        }
    }

    /// The claims object: `iss`, `aud`, `typ`, `iat`, `exp`, `nbf` (if set), `request`.
    pub fn to_claims_json(&self) -> Json {
        let mut m = vec![
            ("iss".to_owned(), Json::Str(self.iss.clone())),
            ("aud".to_owned(), Json::Str(self.aud.clone())),
            ("typ".to_owned(), Json::Str(PAY_TYP.to_owned())),
            ("iat".to_owned(), Json::Num(self.iat as f64)),
            ("exp".to_owned(), Json::Num(self.exp as f64)),
        ];
        if let Some(nbf) = self.nbf {
            m.push(("nbf".to_owned(), Json::Num(nbf as f64)));
        }
        m.push(("request".to_owned(), self.request.to_json()));
        Json::Obj(m)
    }

    /// The signed pay JWT (HS256 with the app secret, header `{"alg":"HS256","typ":"JWT"}`).
    pub fn sign(&self, secret: &Hs256Key) -> String {
        hs256::sign_hs256(&self.to_claims_json(), secret)
    }
}

/// Every code of the payments §3.5 legend that mozmarket emits, plus the receipt-issue codes the
/// legend lists. [`PayCode::as_str`] is the stable wire code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayCode {
    /// `PAY_DISABLED` (503): payments are temporarily disabled.
    PayDisabled,
    /// `MISSING_JWT` (400): the pay request has no JWT (`req`).
    MissingJwt,
    /// `JWT_DECODE_ERR` (400): the JWT does not decode.
    JwtDecodeErr,
    /// `INVALID_JWT_OBJ` (400): the JWT is not a JSON object.
    InvalidJwtObj,
    /// `INVALID_JWT` (400): bad signature or malformed JWT; the detail names the check.
    InvalidJwt,
    /// `BAD_JWT_ISSUER` (400): no app is registered for the JWT's `iss`.
    BadJwtIssuer,
    /// `EXPIRED_JWT` (400): the JWT has expired.
    ExpiredJwt,
    /// `FIELD_REQUIRED` (400): a required field is missing or empty (detail: the field).
    FieldRequired,
    /// `BAD_FIELD_TYPE` (400): a field has the wrong type (detail: the field).
    BadFieldType,
    /// `ID_TOO_LONG` (400): `request.id` is longer than 255 characters.
    IdTooLong,
    /// `NAME_TOO_LONG` (400): a (localised) name is longer than 255 characters.
    NameTooLong,
    /// `POSTBACKURL_TOO_LONG` (400): `request.postbackURL` is longer than 255 characters.
    PostbackUrlTooLong,
    /// `CHARGEBACKURL_TOO_LONG` (400): `request.chargebackURL` is longer than 255 characters.
    ChargebackUrlTooLong,
    /// `PRODUCTDATA_TOO_LONG` (400): `request.productData` is longer than 255 characters.
    ProductDataTooLong,
    /// `DEFAULTLOCALE_TOO_LONG` (400): `request.defaultLocale` is longer than 255 characters.
    DefaultLocaleTooLong,
    /// `SIM_DISABLED` (400): payment simulations are disabled.
    SimDisabled,
    /// `BAD_SIM_RESULT` (400): the simulation result is not supported.
    BadSimResult,
    /// `NO_SIM_REASON` (400): a chargeback simulation without `reason`.
    NoSimReason,
    /// `SIM_ONLY_KEY` (400): this app key can only simulate purchases.
    SimOnlyKey,
    /// `NO_DEFAULT_LOC` (400): `locales` without `defaultLocale`.
    NoDefaultLoc,
    /// `BAD_LOCALE` (400): a `locales` entry is not an object with a name and/or description.
    BadLocale,
    /// `MALFORMED_URL` (400): a postback, chargeback or icon URL is malformed (detail: the field).
    MalformedUrl,
    /// `URL_NOT_ALLOWED` (400): a notice URL is not on an origin registered for the app.
    UrlNotAllowed,
    /// `BAD_ICON_KEY` (400): `icons` is not an object of size → URL.
    BadIconKey,
    /// `BAD_PRICE_POINT` (400): the price point is unknown or invalid.
    BadPricePoint,
    /// `UNSUPPORTED_PAY` (400): the payment method or price point is not supported.
    UnsupportedPay,
    /// `BAD_REQUEST` (400): an invalid confirm or cancel request.
    BadRequest,
    /// `TRANS_EXPIRED` (409): the checkout has expired.
    TransExpired,
    /// `TRANS_FAILED` (402): the transaction failed; the buyer was not charged.
    TransFailed,
    /// `USER_CANCELLED` (200): the buyer cancelled.
    UserCancelled,
    /// `UNEXPECTED_ERROR` (500): an unexpected error.
    UnexpectedError,
    /// `TRANS_MISSING` (404): receipt issue for a transaction unknown to the key's app (§6.1).
    TransMissing,
    /// `TRANS_REFUNDED` (409): receipt issue for a refunded or reversed transaction (§6.1).
    TransRefunded,
    /// `TRANS_NOT_COMPLETE` (409): receipt issue for a transaction that is not completed (§6.1).
    TransNotComplete,
    /// `PRICE_LIMIT_EXCEEDED` (409): the price is above the signing certificate's `price_limit` (§6.1).
    PriceLimitExceeded,
}

impl PayCode {
    /// Every code, in legend order.
    pub const ALL: [PayCode; 35] = [
        PayCode::PayDisabled,
        PayCode::MissingJwt,
        PayCode::JwtDecodeErr,
        PayCode::InvalidJwtObj,
        PayCode::InvalidJwt,
        PayCode::BadJwtIssuer,
        PayCode::ExpiredJwt,
        PayCode::FieldRequired,
        PayCode::BadFieldType,
        PayCode::IdTooLong,
        PayCode::NameTooLong,
        PayCode::PostbackUrlTooLong,
        PayCode::ChargebackUrlTooLong,
        PayCode::ProductDataTooLong,
        PayCode::DefaultLocaleTooLong,
        PayCode::SimDisabled,
        PayCode::BadSimResult,
        PayCode::NoSimReason,
        PayCode::SimOnlyKey,
        PayCode::NoDefaultLoc,
        PayCode::BadLocale,
        PayCode::MalformedUrl,
        PayCode::UrlNotAllowed,
        PayCode::BadIconKey,
        PayCode::BadPricePoint,
        PayCode::UnsupportedPay,
        PayCode::BadRequest,
        PayCode::TransExpired,
        PayCode::TransFailed,
        PayCode::UserCancelled,
        PayCode::UnexpectedError,
        PayCode::TransMissing,
        PayCode::TransRefunded,
        PayCode::TransNotComplete,
        PayCode::PriceLimitExceeded,
    ];

    /// The wire code, e.g. `INVALID_JWT`.
    pub fn as_str(self) -> &'static str {
        match self {
            PayCode::PayDisabled => "PAY_DISABLED",
            PayCode::MissingJwt => "MISSING_JWT",
            PayCode::JwtDecodeErr => "JWT_DECODE_ERR",
            PayCode::InvalidJwtObj => "INVALID_JWT_OBJ",
            PayCode::InvalidJwt => "INVALID_JWT",
            PayCode::BadJwtIssuer => "BAD_JWT_ISSUER",
            PayCode::ExpiredJwt => "EXPIRED_JWT",
            PayCode::FieldRequired => "FIELD_REQUIRED",
            PayCode::BadFieldType => "BAD_FIELD_TYPE",
            PayCode::IdTooLong => "ID_TOO_LONG",
            PayCode::NameTooLong => "NAME_TOO_LONG",
            PayCode::PostbackUrlTooLong => "POSTBACKURL_TOO_LONG",
            PayCode::ChargebackUrlTooLong => "CHARGEBACKURL_TOO_LONG",
            PayCode::ProductDataTooLong => "PRODUCTDATA_TOO_LONG",
            PayCode::DefaultLocaleTooLong => "DEFAULTLOCALE_TOO_LONG",
            PayCode::SimDisabled => "SIM_DISABLED",
            PayCode::BadSimResult => "BAD_SIM_RESULT",
            PayCode::NoSimReason => "NO_SIM_REASON",
            PayCode::SimOnlyKey => "SIM_ONLY_KEY",
            PayCode::NoDefaultLoc => "NO_DEFAULT_LOC",
            PayCode::BadLocale => "BAD_LOCALE",
            PayCode::MalformedUrl => "MALFORMED_URL",
            PayCode::UrlNotAllowed => "URL_NOT_ALLOWED",
            PayCode::BadIconKey => "BAD_ICON_KEY",
            PayCode::BadPricePoint => "BAD_PRICE_POINT",
            PayCode::UnsupportedPay => "UNSUPPORTED_PAY",
            PayCode::BadRequest => "BAD_REQUEST",
            PayCode::TransExpired => "TRANS_EXPIRED",
            PayCode::TransFailed => "TRANS_FAILED",
            PayCode::UserCancelled => "USER_CANCELLED",
            PayCode::UnexpectedError => "UNEXPECTED_ERROR",
            PayCode::TransMissing => "TRANS_MISSING",
            PayCode::TransRefunded => "TRANS_REFUNDED",
            PayCode::TransNotComplete => "TRANS_NOT_COMPLETE",
            PayCode::PriceLimitExceeded => "PRICE_LIMIT_EXCEEDED",
        }
    }

    /// Parses a wire code.
    pub fn parse(code: &str) -> Option<Self> {
        PayCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The HTTP status of the §3.5 table (the receipt-issue codes: §6.1).
    pub fn http_status(self) -> u16 {
        match self {
            PayCode::PayDisabled => 503,
            PayCode::TransExpired
            | PayCode::TransRefunded
            | PayCode::TransNotComplete
            | PayCode::PriceLimitExceeded => 409,
            PayCode::TransFailed => 402,
            PayCode::UserCancelled => 200,
            PayCode::UnexpectedError => 500,
            PayCode::TransMissing => 404,
            _ => 400,
        }
    }

    /// The English developer message of §3.5 (binding text). `FIELD_REQUIRED` and
    /// `BAD_FIELD_TYPE` contain the placeholder `{field}`; [`PayError::message`] fills it.
    /// The four receipt-issue codes have mozmarket's own wording (the spec gives none).
    pub fn message(self) -> &'static str {
        match self {
            PayCode::PayDisabled => "Payments are temporarily disabled.",
            PayCode::MissingJwt => "The payment request has no JWT (query parameter req).",
            PayCode::JwtDecodeErr => "Error decoding JWT.",
            PayCode::InvalidJwtObj => "The JWT did not decode to a JSON object.",
            PayCode::InvalidJwt => "The JWT signature is invalid or the JWT is malformed.",
            PayCode::BadJwtIssuer => "No one has been registered for this JWT issuer.",
            PayCode::ExpiredJwt => "The JWT has expired.",
            PayCode::FieldRequired => "A required field is missing or empty: {field}.",
            PayCode::BadFieldType => "A field has the wrong type: {field}.",
            PayCode::IdTooLong => "request.id is longer than 255 characters.",
            PayCode::NameTooLong => {
                "request.name (or a localized name) is longer than 255 characters."
            }
            PayCode::PostbackUrlTooLong => "request.postbackURL is longer than 255 characters.",
            PayCode::ChargebackUrlTooLong => {
                "request.chargebackURL is longer than 255 characters."
            }
            PayCode::ProductDataTooLong => "request.productData is longer than 255 characters.",
            PayCode::DefaultLocaleTooLong => {
                "request.defaultLocale is longer than 255 characters."
            }
            PayCode::SimDisabled => "Payment simulations are disabled at this time.",
            PayCode::BadSimResult => "The requested payment simulation result is not supported.",
            PayCode::NoSimReason => {
                "The requested chargeback simulation is missing the key 'reason'."
            }
            PayCode::SimOnlyKey => "This payment key can only be used to simulate purchases.",
            PayCode::NoDefaultLoc => {
                "If locales is defined, then you must also define defaultLocale."
            }
            PayCode::BadLocale => {
                "locales must map language tags to objects with a name and/or description."
            }
            PayCode::MalformedUrl => {
                "A URL is malformed. This could be a postback URL or an icon URL."
            }
            PayCode::UrlNotAllowed => {
                "The postback or chargeback URL is not on an origin registered for this app."
            }
            PayCode::BadIconKey => {
                "An image icon key was not an object. Correct example: {\"64\": \"https://.../icon_64.png\"}"
            }
            PayCode::BadPricePoint => "The price point is unknown or invalid.",
            PayCode::UnsupportedPay => {
                "The payment method or price point is not supported for this region or operator."
            }
            PayCode::BadRequest => "The request to begin payment was invalid.",
            PayCode::TransExpired => "This checkout has expired. Start the purchase again.",
            PayCode::TransFailed => {
                "The transaction failed. You have not been charged for this purchase."
            }
            PayCode::UserCancelled => "The user cancelled the payment.",
            PayCode::UnexpectedError => "An unexpected error occurred.",
            PayCode::TransMissing => {
                "The transaction does not exist or does not belong to this app."
            }
            PayCode::TransRefunded => "The transaction has been refunded or reversed.",
            PayCode::TransNotComplete => "The transaction is not complete.",
            PayCode::PriceLimitExceeded => {
                "The price exceeds the price limit of the receipt signing certificate."
            }
        }
    }
}

impl std::fmt::Display for PayCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The legend of `GET /mozpay/dev/error_legend` (payments §3.5): every code with its developer
/// message, in legend order. The server wraps it as `{"errors": {…}}`.
pub fn error_legend() -> Json {
    Json::Obj(
        PayCode::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), Json::Str(c.message().to_owned())))
            .collect(),
    )
}

/// A pay request failure: the §3.5 code and, where the legend says so, a detail (the failed
/// check for `INVALID_JWT`, the field for `FIELD_REQUIRED`, `BAD_FIELD_TYPE`, `MALFORMED_URL` and
/// `URL_NOT_ALLOWED`, with `: https required` when the scheme was the problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayError {
    /// The legend code (and HTTP status).
    pub code: PayCode,
    /// The failed check or the field, where the legend names one.
    pub detail: Option<&'static str>,
}

impl PayError {
    /// A failure without detail.
    pub fn new(code: PayCode) -> Self {
        PayError { code, detail: None }
    }

    /// A failure with a detail.
    pub fn with_detail(code: PayCode, detail: &'static str) -> Self {
        PayError { code, detail: Some(detail) }
    }

    fn invalid(check: &'static str) -> Self {
        PayError::with_detail(PayCode::InvalidJwt, check)
    }

    /// The HTTP status of the code.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The developer message with `{field}` filled in (payments §3.5).
    pub fn message(&self) -> String {
        let field = self.detail.unwrap_or("request");
        self.code.message().replace("{field}", field)
    }

    /// The developer message followed by the detail for codes whose message does not already
    /// name it, e.g. `The JWT signature is invalid or the JWT is malformed. (signature)`.
    pub fn developer_message(&self) -> String {
        match (self.code, self.detail) {
            (PayCode::FieldRequired | PayCode::BadFieldType, _) | (_, None) => self.message(),
            (_, Some(detail)) => format!("{} ({detail})", self.message()),
        }
    }
}

impl std::fmt::Display for PayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.detail {
            Some(d) => write!(f, "{} ({d})", self.code.as_str()),
            None => f.write_str(self.code.as_str()),
        }
    }
}

impl std::error::Error for PayError {}

/// What the provider knows about the app key named by `iss` (payments §8.2, §8.5), for steps
/// 8–32 of §3.4. Settings are the effective ones (a per-app override wins over the global row).
#[derive(Debug, Clone, Copy)]
pub struct PayKey<'a> {
    /// The key's secret (step 8).
    pub secret: &'a Hs256Key,
    /// A `simulation` key: requests without `simulate` get `SIM_ONLY_KEY` (step 25).
    pub simulation_only: bool,
    /// The app's registered notice origins, `scheme://host[:port]` (step 30).
    pub notice_origins: &'a [String],
    /// The app's mode override is `disabled`: `PAY_DISABLED` right after step 8 (§8.5).
    pub pay_disabled: bool,
    /// The effective `simulations_enabled` setting (step 21).
    pub simulations_enabled: bool,
}

/// The provider-wide inputs of §3.4.
#[derive(Clone, Copy)]
pub struct PayContext<'a> {
    /// The provider domain (payments §1.1 rule 3), compared with `aud` (step 10).
    pub provider_domain: &'a str,
    /// The current time in seconds since the epoch.
    pub now_secs: i64,
    /// The global provider mode is `disabled` (step 0).
    pub pay_disabled: bool,
    /// `market.mode = strict` (§8.6): no `http` notice URLs for non-simulated requests, no
    /// `http` icons.
    pub strict: bool,
    /// The URL parser (natively [`crate::url::NativeUrlParser`]).
    pub urls: &'a dyn UrlParser,
}

/// Steps 33 and 34: what the provider's price tiers say about the request's price point in the
/// buyer's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierCheck {
    /// The price point is not a known tier id (exact string comparison): `BAD_PRICE_POINT`.
    Unknown,
    /// The tier has no price in the buyer's currency: `UNSUPPORTED_PAY`.
    NoPriceInCurrency,
    /// The tier has a price in the buyer's currency.
    Available,
}

/// The provider's lookups for [`validate_pay_jwt`].
pub trait PayLookup {
    /// Step 7: the known, non-revoked app key named `iss`, or `None` (`BAD_JWT_ISSUER`).
    fn key(&self, iss: &str) -> Option<PayKey<'_>>;
    /// Steps 33–34 for the normalised price point.
    fn tier(&self, price_point: &str) -> TierCheck;
}

/// A pay JWT that passed steps 1–6: strictly decoded, `alg` HS256, `iss` a string. Its signature
/// has not been checked.
#[derive(Debug, Clone)]
pub struct PayJwt {
    jwt: UnverifiedJwt,
    iss: String,
}

/// A pay request that passed steps 0–32 (and 33–34 when it comes from [`validate_pay_jwt`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPay {
    /// The typed claims.
    pub pay: PayRequest,
    /// The `request` object exactly as decoded (unknown members included): echoed in notices.
    pub request_json: Json,
    /// SHA-256 of the decoded payload bytes (step 35 "same request").
    pub payload_sha256: [u8; 32],
}

impl ValidPay {
    /// Whether the request carries `simulate`.
    pub fn is_simulated(&self) -> bool {
        self.pay.request.simulate.is_some()
    }

    /// Steps 33–34.
    pub fn check_tier(&self, tier: TierCheck) -> Result<(), PayError> {
        match tier {
            TierCheck::Unknown => Err(PayError::new(PayCode::BadPricePoint)),
            TierCheck::NoPriceInCurrency => Err(PayError::new(PayCode::UnsupportedPay)),
            TierCheck::Available => Ok(()),
        }
    }
}

/// Steps 1–6 of §3.4 on the `req` query parameter (`None` when absent).
pub fn decode_pay_jwt(req: Option<&str>) -> Result<PayJwt, PayError> {
    let token = match req {
        Some(t) if !t.is_empty() => t,
        _ => return Err(PayError::new(PayCode::MissingJwt)),
    };
    let jwt = hs256::decode(token, JwsAlg::Hs256, MAX_PAY_JWT_BYTES).map_err(|e| match e {
        JwtError::TooLong => PayError::invalid("too_long"),
        JwtError::NotAnObject => PayError::new(PayCode::InvalidJwtObj),
        JwtError::Alg => PayError::invalid("alg"),
        JwtError::ForbiddenHeader | JwtError::Kid => PayError::invalid("header"),
        // Structure, base64url, UTF-8, JSON, depth, duplicates (and, unreachable here, a bad
        // signature).
        _ => PayError::new(PayCode::JwtDecodeErr),
    })?;
    let iss = match jwt.unverified_claims().get("iss") {
        Some(Json::Str(iss)) => iss.clone(),
        _ => return Err(PayError::invalid("iss")),
    };
    Ok(PayJwt { jwt, iss })
}

impl PayJwt {
    /// The unverified `iss`: the app key to look up (step 7).
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// Steps 8–32 with the key named by `iss`. `PAY_DISABLED` for a per-app `disabled` mode
    /// comes right after step 8.
    pub fn verify(self, key: &PayKey<'_>, ctx: &PayContext<'_>) -> Result<ValidPay, PayError> {
        // 8.
        let verified =
            self.jwt.verify_hs256(key.secret).map_err(|_| PayError::invalid("signature"))?;
        if key.pay_disabled {
            return Err(PayError::new(PayCode::PayDisabled));
        }
        let payload_sha256 = verified.payload_sha256();
        let claims = verified.into_claims();
        // 9, 10.
        if claims.get("typ").and_then(Json::as_str) != Some(PAY_TYP) {
            return Err(PayError::invalid("typ"));
        }
        let aud = match claims.get("aud") {
            Some(Json::Str(aud)) if aud == ctx.provider_domain => aud.clone(),
            _ => return Err(PayError::invalid("aud")),
        };
        // 11, 12.
        let exp = claims.get("exp").and_then(numeric_date).ok_or(PayError::invalid("exp"))?;
        if is_expired(exp, ctx.now_secs) {
            return Err(PayError::new(PayCode::ExpiredJwt));
        }
        // 13.
        let iat = claims.get("iat").and_then(numeric_date).ok_or(PayError::invalid("iat"))?;
        if is_issued_in_future(iat, ctx.now_secs) {
            return Err(PayError::invalid("iat"));
        }
        if exp.saturating_sub(iat) > PAY_JWT_LIFETIME_SECS {
            return Err(PayError::invalid("lifetime"));
        }
        let nbf = match claims.get("nbf") {
            None => None,
            Some(v) => match numeric_date(v) {
                Some(nbf) if !is_not_yet_valid(nbf, ctx.now_secs) => Some(nbf),
                _ => return Err(PayError::invalid("nbf")),
            },
        };
        // 14, 15.
        let request_json = match claims.get("request") {
            None => return Err(PayError::with_detail(PayCode::FieldRequired, "request")),
            Some(r) if r.is_object() => r.clone(),
            Some(_) => return Err(PayError::with_detail(PayCode::BadFieldType, "request")),
        };
        let request = check_request(&request_json, key, ctx)?;
        Ok(ValidPay {
            pay: PayRequest { iss: self.iss, aud, iat, exp, nbf, request },
            request_json,
            payload_sha256,
        })
    }
}

/// §3.4 steps 0–34 in order. `req` is the `req` query parameter (`None` when absent). Step 35
/// ("already paid") needs the provider's transactions: compare [`ValidPay::payload_sha256`] and
/// the key yourself.
pub fn validate_pay_jwt(
    req: Option<&str>,
    ctx: &PayContext<'_>,
    lookup: &dyn PayLookup,
) -> Result<ValidPay, PayError> {
    // 0.
    if ctx.pay_disabled {
        return Err(PayError::new(PayCode::PayDisabled));
    }
    // 1–6.
    let jwt = decode_pay_jwt(req)?;
    // 7.
    let key = lookup.key(jwt.iss()).ok_or(PayError::new(PayCode::BadJwtIssuer))?;
    // 8–32.
    let valid = jwt.verify(&key, ctx)?;
    // 33–34.
    valid.check_tier(lookup.tier(&valid.pay.request.price_point))?;
    Ok(valid)
}

/// The required fields of step 16, in order, with their detail names.
const REQUIRED: [(&str, &str); 6] = [
    ("id", "request.id"),
    ("pricePoint", "request.pricePoint"),
    ("name", "request.name"),
    ("description", "request.description"),
    ("postbackURL", "request.postbackURL"),
    ("chargebackURL", "request.chargebackURL"),
];

/// The optional string fields of step 17.
const OPTIONAL_STRINGS: [(&str, &str); 2] =
    [("productData", "request.productData"), ("defaultLocale", "request.defaultLocale")];

/// Step 20, in order.
const LENGTHS: [(&str, PayCode); 6] = [
    ("id", PayCode::IdTooLong),
    ("name", PayCode::NameTooLong),
    ("postbackURL", PayCode::PostbackUrlTooLong),
    ("chargebackURL", PayCode::ChargebackUrlTooLong),
    ("productData", PayCode::ProductDataTooLong),
    ("defaultLocale", PayCode::DefaultLocaleTooLong),
];

fn str_member<'j>(req: &'j Json, name: &str) -> Option<&'j str> {
    req.get(name).and_then(Json::as_str)
}

fn owned(req: &Json, name: &str) -> String {
    str_member(req, name).unwrap_or_default().to_owned()
}

/// Steps 16–32 on the `request` object.
fn check_request(
    req: &Json,
    key: &PayKey<'_>,
    ctx: &PayContext<'_>,
) -> Result<RequestObject, PayError> {
    // 16.
    for (name, field) in REQUIRED {
        match req.get(name) {
            None => return Err(PayError::with_detail(PayCode::FieldRequired, field)),
            Some(Json::Str(s)) if s.is_empty() => {
                return Err(PayError::with_detail(PayCode::FieldRequired, field))
            }
            Some(_) => {}
        }
    }
    // 17.
    let mut price_point = String::new();
    for (name, field) in REQUIRED {
        let Some(value) = req.get(name) else { continue };
        let ok = if name == "pricePoint" {
            match normalize_price_point(value) {
                Some(p) => {
                    price_point = p;
                    true
                }
                None => false,
            }
        } else {
            value.as_str().is_some()
        };
        if !ok {
            return Err(PayError::with_detail(PayCode::BadFieldType, field));
        }
    }
    for (name, field) in OPTIONAL_STRINGS {
        if req.get(name).is_some_and(|v| v.as_str().is_none()) {
            return Err(PayError::with_detail(PayCode::BadFieldType, field));
        }
    }
    // 18, 19.
    let icons = req.get("icons");
    if icons.is_some_and(|i| !i.is_object()) {
        return Err(PayError::new(PayCode::BadIconKey));
    }
    let locales = req.get("locales");
    if locales.is_some_and(|l| !l.is_object()) {
        return Err(PayError::new(PayCode::BadLocale));
    }
    // 20.
    for (name, code) in LENGTHS {
        if str_member(req, name).is_some_and(|s| s.chars().count() > MAX_FIELD_CHARS) {
            return Err(PayError::new(code));
        }
    }
    // 21–24.
    let simulate = match req.get("simulate") {
        None => None,
        Some(sim) => Some(check_simulate(sim, key)?),
    };
    // 25.
    if key.simulation_only && simulate.is_none() {
        return Err(PayError::new(PayCode::SimOnlyKey));
    }
    // 26–28.
    let locales = match locales {
        None => None,
        Some(l) => {
            if req.get("defaultLocale").is_none() {
                return Err(PayError::new(PayCode::NoDefaultLoc));
            }
            Some(check_locales(l)?)
        }
    };
    // 29, 30.
    let simulated = simulate.is_some();
    let postback = check_notice_url(req, "postbackURL", "request.postbackURL", simulated, ctx)?;
    let chargeback =
        check_notice_url(req, "chargebackURL", "request.chargebackURL", simulated, ctx)?;
    for (parts, field) in
        [(&postback, "request.postbackURL"), (&chargeback, "request.chargebackURL")]
    {
        if !origin_registered(parts, key.notice_origins, ctx.urls) {
            return Err(PayError::with_detail(PayCode::UrlNotAllowed, field));
        }
    }
    // 31, 32.
    let icons = match icons.and_then(Json::as_object) {
        None => None,
        Some(members) => Some(check_icons(members, ctx)?),
    };
    Ok(RequestObject {
        id: owned(req, "id"),
        price_point,
        name: owned(req, "name"),
        description: owned(req, "description"),
        postback_url: owned(req, "postbackURL"),
        chargeback_url: owned(req, "chargebackURL"),
        product_data: str_member(req, "productData").map(str::to_owned),
        icons,
        default_locale: str_member(req, "defaultLocale").map(str::to_owned),
        locales,
        simulate,
    })
}

/// Steps 21–24 on a present `simulate` member.
fn check_simulate(sim: &Json, key: &PayKey<'_>) -> Result<Simulate, PayError> {
    // 21.
    if !key.simulations_enabled {
        return Err(PayError::new(PayCode::SimDisabled));
    }
    // 22.
    let result = match sim.get("result").and_then(Json::as_str) {
        Some("postback") if sim.is_object() => SimResult::Postback,
        Some("chargeback") if sim.is_object() => SimResult::Chargeback,
        _ => return Err(PayError::new(PayCode::BadSimResult)),
    };
    // 23.
    let reason = sim.get("reason");
    if result == SimResult::Chargeback && reason.is_none() {
        return Err(PayError::new(PayCode::NoSimReason));
    }
    // 24.
    let reason = match reason {
        None => None,
        Some(r) => Some(
            r.as_str()
                .and_then(ChargebackReason::parse)
                .ok_or(PayError::new(PayCode::BadSimResult))?,
        ),
    };
    Ok(Simulate { result, reason })
}

/// Steps 27–28 on a `locales` object.
fn check_locales(locales: &Json) -> Result<Vec<(String, LocaleEntry)>, PayError> {
    let bad = PayError::new(PayCode::BadLocale);
    let members = locales.as_object().ok_or(bad)?;
    if members.len() > MAX_LOCALES {
        return Err(bad);
    }
    let mut out = Vec::with_capacity(members.len());
    for (tag, entry) in members {
        if !language_tag_ok(tag) || !entry.is_object() {
            return Err(bad);
        }
        let text = |name: &str| match entry.get(name) {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad),
        };
        out.push((
            tag.clone(),
            LocaleEntry { name: text("name")?, description: text("description")? },
        ));
    }
    // 28.
    let too_long = out
        .iter()
        .any(|(_, e)| e.name.as_ref().is_some_and(|n| n.chars().count() > MAX_FIELD_CHARS));
    if too_long {
        return Err(PayError::new(PayCode::NameTooLong));
    }
    Ok(out)
}

/// A well-formed BCP 47 language tag of at most 35 characters, by a simplified RFC 5646
/// grammar: `-`-separated subtags of 1–8 ASCII letters or digits; the first is 2–8 letters, or
/// `x` / `i` (private use, grandfathered) followed by at least one more subtag.
pub fn language_tag_ok(tag: &str) -> bool {
    if tag.is_empty() || tag.len() > MAX_LOCALE_TAG_CHARS {
        return false;
    }
    let mut subtags = tag.split('-');
    let first = subtags.next().unwrap_or_default();
    let rest: Vec<&str> = subtags.collect();
    let first_ok = match first.len() {
        1 => matches!(first, "x" | "X" | "i" | "I") && !rest.is_empty(),
        2..=8 => first.bytes().all(|b| b.is_ascii_alphabetic()),
        _ => false,
    };
    first_ok
        && rest
            .iter()
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether a serialised host is a loopback name of payments §4.5: `localhost`, `127.0.0.0/8`
/// or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.octets()[0] == 127)
}

/// A URL string with no ASCII whitespace or control characters (a WHATWG parser would silently
/// strip or percent-encode them).
fn clean_url_text(s: &str) -> bool {
    !s.chars().any(|c| c.is_ascii_whitespace() || c.is_control())
}

/// Step 29 for one notice URL: absolute `http`/`https`, no userinfo, no fragment; `http` only
/// for simulated requests or, in dev mode, for a loopback host (payments §4.5).
fn check_notice_url(
    req: &Json,
    name: &str,
    field: &'static str,
    simulated: bool,
    ctx: &PayContext<'_>,
) -> Result<UrlParts, PayError> {
    let malformed = PayError::with_detail(PayCode::MalformedUrl, field);
    let https_required = PayError::with_detail(
        PayCode::MalformedUrl,
        match field {
            "request.postbackURL" => "request.postbackURL: https required",
            _ => "request.chargebackURL: https required",
        },
    );
    let text = str_member(req, name).unwrap_or_default();
    if !clean_url_text(text) || text.contains('#') {
        return Err(malformed);
    }
    let parts = ctx.urls.parse(text).ok_or(malformed)?;
    if parts.has_userinfo || !parts.fragment.is_empty() {
        return Err(malformed);
    }
    match parts.scheme.as_str() {
        "https" => {}
        "http" if simulated || (!ctx.strict && is_loopback_host(&parts.host)) => {}
        _ => return Err(https_required),
    }
    if parts.host.is_empty() {
        return Err(malformed);
    }
    Ok(parts)
}

/// Step 30: the URL's origin equals one of the registered notice origins exactly (each
/// registered origin is normalised the same way first, so `HTTP://LOCALHOST:7801/` matches).
fn origin_registered(parts: &UrlParts, registered: &[String], urls: &dyn UrlParser) -> bool {
    let wanted = origin(parts);
    registered.iter().any(|r| {
        let normalised = urls.parse(r).map(|p| origin(&p));
        normalised.as_deref().unwrap_or(r.as_str()) == wanted
    })
}

/// Whether an icon key matches `^[1-9][0-9]{0,3}$`.
fn icon_key_ok(key: &str) -> bool {
    let b = key.as_bytes();
    (1..=4).contains(&b.len())
        && b.first().is_some_and(|c| (b'1'..=b'9').contains(c))
        && b.iter().all(u8::is_ascii_digit)
}

/// Steps 31 (every key) and 32 (every value).
fn check_icons(
    members: &[(String, Json)],
    ctx: &PayContext<'_>,
) -> Result<Vec<(String, String)>, PayError> {
    if !members.iter().all(|(k, _)| icon_key_ok(k)) {
        return Err(PayError::new(PayCode::BadIconKey));
    }
    let malformed = PayError::with_detail(PayCode::MalformedUrl, "request.icons");
    let https_required =
        PayError::with_detail(PayCode::MalformedUrl, "request.icons: https required");
    let mut out = Vec::with_capacity(members.len());
    for (k, v) in members {
        let url = v.as_str().ok_or(malformed)?;
        if url.chars().count() > MAX_ICON_URL_CHARS || !clean_url_text(url) {
            return Err(malformed);
        }
        let parts = ctx.urls.parse(url).ok_or(malformed)?;
        match parts.scheme.as_str() {
            "https" => {}
            "http" if !ctx.strict && is_loopback_host(&parts.host) => {}
            _ => return Err(https_required),
        }
        if parts.host.is_empty() {
            return Err(malformed);
        }
        out.push((k.clone(), url.to_owned()));
    }
    Ok(out)
}
