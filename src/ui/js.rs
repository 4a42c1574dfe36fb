//! Small JS helpers for the UI: error objects, events, timers and HTTP with a timeout.

use crate::convert::{json_to_js, obj, set};
use js_sys::{Function, Object, Reflect};
use mozmarket_core::widget::{HttpAnswer, WidgetError};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The `X-Mozmarket-Version` header value.
pub const VERSION: &str = concat!("mozmarket/", env!("CARGO_PKG_VERSION"));

/// A plain `Error` with a message.
pub fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// The §7.6 error object: an `Error` with `name`, `code`, `message`, `detail`, `productId` and
/// `attemptId`.
pub fn widget_error(e: &WidgetError, product_id: Option<&str>, attempt_id: Option<&str>) -> JsValue {
    // A configuration error names its option in the message, as developers look there first.
    let message = match e.detail("option").and_then(|o| o.as_str()) {
        Some(option) => format!("{} Option: {option}", e.message()),
        None => e.message().to_owned(),
    };
    let err = js_sys::Error::new(&message);
    err.set_name(e.name().as_str());
    let o: &Object = err.as_ref();
    set(o, "code", &e.code.as_str().into());
    set(o, "detail", &json_to_js(&e.detail_json()));
    set(o, "productId", &product_id.map_or(JsValue::NULL, JsValue::from_str));
    set(o, "attemptId", &attempt_id.map_or(JsValue::NULL, JsValue::from_str));
    err.into()
}

/// Calls `callback(detail)` (its exceptions are caught and logged), then, unless `alive()` now
/// says the widget was destroyed (by the callback), dispatches
/// `CustomEvent(name, {detail, bubbles, composed})` on `target` (§7.7).
pub fn emit(
    target: &web_sys::EventTarget,
    name: &str,
    detail: &JsValue,
    callback: Option<&Function>,
    alive: &dyn Fn() -> bool,
) {
    if let Some(f) = callback {
        if let Err(e) = f.call1(&JsValue::UNDEFINED, detail) {
            web_sys::console::error_2(&JsValue::from_str("mozmarket: a callback threw:"), &e);
        }
        if !alive() {
            return;
        }
    }
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(false);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = target.dispatch_event(&ev);
    }
}

/// A plain object from `(key, value)` pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = obj();
    for (k, v) in pairs {
        set(&o, k, v);
    }
    o.into()
}

pub fn opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// A one-shot timer that can be cancelled (dropping it cancels it).
pub struct Timer {
    id: i32,
    _closure: Closure<dyn FnMut()>,
}

impl Timer {
    pub fn start(delay_ms: f64, f: impl FnOnce() + 'static) -> Option<Timer> {
        let w = web_sys::window()?;
        let mut f = Some(f);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.take() {
                f();
            }
        });
        let delay = if delay_ms.is_finite() { delay_ms.clamp(0.0, 2_147_483_647.0) as i32 } else { 0 };
        let id = w
            .set_timeout_with_callback_and_timeout_and_arguments_0(closure.as_ref().unchecked_ref(), delay)
            .ok()?;
        Some(Timer { id, _closure: closure })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(self.id);
        }
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let slot: Rc<RefCell<Option<Timer>>> = Rc::new(RefCell::new(None));
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let t = Timer::start(ms, move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
        *slot.borrow_mut() = t;
    });
    let _ = JsFuture::from(promise).await;
    drop(slot);
}

/// How a request is made.
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a str>,
    /// `credentials`: `include`, `same-origin` or `omit`.
    pub credentials: web_sys::RequestCredentials,
    pub no_store: bool,
    pub timeout_ms: f64,
}

/// A request on its way: the fetch promise, its controller and the timeout timer.
pub struct Started {
    controller: web_sys::AbortController,
    promise: js_sys::Promise,
    timer: Option<Timer>,
    timed_out: Rc<std::cell::Cell<bool>>,
}

/// Starts `fetch` with an abort after `timeout_ms` (not generic: one copy in the module).
fn start(req: &HttpRequest<'_>) -> Option<Started> {
    let w = web_sys::window()?;
    let controller = web_sys::AbortController::new().ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method(req.method);
    init.set_credentials(req.credentials);
    init.set_signal(Some(&controller.signal()));
    if req.no_store {
        init.set_cache(web_sys::RequestCache::NoStore);
    }
    if let Some(b) = req.body {
        init.set_body(&JsValue::from_str(b));
    }
    let headers = web_sys::Headers::new().ok()?;
    for (k, v) in req.headers {
        let _ = headers.set(k, v);
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(req.url, &init).ok()?;
    let timed_out = Rc::new(std::cell::Cell::new(false));
    let timer = {
        let c = controller.clone();
        let flag = timed_out.clone();
        Timer::start(req.timeout_ms, move || {
            flag.set(true);
            c.abort();
        })
    };
    let promise = w.fetch_with_request(&request);
    Some(Started { controller, promise, timer, timed_out })
}

/// Waits for a started request and reads its answer.
async fn finish(s: Started) -> HttpAnswer {
    let answer = match JsFuture::from(s.promise).await {
        Err(_) => None,
        Ok(v) => match v.dyn_into::<web_sys::Response>() {
            Err(_) => None,
            Ok(resp) => {
                let status = resp.status();
                // Retry-After as delay-seconds (an HTTP date is ignored).
                let retry_after_secs = resp
                    .headers()
                    .get("Retry-After")
                    .ok()
                    .flatten()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .map(f64::from);
                match resp.text() {
                    Err(_) => None,
                    Ok(p) => match JsFuture::from(p).await {
                        Ok(t) => Some(HttpAnswer::Response {
                            status,
                            body: t.as_string().unwrap_or_default(),
                            retry_after_secs,
                        }),
                        Err(_) => None,
                    },
                }
            }
        },
    };
    drop(s.timer);
    match answer {
        Some(a) => a,
        None if s.timed_out.get() => HttpAnswer::Timeout,
        None => HttpAnswer::NetworkError,
    }
}

/// `fetch` with an abort after `timeout_ms`. `abort` receives the controller so that the caller
/// can abort it early (end of an attempt); an aborted request answers `Timeout`.
pub async fn http(req: HttpRequest<'_>, abort: impl FnOnce(web_sys::AbortController)) -> HttpAnswer {
    let Some(started) = start(&req) else { return HttpAnswer::NetworkError };
    abort(started.controller.clone());
    finish(started).await
}

/// `Reflect.get` as an object, when it is one.
pub fn get_obj(o: &JsValue, key: &str) -> Option<Object> {
    Reflect::get(o, &JsValue::from_str(key)).ok().and_then(|v| v.dyn_into::<Object>().ok())
}

/// Waits for a DOMRequest-like object (`onsuccess`/`onerror`): `Ok(result)` or `Err(error.name)`.
pub async fn dom_request(request: &JsValue) -> Result<JsValue, String> {
    let req = request.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let r2 = req.clone();
        let ok = Closure::once_into_js(move || {
            let result = Reflect::get(&r2, &"result".into()).unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::UNDEFINED, &result);
        });
        let r3 = req.clone();
        let err = Closure::once_into_js(move || {
            let name = Reflect::get(&r3, &"error".into())
                .ok()
                .and_then(|e| Reflect::get(&e, &"name".into()).ok())
                .and_then(|n| n.as_string())
                .unwrap_or_else(|| "UNKNOWN_ERROR".to_owned());
            let _ = reject.call1(&JsValue::UNDEFINED, &JsValue::from_str(&name));
        });
        let _ = Reflect::set(&req, &"onsuccess".into(), &ok);
        let _ = Reflect::set(&req, &"onerror".into(), &err);
    });
    JsFuture::from(promise).await.map_err(|e| e.as_string().unwrap_or_else(|| "UNKNOWN_ERROR".to_owned()))
}

/// The `name` of a thrown value (`Error#name`, a DOMException's name, or a string).
pub fn thrown_name(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_else(|| "Error".to_owned())
}
