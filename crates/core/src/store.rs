//! The store answer mapping of §3.3 and the root-document fetch mapping of §2.3.3.
//!
//! HELPER-C implements.

use crate::error::Failure;
use crate::json::Json;
use crate::url::UrlParser;

/// Store response body limit in characters (§1.7).
pub const MAX_BODY_CHARS: usize = 1_048_576;

/// What the shell saw of one HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAnswer<'a> {
    /// The shell's timer fired first.
    pub timed_out: bool,
    /// HTTP status; 0 for a network failure.
    pub status: u16,
    /// The response's final URL, when the transport reports one.
    pub final_url: Option<&'a str>,
    /// The body text.
    pub body: &'a str,
}

/// The decision for one store answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOutcome {
    /// `ok` (`cache: true`) or `pending` (`cache: false`): counted as verified.
    Verified { result: Json, cache: bool },
    /// Anything else. `delete_cache` for the definitive refusals (refunded, invalid, expired);
    /// `also_verified` for compat `expired` (the original's quirk).
    Failed { failure: Failure, delete_cache: bool, also_verified: bool },
}

/// §3.3 rows 1–14 in order. `verify` is the receipt's `verify` string (the request URL), `iss`
/// its issuer (for row 5 in strict mode), `request_timeout_ms` for the row-1 detail.
pub fn map_store_answer(
    answer: &HttpAnswer<'_>,
    verify: &str,
    iss: &str,
    strict: bool,
    request_timeout_ms: f64,
    urls: &dyn UrlParser,
) -> StoreOutcome {
    let _ = (answer, verify, iss, strict, request_timeout_ms, urls);
    todo!("HELPER-C")
}

/// §2.3.3 "Fetching a root document": the failure for a root-document answer, or the body text
/// to parse when it is a 200 from the requested URL within the size limit. An unparseable body
/// is the caller's `InvalidServerResponse("Invalid root key document from ‹url›")`, built by
/// [`invalid_root_document`].
pub fn map_root_document_answer<'a>(answer: &HttpAnswer<'a>, url: &str, request_timeout_ms: f64) -> Result<&'a str, Failure> {
    let _ = (answer, url, request_timeout_ms);
    todo!("HELPER-C")
}

/// `InvalidServerResponse("Invalid root key document from ‹url›", {url})`.
pub fn invalid_root_document(url: &str) -> Failure {
    let _ = url;
    todo!("HELPER-C")
}
