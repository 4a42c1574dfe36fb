//! Required claims and their types (§2.3.6), the strict claim and policy checks S8–S13
//! (§2.3.7), and the compat checks C2–C7 (§2.4).
//!
//! HELPER-C implements.

use crate::error::Failure;
use crate::json::Json;
use crate::url::UrlParser;

/// The NumericDate range of §1.3.
pub const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// The four receipt types of §1.3.
pub const RECEIPT_TYPES: [&str; 4] =
    ["purchase-receipt", "developer-receipt", "reviewer-receipt", "test-receipt"];

/// The typed claims of a receipt payload that passed §2.3.6.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub typ: String,
    pub product_url: Option<String>,
    pub iss: String,
    pub nbf: f64,
    pub iat: f64,
    pub exp: Option<f64>,
    pub verify: String,
}

/// The policy inputs of S10–S13 and C2–C7 (already resolved by the run: effective lists).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyInput {
    pub typs_allowed: Vec<String>,
    /// Effective product URLs; empty means "no product check" (compat only).
    pub product_urls: Vec<String>,
    /// Effective issuer allowlist; `None` means no allowlist (compat, mozApps receipts only).
    pub installs_allowed_from: Option<Vec<String>>,
}

/// §2.3.6, in table order. Errors are `ReceiptFormatError` with no attributes.
pub fn check_required(payload: &Json) -> Result<Claims, Failure> {
    let _ = payload;
    todo!("HELPER-C")
}

/// S8–S13 in order. `payload` is the decoded receipt (for `parsed` attributes); `anchor_iss` and
/// `last_cert_exp` come from chain verification; `cert_count` is the number of certificates.
#[allow(clippy::too_many_arguments)]
pub fn check_strict(
    claims: &Claims,
    payload: &Json,
    policy: &PolicyInput,
    anchor_iss: Option<&str>,
    last_cert_exp: Option<f64>,
    cert_count: usize,
    now_ms: f64,
    leeway_ms: f64,
    urls: &dyn UrlParser,
) -> Result<(), Failure> {
    let _ = (claims, payload, policy, anchor_iss, last_cert_exp, cert_count, now_ms, leeway_ms, urls);
    todo!("HELPER-C")
}

/// C2–C7 in order on a leniently parsed payload. Returns the `verify` string for the store check.
pub fn check_compat(payload: &Json, policy: &PolicyInput, urls: &dyn UrlParser) -> Result<String, Failure> {
    let _ = (payload, policy, urls);
    todo!("HELPER-C")
}
