//! Origins, product URLs and the verify-host rule (§0.4, §2.5).
//!
//! Parsing itself is delegated to a WHATWG URL parser behind [`UrlParser`]: natively the `url`
//! crate ([`NativeUrlParser`], feature `native-url`), in the browser the browser's own `URL`.
//! Every decision on the parsed parts is made here.
//!
//! HELPER-C implements.

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
            has_userinfo: !url.username().is_empty() || url.password().is_some_and(|p| !p.is_empty()),
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
pub fn origin(u: &UrlParts) -> String {
    if u.scheme == "app" {
        return format!("app://{}", u.host.to_lowercase());
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
        Some(e) if (e.scheme == "http" || e.scheme == "https") && !e.host.is_empty() => origin(&e) == iss_o,
        _ => false,
    }
}

/// §2.5.2 `normalize(u)`; `None` when it cannot be normalised.
pub fn normalize_product_url(u: &str, urls: &dyn UrlParser) -> Option<String> {
    let text = if u.contains("://") { u.to_owned() } else { format!("app://{u}") };
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
        || (host.bytes().any(|b| b.is_ascii_digit()) && host.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
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
    hv.strip_suffix(hi.as_str()).is_some_and(|rest| rest.ends_with('.'))
}

/// §2.5.3: the verify host equals the iss host or is a proper subdomain on a label boundary
/// (IP literals must be equal). In compat mode an `iss` without `://` gets `https://`.
pub fn verify_host_ok(iss: &str, verify: &str, compat: bool, urls: &dyn UrlParser) -> bool {
    let iss_parts = if compat && !iss.contains("://") {
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
