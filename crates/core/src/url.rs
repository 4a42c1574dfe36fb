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
        let _ = input;
        todo!("HELPER-C")
    }
}

/// The origin of parsed parts (§0.4): `scheme://host[:port]`; for `app:` URLs `app://` plus the
/// lower-cased host.
pub fn origin(u: &UrlParts) -> String {
    let _ = u;
    todo!("HELPER-C")
}

/// §2.5.1: the normalised origin when `iss` is an origin (http/https, non-empty host, no
/// userinfo, path `""` or `/`, no query or fragment).
pub fn iss_origin(iss: &str, urls: &dyn UrlParser) -> Option<String> {
    let _ = (iss, urls);
    todo!("HELPER-C")
}

/// §2.5.1: whether an allowlist entry matches `iss` (`"*"` included). `compat` adds the
/// exact-string match.
pub fn issuer_allowed(entry: &str, iss: &str, compat: bool, urls: &dyn UrlParser) -> bool {
    let _ = (entry, iss, compat, urls);
    todo!("HELPER-C")
}

/// §2.5.2 `normalize(u)`; `None` when it cannot be normalised.
pub fn normalize_product_url(u: &str, urls: &dyn UrlParser) -> Option<String> {
    let _ = (u, urls);
    todo!("HELPER-C")
}

/// §2.5.3: the verify host equals the iss host or is a proper subdomain on a label boundary
/// (IP literals must be equal). In compat mode an `iss` without `://` gets `https://`.
pub fn verify_host_ok(iss: &str, verify: &str, compat: bool, urls: &dyn UrlParser) -> bool {
    let _ = (iss, verify, compat, urls);
    todo!("HELPER-C")
}

/// §2.3.7 S13a: `verify` is an absolute URL with no userinfo whose scheme is `https` (or `http`,
/// only when `iss` is `http`).
pub fn verify_url_allowed(iss: &str, verify: &str, urls: &dyn UrlParser) -> bool {
    let _ = (iss, verify, urls);
    todo!("HELPER-C")
}

/// The normalised origin of an `https:` URL with no userinfo, path `""`/`/`, query or fragment
/// (`rootKeyOrigins` entries, §4.1).
pub fn https_origin(s: &str, urls: &dyn UrlParser) -> Option<String> {
    let _ = (s, urls);
    todo!("HELPER-C")
}
