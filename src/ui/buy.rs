//! The Buy button (payments §7): core's reducer (`widget::reduce`) decides, this module runs its
//! effects in the browser (popup, `navigator.mozPay`, `postMessage`, timers, HTTP, the event
//! stream, the receipt stores) and renders core's view with yew.
//!
//! The machine lives outside yew's scheduler in an `Rc<RefCell<…>>` so that an activation runs
//! the reducer and opens the popup synchronously inside the click (popup blockers, §5.2); yew
//! only re-renders a snapshot afterwards.

use super::js::{self as ujs, emit, object, opt_str, widget_error, Timer, VERSION};
use super::options::{buy_options, BuyOptions, Support};
use super::receipts::{self, Place};
use super::style;
use js_sys::{Object, Reflect};
use mozmarket_core::widget::{
    self, format_message, reduce, view, Action, ButtonText, Effect, Event, FocusTarget,
    HttpAnswer, Locale, MessageArgs, MessageData, MessageKey, MozPayOutcome, Politeness,
    ProductText, ReceiptCheck, State, StateName, TimerKind,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

type M = Rc<RefCell<Machine>>;

/// Everything a mounted Buy button holds.
pub struct Machine {
    opts: Rc<BuyOptions>,
    state: State,
    element: web_sys::Element,
    popup: Option<web_sys::Window>,
    listener: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
    timers: Vec<(TimerKind, Timer)>,
    aborts: Vec<web_sys::AbortController>,
    stream: Option<Stream>,
    mozpay_request: Option<JsValue>,
    polite: Option<MessageKey>,
    /// Bumped by every announcement, so that a repeated one re-creates the text (§5.2 step 3).
    announce_seq: u32,
    /// The §7.7 callbacks (dropped at destroy, so a callback that holds the handle is freed).
    callbacks: super::options::Callbacks,
    /// The product text of the latest pay JWT (kept after the attempt, for `purchased`).
    product: Option<ProductText>,
    alert: Option<MessageKey>,
    focus: Option<FocusTarget>,
    verify_url: Option<String>,
    added: Option<(String, Place)>,
    destroyed: bool,
    running: bool,
    queue: VecDeque<Action>,
    rerender: Option<Callback<()>>,
    main_ref: NodeRef,
    open_ref: NodeRef,
    root_ref: NodeRef,
    id: u32,
}

struct Stream {
    source: web_sys::EventSource,
    _on_status: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.close();
    }
}

fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    let crypto = web_sys::window().and_then(|w| Reflect::get(&w, &"crypto".into()).ok());
    let filled = crypto.as_ref().is_some_and(|c| {
        let arr = js_sys::Uint8Array::new_with_length(16);
        let f = Reflect::get(c, &"getRandomValues".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match f.map(|f| f.call1(c, &arr)) {
            Some(Ok(_)) => {
                arr.copy_to(&mut b);
                true
            }
            _ => false,
        }
    });
    if !filled {
        for x in b.iter_mut() {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    if let Some(x) = b.get_mut(6) {
        *x = (*x & 0x0f) | 0x40;
    }
    if let Some(x) = b.get_mut(8) {
        *x = (*x & 0x3f) | 0x80;
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    )
}

/// Runs `action` through the reducer and its effects, to completion. Re-entrant calls (a
/// callback calling `reset()`, a synchronous `PopupOpened`) are queued and run in order.
fn dispatch(m: &M, action: Action) {
    {
        let Ok(mut mm) = m.try_borrow_mut() else { return };
        if mm.destroyed {
            return;
        }
        mm.queue.push_back(action);
        if mm.running {
            return;
        }
        mm.running = true;
    }
    while let Some(action) = next_queued(m) {
        let mut pending: VecDeque<Effect> = reduce_now(m, action).into();
        while let Some(e) = pending.pop_front() {
            // A callback may have destroyed the widget: nothing more runs, nothing is emitted.
            if m.borrow().destroyed {
                pending.clear();
                break;
            }
            // `PopupOpened` is reduced before the next effect runs (core's contract for
            // OpenBlankPopup/OpenPopup); any other synchronous answer (a throwing mozPay) waits
            // until this step's effects have run, as an asynchronous answer would.
            match run_effect(m, e) {
                Some(next @ Action::PopupOpened { .. }) => {
                    for e in reduce_now(m, next).into_iter().rev() {
                        pending.push_front(e);
                    }
                }
                Some(next) => {
                    if let Ok(mut mm) = m.try_borrow_mut() {
                        mm.queue.push_back(next);
                    }
                }
                None => {}
            }
        }
    }
    let cb = m.borrow().rerender.clone();
    if let Some(cb) = cb {
        cb.emit(());
    }
}

/// The next queued action; clears `running` when there is none.
fn next_queued(m: &M) -> Option<Action> {
    let mut mm = m.try_borrow_mut().ok()?;
    let next = if mm.destroyed { None } else { mm.queue.pop_front() };
    if next.is_none() {
        mm.running = false;
        mm.queue.clear();
    }
    next
}

/// Runs the reducer on the machine's state.
fn reduce_now(m: &M, action: Action) -> Vec<Effect> {
    let Ok(mut mm) = m.try_borrow_mut() else { return Vec::new() };
    let state = std::mem::replace(&mut mm.state, State::Idle);
    let (next, effects) = reduce(&mm.opts.core, state, action, js_sys::Date::now());
    if let Some(p) = next.product() {
        mm.product = Some(p.clone());
    }
    mm.state = next;
    effects
}

fn popup_closed(m: &M) -> bool {
    m.borrow().popup.as_ref().is_none_or(|p| p.closed().unwrap_or(true))
}

fn open_popup(m: &M, url: &str) -> Action {
    let opts = m.borrow().opts.clone();
    let Some(w) = web_sys::window() else { return Action::PopupOpened { blocked: true } };
    let n = |r: Result<JsValue, JsValue>| r.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let features = widget::popup_features(
        n(w.screen_x()),
        n(w.screen_y()),
        n(w.outer_width()),
        n(w.outer_height()),
        opts.win_width,
        opts.win_height,
    );
    let popup = w.open_with_url_and_target_and_features(url, widget::POPUP_NAME, &features).ok().flatten();
    let blocked = popup.as_ref().is_none_or(|p| p.closed().unwrap_or(true));
    if !blocked && url.is_empty() {
        // `window.open("", name)` returns an existing window of that name unchanged, which may be
        // a pay page on another origin: reading its document throws there, so it is read
        // through Reflect (caught) and the loading text is skipped.
        let doc = popup
            .as_ref()
            .and_then(|p| Reflect::get(p, &"document".into()).ok())
            // The popup's document belongs to the popup's realm, so `instanceof Document` in
            // ours is false: it is used structurally.
            .filter(JsValue::is_object)
            .map(JsCast::unchecked_into::<web_sys::Document>);
        if let Some(doc) = doc {
            let text = format_message(MessageKey::PopupLoading, opts.core.locale, MessageArgs::default());
            doc.set_title(&text);
            if let Some(body) = doc.body() {
                let _ = body.append_child(&doc.create_text_node(&text));
            }
        }
    }
    m.borrow_mut().popup = if blocked { None } else { popup };
    Action::PopupOpened { blocked }
}

fn message_data(data: &JsValue) -> MessageData {
    if !data.is_object() || js_sys::Array::is_array(data) {
        return MessageData::Other;
    }
    let Some(o) = data.dyn_ref::<Object>() else { return MessageData::Other };
    let proto = Object::get_prototype_of(o);
    let plain = proto.is_null() || Object::is(&proto, &Object::get_prototype_of(&Object::new()));
    if !plain {
        return MessageData::Other;
    }
    let status = Reflect::get(o, &"status".into()).ok().and_then(|s| s.as_string());
    match status {
        Some(status) => MessageData::Status {
            status,
            error_code: Reflect::get(o, &"errorCode".into()).ok().and_then(|s| s.as_string()),
        },
        None => MessageData::Other,
    }
}

fn listen(m: &M) {
    let Some(w) = web_sys::window() else { return };
    let weak = Rc::downgrade(m);
    let closure = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let Some(m) = weak.upgrade() else { return };
        let (from_popup, pay_origin) = {
            let mm = m.borrow();
            let from_popup = match (mm.popup.as_ref(), ev.source()) {
                (Some(p), Some(src)) => Object::is(p.as_ref(), src.as_ref()),
                _ => false,
            };
            let pay_origin = match &mm.state {
                State::Paying { order, .. } | State::Waiting { order, .. } => Some(order.pay_origin.clone()),
                _ => None,
            };
            (from_popup, pay_origin)
        };
        // A message from the pay origin whose window is already gone (Chromium delivers the pay
        // page's `pagehide` message with `source === null` while it navigates or closes) cannot
        // pass the source test, but it is not a forgery either: it is dropped without the
        // UNKNOWN_MESSAGE_ORIGIN warning, which stays for real foreign messages. A closed popup
        // is still noticed by the window poll.
        if ev.source().is_none() && pay_origin.as_deref() == Some(ev.origin().as_str()) {
            return;
        }
        let action = Action::Message { origin: ev.origin(), from_popup, data: message_data(&ev.data()) };
        dispatch(&m, action);
    });
    let _ = w.add_event_listener_with_callback("message", closure.as_ref().unchecked_ref());
    stop_listening(m);
    m.borrow_mut().listener = Some(closure);
}

fn stop_listening(m: &M) {
    let old = m.borrow_mut().listener.take();
    if let (Some(c), Some(w)) = (old, web_sys::window()) {
        let _ = w.remove_event_listener_with_callback("message", c.as_ref().unchecked_ref());
    }
}

fn schedule(m: &M, attempt_id: String, timer: TimerKind, delay_ms: f64) {
    let weak = Rc::downgrade(m);
    let t = Timer::start(delay_ms, move || {
        if let Some(m) = weak.upgrade() {
            m.borrow_mut().timers.retain(|(k, _)| *k != timer);
            let closed = popup_closed(&m);
            dispatch(&m, Action::TimerFired { attempt_id, timer, popup_closed: closed });
        }
    });
    let mut mm = m.borrow_mut();
    mm.timers.retain(|(k, _)| *k != timer);
    if let Some(t) = t {
        mm.timers.push((timer, t));
    }
}

fn keep_abort(weak: std::rc::Weak<RefCell<Machine>>) -> impl FnOnce(web_sys::AbortController) {
    move |c| {
        if let Some(m) = weak.upgrade() {
            if let Ok(mut mm) = m.try_borrow_mut() {
                mm.aborts.push(c);
            }
        }
    }
}

fn app_headers() -> [(&'static str, &'static str); 2] {
    [("Accept", "application/json"), ("X-Mozmarket-Version", VERSION)]
}

fn post_buy(m: &M, attempt_id: String) {
    let (opts, weak) = (m.borrow().opts.clone(), Rc::downgrade(m));
    wasm_bindgen_futures::spawn_local(async move {
        let mut headers = app_headers().to_vec();
        headers.push(("Content-Type", "application/json"));
        headers.push(("Idempotency-Key", attempt_id.as_str()));
        let answer = ujs::http(
            ujs::HttpRequest {
                method: "POST",
                url: &opts.buy_url,
                headers: &headers,
                body: Some("{}"),
                credentials: credentials(&opts),
                no_store: true,
                timeout_ms: opts.core.timing.api_timeout_ms,
            },
            keep_abort(weak.clone()),
        )
        .await;
        if let Some(m) = weak.upgrade() {
            dispatch(&m, Action::BuyAnswer { attempt_id, answer });
        }
    });
}

fn credentials(opts: &BuyOptions) -> web_sys::RequestCredentials {
    if opts.verify.credentials_include {
        web_sys::RequestCredentials::Include
    } else {
        web_sys::RequestCredentials::SameOrigin
    }
}

fn get_status(m: &M, attempt_id: String, url: String) {
    let (opts, weak) = (m.borrow().opts.clone(), Rc::downgrade(m));
    let url = super::options::resolve(&url, &opts.buy_url).unwrap_or(url);
    wasm_bindgen_futures::spawn_local(async move {
        let answer = ujs::http(
            ujs::HttpRequest {
                method: "GET",
                url: &url,
                headers: &app_headers(),
                body: None,
                credentials: credentials(&opts),
                no_store: true,
                timeout_ms: opts.core.timing.api_timeout_ms,
            },
            keep_abort(weak.clone()),
        )
        .await;
        if let Some(m) = weak.upgrade() {
            let jitter_sample = js_sys::Math::random();
            dispatch(&m, Action::StatusAnswer { attempt_id, answer, jitter_sample });
        }
    });
}

fn open_stream(m: &M, attempt_id: String, url: String) {
    let opts = m.borrow().opts.clone();
    let url = super::options::resolve(&url, &opts.buy_url).unwrap_or(url);
    let cross = super::options::resolve(&url, &url)
        .and_then(|u| web_sys::Url::new(&u).ok())
        .is_some_and(|u| u.origin() != super::options::page_origin());
    let init = web_sys::EventSourceInit::new();
    init.set_with_credentials(cross && opts.verify.credentials_include);
    let weak = Rc::downgrade(m);
    let Ok(source) = web_sys::EventSource::new_with_event_source_init_dict(&url, &init) else {
        dispatch(m, Action::StreamError { attempt_id });
        return;
    };
    let (w1, id1) = (weak.clone(), attempt_id.clone());
    let on_status = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let Some(m) = w1.upgrade() {
            let data = ev.data().as_string().unwrap_or_default();
            dispatch(&m, Action::StatusEvent { attempt_id: id1.clone(), data });
        }
    });
    let (w2, id2) = (weak, attempt_id);
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
        if let Some(m) = w2.upgrade() {
            // The widget never lets EventSource reconnect (§7.4).
            let stream = m.borrow_mut().stream.take();
            drop(stream);
            dispatch(&m, Action::StreamError { attempt_id: id2.clone() });
        }
    });
    let _ = source.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
    m.borrow_mut().stream = Some(Stream { source, _on_status: on_status, _on_error: on_error });
}

fn call_mozpay(m: &M, attempt_id: String, jwt: String) -> Option<Action> {
    let nav = web_sys::window()?.navigator();
    let f = Reflect::get(&nav, &"mozPay".into()).ok()?.dyn_into::<js_sys::Function>().ok();
    let Some(f) = f else {
        return Some(Action::MozPayResult { attempt_id, outcome: MozPayOutcome::Error("PAY_PLATFORM_UNAVAILABLE".into()) });
    };
    let jwts = js_sys::Array::of1(&JsValue::from_str(&jwt));
    match f.call1(&nav, &jwts) {
        Err(e) => Some(Action::MozPayResult { attempt_id, outcome: MozPayOutcome::Error(ujs::thrown_name(&e)) }),
        Ok(request) => {
            m.borrow_mut().mozpay_request = Some(request.clone());
            let weak = Rc::downgrade(m);
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = match ujs::dom_request(&request).await {
                    Ok(_) => MozPayOutcome::Success,
                    Err(name) => MozPayOutcome::Error(name),
                };
                if let Some(m) = weak.upgrade() {
                    dispatch(&m, Action::MozPayResult { attempt_id, outcome });
                }
            });
            None
        }
    }
}

fn install(m: &M, attempt_id: String, receipt: String) {
    let (opts, weak) = (m.borrow().opts.clone(), Rc::downgrade(m));
    wasm_bindgen_futures::spawn_local(async move {
        let installed = receipts::install(&receipt, &opts.verify).await;
        if let Some(m) = weak.upgrade() {
            if installed.added {
                m.borrow_mut().added = Some((receipt, installed.place));
            }
            let action = Action::ReceiptInstalled { attempt_id, added: installed.added, warnings: installed.warnings };
            dispatch(&m, action);
        }
    });
}

fn verify_locally(m: &M, attempt_id: String, receipt: String) {
    let (opts, weak) = (m.borrow().opts.clone(), Rc::downgrade(m));
    wasm_bindgen_futures::spawn_local(async move {
        let check = receipts::check_local(&receipt, &opts.verify.policy, opts.verify.api_timeout_ms).await;
        let Some(m) = weak.upgrade() else { return };
        if let ReceiptCheck::Passed { verify, .. } = &check {
            m.borrow_mut().verify_url = Some(verify.clone());
        }
        let verdict = check.verdict().unwrap_or(widget::LocalVerdict::Failed(widget::LocalCheck::Signature));
        dispatch(&m, Action::LocalVerification { attempt_id, verdict });
    });
}

fn verify_with_store(m: &M, attempt_id: String, receipt: String) {
    let (opts, weak, url) = {
        let mm = m.borrow();
        (mm.opts.clone(), Rc::downgrade(m), mm.verify_url.clone())
    };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = match url {
            Some(u) => receipts::store_check(&u, &receipt, opts.verify.api_timeout_ms, keep_abort(weak.clone())).await,
            None => HttpAnswer::NetworkError,
        };
        if let Some(m) = weak.upgrade() {
            dispatch(&m, Action::StoreAnswer { attempt_id, answer });
        }
    });
}

fn remove_receipt(m: &M, receipt: String) {
    let (opts, added) = {
        let mut mm = m.borrow_mut();
        (mm.opts.clone(), mm.added.take())
    };
    let place = match added {
        Some((r, p)) if r == receipt => p,
        _ => return,
    };
    wasm_bindgen_futures::spawn_local(async move {
        receipts::remove(&receipt, place, &opts.verify).await;
    });
}

fn end_attempt(m: &M) {
    stop_listening(m);
    let (popup, timers, aborts, stream) = {
        let mut mm = m.borrow_mut();
        mm.mozpay_request = None;
        (mm.popup.take(), std::mem::take(&mut mm.timers), std::mem::take(&mut mm.aborts), mm.stream.take())
    };
    if let Some(p) = popup {
        let _ = p.close();
    }
    drop(timers);
    for a in aborts {
        a.abort();
    }
    drop(stream);
}

fn run_effect(m: &M, effect: Effect) -> Option<Action> {
    match effect {
        Effect::OpenBlankPopup => return Some(open_popup(m, "")),
        Effect::OpenPopup { url } => return Some(open_popup(m, &url)),
        Effect::NavigatePopup { url } => {
            let popup = m.borrow().popup.clone();
            if let Some(p) = popup {
                let _ = p.location().set_href(&url);
            }
        }
        Effect::FocusPopup => {
            let popup = m.borrow().popup.clone();
            if let Some(p) = popup {
                let _ = p.focus();
            }
        }
        Effect::ClosePopup => {
            let p = m.borrow_mut().popup.take();
            if let Some(p) = p {
                let _ = p.close();
            }
        }
        Effect::PostBuy { attempt_id } => post_buy(m, attempt_id),
        Effect::CallMozPay { attempt_id, jwt } => return call_mozpay(m, attempt_id, jwt),
        Effect::ListenForMessages => listen(m),
        Effect::StopListening => stop_listening(m),
        Effect::Schedule { attempt_id, timer, delay_ms } => schedule(m, attempt_id, timer, delay_ms),
        Effect::CancelTimer(kind) => {
            let t = {
                let mut mm = m.borrow_mut();
                let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut mm.timers).into_iter().partition(|(k, _)| *k == kind);
                mm.timers = kept;
                gone
            };
            drop(t);
        }
        Effect::GetStatus { attempt_id, url } => get_status(m, attempt_id, url),
        Effect::OpenEventStream { attempt_id, url } => open_stream(m, attempt_id, url),
        Effect::CloseEventStream => {
            let s = m.borrow_mut().stream.take();
            drop(s);
        }
        Effect::InstallReceipt { attempt_id, receipt } => install(m, attempt_id, receipt),
        Effect::RemoveReceipt { receipt } => remove_receipt(m, receipt),
        Effect::VerifyLocally { attempt_id, receipt } => verify_locally(m, attempt_id, receipt),
        Effect::VerifyWithStore { attempt_id, receipt } => verify_with_store(m, attempt_id, receipt),
        Effect::Announce { politeness, key } => {
            let mut mm = m.borrow_mut();
            mm.announce_seq = mm.announce_seq.wrapping_add(1);
            match politeness {
                Politeness::Polite => {
                    mm.polite = Some(key);
                    mm.alert = None;
                }
                Politeness::Alert => {
                    mm.polite = None;
                    mm.alert = Some(key);
                }
            }
        }
        Effect::Focus(target) => m.borrow_mut().focus = Some(target),
        Effect::Emit(event) => emit_event(m, event),
        Effect::EndAttempt => end_attempt(m),
    }
    None
}

fn emit_event(m: &M, event: Event) {
    let (element, cb) = {
        let mm = m.borrow();
        if mm.destroyed {
            return;
        }
        (mm.element.clone(), mm.callbacks.clone())
    };
    let cb = &cb;
    let weak = Rc::downgrade(m);
    let alive = move || weak.upgrade().is_some_and(|m| m.try_borrow().map(|mm| !mm.destroyed).unwrap_or(true));
    match event {
        Event::StateChange { state, previous, product_id, attempt_id } => {
            let detail = object(&[
                ("state", state.as_str().into()),
                ("previous", previous.as_str().into()),
                ("productId", product_id.as_str().into()),
                ("attemptId", opt_str(attempt_id.as_deref())),
            ]);
            emit(&element, "mozmarket-statechange", &detail, cb.on_state_change.as_ref(), &alive);
        }
        Event::Purchase(p) => {
            let verification = object(&[("local", "ok".into()), ("store", p.store.as_str().into())]);
            let detail = object(&[
                ("productId", p.product_id.as_str().into()),
                ("orderId", p.order_id.as_str().into()),
                ("transactionID", opt_str(p.transaction_id.as_deref())),
                ("receipt", p.receipt.as_str().into()),
                ("test", p.test.into()),
                ("verification", verification),
                ("attemptId", p.attempt_id.as_str().into()),
            ]);
            emit(&element, "mozmarket-purchase", &detail, cb.on_purchase.as_ref(), &alive);
        }
        Event::Failed { product_id, attempt_id, error } => {
            let err = widget_error(&error, Some(&product_id), Some(&attempt_id));
            let detail = object(&[
                ("productId", product_id.as_str().into()),
                ("attemptId", attempt_id.as_str().into()),
                ("code", error.code.as_str().into()),
                ("error", err),
            ]);
            emit(&element, "mozmarket-failed", &detail, cb.on_failed.as_ref(), &alive);
        }
        Event::Cancelled { product_id, attempt_id, reason, error } => {
            let err = widget_error(&error, Some(&product_id), Some(&attempt_id));
            let detail = object(&[
                ("productId", product_id.as_str().into()),
                ("attemptId", attempt_id.as_str().into()),
                ("reason", reason.as_str().into()),
                ("error", err),
            ]);
            emit(&element, "mozmarket-cancelled", &detail, cb.on_cancelled.as_ref(), &alive);
        }
        Event::Warning { product_id, attempt_id, error } => {
            let err = widget_error(&error, Some(&product_id), attempt_id.as_deref());
            let detail = object(&[
                ("productId", product_id.as_str().into()),
                ("attemptId", opt_str(attempt_id.as_deref())),
                ("error", err),
            ]);
            emit(&element, "mozmarket-warning", &detail, cb.on_warning.as_ref(), &alive);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// The machine as a yew property (compared by identity).
#[derive(Clone)]
pub struct Shared(pub M);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The properties of [`BuyButtonView`].
#[derive(Properties, PartialEq)]
pub struct Props {
    /// The button's state machine.
    pub machine: Shared,
}

/// The yew component that renders a Buy button from its machine.
pub struct BuyButtonView;

fn support_view(s: &Support, locale: Locale) -> Html {
    let _ = locale;
    let email = s.email.as_ref().map(|e| {
        let href = format!("mailto:{e}");
        html! { <> {" "}<a class="mozmarket-support-email" href={href}>{e.clone()}</a></> }
    });
    let url = s.url.as_ref().map(|u| {
        html! { <> {" "}<a class="mozmarket-support-url" href={u.clone()} rel="noopener noreferrer" target="_blank">{u.clone()}</a></> }
    });
    html! { <span class="mozmarket-support">{s.text.clone()}{email}{url}</span> }
}

/// The alert region's content for `failed` (§7.2): the message, the code, the support contact.
pub fn failure_content(key: MessageKey, code: &str, locale: Locale, support: Option<&Support>) -> Html {
    let message = format_message(key, locale, MessageArgs::default());
    let code_text = format_message(MessageKey::ErrorCode, locale, MessageArgs { code: Some(code), ..Default::default() });
    html! {
        <>
            <span class="mozmarket-message">{message}</span>
            {" "}
            <span class="mozmarket-code">{code_text}</span>
            { support.map(|s| html!{ <>{" "}{support_view(s, locale)}</> }) }
        </>
    }
}

impl Component for BuyButtonView {
    type Message = ();
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        ctx.props().machine.0.borrow_mut().rerender = Some(ctx.link().callback(|()| ()));
        BuyButtonView
    }

    fn update(&mut self, _ctx: &Context<Self>, _msg: ()) -> bool {
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let m = ctx.props().machine.0.clone();
        let mm = m.borrow();
        let cfg = &mm.opts.core;
        let locale = cfg.locale;
        let v = view(&mm.state, cfg);
        let name = mm.product_name();
        let button_text = match &v.button {
            ButtonText::Label(l) => html! { {l.clone()} },
            ButtonText::Key(k) => with_name(*k, locale, &name),
        };
        let state_name = mm.state.name();
        let failed = state_name == StateName::Failed;
        let alert_id = format!("mozmarket-alert-{}", mm.root_id());
        let (m1, m2, m3) = (m.clone(), m.clone(), m.clone());
        let onclick = Callback::from(move |_e: MouseEvent| {
            dispatch(&m1, Action::Activate { attempt_id: uuid_v4() });
        });
        let on_open = Callback::from(move |_e: MouseEvent| dispatch(&m2, Action::OpenPaymentWindow));
        let on_cancel = Callback::from(move |_e: MouseEvent| dispatch(&m3, Action::CancelBlocked));
        let alert = match (failed, mm.alert, mm.state.error()) {
            (true, Some(key), Some(e)) => failure_content(key, e.code.as_str(), locale, mm.opts.verify.support.as_ref()),
            _ => html! {},
        };
        let badge = v.test_badge.then(|| {
            html! { <span class="mozmarket-test-badge">{format_message(MessageKey::TestBadge, locale, MessageArgs::default())}</span> }
        });
        let blocked = v.blocked_controls.then(|| {
            html! {
                <span class="mozmarket-blocked">
                    <button type="button" class="mozmarket-open-window" ref={mm.open_ref.clone()} onclick={on_open}>
                        {format_message(MessageKey::OpenPaymentWindow, locale, MessageArgs::default())}
                    </button>
                    <button type="button" class="mozmarket-cancel" onclick={on_cancel}>
                        {format_message(MessageKey::Cancel, locale, MessageArgs::default())}
                    </button>
                </span>
            }
        });
        html! {
            <div class="mozmarket-buy" data-state={state_name.as_str()} aria-busy={if v.busy { "true" } else { "false" }} lang={locale.tag()} ref={mm.root_ref.clone()}>
                <button type="button" class="mozmarket-buy-main" ref={mm.main_ref.clone()}
                    aria-disabled={v.aria_disabled.then_some("true")}
                    aria-describedby={failed.then(|| alert_id.clone())}
                    {onclick}>
                    <span class="mozmarket-spinner" aria-hidden="true"></span>
                    {button_text}
                </button>
                {badge}
                {blocked}
                <div class="mozmarket-status" role="status" aria-live="polite" aria-atomic="true">
                    { mm.polite.map(|k| html! { <span key={mm.announce_seq}>{with_name(k, locale, &name)}</span> }) }
                </div>
                <div class="mozmarket-alert" role="alert" id={alert_id}>{alert}</div>
            </div>
        }
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first_render: bool) {
        let m = &ctx.props().machine.0;
        let (target, main, open, root) = {
            let mut mm = m.borrow_mut();
            (mm.focus.take(), mm.main_ref.clone(), mm.open_ref.clone(), mm.root_ref.clone())
        };
        let Some(target) = target else { return };
        // Only when focus is on <body> or inside the widget (§7.10).
        let Some(root_el) = root.cast::<web_sys::Element>() else { return };
        if !focus_allowed(&root_el) {
            return;
        }
        let el = match target {
            FocusTarget::MainButton => main.cast::<web_sys::HtmlElement>(),
            FocusTarget::OpenPaymentWindow => open.cast::<web_sys::HtmlElement>(),
        };
        if let Some(el) = el {
            let _ = el.focus();
        }
    }
}

impl Machine {
    fn root_id(&self) -> u32 {
        self.id
    }

    /// `{name}` (§7.9): the JWT's localised name with its language tag once the JWT is known,
    /// else `productName`, else the product id.
    fn product_name(&self) -> (String, Option<String>) {
        match self.product.as_ref().and_then(|p| p.name.clone().map(|n| (n, p.lang.clone()))) {
            Some((name, lang)) => (name, lang),
            None => (
                self.opts.core.product_name.clone().unwrap_or_else(|| self.opts.core.product_id.clone()),
                None,
            ),
        }
    }
}

/// A UI string with `{name}` as its own element (`lang` = the product text's language, §7.9);
/// the other placeholders have no value here.
fn with_name(key: MessageKey, locale: Locale, name: &(String, Option<String>)) -> Html {
    let text = key.text(locale);
    match text.split_once("{name}") {
        None => html! { {format_message(key, locale, MessageArgs::default())} },
        Some((before, after)) => html! {
            <>
                {before}
                <span class="mozmarket-product-name" lang={name.1.clone()}>{name.0.clone()}</span>
                {after}
            </>
        },
    }
}

thread_local! {
    static NEXT_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

pub(super) fn next_id() -> u32 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    })
}

/// §7.10: the widget moves focus only when focus is on `<body>` or inside the widget (`root`).
pub(super) fn focus_allowed(root: &web_sys::Element) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    // The active element of the widget's own tree (its shadow root, or the document).
    let node: &web_sys::Node = root.as_ref();
    let tree = node.get_root_node();
    let active = Reflect::get(&tree, &"activeElement".into()).ok().and_then(|a| a.dyn_into::<web_sys::Element>().ok());
    let doc_active = doc.active_element();
    let on_body = doc_active.as_ref().is_none_or(|a| doc.body().is_some_and(|b| Object::is(b.as_ref(), a.as_ref())));
    let inside = active.as_ref().is_some_and(|a| root.contains(Some(a.as_ref())));
    inside || (on_body && (active.is_none() || tree.dyn_ref::<web_sys::Document>().is_some()))
}

/// The handle `mountBuyButton` returns (§7.1).
#[wasm_bindgen(js_name = BuyButtonHandle)]
pub struct BuyHandle {
    machine: M,
    app: RefCell<Option<yew::AppHandle<BuyButtonView>>>,
    container: web_sys::Element,
}

fn destroyed_error() -> JsValue {
    let e = widget::WidgetError::new(widget::ErrorCode::IncorrectUsage).with_str("method", "destroyed");
    widget_error(&e, None, None)
}

#[wasm_bindgen(js_class = BuyButtonHandle)]
impl BuyHandle {
    /// The current state name (`idle`, `preparing`, …).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.machine.try_borrow().map(|m| m.state.name().as_str().to_owned()).unwrap_or_default()
    }

    /// Back to `idle` from `failed`, `cancelled` or `purchased`.
    pub fn reset(&self) -> Result<(), JsValue> {
        if self.destroyed() {
            return Err(destroyed_error());
        }
        dispatch(&self.machine, Action::Reset);
        Ok(())
    }

    /// Removes listeners and the DOM and closes a popup the widget opened. No events afterwards.
    /// Safe to call from inside a callback (including one run by `reset()`), and more than once.
    pub fn destroy(&self) {
        let Some(app) = self.app.try_borrow_mut().ok().and_then(|mut a| a.take()) else { return };
        if let Ok(mut mm) = self.machine.try_borrow_mut() {
            mm.destroyed = true;
            mm.rerender = None;
            mm.callbacks = super::options::Callbacks::default();
            mm.queue.clear();
        }
        end_attempt(&self.machine);
        app.destroy();
        self.container.remove();
    }

    /// Whether `destroy()` has run.
    #[wasm_bindgen(getter)]
    pub fn destroyed(&self) -> bool {
        self.app.try_borrow().map(|a| a.is_none()).unwrap_or(true)
    }
}

/// Where a widget renders: a fresh `div` in the element's shadow root if it has one, else in the
/// element; the widget's stylesheet is adopted there (or by the document).
pub fn container_for(element: &web_sys::Element, class: &str) -> Result<web_sys::Element, JsValue> {
    let doc = web_sys::window().and_then(|w| w.document()).ok_or_else(|| ujs::js_error("mozmarket widgets need a document"))?;
    let div = doc.create_element("div")?;
    div.set_class_name(class);
    match element.shadow_root() {
        Some(sr) => {
            style::adopt(sr.as_ref());
            sr.append_child(&div)?;
        }
        None => {
            style::adopt(doc.as_ref());
            element.append_child(&div)?;
        }
    }
    Ok(div)
}

/// `mountBuyButton(element, options)` (§7.1). The JS wrapper makes it idempotent per element.
#[wasm_bindgen(js_name = mountBuyButton)]
pub fn mount_buy_button(element: web_sys::Element, options: JsValue) -> Result<BuyHandle, JsValue> {
    let opts = buy_options(&options)?;
    let callbacks = opts.callbacks.clone();
    let state = State::initial(&opts.core);
    let container = container_for(&element, "mozmarket-root")?;
    let machine = Rc::new(RefCell::new(Machine {
        opts: Rc::new(opts),
        state,
        element,
        popup: None,
        listener: None,
        timers: Vec::new(),
        aborts: Vec::new(),
        stream: None,
        mozpay_request: None,
        polite: None,
        announce_seq: 0,
        callbacks,
        product: None,
        alert: None,
        focus: None,
        verify_url: None,
        added: None,
        destroyed: false,
        running: false,
        queue: VecDeque::new(),
        rerender: None,
        main_ref: NodeRef::default(),
        open_ref: NodeRef::default(),
        root_ref: NodeRef::default(),
        id: next_id(),
    }));
    let app = yew::Renderer::<BuyButtonView>::with_root_and_props(
        container.clone(),
        Props { machine: Shared(machine.clone()) },
    )
    .render();
    Ok(BuyHandle { machine, app: RefCell::new(Some(app)), container })
}

/// The error a JS value for `detail.error` would carry, for tests of the catalogue.
#[wasm_bindgen(js_name = widgetErrorFor)]
pub fn widget_error_for(code: &str) -> JsValue {
    match widget::ErrorCode::from_code(code) {
        Some(c) => widget_error(&widget::WidgetError::new(c), None, None),
        None => JsValue::UNDEFINED,
    }
}
