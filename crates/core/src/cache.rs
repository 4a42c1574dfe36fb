//! The result cache rules of §5.5. The shell reads and writes the storage; this decides.

use crate::json::{parse_with, Json, Limits};
use crate::store::{STORE_LIMITS, STORE_MAX_DEPTH};

/// Key prefix of cache entries.
pub const PREFIX: &str = "receiptverifier.";

/// The storage key for a receipt.
pub fn key(receipt: &str) -> String {
    format!("{PREFIX}{receipt}")
}

/// The stored text for a store `ok` answer: `{"created":now,"result":result}`.
pub fn entry_text(now_ms: f64, result: &Json) -> String {
    format!(
        "{{\"created\":{},\"result\":{}}}",
        Json::Num(now_ms).to_json_text(),
        result.to_json_text()
    )
}

/// Entries wrap a store result, so they may be one level deeper than a store answer.
const ENTRY_LIMITS: Limits = Limits {
    max_depth: STORE_MAX_DEPTH + 1,
    ..STORE_LIMITS
};

/// A well-formed entry: a JSON object with a numeric `created` and an object `result`.
struct Entry {
    created: f64,
    result: Json,
}

/// Reads a stored entry; `None` when it is corrupt.
fn read_entry(text: &str) -> Option<Entry> {
    let value = parse_with(text.as_bytes(), ENTRY_LIMITS).ok()?;
    let created = value.get("created")?.as_f64()?;
    let result = value.get("result").filter(|r| r.is_object())?.clone();
    Some(Entry { created, result })
}

fn status_ok(result: &Json) -> bool {
    result.get("status").and_then(Json::as_str) == Some("ok")
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
pub fn fresh(
    entry: Option<&str>,
    now_ms: f64,
    cache_timeout_ms: f64,
    refund_window_ms: f64,
    iat: Option<f64>,
) -> Fresh {
    let Some(text) = entry else {
        return Fresh::Miss;
    };
    let Some(Entry { created, result }) = read_entry(text) else {
        return Fresh::Corrupt;
    };
    if !status_ok(&result) {
        return Fresh::Miss;
    }
    // Written so that a NaN comparison is never fresh.
    let young = now_ms - created <= cache_timeout_ms;
    if !young {
        return Fresh::Expired;
    }
    if let Some(iat) = iat.filter(|i| i.is_finite()) {
        let iat_ms = iat * 1000.0;
        if refund_window_ms > 0.0
            && created - iat_ms < refund_window_ms
            && now_ms - iat_ms > refund_window_ms
        {
            return Fresh::Miss;
        }
    }
    Fresh::Hit(result)
}

/// Stale lookup after a store network error: any well-formed `ok` entry, whatever its age.
pub fn stale(entry: Option<&str>) -> Option<Json> {
    let Entry { result, .. } = read_entry(entry?)?;
    status_ok(&result).then_some(result)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    const T: f64 = 1_700_000_000_000.0;
    const DAY: f64 = 86_400_000.0;
    const WINDOW: f64 = 2_400_000.0;
    /// `iat = t − 3600` (seconds) as in baseline B.
    const IAT: f64 = 1_700_000_000.0 - 3600.0;

    fn json(text: &str) -> Json {
        crate::json::parse(text.as_bytes()).unwrap()
    }

    fn entry(created: f64, result: &str) -> String {
        entry_text(created, &json(result))
    }

    #[test]
    fn key_and_entry_text() {
        assert_eq!(key("abc~def"), "receiptverifier.abc~def");
        assert_eq!(
            entry_text(T, &json("{\"status\":\"ok\"}")),
            "{\"created\":1700000000000,\"result\":{\"status\":\"ok\"}}"
        );
        assert_eq!(
            entry_text(1.5, &json("{\"status\":\"ok\",\"reason\":\"a\\\"b\"}")),
            "{\"created\":1.5,\"result\":{\"status\":\"ok\",\"reason\":\"a\\\"b\"}}"
        );
    }

    #[test]
    fn fresh_hit_and_round_trip() {
        let e = entry(T - 1000.0, "{\"status\":\"ok\",\"extra\":[1]}");
        assert_eq!(
            fresh(Some(&e), T, DAY, WINDOW, None),
            Fresh::Hit(json("{\"status\":\"ok\",\"extra\":[1]}"))
        );
        assert_eq!(fresh(None, T, DAY, WINDOW, Some(IAT)), Fresh::Miss);
        // Entries written by other code, with whitespace and member order of their own.
        let e = " { \"result\" : {\"status\":\"ok\"}, \"created\" : 1699999999000 } ";
        assert_eq!(
            fresh(Some(e), T, DAY, WINDOW, None),
            Fresh::Hit(json("{\"status\":\"ok\"}"))
        );
    }

    #[test]
    fn row_105_entry_decides_nothing_about_the_receipt() {
        // A planted entry is a fresh hit by itself: strict mode must only consult the cache after
        // local verification (verify.rs / the shell), which is what row 105 checks end to end.
        let planted = "{\"created\":1700000000000,\"result\":{\"status\":\"ok\"}}";
        assert_eq!(
            fresh(Some(planted), T, DAY, WINDOW, None),
            Fresh::Hit(json("{\"status\":\"ok\"}"))
        );
    }

    #[test]
    fn row_106_corrupt_entries() {
        for bad in [
            "not json",
            "{\"created\":\"x\",\"result\":{}}",
            "",
            "null",
            "[]",
            "42",
            "{}",
            "{\"created\":1}",
            "{\"result\":{\"status\":\"ok\"}}",
            "{\"created\":null,\"result\":{\"status\":\"ok\"}}",
            "{\"created\":1,\"result\":null}",
            "{\"created\":1,\"result\":\"ok\"}",
            "{\"created\":1,\"result\":[{\"status\":\"ok\"}]}",
            "{\"created\":1,\"result\":{\"status\":\"ok\"}",
        ] {
            assert_eq!(
                fresh(Some(bad), T, DAY, WINDOW, None),
                Fresh::Corrupt,
                "{bad}"
            );
            assert_eq!(stale(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn row_107_pending_is_a_miss() {
        for result in [
            "{\"status\":\"pending\"}",
            "{}",
            "{\"status\":\"OK\"}",
            "{\"status\":null}",
            "{\"status\":\"refunded\"}",
        ] {
            let e = entry(T - 1000.0, result);
            assert_eq!(
                fresh(Some(&e), T, DAY, WINDOW, None),
                Fresh::Miss,
                "{result}"
            );
            assert_eq!(stale(Some(&e)), None, "{result}");
        }
    }

    #[test]
    fn row_108_refund_window() {
        let iat_ms = IAT * 1000.0;
        // Cached during the window; the window has since closed: re-check.
        let e = entry(iat_ms + 60_000.0, "{\"status\":\"ok\"}");
        assert_eq!(fresh(Some(&e), T, DAY, WINDOW, Some(IAT)), Fresh::Miss);
        // The stale lookup ignores the refund window.
        assert_eq!(stale(Some(&e)), Some(json("{\"status\":\"ok\"}")));
        // Disabled window, or no usable iat: a hit.
        assert!(matches!(
            fresh(Some(&e), T, DAY, 0.0, Some(IAT)),
            Fresh::Hit(_)
        ));
        assert!(matches!(
            fresh(Some(&e), T, DAY, WINDOW, None),
            Fresh::Hit(_)
        ));
        assert!(matches!(
            fresh(Some(&e), T, DAY, WINDOW, Some(f64::NAN)),
            Fresh::Hit(_)
        ));
        assert!(matches!(
            fresh(Some(&e), T, DAY, WINDOW, Some(f64::INFINITY)),
            Fresh::Hit(_)
        ));
        // Cached after the window closed: a hit.
        let late = entry(iat_ms + WINDOW, "{\"status\":\"ok\"}");
        assert!(matches!(
            fresh(Some(&late), T, DAY, WINDOW, Some(IAT)),
            Fresh::Hit(_)
        ));
        // Cached in the window and still within it: a hit (nothing to re-check yet).
        let now = iat_ms + WINDOW;
        assert!(matches!(
            fresh(Some(&e), now, DAY, WINDOW, Some(IAT)),
            Fresh::Hit(_)
        ));
        assert_eq!(
            fresh(Some(&e), now + 1.0, DAY, WINDOW, Some(IAT)),
            Fresh::Miss
        );
        // Units: iat is seconds. Read as milliseconds (the original's bug), the rule would never fire.
        assert_ne!(
            fresh(Some(&e), T, DAY, WINDOW, Some(IAT)),
            fresh(Some(&e), T, DAY, WINDOW, Some(iat_ms))
        );
    }

    #[test]
    fn age_and_stale() {
        let e = entry(T - DAY, "{\"status\":\"ok\"}");
        assert!(
            matches!(fresh(Some(&e), T, DAY, WINDOW, None), Fresh::Hit(_)),
            "exactly cacheTimeout is fresh"
        );
        assert_eq!(fresh(Some(&e), T + 1.0, DAY, WINDOW, None), Fresh::Expired);
        assert_eq!(fresh(Some(&e), T, 0.0, WINDOW, None), Fresh::Expired);
        let now_entry = entry(T, "{\"status\":\"ok\"}");
        assert!(matches!(
            fresh(Some(&now_entry), T, 0.0, WINDOW, None),
            Fresh::Hit(_)
        ));
        // Age is checked before the refund window.
        let old = entry(IAT * 1000.0 + 60_000.0, "{\"status\":\"ok\"}");
        assert_eq!(
            fresh(Some(&old), T + 2.0 * DAY, DAY, WINDOW, Some(IAT)),
            Fresh::Expired
        );
        // Row 99: a two-day-old ok is still a stale hit.
        let two_days = entry(T - 2.0 * DAY, "{\"status\":\"ok\"}");
        assert_eq!(fresh(Some(&two_days), T, DAY, WINDOW, None), Fresh::Expired);
        assert_eq!(stale(Some(&two_days)), Some(json("{\"status\":\"ok\"}")));
        assert_eq!(stale(None), None);
        // A deeply nested store result (accepted by the store mapping) still reads back.
        let levels = crate::store::STORE_MAX_DEPTH;
        let result = format!(
            "{{\"status\":\"ok\",\"x\":{}{}}}",
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        );
        let text = format!("{{\"created\":{T},\"result\":{result}}}");
        assert!(stale(Some(&text)).is_some());
    }
}
