//! The JSON error answers of the browser endpoints (§0 "JSON", §2.1–§2.6).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mozmarket_core::Json;

/// A browser-endpoint error: `{"error_code": CODE, "error": message}` with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiError {
    OriginNotAllowed,
    CsrfCheckFailed,
    BodyTooLarge,
    UnsupportedMediaType,
    BadRequest,
    BadIdempotencyKey,
    CatalogueUnavailable,
    ProductNotFound,
    IdempotencyKeyReused,
    TooManyPendingOrders,
    InternalError,
    OrderNotFound,
    Refunded,
    ReceiptUnavailable,
    NoPurchase,
    StoreUnavailable,
    MethodNotAllowed,
}

impl ApiError {
    pub(crate) fn code(self) -> &'static str {
        match self {
            ApiError::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
            ApiError::CsrfCheckFailed => "CSRF_CHECK_FAILED",
            ApiError::BodyTooLarge => "BODY_TOO_LARGE",
            ApiError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::BadRequest => "BAD_REQUEST",
            ApiError::BadIdempotencyKey => "BAD_IDEMPOTENCY_KEY",
            ApiError::CatalogueUnavailable => "CATALOGUE_UNAVAILABLE",
            ApiError::ProductNotFound => "PRODUCT_NOT_FOUND",
            ApiError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ApiError::TooManyPendingOrders => "TOO_MANY_PENDING_ORDERS",
            ApiError::InternalError => "INTERNAL_ERROR",
            ApiError::OrderNotFound => "ORDER_NOT_FOUND",
            ApiError::Refunded => "REFUNDED",
            ApiError::ReceiptUnavailable => "RECEIPT_UNAVAILABLE",
            ApiError::NoPurchase => "NO_PURCHASE",
            ApiError::StoreUnavailable => "STORE_UNAVAILABLE",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
        }
    }

    pub(crate) fn status(self) -> StatusCode {
        match self {
            ApiError::OriginNotAllowed | ApiError::CsrfCheckFailed => StatusCode::FORBIDDEN,
            ApiError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest | ApiError::BadIdempotencyKey => StatusCode::BAD_REQUEST,
            ApiError::CatalogueUnavailable
            | ApiError::ReceiptUnavailable
            | ApiError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ProductNotFound | ApiError::OrderNotFound | ApiError::NoPurchase => {
                StatusCode::NOT_FOUND
            }
            ApiError::IdempotencyKeyReused => StatusCode::CONFLICT,
            ApiError::TooManyPendingOrders => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Refunded => StatusCode::GONE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            ApiError::OriginNotAllowed => "The request's Origin is not allowed to use this API.",
            ApiError::CsrfCheckFailed => {
                "The X-Mozmarket-Version header is missing or invalid (1 to 32 printable ASCII characters)."
            }
            ApiError::BodyTooLarge => "The request body is larger than 4 KiB.",
            ApiError::UnsupportedMediaType => "The request body must be application/json.",
            ApiError::BadRequest => "The request body must be a JSON object.",
            ApiError::BadIdempotencyKey => {
                "The Idempotency-Key header must match [A-Za-z0-9_-]{8,64}."
            }
            ApiError::CatalogueUnavailable => {
                "The product catalogue is unavailable and no cached copy exists."
            }
            ApiError::ProductNotFound => "No active product has this id.",
            ApiError::IdempotencyKeyReused => {
                "This Idempotency-Key was already used for another product."
            }
            ApiError::TooManyPendingOrders => "Too many unfinished orders; finish or wait for them first.",
            ApiError::InternalError => "An unexpected error occurred.",
            ApiError::OrderNotFound => "No such order.",
            ApiError::Refunded => "The purchase was refunded or reversed.",
            ApiError::ReceiptUnavailable => "The payment was received, but no receipt is available yet.",
            ApiError::NoPurchase => "There is no purchase of this product.",
            ApiError::StoreUnavailable => "The database is busy or unavailable; try again.",
            ApiError::MethodNotAllowed => "This method is not allowed here.",
        }
    }
}

/// A JSON body with `Content-Type: application/json`.
pub(crate) fn json_response(status: StatusCode, body: &Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_json_text(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json::Obj(vec![
            ("error_code".to_owned(), Json::Str(self.code().to_owned())),
            ("error".to_owned(), Json::Str(self.message().to_owned())),
        ]);
        json_response(self.status(), &body)
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut res = ApiError::MethodNotAllowed.into_response();
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

/// `405` with `Allow: POST` (§2.2 check 1).
pub(crate) async fn method_not_allowed_post() -> Response {
    method_not_allowed("POST")
}

/// `405` with `Allow: GET`.
pub(crate) async fn method_not_allowed_get() -> Response {
    method_not_allowed("GET")
}
