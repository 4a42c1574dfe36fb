//! Origins, product URLs and the verify-host rule (§0.4, §2.5).
//!
//! Parsing itself is delegated to a WHATWG URL parser behind [`UrlParser`]: natively the `url`
//! crate ([`NativeUrlParser`], feature `native-url`), in the browser the browser's own `URL`.
//! Every decision on the parsed parts is made here.

/// The parts of a parsed absolute URL, as a WHATWG parser serialises them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlParts {
    /// Lower-case scheme without the `:` (`https`, `app`, …).
    pub scheme: String,
    /// A username or password is present.
    pub has_userinfo: bool,
    /// The host as serialised (lower-cased and IDNA-mapped for special schemes; IPv6 in
    /// brackets). Empty when there is none.
    pub host: String,
    /// The port, `None` when absent or the scheme's default.
    pub port: Option<u16>,
    /// The path as serialised (`/` for an empty special-scheme path, `""` allowed otherwise).
    pub path: String,
    /// The query without `?`; empty when absent or empty.
    pub query: String,
    /// The fragment without `#`; empty when absent or empty.
    pub fragment: String,
}

/// A WHATWG URL parser. `None` when the input is not an absolute URL.
pub trait UrlParser {
    /// Parses `input` as an absolute URL, or `None`.
    fn parse(&self, input: &str) -> Option<UrlParts>;
}

/// The `url` crate as a [`UrlParser`].
#[cfg(feature = "native-url")]
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeUrlParser;

#[cfg(feature = "native-url")]
impl UrlParser for NativeUrlParser {
    fn parse(&self, input: &str) -> Option<UrlParts> {
        let url = ::url::Url::parse(input).ok()?;
        Some(UrlParts {
            scheme: url.scheme().to_ascii_lowercase(),
            has_userinfo: !url.username().is_empty()
                || url.password().is_some_and(|p| !p.is_empty()),
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port(),
            path: url.path().to_owned(),
            query: url.query().unwrap_or_default().to_owned(),
            fragment: url.fragment().unwrap_or_default().to_owned(),
        })
    }
}

/// The origin of parsed parts (§0.4): `scheme://host[:port]`; for `app:` URLs `app://` plus the
/// lower-cased host.
///
/// An `app:` host is an opaque host, which a WHATWG parser serialises in ASCII (it
/// percent-encodes every non-ASCII code point), so ASCII lower-casing is the whole of
/// lower-casing it. (Unicode `to_lowercase` would put about 23 KB of case tables and code into
/// the wasm.)
pub fn origin(u: &UrlParts) -> String {
    if u.scheme == "app" {
        return format!("app://{}", u.host.to_ascii_lowercase());
    }
    match u.port {
        Some(port) => format!("{}://{}:{port}", u.scheme, u.host),
        None => format!("{}://{}", u.scheme, u.host),
    }
}

/// True when the parts are a bare origin: no userinfo, path `""` or `/`, no query or fragment.
fn is_bare_origin(u: &UrlParts) -> bool {
    !u.has_userinfo
        && !u.host.is_empty()
        && (u.path.is_empty() || u.path == "/")
        && u.query.is_empty()
        && u.fragment.is_empty()
}

/// §2.5.1: the normalised origin when `iss` is an origin (http/https, non-empty host, no
/// userinfo, path `""` or `/`, no query or fragment).
pub fn iss_origin(iss: &str, urls: &dyn UrlParser) -> Option<String> {
    let u = urls.parse(iss)?;
    if (u.scheme == "http" || u.scheme == "https") && is_bare_origin(&u) {
        Some(origin(&u))
    } else {
        None
    }
}

/// §2.5.1: whether an allowlist entry matches `iss` (`"*"` included). `compat` adds the
/// exact-string match.
pub fn issuer_allowed(entry: &str, iss: &str, compat: bool, urls: &dyn UrlParser) -> bool {
    if entry == "*" || (compat && entry == iss) {
        return true;
    }
    let Some(iss_o) = iss_origin(iss, urls) else {
        return false;
    };
    match urls.parse(entry) {
        // Only http(s) entries can have an http(s) origin; other schemes never match.
        Some(e) if (e.scheme == "http" || e.scheme == "https") && !e.host.is_empty() => {
            origin(&e) == iss_o
        }
        _ => false,
    }
}

/// Whether `s` contains `://`. (A byte scan: `str::contains` with a string pattern brings a
/// general substring searcher, 1.6 KB of wasm, for this one three-byte needle.)
fn has_scheme_separator(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| w == b"://")
}

/// §2.5.2 `normalize(u)`; `None` when it cannot be normalised.
pub fn normalize_product_url(u: &str, urls: &dyn UrlParser) -> Option<String> {
    let text = if has_scheme_separator(u) {
        u.to_owned()
    } else {
        format!("app://{u}")
    };
    let p = urls.parse(&text)?;
    if !matches!(p.scheme.as_str(), "http" | "https" | "app")
        || p.has_userinfo
        || p.host.is_empty()
        || !p.query.is_empty()
        || !p.fragment.is_empty()
    {
        return None;
    }
    let path = if p.path == "/" { "" } else { p.path.as_str() };
    Some(format!("{}{path}", origin(&p)))
}

/// Whether a serialised host is an IP literal: a bracketed IPv6 address, or a dotted IPv4 address
/// (the WHATWG parser serialises every IPv4 form as dotted decimal). Anything made only of digits
/// and dots is treated as an IP literal, so it can only ever match exactly.
fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[')
        || (host.bytes().any(|b| b.is_ascii_digit())
            && host.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// The host rule on two serialised hosts (§2.5.3). Empty hosts never pass.
fn host_rule(hi: &str, hv: &str) -> bool {
    if hi.is_empty() || hv.is_empty() {
        return false;
    }
    let hi = hi.to_ascii_lowercase();
    let hv = hv.to_ascii_lowercase();
    if hv == hi {
        return true;
    }
    if is_ip_literal(&hi) {
        return false;
    }
    hv.strip_suffix(hi.as_str())
        .is_some_and(|rest| rest.ends_with('.'))
}

/// §2.5.3: the verify host equals the iss host or is a proper subdomain on a label boundary
/// (IP literals must be equal). In compat mode an `iss` without `://` gets `https://`.
pub fn verify_host_ok(iss: &str, verify: &str, compat: bool, urls: &dyn UrlParser) -> bool {
    let iss_parts = if compat && !has_scheme_separator(iss) {
        urls.parse(&format!("https://{iss}"))
    } else {
        urls.parse(iss)
    };
    let (Some(i), Some(v)) = (iss_parts, urls.parse(verify)) else {
        return false;
    };
    host_rule(&i.host, &v.host)
}

/// §2.3.7 S13a: `verify` is an absolute URL with no userinfo whose scheme is `https` (or `http`,
/// only when `iss` is `http`).
pub fn verify_url_allowed(iss: &str, verify: &str, urls: &dyn UrlParser) -> bool {
    let Some(v) = urls.parse(verify) else {
        return false;
    };
    if v.has_userinfo || v.host.is_empty() {
        return false;
    }
    match v.scheme.as_str() {
        "https" => true,
        "http" => urls.parse(iss).is_some_and(|i| i.scheme == "http"),
        _ => false,
    }
}

/// The normalised origin of an `https:` URL with no userinfo, path `""`/`/`, query or fragment
/// (`rootKeyOrigins` entries, §4.1).
pub fn https_origin(s: &str, urls: &dyn UrlParser) -> Option<String> {
    let u = urls.parse(s)?;
    if u.scheme == "https" && is_bare_origin(&u) {
        Some(origin(&u))
    } else {
        None
    }
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

    const P: NativeUrlParser = NativeUrlParser;

    fn parts(s: &str) -> UrlParts {
        P.parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn native_parser_fills_parts() {
        assert_eq!(
            parts("HTTPS://User:pw@Example.COM:8443/a/b?q=1#frag"),
            UrlParts {
                scheme: "https".into(),
                has_userinfo: true,
                host: "example.com".into(),
                port: Some(8443),
                path: "/a/b".into(),
                query: "q=1".into(),
                fragment: "frag".into(),
            }
        );
        // Default port omitted, empty path becomes "/", empty query/fragment are empty.
        assert_eq!(
            parts("https://example.com:443?#"),
            UrlParts {
                scheme: "https".into(),
                has_userinfo: false,
                host: "example.com".into(),
                port: None,
                path: "/".into(),
                query: String::new(),
                fragment: String::new(),
            }
        );
        assert_eq!(parts("http://example.com:80/").port, None);
        assert_eq!(parts("http://example.com:443/").port, Some(443));
        // Userinfo detection: username only, password only; an empty "@" is no userinfo.
        assert!(parts("https://u@example.com").has_userinfo);
        assert!(parts("https://:p@example.com").has_userinfo);
        assert!(!parts("https://@example.com").has_userinfo);
        // IP literals.
        assert_eq!(parts("https://[::1]:8080/").host, "[::1]");
        assert_eq!(parts("https://[0:0::1]/").host, "[::1]");
        assert_eq!(parts("https://0x0A.0.0.1/").host, "10.0.0.1");
        assert_eq!(parts("https://10.0.0.1./").host, "10.0.0.1");
        // IDNA mapping.
        assert_eq!(
            parts("https://BÜCHER.example/").host,
            "xn--bcher-kva.example"
        );
        // Trailing dot kept.
        assert_eq!(parts("https://firefox.com./v").host, "firefox.com.");
        // Non-special schemes.
        let app = parts("app://Some-App.Example/inapp");
        assert_eq!(
            (app.scheme.as_str(), app.host.as_str(), app.path.as_str()),
            ("app", "Some-App.Example", "/inapp")
        );
        assert_eq!(parts("app://x").path, "");
        let js = parts("javascript:alert(1)");
        assert_eq!(
            (js.scheme.as_str(), js.host.as_str(), js.path.as_str()),
            ("javascript", "", "alert(1)")
        );
        assert_eq!(parts("data:,ok").host, "");
        // Not absolute.
        assert_eq!(P.parse("store.example"), None);
        assert_eq!(P.parse("/relative"), None);
        assert_eq!(P.parse(""), None);
        assert_eq!(P.parse("https://"), None);
        assert_eq!(P.parse("https://exa mple.com"), None);
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin(&parts("https://Store.Example:443/x?y#z")),
            "https://store.example"
        );
        assert_eq!(
            origin(&parts("http://store.example:8080/")),
            "http://store.example:8080"
        );
        assert_eq!(origin(&parts("https://[::1]:8443/")), "https://[::1]:8443");
        assert_eq!(
            origin(&parts("app://Some-App.Example/inapp")),
            "app://some-app.example"
        );
        // Decisions only use the parts: an app host from another parser is lower-cased too.
        let browser = UrlParts {
            scheme: "app".into(),
            host: "ABC".into(),
            ..UrlParts::default()
        };
        assert_eq!(origin(&browser), "app://abc");
        // A non-ASCII app host comes out percent-encoded, so ASCII lower-casing suffices.
        let unicode = parts("app://ÉXAMPLE.İstanbul.ΣΑΣ/x");
        assert!(unicode.host.is_ascii(), "{}", unicode.host);
        assert_eq!(
            origin(&unicode),
            format!("app://{}", unicode.host.to_lowercase())
        );
        assert_eq!(
            origin(&unicode),
            "app://%c3%89xample.%c4%b0stanbul.%ce%a3%ce%91%ce%a3"
        );
    }

    #[test]
    fn iss_origins() {
        for (iss, want) in [
            ("https://store.example", "https://store.example"),
            ("https://store.example/", "https://store.example"),
            ("https://STORE.example", "https://store.example"),
            ("https://store.example:443", "https://store.example"),
            ("http://store.example:80/", "http://store.example"),
            ("https://store.example:8443", "https://store.example:8443"),
            ("https://store.example?", "https://store.example"),
            ("https://10.0.0.1", "https://10.0.0.1"),
        ] {
            assert_eq!(iss_origin(iss, &P).as_deref(), Some(want), "{iss}");
        }
        for iss in [
            "https://store.example/path",
            "https://store.example//",
            "https://u@store.example",
            "https://u:p@store.example",
            "https://store.example?x=1",
            "https://store.example#f",
            "ftp://store.example",
            "app://store.example",
            "store.example",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(iss_origin(iss, &P), None, "{iss}");
        }
    }

    #[test]
    fn issuer_allowlist_matching() {
        let iss = "https://store.example";
        assert!(issuer_allowed("*", iss, false, &P));
        assert!(issuer_allowed("*", "not an origin", false, &P));
        assert!(issuer_allowed("https://store.example", iss, false, &P));
        assert!(
            issuer_allowed("https://STORE.example/", iss, false, &P),
            "case and trailing slash"
        );
        assert!(
            issuer_allowed("https://store.example:443", iss, false, &P),
            "default port"
        );
        assert!(
            issuer_allowed("https://store.example/some/path", iss, false, &P),
            "entry origin"
        );
        assert!(issuer_allowed(
            "https://store.example",
            "https://Store.Example/",
            false,
            &P
        ));
        assert!(
            !issuer_allowed("http://store.example", iss, false, &P),
            "scheme counts"
        );
        assert!(
            !issuer_allowed("https://store.example:8443", iss, false, &P),
            "port counts"
        );
        assert!(!issuer_allowed(
            "https://store.example.evil.com",
            iss,
            false,
            &P
        ));
        assert!(!issuer_allowed("https://evil.example", iss, false, &P));
        assert!(!issuer_allowed("store.example", iss, false, &P));
        assert!(!issuer_allowed("", iss, false, &P));
        assert!(!issuer_allowed("**", iss, false, &P));
        // iss that is not an origin never matches by origin.
        assert!(!issuer_allowed(
            "https://store.example",
            "https://store.example/path",
            false,
            &P
        ));
        // Compat adds the exact string match, and only that.
        assert!(issuer_allowed("store.example", "store.example", true, &P));
        assert!(!issuer_allowed("store.example", "store.example", false, &P));
        assert!(issuer_allowed(
            "https://store.example/path",
            "https://store.example/path",
            true,
            &P
        ));
        assert!(!issuer_allowed("Store.Example", "store.example", true, &P));
        assert!(issuer_allowed("https://STORE.example", iss, true, &P));
    }

    #[test]
    fn product_url_normalisation() {
        let n = |s: &str| normalize_product_url(s, &P);
        assert_eq!(
            n("https://app.example").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            n("https://app.example/").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            n("https://APP.example:443/").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            n("https://app.example/inapp/1").as_deref(),
            Some("https://app.example/inapp/1")
        );
        assert_eq!(
            n("https://app.example/inapp/1/").as_deref(),
            Some("https://app.example/inapp/1/")
        );
        assert_eq!(
            n("http://app.example:8080").as_deref(),
            Some("http://app.example:8080")
        );
        assert_eq!(
            n("app://Packaged.Example").as_deref(),
            Some("app://packaged.example")
        );
        assert_eq!(
            n("packaged.example").as_deref(),
            Some("app://packaged.example"),
            "no :// means app://"
        );
        assert_eq!(
            n("Packaged.Example/").as_deref(),
            Some("app://packaged.example")
        );
        assert_eq!(n("{1234-abcd}").as_deref(), Some("app://{1234-abcd}"));
        for bad in [
            "https://u@app.example",
            "https://app.example?x",
            "https://app.example#f",
            "ftp://app.example",
            "javascript://app.example",
            "data:,x",
            "",
            "https://",
            "app:///path",
            "app.example?x",
        ] {
            assert_eq!(n(bad), None, "{bad:?}");
        }
        // §2.5.2 examples.
        let matches = |a: &str, b: &str| matches!((n(a), n(b)), (Some(x), Some(y)) if x == y);
        assert!(matches("https://app.example", "https://app.example"));
        assert!(matches("https://app.example", "https://app.example/"));
        assert!(!matches("https://app.exampl", "https://app.example"));
        assert!(!matches(
            "https://app.example.evil.com",
            "https://app.example"
        ));
        assert!(!matches("http://app.example", "https://app.example"));
        assert!(!matches(
            "https://app.example/inapp/1",
            "https://app.example"
        ));
        assert!(matches(
            "https://app.example/inapp/1",
            "https://app.example/inapp/1"
        ));
        assert!(!matches("app://app.example", "https://app.example"));
    }

    #[test]
    fn verify_host_table() {
        // §2.5.3 table; the rule is the same in both modes.
        let table = [
            ("https://firefox.com", "https://firefox.com/verify/1", true),
            (
                "https://firefox.com",
                "https://receiptcheck.firefox.com/verify/1",
                true,
            ),
            (
                "https://firefox.com",
                "https://a.b.firefox.com:8443/v",
                true,
            ),
            (
                "https://FireFox.com",
                "https://RECEIPTCHECK.firefox.com/v",
                true,
            ),
            ("https://firefox.com", "https://evilfirefox.com/v", false),
            (
                "https://firefox.com",
                "https://firefox.com.evil.com/v",
                false,
            ),
            (
                "https://firefox.com",
                "https://firefox.com@evil.com/v",
                false,
            ),
            ("https://firefox.com", "https://firefox.com./v", false),
            ("https://10.0.0.1", "https://10.0.0.1/v", true),
        ];
        for (iss, verify, want) in table {
            assert_eq!(
                verify_host_ok(iss, verify, false, &P),
                want,
                "strict {iss} {verify}"
            );
            assert_eq!(
                verify_host_ok(iss, verify, true, &P),
                want,
                "compat {iss} {verify}"
            );
        }
    }

    #[test]
    fn verify_host_more_cases() {
        let ok = |i: &str, v: &str| verify_host_ok(i, v, false, &P);
        // Ports, paths and schemes play no part.
        assert!(ok("https://store.example:8443/x", "http://store.example/v"));
        // IP literals must be equal; no subdomain of an IP.
        assert!(!ok("https://0.0.1", "https://10.0.0.1/v"));
        assert!(!ok("https://0.0.0.1", "https://10.0.0.0.1/v"));
        assert!(!ok("https://10.0.0.1", "https://10.0.0.2/v"));
        assert!(
            ok("https://0x0a.0.0.1", "https://10.0.0.1/v"),
            "IPv4 forms are serialised"
        );
        assert!(ok("https://[::1]", "https://[0::1]/v"));
        assert!(!ok("https://[::1]", "https://a.[::1]/v"));
        // Trailing dots are not stripped, in either direction.
        assert!(!ok("https://firefox.com.", "https://firefox.com/v"));
        assert!(ok("https://firefox.com.", "https://a.firefox.com./v"));
        // IDNA mapping by the parser.
        assert!(ok(
            "https://bücher.example",
            "https://api.xn--bcher-kva.example/v"
        ));
        // Unparseable or host-less.
        assert!(!ok("https://firefox.com", "not a url"));
        assert!(!ok("not a url", "https://firefox.com/v"));
        assert!(!ok("https://firefox.com", "data:,ok"));
        assert!(!ok("data:,ok", "data:,ok"));
        assert!(!ok("https://firefox.com", "javascript:alert(1)"));
        // Compat: an iss without "://" is read with https:// in front; strict never does that.
        assert!(verify_host_ok(
            "firefox.com",
            "https://receiptcheck.firefox.com/v",
            true,
            &P
        ));
        assert!(!verify_host_ok(
            "firefox.com",
            "https://evilfirefox.com/v",
            true,
            &P
        ));
        assert!(!verify_host_ok(
            "firefox.com",
            "https://receiptcheck.firefox.com/v",
            false,
            &P
        ));
        // Compat userinfo trick: the host is evil.com.
        assert!(verify_host_ok(
            "https://evil.com",
            "https://firefox.com@evil.com/v",
            true,
            &P
        ));
        assert!(!verify_host_ok(
            "https://firefox.com",
            "https://firefox.com@evil.com/v",
            true,
            &P
        ));
    }

    #[test]
    fn verify_url_rules() {
        let iss = "https://store.example";
        assert!(verify_url_allowed(
            iss,
            "https://receiptcheck.store.example/verify/1",
            &P
        ));
        assert!(
            verify_url_allowed(iss, "https://anything.example/", &P),
            "host rule is separate"
        );
        // Row 83: userinfo.
        assert!(!verify_url_allowed(
            iss,
            "https://store.example@evil.com/v",
            &P
        ));
        assert!(!verify_url_allowed(iss, "https://u:p@store.example/v", &P));
        // Row 84: downgrade and other schemes.
        assert!(!verify_url_allowed(
            iss,
            "http://receiptcheck.store.example/v",
            &P
        ));
        assert!(!verify_url_allowed(iss, "javascript:alert(1)", &P));
        assert!(!verify_url_allowed(iss, "data:,ok", &P));
        assert!(!verify_url_allowed(iss, "ftp://store.example/v", &P));
        assert!(!verify_url_allowed(iss, "/relative", &P));
        assert!(!verify_url_allowed(iss, "", &P));
        // http is allowed only for an http issuer; https always.
        assert!(verify_url_allowed(
            "http://store.example",
            "http://store.example/v",
            &P
        ));
        assert!(verify_url_allowed(
            "http://store.example",
            "https://store.example/v",
            &P
        ));
        assert!(verify_url_allowed(
            "HTTP://store.example",
            "HTTP://store.example/v",
            &P
        ));
    }

    #[test]
    fn https_origins() {
        assert_eq!(
            https_origin("https://Keys.Store.Example/", &P).as_deref(),
            Some("https://keys.store.example")
        );
        assert_eq!(
            https_origin("https://keys.store.example:443", &P).as_deref(),
            Some("https://keys.store.example")
        );
        assert_eq!(
            https_origin("https://keys.store.example:8443", &P).as_deref(),
            Some("https://keys.store.example:8443")
        );
        for bad in [
            "http://keys.store.example",
            "https://keys.store.example/root.jwk",
            "https://u@keys.store.example",
            "https://keys.store.example?x",
            "https://keys.store.example#x",
            "keys.store.example",
            "app://keys.store.example",
        ] {
            assert_eq!(https_origin(bad, &P), None, "{bad}");
        }
    }
}
