//! The store answer mapping of §3.3 and the root-document fetch mapping of §2.3.3.

use crate::error::{clip, Failure};
use crate::json::{parse_with, Duplicates, Json, Limits};
use crate::state::Class;
use crate::url::{verify_host_ok, verify_url_allowed, UrlParser};

/// Store response body limit in characters (§1.7).
pub const MAX_BODY_CHARS: usize = 1_048_576;

/// Nesting bound for store answers. `JSON.parse` has no fixed limit; this one is generous but
/// keeps hostile bodies bounded. A deeper body counts as "not JSON" (§3.3 row 7).
pub const STORE_MAX_DEPTH: usize = 512;

/// How store answers (and cached store results) are parsed: like `JSON.parse`, the last of
/// duplicate member names wins.
pub const STORE_LIMITS: Limits = Limits {
    max_depth: STORE_MAX_DEPTH,
    duplicates: Duplicates::LastWins,
};

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
    Failed {
        /// The receipt's error (§3.3 rows 1–8, 11–14).
        failure: Failure,
        /// Delete the receipt's cache entry.
        delete_cache: bool,
        /// Also count the receipt as verified.
        also_verified: bool,
    },
}

/// A JS string length: UTF-16 code units.
fn js_length(s: &str) -> usize {
    if s.len() <= MAX_BODY_CHARS {
        // A UTF-16 length never exceeds the UTF-8 length, so no need to count exactly.
        return s.len();
    }
    s.encode_utf16().count()
}

/// `s.substring(0, n)` in UTF-16 code units, never splitting a surrogate pair.
fn js_prefix(s: &str, n: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > n {
            return s.get(..i).unwrap_or(s);
        }
    }
    s
}

fn too_large(s: &str) -> bool {
    js_length(s) > MAX_BODY_CHARS
}

/// The JS text of a number (the request timeout, a status).
fn number_text(n: f64) -> String {
    Json::Num(n).to_json_text()
}

/// Rows 1–4 (and the same table for root documents): timeout, status 0, 404, non-200.
fn transport_failure(
    answer: &HttpAnswer<'_>,
    url: &str,
    request_timeout_ms: f64,
) -> Option<Failure> {
    if answer.timed_out {
        return Some(
            Failure::new(
                Class::RequestTimeout,
                format!(
                    "The request timed out after {} milliseconds",
                    number_text(request_timeout_ms)
                ),
            )
            .with_str("url", url),
        );
    }
    match answer.status {
        0 => Some(
            Failure::new(Class::ConnectionError, "Server could not be contacted")
                .with_str("url", url),
        ),
        200 => None,
        404 => Some(
            Failure::new(
                Class::ServerStatusError,
                format!("Server responded with 404 to {}", clip(url)),
            )
            .with_num("status", 404.0)
            .with_str("url", url),
        ),
        status => Some(
            Failure::new(
                Class::ServerStatusError,
                format!("Server responded with non-200 status: {status}"),
            )
            .with_num("status", f64::from(status))
            .with_str("url", url),
        ),
    }
}

fn failed(failure: Failure) -> StoreOutcome {
    StoreOutcome::Failed {
        failure,
        delete_cache: false,
        also_verified: false,
    }
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
    // Rows 1–4.
    if let Some(f) = transport_failure(answer, verify, request_timeout_ms) {
        return failed(f);
    }
    // Row 5: a redirect elsewhere (strict only).
    if strict {
        if let Some(final_url) = answer.final_url {
            let allowed = verify_url_allowed(iss, final_url, urls)
                && verify_host_ok(iss, final_url, false, urls);
            if !allowed {
                return failed(
                    Failure::new(
                        Class::InvalidServerResponse,
                        "Store response came from an unexpected URL",
                    )
                    .with_str("url", verify),
                );
            }
        }
    }
    // Row 6.
    if too_large(answer.body) {
        return failed(
            Failure::new(Class::InvalidServerResponse, "Server response too large")
                .with_str("url", verify),
        );
    }
    // Rows 7–8.
    let text = js_prefix(answer.body, 256);
    let value = match parse_with(answer.body.as_bytes(), STORE_LIMITS) {
        Ok(v) => v,
        Err(_) => {
            return failed(
                Failure::new(Class::InvalidServerResponse, "Invalid JSON from server")
                    .with_str("text", text),
            )
        }
    };
    if !value.is_object() {
        return failed(
            Failure::new(
                Class::InvalidServerResponse,
                format!(
                    "Server did not respond with a JSON object ({})",
                    clip(&value.to_json_text())
                ),
            )
            .with_str("text", text),
        );
    }
    // Rows 9–14.
    let refusal =
        |class: Class, detail: &str, result: Json, also_verified: bool| StoreOutcome::Failed {
            failure: Failure::new(class, detail).with_json("result", result),
            delete_cache: true,
            also_verified,
        };
    match value.get("status") {
        Some(Json::Str(st)) if st == "ok" => StoreOutcome::Verified {
            result: value,
            cache: true,
        },
        Some(Json::Str(st)) if st == "pending" => StoreOutcome::Verified {
            result: value,
            cache: false,
        },
        Some(Json::Str(st)) if st == "refunded" => refusal(
            Class::Refunded,
            "Application payment was refunded",
            value,
            false,
        ),
        Some(Json::Str(st)) if st == "expired" => {
            refusal(Class::ReceiptExpired, "Receipt expired", value, !strict)
        }
        Some(Json::Str(st)) if st == "invalid" => refusal(
            Class::InvalidFromStore,
            "The store reports the receipt is invalid",
            value,
            false,
        ),
        status => {
            let shown = match status {
                None => "undefined".to_owned(),
                Some(Json::Str(st)) => st.clone(),
                Some(other) => other.to_json_text(),
            };
            let detail = format!("Store replied with unknown status: {}", clip(&shown));
            failed(Failure::new(Class::InvalidServerResponse, detail).with_json("result", value))
        }
    }
}

/// §2.3.3 "Fetching a root document": the failure for a root-document answer, or the body text
/// to parse when it is a 200 from the requested URL within the size limit. An unparseable body
/// is the caller's `InvalidServerResponse("Invalid root key document from ‹url›")`, built by
/// [`invalid_root_document`].
pub fn map_root_document_answer<'a>(
    answer: &HttpAnswer<'a>,
    url: &str,
    request_timeout_ms: f64,
) -> Result<&'a str, Failure> {
    if let Some(f) = transport_failure(answer, url, request_timeout_ms) {
        return Err(f);
    }
    if answer.final_url.is_some_and(|f| f != url) || too_large(answer.body) {
        return Err(invalid_root_document(url));
    }
    Ok(answer.body)
}

/// `InvalidServerResponse("Invalid root key document from ‹url›", {url})`.
pub fn invalid_root_document(url: &str) -> Failure {
    Failure::new(
        Class::InvalidServerResponse,
        format!("Invalid root key document from {}", clip(url)),
    )
    .with_str("url", url)
}

#[cfg(all(test, feature = "native-url"))]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use crate::error::Attr;
    use crate::url::NativeUrlParser;

    const P: NativeUrlParser = NativeUrlParser;
    const VERIFY: &str = "https://receiptcheck.store.example/verify/1";
    const ISS: &str = "https://store.example";

    fn ok_answer(body: &str) -> HttpAnswer<'_> {
        HttpAnswer {
            timed_out: false,
            status: 200,
            final_url: Some(VERIFY),
            body,
        }
    }

    fn status_answer(status: u16, body: &str) -> HttpAnswer<'_> {
        HttpAnswer {
            timed_out: false,
            status,
            final_url: Some(VERIFY),
            body,
        }
    }

    fn json(text: &str) -> Json {
        crate::json::parse(text.as_bytes()).unwrap()
    }

    fn map(answer: &HttpAnswer<'_>, strict: bool) -> StoreOutcome {
        map_store_answer(answer, VERIFY, ISS, strict, 30_000.0, &P)
    }

    /// Asserts a failure in both modes (unless `strict_only`), with exact class, detail, attributes and flags.
    fn assert_failed(
        answer: &HttpAnswer<'_>,
        class: Class,
        detail: &str,
        attrs: &[(&str, Attr)],
        delete: bool,
    ) {
        for strict in [true, false] {
            match map(answer, strict) {
                StoreOutcome::Failed {
                    failure,
                    delete_cache,
                    also_verified,
                } => {
                    assert_eq!(
                        (failure.class, failure.detail.as_str()),
                        (class, detail),
                        "strict={strict}"
                    );
                    let got: Vec<(&str, &Attr)> =
                        failure.attrs.iter().map(|(k, v)| (*k, v)).collect();
                    let want: Vec<(&str, &Attr)> = attrs.iter().map(|(k, v)| (*k, v)).collect();
                    assert_eq!(got, want, "attributes of {detail}");
                    assert_eq!(delete_cache, delete, "delete_cache for {detail}");
                    assert!(!also_verified);
                }
                other => panic!("expected failure, got {other:?}"),
            }
        }
    }

    fn url_attr() -> (&'static str, Attr) {
        ("url", Attr::Str(VERIFY.into()))
    }

    fn text_attr(t: &str) -> (&'static str, Attr) {
        ("text", Attr::Str(t.into()))
    }

    #[test]
    fn row_88_unreachable() {
        let a = status_answer(0, "");
        assert_failed(
            &a,
            Class::ConnectionError,
            "Server could not be contacted",
            &[url_attr()],
            false,
        );
        let a = HttpAnswer {
            final_url: None,
            ..a
        };
        assert_failed(
            &a,
            Class::ConnectionError,
            "Server could not be contacted",
            &[url_attr()],
            false,
        );
    }

    #[test]
    fn row_89_not_found() {
        assert_failed(
            &status_answer(404, "{\"status\":\"ok\"}"),
            Class::ServerStatusError,
            "Server responded with 404 to https://receiptcheck.store.example/verify/1",
            &[("status", Attr::Num(404.0)), url_attr()],
            false,
        );
        // The verify string is clipped in the detail, not in the attribute.
        let long = format!("https://store.example/{}", "v".repeat(300));
        let a = status_answer(404, "");
        match map_store_answer(&a, &long, ISS, false, 1.0, &P) {
            StoreOutcome::Failed { failure, .. } => {
                assert_eq!(
                    failure.detail,
                    format!("Server responded with 404 to {}...", &long[..256])
                );
                assert_eq!(failure.attr("url"), Some(&Attr::Str(long.clone())));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn row_90_non_200() {
        for (status, body) in [
            (500, ""),
            (201, "{\"status\":\"ok\"}"),
            (204, ""),
            (302, ""),
            (503, "<html>"),
        ] {
            assert_failed(
                &status_answer(status, body),
                Class::ServerStatusError,
                &format!("Server responded with non-200 status: {status}"),
                &[("status", Attr::Num(f64::from(status))), url_attr()],
                false,
            );
        }
    }

    #[test]
    fn row_91_not_json() {
        let html = "<html><head><title>Sign in to the Wi-Fi</title></head></html>";
        for body in [
            html,
            "",
            "   ",
            "{\"status\":\"ok\"",
            "{'status':'ok'}",
            "\u{feff}{\"status\":\"ok\"}",
            "{\"status\":\"ok\"} x",
        ] {
            assert_failed(
                &ok_answer(body),
                Class::InvalidServerResponse,
                "Invalid JSON from server",
                &[text_attr(body)],
                false,
            );
        }
        // text is the first 256 characters.
        let long = format!("<html>{}", "é".repeat(400));
        let want: String = long.chars().take(256).collect();
        assert_failed(
            &ok_answer(&long),
            Class::InvalidServerResponse,
            "Invalid JSON from server",
            &[text_attr(&want)],
            false,
        );
        // 256 UTF-16 units: an astral character is two, and a pair is never split.
        let astral = format!("x{}", "😀".repeat(200));
        let want: String = astral.chars().take(128).collect();
        assert_failed(
            &ok_answer(&astral),
            Class::InvalidServerResponse,
            "Invalid JSON from server",
            &[text_attr(&want)],
            false,
        );
    }

    #[test]
    fn row_92_not_an_object() {
        for (body, shown) in [
            ("null", "null"),
            ("[]", "[]"),
            ("\"ok\"", "\"ok\""),
            ("42", "42"),
            ("true", "true"),
            (" [ {\"status\" : \"ok\"} ] ", "[{\"status\":\"ok\"}]"),
        ] {
            assert_failed(
                &ok_answer(body),
                Class::InvalidServerResponse,
                &format!("Server did not respond with a JSON object ({shown})"),
                &[text_attr(body)],
                false,
            );
        }
        // The JSON text is clipped at 256 characters.
        let body = format!("\"{}\"", "a".repeat(300));
        let detail = format!(
            "Server did not respond with a JSON object ({}...)",
            &body[..256]
        );
        assert_failed(
            &ok_answer(&body),
            Class::InvalidServerResponse,
            &detail,
            &[text_attr(&body[..256])],
            false,
        );
    }

    #[test]
    fn row_93_unknown_status() {
        for (body, shown) in [
            ("{\"status\":\"refundido\"}", "refundido"),
            ("{}", "undefined"),
            ("{\"status\":\"OK\"}", "OK"),
            ("{\"status\":null}", "null"),
            ("{\"status\":5}", "5"),
            ("{\"status\":{}}", "{}"),
            ("{\"status\":[\"ok\"]}", "[\"ok\"]"),
            ("{\"status\":\"\"}", ""),
            ("{\"status\":\" ok\"}", " ok"),
        ] {
            assert_failed(
                &ok_answer(body),
                Class::InvalidServerResponse,
                &format!("Store replied with unknown status: {shown}"),
                &[("result", Attr::Json(json(body)))],
                false,
            );
        }
        let long = "s".repeat(300);
        let body = format!("{{\"status\":\"{long}\"}}");
        assert_failed(
            &ok_answer(&body),
            Class::InvalidServerResponse,
            &format!("Store replied with unknown status: {}...", &long[..256]),
            &[("result", Attr::Json(json(&body)))],
            false,
        );
    }

    #[test]
    fn row_94_refunded() {
        let body = "{\"status\":\"refunded\"}";
        assert_failed(
            &ok_answer(body),
            Class::Refunded,
            "Application payment was refunded",
            &[("result", Attr::Json(json(body)))],
            true,
        );
    }

    #[test]
    fn row_95_invalid() {
        let body = "{\"status\":\"invalid\",\"reason\":\"NO_PURCHASE\"}";
        assert_failed(
            &ok_answer(body),
            Class::InvalidFromStore,
            "The store reports the receipt is invalid",
            &[("result", Attr::Json(json(body)))],
            true,
        );
    }

    #[test]
    fn rows_96_97_expired() {
        let body = "{\"status\":\"expired\",\"receipt\":\"abc\"}";
        let want =
            Failure::new(Class::ReceiptExpired, "Receipt expired").with_json("result", json(body));
        assert_eq!(
            map(&ok_answer(body), true),
            StoreOutcome::Failed {
                failure: want.clone(),
                delete_cache: true,
                also_verified: false
            }
        );
        assert_eq!(
            map(&ok_answer(body), false),
            StoreOutcome::Failed {
                failure: want,
                delete_cache: true,
                also_verified: true
            }
        );
    }

    #[test]
    fn row_98_timeout() {
        // The timer wins over whatever the aborted request reported.
        for status in [0, 200, 404] {
            let a = HttpAnswer {
                timed_out: true,
                status,
                final_url: None,
                body: "{\"status\":\"ok\"}",
            };
            for strict in [true, false] {
                let out = map_store_answer(&a, VERIFY, ISS, strict, 100.0, &P);
                let want = Failure::new(
                    Class::RequestTimeout,
                    "The request timed out after 100 milliseconds",
                )
                .with_str("url", VERIFY);
                assert_eq!(
                    out,
                    StoreOutcome::Failed {
                        failure: want,
                        delete_cache: false,
                        also_verified: false
                    }
                );
            }
        }
        let a = HttpAnswer {
            timed_out: true,
            status: 0,
            final_url: None,
            body: "",
        };
        match map_store_answer(&a, VERIFY, ISS, true, 1500.5, &P) {
            StoreOutcome::Failed { failure, .. } => assert_eq!(
                failure.detail,
                "The request timed out after 1500.5 milliseconds"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rows_99_100_verified() {
        for strict in [true, false] {
            assert_eq!(
                map(&ok_answer("{\"status\":\"ok\"}"), strict),
                StoreOutcome::Verified {
                    result: json("{\"status\":\"ok\"}"),
                    cache: true
                }
            );
            assert_eq!(
                map(
                    &ok_answer(" {\"status\":\"pending\",\"reason\":\"x\"}\n"),
                    strict
                ),
                StoreOutcome::Verified {
                    result: json("{\"status\":\"pending\",\"reason\":\"x\"}"),
                    cache: false
                }
            );
        }
    }

    #[test]
    fn row_101_redirect() {
        let body = "{\"status\":\"ok\"}";
        let redirected = |u: &'static str| HttpAnswer {
            timed_out: false,
            status: 200,
            final_url: Some(u),
            body,
        };
        for bad in [
            "https://evil.example/ok",
            "https://store.example.evil.com/v",
            "http://receiptcheck.store.example/verify/1",
            "https://store.example@evil.com/v",
            "not a url",
        ] {
            let want = Failure::new(
                Class::InvalidServerResponse,
                "Store response came from an unexpected URL",
            )
            .with_str("url", VERIFY);
            assert_eq!(
                map(&redirected(bad), true),
                StoreOutcome::Failed {
                    failure: want,
                    delete_cache: false,
                    also_verified: false
                },
                "{bad}"
            );
            // Compat accepts it.
            assert_eq!(
                map(&redirected(bad), false),
                StoreOutcome::Verified {
                    result: json(body),
                    cache: true
                }
            );
        }
        // Redirects that still pass S13a/S13b, or no final URL reported, are fine.
        for good in [
            "https://receiptcheck.store.example/verify/1",
            "https://store.example/other",
            "https://a.store.example:8443/v",
        ] {
            assert_eq!(
                map(&redirected(good), true),
                StoreOutcome::Verified {
                    result: json(body),
                    cache: true
                },
                "{good}"
            );
        }
        let none = HttpAnswer {
            final_url: None,
            ..ok_answer(body)
        };
        assert_eq!(
            map(&none, true),
            StoreOutcome::Verified {
                result: json(body),
                cache: true
            }
        );
        // Row 5 comes before the body rows.
        let bad_body = HttpAnswer {
            timed_out: false,
            status: 200,
            final_url: Some("https://evil.example/"),
            body: "<html>",
        };
        match map(&bad_body, true) {
            StoreOutcome::Failed { failure, .. } => {
                assert_eq!(failure.detail, "Store response came from an unexpected URL")
            }
            other => panic!("{other:?}"),
        }
        // But after the status rows.
        let moved = HttpAnswer {
            timed_out: false,
            status: 500,
            final_url: Some("https://evil.example/"),
            body: "",
        };
        match map(&moved, true) {
            StoreOutcome::Failed { failure, .. } => {
                assert_eq!(failure.class, Class::ServerStatusError)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn row_102_too_large() {
        let pad = |n: usize| format!("{{\"status\":\"ok\"}}{}", " ".repeat(n - 15));
        let big = pad(MAX_BODY_CHARS + 1);
        assert_eq!(big.len(), 1_048_577);
        assert_failed(
            &ok_answer(&big),
            Class::InvalidServerResponse,
            "Server response too large",
            &[url_attr()],
            false,
        );
        let html = "x".repeat(MAX_BODY_CHARS + 1);
        assert_failed(
            &ok_answer(&html),
            Class::InvalidServerResponse,
            "Server response too large",
            &[url_attr()],
            false,
        );
        // Exactly at the limit is fine.
        assert_eq!(
            map(&ok_answer(&pad(MAX_BODY_CHARS)), true),
            StoreOutcome::Verified {
                result: json("{\"status\":\"ok\"}"),
                cache: true
            }
        );
        // Characters are UTF-16 units, not bytes: 600,000 "é" are 1.2 MB but 600,000 characters.
        let wide = format!("{{\"status\":\"ok\",\"x\":\"{}\"}}", "é".repeat(600_000));
        assert!(matches!(
            map(&ok_answer(&wide), true),
            StoreOutcome::Verified { cache: true, .. }
        ));
        // An astral character counts twice: 300,000 of them (1.2 MB, 600,000 units) pass, 524,289 fail.
        let astral_ok = format!("{{\"status\":\"ok\",\"x\":\"{}\"}}", "😀".repeat(300_000));
        assert!(matches!(
            map(&ok_answer(&astral_ok), true),
            StoreOutcome::Verified { .. }
        ));
        let astral_big = format!("\"{}\"", "😀".repeat(524_288));
        assert_failed(
            &ok_answer(&astral_big),
            Class::InvalidServerResponse,
            "Server response too large",
            &[url_attr()],
            false,
        );
    }

    #[test]
    fn row_103_two_answers_independent() {
        assert!(
            matches!(map(&status_answer(0, ""), true), StoreOutcome::Failed { ref failure, .. } if failure.class == Class::ConnectionError)
        );
        assert!(matches!(
            map(&ok_answer("{\"status\":\"ok\"}"), true),
            StoreOutcome::Verified { cache: true, .. }
        ));
    }

    #[test]
    fn row_104_refusals_delete_cache_network_errors_do_not() {
        let deletes = |body: &str| {
            matches!(
                map(&ok_answer(body), true),
                StoreOutcome::Failed {
                    delete_cache: true,
                    ..
                }
            )
        };
        assert!(deletes("{\"status\":\"refunded\"}"));
        assert!(deletes("{\"status\":\"invalid\"}"));
        assert!(deletes("{\"status\":\"expired\"}"));
        assert!(!deletes("{\"status\":\"nope\"}"));
        assert!(!deletes("nope"));
        assert!(matches!(
            map(&status_answer(0, ""), true),
            StoreOutcome::Failed {
                delete_cache: false,
                ..
            }
        ));
        // Every row 1–8 and 14 failure is a NetworkError (stale fallback applies); 11–13 are not.
        for a in [
            status_answer(0, ""),
            status_answer(404, ""),
            status_answer(500, ""),
            ok_answer("x"),
            ok_answer("[]"),
            ok_answer("{}"),
        ] {
            match map(&a, true) {
                StoreOutcome::Failed { failure, .. } => {
                    assert!(failure.class.is_a(Class::NetworkError), "{failure:?}")
                }
                other => panic!("{other:?}"),
            }
        }
        for body in [
            "{\"status\":\"refunded\"}",
            "{\"status\":\"invalid\"}",
            "{\"status\":\"expired\"}",
        ] {
            match map(&ok_answer(body), true) {
                StoreOutcome::Failed { failure, .. } => {
                    assert!(!failure.class.is_a(Class::NetworkError))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn json_parse_semantics() {
        // Duplicate names: the last one wins, as with JSON.parse.
        let body = "{\"status\":\"ok\",\"status\":\"refunded\"}";
        match map(&ok_answer(body), true) {
            StoreOutcome::Failed { failure, .. } => {
                assert_eq!(failure.class, Class::Refunded);
                assert_eq!(
                    failure.attr("result"),
                    Some(&Attr::Json(json("{\"status\":\"refunded\"}")))
                );
            }
            other => panic!("{other:?}"),
        }
        let body = "{\"status\":\"refunded\",\"status\":\"ok\"}";
        assert!(matches!(
            map(&ok_answer(body), true),
            StoreOutcome::Verified { cache: true, .. }
        ));
        // Deep but bounded nesting is accepted (receipts are limited to 32, store answers are not).
        let deep = |levels: usize| {
            format!(
                "{{\"status\":\"ok\",\"x\":{}{}}}",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        assert!(matches!(
            map(&ok_answer(&deep(STORE_MAX_DEPTH)), true),
            StoreOutcome::Verified { .. }
        ));
        let too_deep = deep(STORE_MAX_DEPTH + 1);
        assert_failed(
            &ok_answer(&too_deep),
            Class::InvalidServerResponse,
            "Invalid JSON from server",
            &[text_attr(&too_deep[..256])],
            false,
        );
    }

    // ---- §2.3.3 root documents ----

    const DOC: &str = "https://keys.store.example/root.jwk";

    fn doc(answer: &HttpAnswer<'_>) -> Result<String, Failure> {
        map_root_document_answer(answer, DOC, 30_000.0).map(str::to_owned)
    }

    #[test]
    fn root_document_answers() {
        let body = "{\"jwk\":[]}";
        let ok = HttpAnswer {
            timed_out: false,
            status: 200,
            final_url: Some(DOC),
            body,
        };
        assert_eq!(doc(&ok).as_deref(), Ok(body));
        assert_eq!(
            doc(&HttpAnswer {
                final_url: None,
                ..ok.clone()
            })
            .as_deref(),
            Ok(body)
        );
        // Row 58.
        assert_eq!(
            doc(&HttpAnswer {
                status: 404,
                ..ok.clone()
            }),
            Err(Failure::new(
                Class::ServerStatusError,
                "Server responded with 404 to https://keys.store.example/root.jwk"
            )
            .with_num("status", 404.0)
            .with_str("url", DOC))
        );
        assert_eq!(
            doc(&HttpAnswer {
                status: 503,
                ..ok.clone()
            }),
            Err(Failure::new(
                Class::ServerStatusError,
                "Server responded with non-200 status: 503"
            )
            .with_num("status", 503.0)
            .with_str("url", DOC))
        );
        assert_eq!(
            doc(&HttpAnswer {
                status: 0,
                ..ok.clone()
            }),
            Err(
                Failure::new(Class::ConnectionError, "Server could not be contacted")
                    .with_str("url", DOC)
            )
        );
        assert_eq!(
            doc(&HttpAnswer {
                timed_out: true,
                status: 0,
                ..ok.clone()
            }),
            Err(Failure::new(
                Class::RequestTimeout,
                "The request timed out after 30000 milliseconds"
            )
            .with_str("url", DOC))
        );
        // Row 59: redirect, and an oversized body.
        let invalid = Err(Failure::new(
            Class::InvalidServerResponse,
            "Invalid root key document from https://keys.store.example/root.jwk",
        )
        .with_str("url", DOC));
        assert_eq!(
            doc(&HttpAnswer {
                final_url: Some("https://keys.store.example/other.jwk"),
                ..ok.clone()
            }),
            invalid
        );
        let big = "x".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(
            doc(&HttpAnswer {
                body: &big,
                ..ok.clone()
            }),
            invalid
        );
        assert_eq!(Err(invalid_root_document(DOC)), invalid);
        // An HTML page is handed back for the caller to reject with invalid_root_document.
        assert_eq!(
            doc(&HttpAnswer {
                body: "<html>",
                ..ok
            })
            .as_deref(),
            Ok("<html>")
        );
    }
}
