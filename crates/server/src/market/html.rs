//! Server-rendered HTML: escaping, the page frame and the security headers of the pay page and
//! the developer hub (§5.3, §8.1). Every developer- or buyer-supplied value goes through
//! [`esc`]; pages carry no inline script or style (the CSP forbids both).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Escapes text for an HTML text node or a double-quoted attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            _ => out.push(c),
        }
    }
    out
}

/// The first `n` Unicode scalar values of `s` (display trimming).
pub fn clip_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The Content-Security-Policy of §5.3 (`http:` images only in dev mode).
pub fn csp(dev: bool) -> String {
    let img = if dev { "img-src 'self' https: data: http:" } else { "img-src 'self' https: data:" };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; {img}; connect-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Adds the §5.3 security headers (no Cross-Origin-Opener-Policy: it would cut the opener).
pub fn security_headers(headers: &mut HeaderMap, dev: bool) {
    if let Ok(v) = HeaderValue::from_str(&csp(dev)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// A complete page: status, security headers, `text/html`.
pub fn page(status: StatusCode, dev: bool, title: &str, body_attrs: &str, body: &str, script: bool) -> Response {
    let script_tag = if script { r#"<script src="/mozpay/static/pay.js" defer></script>"# } else { "" };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/mozpay/static/market.css\">{script_tag}</head>\
         <body {body_attrs}>{body}</body></html>\n",
        esc(title)
    );
    let mut resp = (status, html).into_response();
    security_headers(resp.headers_mut(), dev);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(esc(r#"a"b'c&d"#), "a&quot;b&#39;c&amp;d");
    }

    #[test]
    fn csp_has_the_spec_directives() {
        let c = csp(false);
        assert!(c.contains("frame-ancestors 'none'"));
        assert!(c.contains("script-src 'self'"));
        assert!(!c.contains("http:"));
        assert!(csp(true).contains("img-src 'self' https: data: http:"));
    }
}
