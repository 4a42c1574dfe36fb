//! The result cache rules of §5.5. The shell reads and writes the storage; this decides.
//!
//! HELPER-C implements.

use crate::json::Json;

/// Key prefix of cache entries.
pub const PREFIX: &str = "receiptverifier.";

/// The storage key for a receipt.
pub fn key(receipt: &str) -> String {
    format!("{PREFIX}{receipt}")
}

/// The stored text for a store `ok` answer: `{"created":now,"result":result}`.
pub fn entry_text(now_ms: f64, result: &Json) -> String {
    let _ = (now_ms, result);
    todo!("HELPER-C")
}

/// The result of a fresh lookup (C0, S14).
#[derive(Debug, Clone, PartialEq)]
pub enum Fresh {
    /// A fresh `ok`: use it (`OKCache`).
    Hit(Json),
    /// No entry, or not usable (pending, refund-window re-check).
    Miss,
    /// An `ok` older than `cacheTimeout`: log `Not using cache value because it is expired`.
    Expired,
    /// The entry is corrupt: delete it, then treat as a miss.
    Corrupt,
}

/// Fresh lookup: `entry` is the stored text (`None` when absent), `iat` the receipt's `iat` in
/// seconds when it is a finite number.
pub fn fresh(entry: Option<&str>, now_ms: f64, cache_timeout_ms: f64, refund_window_ms: f64, iat: Option<f64>) -> Fresh {
    let _ = (entry, now_ms, cache_timeout_ms, refund_window_ms, iat);
    todo!("HELPER-C")
}

/// Stale lookup after a store network error: any well-formed `ok` entry, whatever its age.
pub fn stale(entry: Option<&str>) -> Option<Json> {
    let _ = entry;
    todo!("HELPER-C")
}
