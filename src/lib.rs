//! The wasm bindings of mozmarket: core's decisions exposed to the thin JS layer in `js/`.
//!
//! The JS layer owns the JS object model (the `Verifier`, the state classes, options, timers,
//! storage, HTTP, `navigator.mozApps`); every decision goes through a function here, which
//! converts JS values in, calls `mozmarket-core`, and converts the decision back out as plain
//! JS objects. Nothing here panics: every input, however hostile, gets a value or a thrown
//! `Error` with a message.
//!
//! Results use a `kind` tag so the JS side can switch on them:
//! - local stage: `{kind: "passed", payload, product, iss, verify, iat}`,
//!   `{kind: "needsRootDocument", url}`, `{kind: "failed", error}`;
//! - store answer: `{kind: "verified", result, cache}`,
//!   `{kind: "failed", error, deleteCache, alsoVerified}`;
//! - fresh cache lookup: `{kind: "hit", result}`, `{kind: "miss"}`, `{kind: "expired"}`,
//!   `{kind: "corrupt"}`.
//!
//! An `error` is `{name, detail, attrs}` where `attrs` is an array of `[key, value]` pairs in
//! insertion order; the JS layer instantiates the class called `name`.

mod convert;
mod urlparse;
#[cfg(feature = "full")]
pub mod ui;

use convert::{failure_to_js, json_to_js, obj, set};
use js_sys::{Array, Error as JsError, Uint8Array};
use mozmarket_core::claims::PolicyInput;
use mozmarket_core::jwk::{self, PublicKey, TrustedKeysError};
use mozmarket_core::store::HttpAnswer;
use mozmarket_core::compact::Alg;
use mozmarket_core::crypto;
use mozmarket_core::verify::{self, Local, Mode, Policy};
use mozmarket_core::{cache, compact, json, state, store, url as murl, Class};
use urlparse::BrowserUrl;
use wasm_bindgen::prelude::*;

/// A validated set of public keys (`trustedKeys` or a fetched root document).
#[wasm_bindgen]
pub struct KeySet {
    keys: Vec<PublicKey>,
}

#[wasm_bindgen]
impl KeySet {
    /// How many keys the set holds.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.keys.len()
    }

    /// A copy of the set. Passing a `KeySet` to `strictLocal` or `new RunPolicy` moves it into
    /// Rust (the JS object is emptied), so a set that is kept — a Verifier's cached root
    /// documents — is passed as a copy each time.
    pub fn copy(&self) -> KeySet {
        KeySet { keys: self.keys.clone() }
    }
}

fn parse_json_text(text: &str) -> Option<json::Json> {
    json::parse(text.as_bytes()).ok()
}

/// Validates a `trustedKeys` option given as JSON text. Throws an `Error` whose message is the
/// suffix after `Illegal value for option to Verifier({}): `, i.e. `trustedKeys` or
/// `trustedKeys[‹i›]: ‹reason›`.
#[wasm_bindgen(js_name = parseTrustedKeys)]
pub fn parse_trusted_keys(json_text: &str) -> Result<KeySet, JsValue> {
    let Some(value) = parse_json_text(json_text) else {
        return Err(JsError::new("trustedKeys").into());
    };
    match jwk::parse_trusted_keys(&value, &BrowserUrl) {
        Ok(keys) => Ok(KeySet { keys }),
        Err(TrustedKeysError::Container) => Err(JsError::new("trustedKeys").into()),
        Err(TrustedKeysError::Entry(i, e)) => {
            Err(JsError::new(&format!("trustedKeys[{i}]: {}", e.reason())).into())
        }
    }
}

/// Parses a root public-key document (§1.6); `undefined` when it is not one.
#[wasm_bindgen(js_name = parseRootDocument)]
pub fn parse_root_document(body: &str) -> Option<KeySet> {
    jwk::parse_root_document(body, &BrowserUrl).map(|keys| KeySet { keys })
}

/// The resolved policy of one run.
#[wasm_bindgen]
pub struct RunPolicy {
    policy: Policy,
}

fn strings(a: &Array) -> Vec<String> {
    a.iter().filter_map(|v| v.as_string()).collect()
}

#[wasm_bindgen]
impl RunPolicy {
    /// `mode` is `"strict"` or `"compat"`; `installs_allowed_from` is `undefined` for "no
    /// allowlist". Lists are arrays of strings (non-strings are ignored: the JS layer validated).
    #[wasm_bindgen(constructor)]
    pub fn new(
        mode: &str,
        trusted: Option<KeySet>,
        root_key_origins: Array,
        leeway_ms: f64,
        typs_allowed: Array,
        product_urls: Array,
        installs_allowed_from: Option<Array>,
    ) -> RunPolicy {
        RunPolicy {
            policy: Policy {
                mode: if mode == "compat" { Mode::Compat } else { Mode::Strict },
                trusted: trusted.map(|k| k.keys).unwrap_or_default(),
                root_key_origins: strings(&root_key_origins),
                leeway_ms,
                checks: PolicyInput {
                    typs_allowed: strings(&typs_allowed),
                    product_urls: strings(&product_urls),
                    installs_allowed_from: installs_allowed_from.as_ref().map(strings),
                },
            },
        }
    }
}

fn local_to_js(local: Local) -> JsValue {
    let o = obj();
    match local {
        Local::Passed(p) => {
            set(&o, "kind", &"passed".into());
            set(&o, "payload", &json_to_js(&p.payload));
            set(&o, "product", &json_to_js(&p.product));
            set(&o, "iss", &p.iss.into());
            set(&o, "verify", &p.verify.into());
            set(&o, "iat", &p.iat.map(JsValue::from).unwrap_or(JsValue::UNDEFINED));
        }
        Local::NeedsRootDocument { url } => {
            set(&o, "kind", &"needsRootDocument".into());
            set(&o, "url", &url.into());
        }
        Local::Failed(f) => {
            set(&o, "kind", &"failed".into());
            set(&o, "error", &failure_to_js(&f));
        }
    }
    o.into()
}

/// The strict local stage (§2.3.1–§2.3.7). Call again with `rootDocument` when asked.
///
/// Without `answers` the signature equations are computed here. With `answers` (an array of
/// `[id, valid]` pairs, possibly empty) they are delegated (see `mozmarket_core::crypto`): the
/// result then has `pending`, the array of `{id, alg, key, signingInput, signature}` requests
/// left unanswered (`key` is `{kty: "EC", raw}` or `{kty: "RSA", n, e}` with byte arrays). When
/// `pending` is empty the result is the decision; otherwise it is only `{kind: "pending",
/// pending}`: verify them (WebCrypto), add the answers and call again.
#[wasm_bindgen(js_name = strictLocal)]
pub fn strict_local(
    receipt: &str,
    policy: &RunPolicy,
    root_document: Option<KeySet>,
    now_ms: f64,
    answers: Option<Array>,
) -> JsValue {
    let doc = root_document.map(|k| k.keys);
    let run = || verify::strict_local(receipt, &policy.policy, doc.as_deref(), now_ms, &BrowserUrl);
    let Some(answers) = answers else {
        return local_to_js(run());
    };
    let table: Vec<(String, bool)> = answers
        .iter()
        .filter_map(|pair| {
            // Only real [id, valid] arrays count; anything else is ignored (never iterated).
            let pair = pair.dyn_into::<Array>().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_bool()?))
        })
        .collect();
    let (local, pending) = crypto::with_answers(table, run);
    if pending.is_empty() {
        let out = local_to_js(local);
        if let Some(o) = out.dyn_ref::<js_sys::Object>() {
            set(o, "pending", &Array::new().into());
        }
        return out;
    }
    // This pass's decision must not be used: only the requests go back (`kind: "pending"`).
    let out = obj();
    set(&out, "kind", &"pending".into());
    let list = Array::new();
    for request in pending {
        list.push(&signature_request_to_js(request).into());
    }
    set(&out, "pending", &list.into());
    out.into()
}

/// One delegated equation as `{id, alg, key, signingInput, signature}` (byte arrays).
fn signature_request_to_js(request: crypto::SignatureRequest) -> js_sys::Object {
    let bytes = |b: &[u8]| JsValue::from(Uint8Array::from(b));
    let r = obj();
    set(&r, "id", &request.id.into());
    let alg = match request.alg {
        Alg::Rs256 => "RS256",
        Alg::Es256 => "ES256",
    };
    set(&r, "alg", &alg.into());
    let key = obj();
    match request.key {
        crypto::RequestKey::P256Uncompressed(raw) => {
            set(&key, "kty", &"EC".into());
            set(&key, "raw", &bytes(&raw));
        }
        crypto::RequestKey::Rsa { n, e } => {
            set(&key, "kty", &"RSA".into());
            set(&key, "n", &bytes(&n));
            set(&key, "e", &bytes(&e));
        }
    }
    set(&r, "key", &key.into());
    set(&r, "signingInput", &bytes(&request.signing_input));
    set(&r, "signature", &bytes(&request.signature));
    r
}

/// The compat local stage (§2.4 C1–C7).
#[wasm_bindgen(js_name = compatLocal)]
pub fn compat_local(receipt: &str, policy: &RunPolicy) -> JsValue {
    local_to_js(verify::compat_local(receipt, &policy.policy, &BrowserUrl))
}

/// Strict parse for `parseReceipt()` in strict mode: the payload of the last part, or throws
/// an `Error` with the §2.3.1 detail.
#[wasm_bindgen(js_name = parseStrict)]
pub fn parse_strict(receipt: &str) -> Result<JsValue, JsValue> {
    match compact::parse_strict(receipt) {
        Ok(p) => match p.receipt() {
            Some(t) => Ok(json_to_js(&t.payload)),
            None => Err(JsError::new("Receipt has an empty part").into()),
        },
        Err(f) => Err(JsError::new(&f.detail).into()),
    }
}

/// Lenient parse (§2.4): the payload, or throws an `Error` with the reason (`Not valid JWT`, …).
#[wasm_bindgen(js_name = parseLenient)]
pub fn parse_lenient(receipt: &str) -> Result<JsValue, JsValue> {
    compact::parse_lenient(receipt).map(|p| json_to_js(&p)).map_err(|r| JsError::new(r).into())
}

/// The add-receipt check (§1.8): `undefined` when it passes, else the error name.
#[wasm_bindgen(js_name = addReceiptCheck)]
pub fn add_receipt_check(receipt: &str) -> Option<String> {
    compact::add_receipt_check(receipt).err().map(str::to_owned)
}

fn answer<'a>(timed_out: bool, status: u16, final_url: &'a Option<String>, body: &'a str) -> HttpAnswer<'a> {
    HttpAnswer { timed_out, status, final_url: final_url.as_deref(), body }
}

/// §3.3: the decision for a store answer.
#[wasm_bindgen(js_name = mapStoreAnswer)]
#[allow(clippy::too_many_arguments)]
pub fn map_store_answer(
    timed_out: bool,
    status: u16,
    final_url: Option<String>,
    body: &str,
    verify_url: &str,
    iss: &str,
    strict: bool,
    request_timeout_ms: f64,
) -> JsValue {
    let a = answer(timed_out, status, &final_url, body);
    let o = obj();
    match store::map_store_answer(&a, verify_url, iss, strict, request_timeout_ms, &BrowserUrl) {
        store::StoreOutcome::Verified { result, cache } => {
            set(&o, "kind", &"verified".into());
            set(&o, "result", &json_to_js(&result));
            set(&o, "cache", &cache.into());
        }
        store::StoreOutcome::Failed { failure, delete_cache, also_verified } => {
            set(&o, "kind", &"failed".into());
            set(&o, "error", &failure_to_js(&failure));
            set(&o, "deleteCache", &delete_cache.into());
            set(&o, "alsoVerified", &also_verified.into());
        }
    }
    o.into()
}

/// §2.3.3: a root-document answer. Returns `{kind: "keys", keys}` or `{kind: "failed", error}`.
#[wasm_bindgen(js_name = mapRootDocumentAnswer)]
pub fn map_root_document_answer(
    timed_out: bool,
    status: u16,
    final_url: Option<String>,
    body: &str,
    url: &str,
    request_timeout_ms: f64,
) -> JsValue {
    let a = answer(timed_out, status, &final_url, body);
    let o = obj();
    let failure = match store::map_root_document_answer(&a, url, request_timeout_ms) {
        Ok(text) => match jwk::parse_root_document(text, &BrowserUrl) {
            Some(keys) => {
                set(&o, "kind", &"keys".into());
                set(&o, "keys", &KeySet { keys }.into());
                return o.into();
            }
            None => store::invalid_root_document(url),
        },
        Err(f) => f,
    };
    set(&o, "kind", &"failed".into());
    set(&o, "error", &failure_to_js(&failure));
    o.into()
}

/// §5.5 fresh lookup.
#[wasm_bindgen(js_name = cacheFresh)]
pub fn cache_fresh(entry: Option<String>, now_ms: f64, cache_timeout_ms: f64, refund_window_ms: f64, iat: Option<f64>) -> JsValue {
    let o = obj();
    match cache::fresh(entry.as_deref(), now_ms, cache_timeout_ms, refund_window_ms, iat) {
        cache::Fresh::Hit(result) => {
            set(&o, "kind", &"hit".into());
            set(&o, "result", &json_to_js(&result));
        }
        cache::Fresh::Miss => set(&o, "kind", &"miss".into()),
        cache::Fresh::Expired => set(&o, "kind", &"expired".into()),
        cache::Fresh::Corrupt => set(&o, "kind", &"corrupt".into()),
    }
    o.into()
}

/// §5.5 stale lookup: the cached result, or `undefined`.
#[wasm_bindgen(js_name = cacheStale)]
pub fn cache_stale(entry: Option<String>) -> JsValue {
    cache::stale(entry.as_deref()).map(|r| json_to_js(&r)).unwrap_or(JsValue::UNDEFINED)
}

/// The cache entry text for a store `ok` answer given as JSON text; `undefined` if the text is
/// not a JSON object.
#[wasm_bindgen(js_name = cacheEntryText)]
pub fn cache_entry_text(now_ms: f64, result_json: &str) -> Option<String> {
    parse_json_text(result_json).filter(json::Json::is_object).map(|r| cache::entry_text(now_ms, &r))
}

/// §2.5.2 normalisation, for validating the `productURL` option.
#[wasm_bindgen(js_name = normalizeProductUrl)]
pub fn normalize_product_url(u: &str) -> Option<String> {
    murl::normalize_product_url(u, &BrowserUrl)
}

/// The normalised origin of an `https:` origin string (`rootKeyOrigins` entries).
#[wasm_bindgen(js_name = httpsOrigin)]
pub fn https_origin(s: &str) -> Option<String> {
    murl::https_origin(s, &BrowserUrl)
}

/// The origin of an absolute URL (§0.4), for the strict product-URL default.
#[wasm_bindgen(js_name = urlOrigin)]
pub fn url_origin(s: &str) -> Option<String> {
    use murl::UrlParser;
    BrowserUrl.parse(s).map(|u| murl::origin(&u))
}

/// The class tree: an array of `[name, parentName | null, isError]`, parents first.
#[wasm_bindgen(js_name = classTree)]
pub fn class_tree() -> Array {
    Class::ALL
        .iter()
        .map(|c| {
            let row = Array::new();
            row.push(&c.name().into());
            row.push(&c.parent().map(|p| JsValue::from(p.name())).unwrap_or(JsValue::NULL));
            row.push(&c.is_error().into());
            JsValue::from(row)
        })
        .collect()
}

/// §5.4: whether an outcome of class `incoming` replaces the state of class `current`.
#[wasm_bindgen]
pub fn promotes(current: &str, incoming: &str) -> bool {
    match (Class::from_name(current), Class::from_name(incoming)) {
        (Some(c), Some(i)) => state::promotes(c, i),
        _ => false,
    }
}
