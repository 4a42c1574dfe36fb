//! The Restore purchases button (payments §7.8): `GET restoreUrl`, then each entry installed
//! and verified as in §7.5 with the entry's own product id, then `mozmarket-restored`. The
//! decisions (answer classification, per-entry outcome) are core's; this runs them in order.

use super::buy::{container_for, failure_content};
use super::js::{self as ujs, emit, object, opt_str, widget_error, VERSION};
use super::options::{restore_options, RestoreOptions};
use super::receipts;
use js_sys::Array;
use mozmarket_core::widget::{
    self, classify_restore_list, format_message, restore_outcome, ErrorCode, HttpAnswer,
    LocalVerdict, MessageArgs, MessageKey, ReceiptCheck, RestoreEntry, RestoreOutcome,
    WidgetError,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Restoring,
    Failed(WidgetError),
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Restoring => "restoring",
            Phase::Failed(_) => "failed",
        }
    }
}

/// The state of one Restore button: its options, phase, element and live-region text.
pub struct RestoreMachine {
    opts: Rc<RestoreOptions>,
    phase: Phase,
    element: web_sys::Element,
    polite: String,
    destroyed: bool,
    /// Move focus to the button after the next render (entering `failed`, §7.10).
    focus_main: bool,
    id: u32,
    button: NodeRef,
    rerender: Option<Callback<()>>,
}

type M = Rc<RefCell<RestoreMachine>>;

/// Whether the restore button is still mounted (checked after each callback, §7.1).
fn alive_fn(m: &M) -> impl Fn() -> bool {
    let weak = Rc::downgrade(m);
    move || weak.upgrade().is_some_and(|m| m.try_borrow().map(|mm| !mm.destroyed).unwrap_or(true))
}

fn set_phase(m: &M, phase: Phase) {
    let (element, opts, previous, name) = {
        let mut mm = m.borrow_mut();
        if mm.destroyed {
            return;
        }
        let previous = mm.phase.name();
        mm.phase = phase;
        (mm.element.clone(), mm.opts.clone(), previous, mm.phase.name())
    };
    let detail = object(&[("state", name.into()), ("previous", previous.into())]);
    emit(&element, "mozmarket-statechange", &detail, opts.callbacks.on_state_change.as_ref(), &alive_fn(m));
    rerender(m);
}

fn rerender(m: &M) {
    let cb = m.borrow().rerender.clone();
    if let Some(cb) = cb {
        cb.emit(());
    }
}

fn warn(m: &M, e: &WidgetError) {
    let (element, opts, destroyed) = {
        let mm = m.borrow();
        (mm.element.clone(), mm.opts.clone(), mm.destroyed)
    };
    if destroyed {
        return;
    }
    let detail = object(&[("productId", JsValue::NULL), ("attemptId", JsValue::NULL), ("error", widget_error(e, None, None))]);
    emit(&element, "mozmarket-warning", &detail, opts.callbacks.on_warning.as_ref(), &alive_fn(m));
}

/// One entry: install, local check, store check (§7.8 step 3–4). `Ok` carries the store verdict.
async fn restore_one(m: &M, opts: &RestoreOptions, entry: &RestoreEntry) -> Result<(String, &'static str), ErrorCode> {
    let mut verify_opts = opts.verify.clone();
    verify_opts.policy.product_id = entry.product_id.clone();
    let mut receipt = entry.receipt.clone();
    let mut reverified = false;
    loop {
        let installed = receipts::install(&receipt, &verify_opts).await;
        for code in &installed.warnings {
            warn(m, &WidgetError::new(ErrorCode::AddReceiptError).with_str("platformCode", code));
        }
        let check = receipts::check_local(&receipt, &verify_opts.policy, verify_opts.api_timeout_ms).await;
        let (verdict, answer) = match &check {
            ReceiptCheck::Passed { verify, .. } => {
                let a = receipts::store_check(verify, &receipt, verify_opts.api_timeout_ms, |_| {}).await;
                (check.verdict().unwrap_or(LocalVerdict::Failed(widget::LocalCheck::Signature)), a)
            }
            _ => (check.verdict().unwrap_or(LocalVerdict::Failed(widget::LocalCheck::Signature)), HttpAnswer::NetworkError),
        };
        match restore_outcome(verdict, verify_opts.policy.allow_test_receipts, &answer, reverified) {
            RestoreOutcome::Restored { store, warning } => {
                if let Some(w) = warning {
                    warn(m, &w);
                }
                return Ok((receipt, store.as_str()));
            }
            RestoreOutcome::Skipped(code) => {
                receipts::remove(&receipt, installed.place, &verify_opts).await;
                return Err(code);
            }
            RestoreOutcome::Replace { receipt: fresh } => {
                receipts::remove(&receipt, installed.place, &verify_opts).await;
                receipt = fresh;
                reverified = true;
            }
        }
    }
}

/// Starts a restore run unless one is running: the phase changes synchronously, so two
/// activations in a row start one run.
fn start(m: &M) {
    let busy = m.borrow().phase == Phase::Restoring || m.borrow().destroyed;
    if busy {
        return;
    }
    let locale = m.borrow().opts.verify.locale;
    m.borrow_mut().polite = format_message(MessageKey::Restoring, locale, MessageArgs::default());
    set_phase(m, Phase::Restoring);
    wasm_bindgen_futures::spawn_local(run(m.clone()));
}

async fn run(m: M) {
    let opts = m.borrow().opts.clone();
    let answer = ujs::http(
        ujs::HttpRequest {
            method: "GET",
            url: &opts.restore_url,
            headers: &[("Accept", "application/json"), ("X-Mozmarket-Version", VERSION)],
            body: None,
            credentials: if opts.verify.credentials_include {
                web_sys::RequestCredentials::Include
            } else {
                web_sys::RequestCredentials::SameOrigin
            },
            no_store: true,
            timeout_ms: opts.verify.api_timeout_ms,
        },
        |_| {},
    )
    .await;
    let list = match classify_restore_list(&answer) {
        Ok(l) => l,
        Err(e) => {
            {
                let mut mm = m.borrow_mut();
                mm.polite = String::new();
                mm.focus_main = true;
            }
            set_phase(&m, Phase::Failed(e.clone()));
            let (element, destroyed) = {
                let mm = m.borrow();
                (mm.element.clone(), mm.destroyed)
            };
            if !destroyed {
                let detail = object(&[
                    ("productId", JsValue::NULL),
                    ("attemptId", JsValue::NULL),
                    ("code", e.code.as_str().into()),
                    ("error", widget_error(&e, None, None)),
                ]);
                emit(&element, "mozmarket-failed", &detail, opts.callbacks.on_failed.as_ref(), &alive_fn(&m));
            }
            return;
        }
    };
    if list.truncated || list.malformed > 0 {
        let e = WidgetError::new(ErrorCode::BadApiResponse)
            .with("truncated", mozmarket_core::Json::Bool(list.truncated))
            .with("malformed", mozmarket_core::Json::Num(list.malformed as f64));
        warn(&m, &e);
    }
    let products = Array::new();
    let skipped = Array::new();
    for entry in &list.entries {
        if m.borrow().destroyed {
            return;
        }
        match restore_one(&m, &opts, entry).await {
            Ok((receipt, store)) => {
                let verification = object(&[("local", "ok".into()), ("store", store.into())]);
                products.push(&object(&[
                    ("productId", entry.product_id.as_str().into()),
                    ("orderId", opt_str(entry.order_id.as_deref())),
                    ("transactionID", opt_str(entry.transaction_id.as_deref())),
                    ("receipt", receipt.as_str().into()),
                    ("verification", verification),
                ]));
            }
            Err(code) => {
                skipped.push(&object(&[
                    ("productId", entry.product_id.as_str().into()),
                    ("transactionID", opt_str(entry.transaction_id.as_deref())),
                    ("code", code.as_str().into()),
                ]));
            }
        }
    }
    let count = products.length();
    {
        let mut mm = m.borrow_mut();
        mm.polite = if count == 0 {
            format_message(MessageKey::RestoredNone, opts.verify.locale, MessageArgs::default())
        } else {
            format_message(MessageKey::RestoredStatus, opts.verify.locale, MessageArgs { count: Some(u64::from(count)), ..Default::default() })
        };
    }
    set_phase(&m, Phase::Idle);
    let (element, destroyed) = {
        let mm = m.borrow();
        (mm.element.clone(), mm.destroyed)
    };
    if !destroyed {
        let detail = object(&[("products", products.into()), ("skipped", skipped.into())]);
        emit(&element, "mozmarket-restored", &detail, opts.callbacks.on_restored.as_ref(), &alive_fn(&m));
    }
}

/// The machine as a yew property (compared by identity).
#[derive(Clone)]
pub struct Shared(M);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The properties of [`RestoreView`].
#[derive(Properties, PartialEq)]
pub struct Props {
    machine: Shared,
}

/// The yew component that renders a Restore button from its machine.
pub struct RestoreView;

impl Component for RestoreView {
    type Message = ();
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        ctx.props().machine.0.borrow_mut().rerender = Some(ctx.link().callback(|()| ()));
        RestoreView
    }

    fn update(&mut self, _ctx: &Context<Self>, _msg: ()) -> bool {
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let m = ctx.props().machine.0.clone();
        let mm = m.borrow();
        let locale = mm.opts.verify.locale;
        let busy = mm.phase == Phase::Restoring;
        let key = match mm.phase {
            Phase::Idle => MessageKey::Restore,
            Phase::Restoring => MessageKey::Restoring,
            Phase::Failed(_) => MessageKey::Retry,
        };
        let text = format_message(key, locale, MessageArgs::default());
        let m1 = m.clone();
        let onclick = Callback::from(move |_e: MouseEvent| start(&m1));
        let alert = match &mm.phase {
            Phase::Failed(e) => match e.message_key() {
                Some(k) => failure_content(k, e.code.as_str(), locale, mm.opts.verify.support.as_ref()),
                None => html! {},
            },
            _ => html! {},
        };
        let failed = matches!(mm.phase, Phase::Failed(_));
        let alert_id = format!("mozmarket-restore-alert-{}", mm.id);
        html! {
            <div class="mozmarket-buy mozmarket-restore" data-state={mm.phase.name()} aria-busy={if busy { "true" } else { "false" }} lang={locale.tag()}>
                <button type="button" class="mozmarket-restore-main" ref={mm.button.clone()} aria-disabled={busy.then_some("true")}
                    aria-describedby={failed.then(|| alert_id.clone())} {onclick}>
                    <span class="mozmarket-spinner" aria-hidden="true"></span>
                    {text}
                </button>
                <div class="mozmarket-status" role="status" aria-live="polite" aria-atomic="true">{mm.polite.clone()}</div>
                <div class="mozmarket-alert" role="alert" id={alert_id}>{alert}</div>
            </div>
        }
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first_render: bool) {
        let m = &ctx.props().machine.0;
        let (focus, button) = {
            let Ok(mut mm) = m.try_borrow_mut() else { return };
            (std::mem::take(&mut mm.focus_main), mm.button.clone())
        };
        if !focus {
            return;
        }
        // Only when focus is on <body> or inside the widget (§7.10).
        let Some(el) = button.cast::<web_sys::HtmlElement>() else { return };
        if super::buy::focus_allowed(el.as_ref()) {
            let _ = el.focus();
        }
    }
}

/// The handle `mountRestoreButton` returns.
#[wasm_bindgen(js_name = RestoreButtonHandle)]
pub struct RestoreHandle {
    machine: M,
    app: Option<yew::AppHandle<RestoreView>>,
    container: web_sys::Element,
}

#[wasm_bindgen(js_class = RestoreButtonHandle)]
impl RestoreHandle {
    /// `idle`, `restoring` or `failed`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.machine.borrow().phase.name().to_owned()
    }

    /// Starts a restore run, as activating the button does (ignored while one runs).
    pub fn restore(&self) -> Result<(), JsValue> {
        if self.app.is_none() {
            let e = WidgetError::new(ErrorCode::IncorrectUsage).with_str("method", "destroyed");
            return Err(widget_error(&e, None, None));
        }
        start(&self.machine);
        Ok(())
    }

    /// Removes the DOM; no events afterwards.
    pub fn destroy(&mut self) {
        let Some(app) = self.app.take() else { return };
        {
            let mut mm = self.machine.borrow_mut();
            mm.destroyed = true;
            mm.rerender = None;
        }
        app.destroy();
        self.container.remove();
    }
}

/// `mountRestoreButton(element, options)` (§7.8).
#[wasm_bindgen(js_name = mountRestoreButton)]
pub fn mount_restore_button(element: web_sys::Element, options: JsValue) -> Result<RestoreHandle, JsValue> {
    let opts = restore_options(&options)?;
    let container = container_for(&element, "mozmarket-root")?;
    let machine = Rc::new(RefCell::new(RestoreMachine {
        opts: Rc::new(opts),
        phase: Phase::Idle,
        element,
        polite: String::new(),
        destroyed: false,
        focus_main: false,
        id: super::buy::next_id(),
        button: NodeRef::default(),
        rerender: None,
    }));
    let app = yew::Renderer::<RestoreView>::with_root_and_props(container.clone(), Props { machine: Shared(machine.clone()) }).render();
    Ok(RestoreHandle { machine, app: Some(app), container })
}
