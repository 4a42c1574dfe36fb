//! Installing and verifying a purchased receipt (payments §7.5), shared by the Buy and Restore
//! buttons: the receipt stores (mozApps, localStorage, memory), the local check through core
//! (with the trusted roots' documents fetched and cached for an hour), and the verify service.

use super::js::{dom_request, get_obj, http, sleep, HttpRequest};
use super::options::{Storage, VerifyOptions};
use crate::urlparse::BrowserUrl;
use js_sys::{Array, Function, Reflect};
use mozmarket_core::crypto;
use mozmarket_core::jwk::{self, PublicKey};
use mozmarket_core::widget::{self, HttpAnswer, ReceiptCheck, ReceiptPolicy};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};

/// Where a receipt was put by this page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    MozApps,
    LocalStorage,
    Memory,
}

/// The result of installing.
pub struct Installed {
    /// This call added the receipt (it was not there before).
    pub added: bool,
    /// Where it is.
    pub place: Place,
    /// `platformCode`s of the stores that failed on the way.
    pub warnings: Vec<String>,
}

thread_local! {
    static MEMORY: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Fetched root documents: (url, fetched at ms, keys).
    static ROOTS: RefCell<Vec<(String, f64, Vec<PublicKey>)>> = const { RefCell::new(Vec::new()) };
}

const ROOT_CACHE_MS: f64 = 3_600_000.0;
/// `getSelf()` must answer within this time (§7.5).
const GET_SELF_TIMEOUT_MS: f64 = 2_000.0;

/// The most receipts the local store keeps (§7.5).
const MAX_LOCAL: usize = 500;

async fn mozapps_self() -> Option<JsValue> {
    let nav = web_sys::window()?.navigator();
    let apps = get_obj(&nav, "mozApps")?;
    let get_self = Reflect::get(&apps, &"getSelf".into()).ok()?.dyn_into::<Function>().ok()?;
    let request = get_self.call0(&apps).ok()?;
    let answer = futures_select(dom_request(&request), GET_SELF_TIMEOUT_MS).await?;
    let app = answer.ok()?;
    let add = Reflect::get(&app, &"addReceipt".into()).ok()?;
    add.is_function().then_some(app)
}

/// Runs `fut` with a time limit (`None` on timeout).
async fn futures_select<T>(fut: impl std::future::Future<Output = T>, ms: f64) -> Option<T> {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    struct Race<A, B>(Pin<Box<A>>, Pin<Box<B>>);
    impl<A: Future, B: Future<Output = ()>> Future for Race<A, B> {
        type Output = Option<A::Output>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if let Poll::Ready(v) = self.0.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if let Poll::Ready(()) = self.1.as_mut().poll(cx) {
                return Poll::Ready(None);
            }
            Poll::Pending
        }
    }
    Race(Box::pin(fut), Box::pin(sleep(ms))).await
}

fn read_local(key: &str) -> Result<(Vec<String>, bool), ()> {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).ok_or(())?;
    let raw = storage.get_item(key).map_err(|_| ())?;
    let Some(raw) = raw else { return Ok((Vec::new(), false)) };
    match mozmarket_core::json::parse(raw.as_bytes()).ok().and_then(|j| {
        j.as_array().map(|items| items.iter().map(|i| i.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
    }) {
        Some(Some(list)) => Ok((list, false)),
        _ => Ok((Vec::new(), true)),
    }
}

fn write_local(key: &str, list: &[String]) -> Result<(), ()> {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).ok_or(())?;
    let arr: Array = list.iter().map(|s| JsValue::from_str(s)).collect();
    let text = js_sys::JSON::stringify(&arr).map_err(|_| ())?.as_string().ok_or(())?;
    storage.set_item(key, &text).map_err(|_| ())
}

/// Stores `receipt` (§7.5 "Installing"). Never fails: memory is the last resort.
pub async fn install(receipt: &str, opts: &VerifyOptions) -> Installed {
    let mut warnings = Vec::new();
    if matches!(opts.storage, Storage::Auto | Storage::MozApps) {
        if let Some(app) = mozapps_self().await {
            let add = Reflect::get(&app, &"addReceipt".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
            let outcome = match add.map(|f| f.call1(&app, &JsValue::from_str(receipt))) {
                Some(Ok(req)) => dom_request(&req).await.map(|_| ()),
                Some(Err(e)) => Err(super::js::thrown_name(&e)),
                None => Err("INVALID_PARAMETERS".to_owned()),
            };
            match outcome {
                Ok(()) => return Installed { added: true, place: Place::MozApps, warnings },
                Err(name) if name == "RECEIPT_ALREADY_EXISTS" => {
                    return Installed { added: false, place: Place::MozApps, warnings }
                }
                Err(name) => warnings.push(name),
            }
        }
    }
    if matches!(opts.storage, Storage::Auto | Storage::LocalStorage | Storage::MozApps) {
        match read_local(&opts.local_storage_key) {
            Ok((list, corrupt)) => {
                if corrupt {
                    warnings.push("CORRUPT_STORE".to_owned());
                }
                if !corrupt && list.iter().any(|r| r == receipt) {
                    return Installed { added: false, place: Place::LocalStorage, warnings };
                }
                if list.len() >= MAX_LOCAL {
                    warnings.push("TOO_MANY_RECEIPTS".to_owned());
                } else {
                    let mut list = list;
                    list.push(receipt.to_owned());
                    match write_local(&opts.local_storage_key, &list) {
                        Ok(()) => return Installed { added: true, place: Place::LocalStorage, warnings },
                        Err(()) => warnings.push("STORAGE_UNAVAILABLE".to_owned()),
                    }
                }
            }
            Err(()) => warnings.push("STORAGE_UNAVAILABLE".to_owned()),
        }
    }
    let added = MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if m.iter().any(|r| r == receipt) {
            false
        } else {
            m.push(receipt.to_owned());
            true
        }
    });
    Installed { added, place: Place::Memory, warnings }
}

/// Removes a receipt this page added (§7.5: only one added in this attempt).
pub async fn remove(receipt: &str, place: Place, opts: &VerifyOptions) {
    match place {
        Place::MozApps => {
            if let Some(app) = mozapps_self().await {
                if let Some(f) = Reflect::get(&app, &"removeReceipt".into()).ok().and_then(|f| f.dyn_into::<Function>().ok()) {
                    if let Ok(req) = f.call1(&app, &JsValue::from_str(receipt)) {
                        let _ = dom_request(&req).await;
                    }
                }
            }
        }
        Place::LocalStorage => {
            if let Ok((list, false)) = read_local(&opts.local_storage_key) {
                let kept: Vec<String> = list.into_iter().filter(|r| r != receipt).collect();
                let _ = write_local(&opts.local_storage_key, &kept);
            }
        }
        Place::Memory => MEMORY.with(|m| m.borrow_mut().retain(|r| r != receipt)),
    }
}

/// Receipts this page holds in memory (the last-resort store of §7.5), for the host's own
/// checks.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = memoryReceipts)]
pub fn memory_receipts() -> Vec<String> {
    MEMORY.with(|m| m.borrow().clone())
}

async fn root_keys(url: &str, timeout_ms: f64) -> Option<Vec<PublicKey>> {
    let now = js_sys::Date::now();
    let cached = ROOTS.with(|r| {
        r.borrow().iter().find(|(u, at, _)| u == url && now - at < ROOT_CACHE_MS).map(|(_, _, k)| k.clone())
    });
    if cached.is_some() {
        return cached;
    }
    let answer = http(
        HttpRequest {
            method: "GET",
            url,
            headers: &[],
            body: None,
            credentials: web_sys::RequestCredentials::Omit,
            no_store: false,
            timeout_ms,
        },
        |_| {},
    )
    .await;
    let HttpAnswer::Response { status: 200, body, .. } = answer else { return None };
    let keys = jwk::parse_root_document(&body, &BrowserUrl)?;
    ROOTS.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|(u, _, _)| u != url);
        r.push((url.to_owned(), now, keys.clone()));
    });
    Some(keys)
}

/// The local check of §7.5 stage 1, fetching the trusted roots' documents core asks for.
///
/// Where the page has WebCrypto, the signature equations are the platform's (as in the
/// Verifier, `js/receipts.js`): core runs with an answer table (`crypto::with_answers`), the
/// pending equations go to `crypto.subtle.verify`, and only a pass with nothing pending decides.
/// Without WebCrypto, or when it fails, core computes them.
pub async fn check_local(receipt: &str, policy: &ReceiptPolicy, timeout_ms: f64) -> ReceiptCheck {
    let mut fetched: Vec<(String, Vec<PublicKey>)> = Vec::new();
    let mut answers: Option<Vec<(String, bool)>> = subtle().map(|_| Vec::new());
    // A chain names one root (two rounds at most), and each delegated pass adds answers.
    for _ in 0..16 {
        let run = || widget::check_receipt(receipt, policy, &fetched, js_sys::Date::now(), &BrowserUrl);
        let outcome = match answers.clone() {
            None => run(),
            Some(table) => {
                let (outcome, pending) = crypto::with_answers(table, run);
                if !pending.is_empty() {
                    let mut got = Vec::with_capacity(pending.len());
                    for request in &pending {
                        match platform_verify(request).await {
                            Some(valid) => got.push((request.id.clone(), valid)),
                            None => break,
                        }
                    }
                    match answers.as_mut() {
                        Some(table) if got.len() == pending.len() => table.extend(got),
                        _ => answers = None, // the platform failed: core decides alone
                    }
                    continue;
                }
                outcome
            }
        };
        match outcome {
            ReceiptCheck::NeedsRoot { url } => {
                if fetched.iter().any(|(u, _)| *u == url) {
                    break;
                }
                match root_keys(&url, timeout_ms).await {
                    Some(keys) => fetched.push((url, keys)),
                    None => break,
                }
            }
            other => return other,
        }
    }
    ReceiptCheck::Failed(widget::LocalCheck::Signature)
}

/// `globalThis.crypto.subtle`, when it has `importKey` and `verify`.
fn subtle() -> Option<JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    if !crypto.is_object() {
        return None;
    }
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    let has = |name: &str| Reflect::get(&subtle, &name.into()).map(|f| f.is_function()).unwrap_or(false);
    (subtle.is_object() && has("importKey") && has("verify")).then_some(subtle)
}

/// Calls `subtle[name](...args)` and awaits the promise; `None` on any failure.
async fn subtle_call(subtle: &JsValue, name: &str, args: &Array) -> Option<JsValue> {
    let f: Function = Reflect::get(subtle, &name.into()).ok()?.dyn_into().ok()?;
    let promise: js_sys::Promise = f.apply(subtle, args).ok()?.dyn_into().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()
}

/// One equation on WebCrypto: ECDSA P-256 from the raw point, RSASSA-PKCS1-v1_5 from `n`/`e`.
async fn platform_verify(request: &crypto::SignatureRequest) -> Option<bool> {
    let subtle = subtle()?;
    let bytes = |b: &[u8]| JsValue::from(js_sys::Uint8Array::from(b));
    let object = |pairs: &[(&str, JsValue)]| {
        let o = js_sys::Object::new();
        for (k, v) in pairs {
            let _ = Reflect::set(&o, &(*k).into(), v);
        }
        JsValue::from(o)
    };
    let usages = Array::of1(&"verify".into());
    let (import_args, verify_algorithm) = match &request.key {
        crypto::RequestKey::P256Uncompressed(raw) => (
            Array::of5(
                &"raw".into(),
                &bytes(raw),
                &object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]),
                &JsValue::FALSE,
                &usages,
            ),
            object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]),
        ),
        crypto::RequestKey::Rsa { n, e } => (
            Array::of5(
                &"jwk".into(),
                &object(&[
                    ("kty", "RSA".into()),
                    ("n", mozmarket_core::b64::encode(n).into()),
                    ("e", mozmarket_core::b64::encode(e).into()),
                    ("alg", "RS256".into()),
                    ("ext", JsValue::TRUE),
                ]),
                &object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())]),
                &JsValue::FALSE,
                &usages,
            ),
            object(&[("name", "RSASSA-PKCS1-v1_5".into())]),
        ),
    };
    let key = subtle_call(&subtle, "importKey", &import_args).await?;
    let args = Array::of4(&verify_algorithm, &key, &bytes(&request.signature), &bytes(&request.signing_input));
    subtle_call(&subtle, "verify", &args).await?.as_bool()
}

/// §7.5 stage 2: `POST <verify>` with the receipt as `text/plain`, without credentials.
pub async fn store_check(verify: &str, receipt: &str, timeout_ms: f64, abort: impl FnOnce(web_sys::AbortController)) -> HttpAnswer {
    http(
        HttpRequest {
            method: "POST",
            url: verify,
            headers: &[("Content-Type", "text/plain")],
            body: Some(receipt),
            credentials: web_sys::RequestCredentials::Omit,
            no_store: true,
            timeout_ms,
        },
        abort,
    )
    .await
}
