//! The Prompter overlay (receipts §8), rendered with yew.
//!
//! Core decides, the shell renders: option and template checks, the state → template decision,
//! template expansion and the HTML sanitiser all live in `mozmarket_core::prompter`. This module
//! exposes them to `js/prompter.js` (the JS `Prompter` class) and renders the §8.4 overlay:
//!
//! ```text
//! document.body
//! └─ div#O                 the backdrop; created here, the yew app's host element
//!    └─ div#O-message       role=dialog …   ┐
//!       ├─ button#O-close   closable only   │ rendered by yew ([`OverlayView`]) from the
//!       │  └─ span#O-close-text  "×"        │ sanitised `Node` tree: text is always a text
//!       ├─ div#O-title      dialogLabel     │ node, never markup
//!       └─ div#O-text       the message     ┘
//! ```
//!
//! `#O` is created synchronously (so `prompter.overlay` is set when `respond` returns); yew
//! renders `#O-message` into it in a microtask, and focus moves into the dialog once it has
//! rendered. Behaviour (§8.4): Escape and clicks outside the message close a closable overlay and
//! flash a blocking one (border `#f00` for 2000 ms, restarted by each attempt, via CSSOM); Tab
//! and Shift+Tab cycle inside the message; the other children of `body` are made `inert` (and
//! exactly those are restored); focus returns to the element that had it. Styles are one
//! constructed `CSSStyleSheet` per overlay id adopted into the document, or, where
//! `adoptedStyleSheets` is unsupported, a `<style id="O-style">` added once (§8.7).
//!
//! Nothing here panics: every DOM call that can throw is a `Result`, and the shared state uses
//! `try_borrow*` with short borrows that never span a call back into JS.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Error as JsError, Function, Object, Reflect};
use mozmarket_core::prompter::{
    self as core, Node, PromptAction, PrompterError, RespondOptions, TemplateName, LINK_REL,
};
use mozmarket_core::Class;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CssStyleSheet, Document, Element, Event, HtmlElement, KeyboardEvent, MouseEvent};
use yew::prelude::*;

use crate::convert::{obj, set};
use crate::urlparse::BrowserUrl;

// ---------------------------------------------------------------------------------------------
// §8.1 option and template checks
// ---------------------------------------------------------------------------------------------

fn throw(e: &PrompterError) -> JsValue {
    JsError::new(&e.message()).into()
}

/// §8.1 step 2: throws `Unknown option: ‹key›` unless `key` is a Prompter option.
#[wasm_bindgen(js_name = prompterCheckOptionName)]
pub fn prompter_check_option_name(key: &str) -> Result<(), JsValue> {
    core::check_option_name(key).map_err(|e| throw(&e))
}

/// Merges one templates object into `set`, in its key order (§8.1 step 3).
fn merge_templates(set: &mut core::TemplateSet, value: &JsValue) -> Result<(), JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(());
    }
    if !(value.is_object() || value.is_function()) {
        return Err(throw(&PrompterError::InvalidTemplates));
    }
    let o: &Object = value.unchecked_ref();
    for key in Object::keys(o).iter() {
        let Some(k) = key.as_string() else { continue };
        if TemplateName::from_name(&k).is_none() {
            return Err(throw(&PrompterError::UnknownTemplate(k)));
        }
        let Some(text) = Reflect::get(o, &key)?.as_string() else {
            return Err(throw(&PrompterError::TemplateNotString(k)));
        };
        set.set(&k, &text).map_err(|e| throw(&e))?;
    }
    Ok(())
}

fn templates_object(set: &core::TemplateSet) -> Object {
    let o = obj();
    for name in TemplateName::ALL {
        set_str(&o, name.as_str(), set.text(name));
    }
    o
}

fn set_str(o: &Object, key: &str, value: &str) {
    set(o, key, &JsValue::from_str(value));
}

/// §8.1 step 3 and §8.3: the effective templates of a Prompter, as a new plain object with all
/// ten names. `base` is `Prompter.prototype.templates` (its entries are validated like
/// overrides), `overrides` the `templates` option; each is `undefined`/`null` (none) or an object
/// of strings. Throws `Invalid templates option`, `Unknown template: ‹key›`,
/// `Template ‹key› must be a string` or `Unsupported template expression in ‹key›: ‹placeholder›`
/// for the first bad entry (`base` first, then `overrides`, each in key order).
#[wasm_bindgen(js_name = prompterTemplates)]
pub fn prompter_templates(base: JsValue, overrides: JsValue) -> Result<Object, JsValue> {
    let mut set = core::TemplateSet::defaults();
    merge_templates(&mut set, &base)?;
    merge_templates(&mut set, &overrides)?;
    Ok(templates_object(&set))
}

/// The default templates of §8.3 (exact text), as a new plain object.
#[wasm_bindgen(js_name = prompterDefaultTemplates)]
pub fn prompter_default_templates() -> Object {
    templates_object(&core::TemplateSet::defaults())
}

/// §8.1 step 4. `given` is the JS truthiness of the `storeURL` option and `text` its `String()`.
/// Throws `You must provide a storeURL option` or `Invalid storeURL option`.
#[wasm_bindgen(js_name = prompterCheckStoreUrl)]
pub fn prompter_check_store_url(given: bool, text: &str) -> Result<(), JsValue> {
    if !given {
        return Err(throw(&PrompterError::MissingStoreUrl));
    }
    if text.is_empty() {
        // A truthy value whose text is empty (`[]`) is not a URL.
        return Err(throw(&PrompterError::InvalidStoreUrl));
    }
    core::validate_store_url(text, &BrowserUrl).map_err(|e| throw(&e))
}

/// §8.1 step 5. Throws `You must provide a supportHTML option` (falsy) or
/// `Invalid supportHTML option` (not a string).
#[wasm_bindgen(js_name = prompterCheckSupportHtml)]
pub fn prompter_check_support_html(given: bool, is_string: bool) -> Result<(), JsValue> {
    if !given {
        Err(throw(&PrompterError::MissingSupportHtml))
    } else if !is_string {
        Err(throw(&PrompterError::InvalidSupportHtml))
    } else {
        Ok(())
    }
}

/// §8.1 step 6: the overlay id to use (`undefined` → `moz-receiptverifier-overlay`). Throws
/// `Invalid overlayId option` for anything else that is not a matching string.
#[wasm_bindgen(js_name = prompterCheckOverlayId)]
pub fn prompter_check_overlay_id(value: JsValue) -> Result<String, JsValue> {
    if value.is_undefined() {
        return Ok(core::DEFAULT_OVERLAY_ID.to_owned());
    }
    let Some(id) = value.as_string() else {
        return Err(throw(&PrompterError::InvalidOverlayId));
    };
    core::validate_overlay_id(&id).map_err(|e| throw(&e))?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// §8.2 respond
// ---------------------------------------------------------------------------------------------

fn depth(c: Class) -> usize {
    let mut n = 0;
    let mut p = c.parent();
    while let Some(q) = p {
        n += 1;
        p = q.parent();
    }
    n
}

/// The most derived class among the names an object is an `instanceof` (JS tested them against
/// the verifier's own `states`/`errors`).
fn most_derived(names: &JsValue) -> Option<Class> {
    let a: &Array = names.dyn_ref()?;
    a.iter()
        .filter_map(|n| n.as_string())
        .filter_map(|n| Class::from_name(&n))
        .max_by_key(|c| depth(*c))
}

/// §8.2. `state_classes`: the class names (§5.2/§5.3) `verifier.state` is an `instanceof`;
/// `error_classes`: one such array per receipt error, in `iterReceiptErrors` order;
/// `state_text`: called (only for row 8) to get `String(state)`.
///
/// Returns `{action: "nothing"}`, `{action: "show", template, blocking}` or
/// `{action: "throw", message}`, with `reason` (the index of the chosen receipt error) in row 7.
#[wasm_bindgen(js_name = prompterRespond)]
pub fn prompter_respond(
    state_classes: JsValue,
    error_classes: Array,
    allow_no_install: bool,
    ignore_internal_error: bool,
    fatal_internal_error: bool,
    state_text: &Function,
) -> Object {
    let state = most_derived(&state_classes);
    let errors: Vec<Option<Class>> = error_classes.iter().map(|e| most_derived(&e)).collect();
    let options = RespondOptions {
        allow_no_install,
        ignore_internal_error,
        fatal_internal_error,
    };
    let r = core::respond(state, options, &errors);
    let o = obj();
    match r.action {
        PromptAction::Nothing => set_str(&o, "action", "nothing"),
        PromptAction::Show { template, blocking } => {
            set_str(&o, "action", "show");
            set_str(&o, "template", template.as_str());
            set(&o, "blocking", &JsValue::from_bool(blocking));
        }
        PromptAction::ThrowNotComplete => {
            set_str(&o, "action", "throw");
            set_str(&o, "message", core::NOT_COMPLETE_MESSAGE);
        }
        PromptAction::ThrowUnexpectedState => {
            let text = state_text.call0(&JsValue::UNDEFINED).ok().and_then(|t| t.as_string());
            set_str(&o, "action", "throw");
            set_str(&o, "message", &core::unexpected_state_message(&text.unwrap_or_default()));
        }
    }
    if let Some(i) = r.reason {
        set(&o, "reason", &JsValue::from_f64(i as f64));
    }
    o
}

// ---------------------------------------------------------------------------------------------
// The yew view
// ---------------------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct ViewProps {
    /// The overlay id `O`.
    id: AttrValue,
    /// `templates.dialogLabel`, a text node.
    label: AttrValue,
    /// The sanitised message.
    nodes: Rc<Vec<Node>>,
    /// Whether the close button exists.
    closable: bool,
    on_close: Callback<MouseEvent>,
}

/// One sanitised node as yew nodes: text is a text node, elements are the eight kept tags with
/// no attributes except `href` (and `rel`) on `a`.
fn node_html(n: &Node) -> Html {
    match n {
        Node::Text(t) => html! { { AttrValue::from(t.clone()) } },
        Node::Element { tag, href, children } => {
            let kids: Html = children.iter().map(node_html).collect();
            match *tag {
                "a" => match href {
                    Some(h) => html! { <a href={h.clone()} rel={LINK_REL}>{ kids }</a> },
                    None => kids,
                },
                "b" => html! { <b>{ kids }</b> },
                "strong" => html! { <strong>{ kids }</strong> },
                "i" => html! { <i>{ kids }</i> },
                "em" => html! { <em>{ kids }</em> },
                "br" => html! { <br /> },
                "p" => html! { <p>{ kids }</p> },
                "span" => html! { <span>{ kids }</span> },
                _ => kids,
            }
        }
    }
}

#[function_component(OverlayView)]
fn overlay_view(props: &ViewProps) -> Html {
    let message = use_node_ref();
    {
        let message = message.clone();
        // §8.4 showing step 4: focus moves into the dialog once it exists.
        use_effect_with((), move |_| {
            if let Some(el) = message.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    let id = props.id.as_str();
    let close = props.closable.then(|| {
        html! {
            <button id={format!("{id}-close")} type="button" aria-label="Close"
                onclick={props.on_close.clone()}>
                <span id={format!("{id}-close-text")} aria-hidden="true">{ "\u{D7}" }</span>
            </button>
        }
    });
    html! {
        <div id={format!("{id}-message")} ref={message} role="dialog" aria-modal="true"
            aria-labelledby={format!("{id}-title")} aria-describedby={format!("{id}-text")}
            tabindex="-1">
            { for close }
            <div id={format!("{id}-title")}>{ props.label.clone() }</div>
            <div id={format!("{id}-text")}>{ for props.nodes.iter().map(node_html) }</div>
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Styles (§8.4, §8.7)
// ---------------------------------------------------------------------------------------------

/// The overlay's stylesheet for id `O` (ids match `^[A-Za-z][A-Za-z0-9_-]*$`, so they are safe
/// in selectors). Contrast: black on white 21:1, links `#00f` 8.6:1 and visited `#a0f` 5.1:1 on
/// white, the "×" white on black 21:1.
fn stylesheet_text(id: &str) -> String {
    let o = format!("#{id}");
    let m = format!("#{id}-message");
    [
        format!(
            "{o}{{position:fixed;top:0;right:0;bottom:0;left:0;z-index:9999;margin:0;padding:0;\
             background:rgba(0,0,0,0.85);overflow:auto;opacity:1;}}"
        ),
        format!(
            "{m}{{position:relative;box-sizing:border-box;width:400px;max-width:calc(100vw - 32px);\
             margin:100px auto 32px;padding:0.75em 1em;border:3px solid #ccc;border-radius:1em;\
             background:#fff;color:#000;opacity:1;font-family:Helvetica,Arial,sans-serif;\
             font-size:16px;font-weight:normal;font-style:normal;line-height:1.4;text-align:left;\
             letter-spacing:normal;text-transform:none;}}"
        ),
        format!("{m} a{{color:#00f;text-decoration:underline;}}"),
        format!("{m} a:visited{{color:#a0f;}}"),
        format!("{m} a:hover{{text-decoration:underline;}}"),
        format!("{m} p{{margin:0.5em 0;}}"),
        format!(
            "#{id}-close{{position:absolute;top:-11px;right:-11px;box-sizing:content-box;\
             width:18px;height:18px;margin:0;padding:0;border:2px solid #fff;border-radius:50%;\
             background:#000;color:#fff;font:bold 14px/18px Helvetica,Arial,sans-serif;\
             text-align:center;cursor:pointer;}}"
        ),
        format!("#{id}-close-text{{display:block;line-height:18px;}}"),
        // A focus ring that shows on the white box and on the dark backdrop alike.
        format!(
            "#{id}-close:focus-visible{{outline:3px solid #00f;outline-offset:1px;\
             box-shadow:0 0 0 6px #fff;}}"
        ),
        format!(
            "#{id}-title{{position:absolute;width:1px;height:1px;margin:-1px;padding:0;\
             border:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);\
             white-space:nowrap;}}"
        ),
    ]
    .concat()
}

thread_local! {
    /// One constructed sheet per overlay id, created once.
    static SHEETS: RefCell<Vec<(String, CssStyleSheet)>> = const { RefCell::new(Vec::new()) };
}

fn sheet_for(id: &str) -> Option<CssStyleSheet> {
    let cached = SHEETS.with(|s| {
        s.try_borrow().ok().and_then(|v| v.iter().find(|(k, _)| k == id).map(|(_, s)| s.clone()))
    });
    if cached.is_some() {
        return cached;
    }
    let sheet = CssStyleSheet::new().ok()?;
    sheet.replace_sync(&stylesheet_text(id)).ok()?;
    SHEETS.with(|s| {
        if let Ok(mut v) = s.try_borrow_mut() {
            v.push((id.to_owned(), sheet.clone()));
        }
    });
    Some(sheet)
}

/// Adopts the sheet for `id` into the document (once), or adds `<style id="O-style">` once when
/// constructed, adoptable sheets are unsupported.
fn ensure_styles(document: &Document, id: &str) {
    let adoptable = Reflect::get(document, &"adoptedStyleSheets".into())
        .map(|v| Array::is_array(&v))
        .unwrap_or(false);
    if adoptable {
        if let Some(sheet) = sheet_for(id) {
            let current = document.adopted_style_sheets();
            if !current.includes(&sheet, 0) {
                let next = current.concat(&Array::of1(&sheet));
                document.set_adopted_style_sheets(&next);
            }
            return;
        }
    }
    let style_id = format!("{id}-style");
    if document.get_element_by_id(&style_id).is_some() {
        return;
    }
    let Ok(style) = document.create_element("style") else { return };
    style.set_id(&style_id);
    style.set_text_content(Some(&stylesheet_text(id)));
    let parent: Option<Element> = document.head().map(Into::into).or_else(|| document.document_element());
    if let Some(p) = parent {
        let _ = p.append_child(&style);
    }
}

// ---------------------------------------------------------------------------------------------
// The overlay: showing, behaviour, removing (§8.4)
// ---------------------------------------------------------------------------------------------

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout`, with the handle as a number: handles are not always 32-bit
    /// (fake clocks in tests hand out large ones), so they are not narrowed to `i32`.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(handler: &Function, timeout: i32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue) -> Result<(), JsValue>;
}

/// `el.focus()` for any element kind (HTML, SVG, MathML); failures are ignored.
fn focus_any(el: &Element) {
    if let Ok(f) = Reflect::get(el, &"focus".into()) {
        if let Some(f) = f.dyn_ref::<Function>() {
            let _ = f.call0(el);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for `DOMContentLoaded` (no `document.body` yet).
    Pending,
    Shown,
}

#[derive(Default)]
struct Listeners {
    key: Option<Closure<dyn FnMut(KeyboardEvent)>>,
    click: Option<Closure<dyn FnMut(MouseEvent)>>,
    mousedown: Option<Closure<dyn FnMut(MouseEvent)>>,
    ready: Option<Closure<dyn FnMut(Event)>>,
}

struct Overlay {
    serial: u32,
    id: String,
    blocking: bool,
    document: Document,
    root: HtmlElement,
    phase: Cell<Phase>,
    /// The props for the yew app, until it is mounted.
    props: RefCell<Option<ViewProps>>,
    app: RefCell<Option<yew::AppHandle<OverlayView>>>,
    /// `document.activeElement` when shown.
    restore: RefCell<Option<Element>>,
    /// Exactly the elements this overlay made `inert`.
    inerted: RefCell<Vec<Element>>,
    listeners: RefCell<Listeners>,
    flash_timer: RefCell<Option<JsValue>>,
    flash_callback: RefCell<Option<Closure<dyn FnMut()>>>,
    on_removed: Function,
}

thread_local! {
    /// Live overlays, oldest first.
    static OVERLAYS: RefCell<Vec<Rc<Overlay>>> = const { RefCell::new(Vec::new()) };
    static NEXT_SERIAL: Cell<u32> = const { Cell::new(1) };
}

fn find(serial: u32) -> Option<Rc<Overlay>> {
    OVERLAYS.with(|o| {
        o.try_borrow().ok().and_then(|v| v.iter().find(|x| x.serial == serial).cloned())
    })
}

fn take(serial: u32) -> Option<Rc<Overlay>> {
    OVERLAYS.with(|o| {
        let mut v = o.try_borrow_mut().ok()?;
        let i = v.iter().position(|x| x.serial == serial)?;
        Some(v.remove(i))
    })
}

fn serials_with_id(id: &str, except: u32) -> Vec<u32> {
    OVERLAYS.with(|o| {
        o.try_borrow()
            .map(|v| v.iter().filter(|x| x.id == id && x.serial != except).map(|x| x.serial).collect())
            .unwrap_or_default()
    })
}

/// The most recently shown overlay still open: the only one that handles keys.
fn topmost_shown() -> Option<u32> {
    OVERLAYS.with(|o| {
        o.try_borrow()
            .ok()
            .and_then(|v| v.iter().rev().find(|x| x.phase.get() == Phase::Shown).map(|x| x.serial))
    })
}

impl Overlay {
    fn message(&self) -> Option<HtmlElement> {
        self.root
            .query_selector(&format!("#{}-message", self.id))
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    }

    fn take_flash_timer(&self) -> Option<JsValue> {
        self.flash_timer.try_borrow_mut().ok().and_then(|mut t| t.take())
    }

    /// Whether `target` is inside `#O-message`.
    fn inside_message(&self, target: Option<&web_sys::EventTarget>) -> bool {
        let Some(node) = target.and_then(|t| t.dyn_ref::<web_sys::Node>()) else {
            return false;
        };
        self.message().is_some_and(|m| m.contains(Some(node)))
    }

    /// Keeps focus in the dialog (a blocked attempt must not leave it elsewhere).
    fn keep_focus(&self) {
        let Some(m) = self.message() else { return };
        let active = self.document.active_element();
        let inside = active.as_ref().is_some_and(|a| m.contains(Some(a)));
        if !inside {
            let _ = m.focus();
        }
    }

    /// §8.4 flash: border colour `#f00` for 2000 ms after the last attempt, then `#ccc`.
    fn flash(&self) {
        let Some(m) = self.message() else { return };
        let _ = m.style().set_property("border-color", "#f00");
        if let Some(t) = self.take_flash_timer() {
            let _ = clear_timeout(&t);
        }
        let serial = self.serial;
        let cb = Closure::<dyn FnMut()>::new(move || {
            if let Some(o) = find(serial) {
                let _ = o.take_flash_timer();
                if let Some(m) = o.message() {
                    let _ = m.style().set_property("border-color", "#ccc");
                }
            }
        });
        if let Ok(t) = set_timeout(cb.as_ref().unchecked_ref(), 2000) {
            if let Ok(mut slot) = self.flash_timer.try_borrow_mut() {
                *slot = Some(t);
            }
        }
        // The previous callback's timer was cleared above, so it is never called again.
        if let Ok(mut slot) = self.flash_callback.try_borrow_mut() {
            *slot = Some(cb);
        }
    }

    /// An attempt to dismiss: closable → removed, blocking → flash.
    fn dismiss(&self) {
        if self.blocking {
            self.flash();
            self.keep_focus();
        } else {
            remove(self.serial);
        }
    }

    /// Tab / Shift+Tab: cycles through the focusable elements inside `#O-message`.
    fn cycle_focus(&self, backwards: bool) {
        let Some(m) = self.message() else { return };
        let mut list: Vec<HtmlElement> = Vec::new();
        if let Ok(nodes) = m.query_selector_all("a[href], button:not([disabled])") {
            for i in 0..nodes.length() {
                if let Some(el) = nodes.get(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
                    list.push(el);
                }
            }
        }
        if list.is_empty() {
            let _ = m.focus();
            return;
        }
        let active: JsValue = self.document.active_element().map(Into::into).unwrap_or(JsValue::NULL);
        let at = list.iter().position(|el| JsValue::from(el.clone()) == active);
        let last = list.len() - 1;
        let next = match (at, backwards) {
            (None, false) => 0,
            (None, true) => last,
            (Some(i), false) => if i >= last { 0 } else { i + 1 },
            (Some(i), true) => if i == 0 { last } else { i - 1 },
        };
        if let Some(el) = list.get(next) {
            let _ = el.focus();
        }
    }

    fn on_key(&self, e: &KeyboardEvent) {
        if topmost_shown() != Some(self.serial) {
            return;
        }
        let key = e.key();
        if key == "Escape" || e.key_code() == 27 {
            self.dismiss();
        } else if key == "Tab" || e.key_code() == 9 {
            e.prevent_default();
            self.cycle_focus(e.shift_key());
        }
    }

    /// §8.4 showing, steps 1–4, once `document.body` exists.
    fn attach(self: &Rc<Self>) {
        let Some(body) = self.document.body() else { return };
        // Step 1: one overlay per id.
        for s in serials_with_id(&self.id, self.serial) {
            remove(s);
        }
        if let Some(old) = self.document.get_element_by_id(&self.id) {
            old.remove();
        }
        // Step 2.
        if let Ok(mut r) = self.restore.try_borrow_mut() {
            *r = self.document.active_element();
        }
        // Step 3: every other child of body not already inert.
        let children = body.children();
        let mut changed = Vec::new();
        for i in 0..children.length() {
            let Some(child) = children.item(i) else { continue };
            if !child.has_attribute("inert") && child.set_attribute("inert", "").is_ok() {
                changed.push(child);
            }
        }
        if let Ok(mut v) = self.inerted.try_borrow_mut() {
            *v = changed;
        }
        ensure_styles(&self.document, &self.id);
        if body.append_child(&self.root).is_err() {
            return;
        }
        self.phase.set(Phase::Shown);
        self.listen();
        // Step 4 happens when yew has rendered (the view's effect focuses #O-message).
        let props = self.props.try_borrow_mut().ok().and_then(|mut p| p.take());
        if let Some(props) = props {
            let root: Element = self.root.clone().into();
            let app = yew::Renderer::<OverlayView>::with_root_and_props(root, props).render();
            if let Ok(mut slot) = self.app.try_borrow_mut() {
                *slot = Some(app);
            }
        }
    }

    fn listen(&self) {
        let serial = self.serial;
        let key = Closure::<dyn FnMut(KeyboardEvent)>::new(move |e: KeyboardEvent| {
            if let Some(o) = find(serial) {
                o.on_key(&e);
            }
        });
        let click = Closure::<dyn FnMut(MouseEvent)>::new(move |e: MouseEvent| {
            if let Some(o) = find(serial) {
                if !o.inside_message(e.target().as_ref()) {
                    o.dismiss();
                }
            }
        });
        // A press on the backdrop must not take focus out of the dialog.
        let mousedown = Closure::<dyn FnMut(MouseEvent)>::new(move |e: MouseEvent| {
            if let Some(o) = find(serial) {
                if !o.inside_message(e.target().as_ref()) {
                    e.prevent_default();
                }
            }
        });
        let _ = self
            .document
            .add_event_listener_with_callback("keydown", key.as_ref().unchecked_ref());
        let _ = self.root.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
        let _ = self
            .root
            .add_event_listener_with_callback("mousedown", mousedown.as_ref().unchecked_ref());
        if let Ok(mut l) = self.listeners.try_borrow_mut() {
            l.key = Some(key);
            l.click = Some(click);
            l.mousedown = Some(mousedown);
        }
    }

    fn wait_for_body(&self) {
        let serial = self.serial;
        let ready = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            if let Some(o) = find(serial) {
                if o.phase.get() == Phase::Pending {
                    o.unlisten_ready();
                    o.attach();
                }
            }
        });
        let _ = self
            .document
            .add_event_listener_with_callback("DOMContentLoaded", ready.as_ref().unchecked_ref());
        if let Ok(mut l) = self.listeners.try_borrow_mut() {
            l.ready = Some(ready);
        }
    }

    fn unlisten_ready(&self) {
        let ready = self.listeners.try_borrow_mut().ok().and_then(|mut l| l.ready.take());
        if let Some(r) = ready {
            let _ = self
                .document
                .remove_event_listener_with_callback("DOMContentLoaded", r.as_ref().unchecked_ref());
        }
    }

    /// §8.4 removing, steps 1–4 (step 5 is `on_removed`, which the JS layer uses to set
    /// `overlay` to `null`).
    fn detach(&self) {
        self.unlisten_ready();
        // 1.
        self.root.remove();
        // 2.
        let l = self.listeners.try_borrow_mut().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        if let Some(k) = &l.key {
            let _ = self
                .document
                .remove_event_listener_with_callback("keydown", k.as_ref().unchecked_ref());
        }
        if let Some(c) = &l.click {
            let _ = self.root.remove_event_listener_with_callback("click", c.as_ref().unchecked_ref());
        }
        if let Some(c) = &l.mousedown {
            let _ = self
                .root
                .remove_event_listener_with_callback("mousedown", c.as_ref().unchecked_ref());
        }
        if let Some(t) = self.take_flash_timer() {
            let _ = clear_timeout(&t);
        }
        // 3.
        let inerted = self.inerted.try_borrow_mut().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
        for el in inerted {
            let _ = el.remove_attribute("inert");
        }
        // 4.
        let restore = self.restore.try_borrow_mut().ok().and_then(|mut r| r.take());
        if let Some(el) = restore {
            if el.is_connected() {
                focus_any(&el);
            }
        }
        let app = self.app.try_borrow_mut().ok().and_then(|mut a| a.take());
        if let Some(app) = app {
            app.destroy();
        }
        // The listener closures are dropped here, after they were removed; one of them may be
        // running right now, which wasm-bindgen allows (it frees the closure when it returns).
        drop(l);
    }
}

/// Removes an overlay completely (no-op when it is already gone).
fn remove(serial: u32) {
    let Some(o) = take(serial) else { return };
    o.detach();
    let _ = o.on_removed.call0(&JsValue::UNDEFINED);
}

/// The handle of one shown overlay (`prompter.overlay` is its [`root`](Self::root)).
#[wasm_bindgen]
pub struct PrompterOverlay {
    serial: u32,
    root: HtmlElement,
}

#[wasm_bindgen]
impl PrompterOverlay {
    /// The `#O` element (attached to `document.body`, or still detached while the page waits for
    /// `DOMContentLoaded`).
    pub fn root(&self) -> HtmlElement {
        self.root.clone()
    }

    /// §8.4 removing: removes `#O`, the document key listener and the `inert` attributes this
    /// overlay set, gives focus back, then calls the `onRemoved` callback. Idempotent.
    pub fn remove(&self) {
        remove(self.serial);
    }

    /// Whether the overlay is still shown (or waiting for the body).
    #[wasm_bindgen(getter, js_name = isOpen)]
    pub fn is_open(&self) -> bool {
        find(self.serial).is_some()
    }
}

/// Renders and shows the overlay (§8.4, §8.5).
///
/// - `template_name`/`template_text`: the template to render (validated again here);
/// - `dialog_label`: the accessible name, a text node;
/// - `store_url`, `support_html`: the §8.5 values;
/// - `error_prop(name)`: the text of `error.‹name›` as §8.5 defines it (the JS layer reads the
///   error's own property); it is HTML-escaped here;
/// - `blocking`: no close button, Escape and outside clicks flash;
/// - `on_removed()`: called once when the overlay is removed, by the user or by `remove()`.
///
/// The expanded HTML is sanitised against `document.baseURI` into a node tree that yew builds
/// with `createElement`/`createTextNode` only.
#[wasm_bindgen(js_name = prompterShow)]
#[allow(clippy::too_many_arguments)]
pub fn prompter_show(
    overlay_id: &str,
    template_name: &str,
    template_text: &str,
    dialog_label: &str,
    store_url: &str,
    support_html: &str,
    error_prop: &Function,
    blocking: bool,
    on_removed: Function,
) -> Result<PrompterOverlay, JsValue> {
    core::validate_overlay_id(overlay_id).map_err(|e| throw(&e))?;
    let template = core::validate_template(template_name, template_text).map_err(|e| throw(&e))?;
    let label = core::parse_template(TemplateName::DialogLabel, dialog_label).map_err(|e| throw(&e))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from(JsError::new(core::NEEDS_DOCUMENT_MESSAGE)))?;
    let base = document.base_uri().ok().flatten().unwrap_or_default();
    let mut prop = |name: &str| -> String {
        error_prop
            .call1(&JsValue::UNDEFINED, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let nodes = template.render(store_url, support_html, &mut prop, &base, &BrowserUrl);

    let root: HtmlElement = document.create_element("div")?.dyn_into()?;
    root.set_id(overlay_id);
    let serial = NEXT_SERIAL.with(|n| {
        let s = n.get();
        n.set(s.wrapping_add(1).max(1));
        s
    });
    let on_close = Callback::from(move |_e: MouseEvent| remove(serial));
    let props = ViewProps {
        id: AttrValue::from(overlay_id.to_owned()),
        label: AttrValue::from(label.source().to_owned()),
        nodes: Rc::new(nodes),
        closable: !blocking,
        on_close,
    };
    let overlay = Rc::new(Overlay {
        serial,
        id: overlay_id.to_owned(),
        blocking,
        document: document.clone(),
        root: root.clone(),
        phase: Cell::new(Phase::Pending),
        props: RefCell::new(Some(props)),
        app: RefCell::new(None),
        restore: RefCell::new(None),
        inerted: RefCell::new(Vec::new()),
        listeners: RefCell::new(Listeners::default()),
        flash_timer: RefCell::new(None),
        flash_callback: RefCell::new(None),
        on_removed,
    });
    OVERLAYS.with(|o| {
        if let Ok(mut v) = o.try_borrow_mut() {
            v.push(overlay.clone());
        }
    });
    if document.body().is_some() {
        overlay.attach();
    } else {
        // §8.4 showing step 5.
        overlay.wait_for_body();
    }
    Ok(PrompterOverlay { serial, root })
}
