//! The browser's own WHATWG `URL` as core's [`UrlParser`]: no IDNA tables in the wasm, and the
//! same parse as the page's. (Node 18+ has the same global.)

use mozmarket_core::url::{UrlParser, UrlParts};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    type Url;
    #[wasm_bindgen(constructor, catch, js_class = "URL")]
    fn new(input: &str) -> Result<Url, JsValue>;
    #[wasm_bindgen(method, getter, structural)]
    fn protocol(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn username(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn password(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn hostname(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn port(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn pathname(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn search(this: &Url) -> String;
    #[wasm_bindgen(method, getter, structural)]
    fn hash(this: &Url) -> String;
}

/// Parses with `new URL(input)`.
pub struct BrowserUrl;

impl UrlParser for BrowserUrl {
    fn parse(&self, input: &str) -> Option<UrlParts> {
        let u = Url::new(input).ok()?;
        let protocol = u.protocol();
        let scheme = protocol.strip_suffix(':').unwrap_or(&protocol).to_ascii_lowercase();
        let port = u.port();
        Some(UrlParts {
            scheme,
            has_userinfo: !u.username().is_empty() || !u.password().is_empty(),
            host: u.hostname(),
            port: if port.is_empty() { None } else { port.parse().ok() },
            path: u.pathname(),
            query: u.search().strip_prefix('?').unwrap_or_default().to_owned(),
            fragment: u.hash().strip_prefix('#').unwrap_or_default().to_owned(),
        })
    }
}
