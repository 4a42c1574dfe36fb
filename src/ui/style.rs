//! The widgets' stylesheet: a constructed `CSSStyleSheet` adopted by the document or by a shadow
//! root (CSP `style-src 'self'` allows it; no `style` attribute and no `<style>` text is ever
//! written). Payments §7.10: 44×44 targets, a visible 3 px focus ring, 4.5:1 text contrast, no
//! animation under `prefers-reduced-motion: reduce`.

use js_sys::{Array, Reflect};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};

pub const CSS: &str = r#"
.mozmarket-buy{display:inline-flex;flex-wrap:wrap;align-items:center;gap:.5em;font:inherit}
.mozmarket-buy button{min-width:44px;min-height:44px;padding:.5em 1em;border:2px solid #1a4d8f;border-radius:6px;background:#1a4d8f;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.mozmarket-buy button:focus-visible{outline:3px solid #000;outline-offset:2px;box-shadow:0 0 0 5px #fff}
.mozmarket-buy button[aria-disabled=true]{background:#e8eef6;color:#1a1a1a;border-color:#5a6b80;cursor:default}
.mozmarket-buy .mozmarket-cancel{background:#fff;color:#1a4d8f}
.mozmarket-buy .mozmarket-spinner{display:none}
.mozmarket-buy[aria-busy=true] .mozmarket-spinner{display:inline-block;width:.8em;height:.8em;margin-right:.5em;border:2px solid #5a6b80;border-top-color:transparent;border-radius:50%;animation:mozmarket-spin 1s linear infinite;vertical-align:-.1em}
@keyframes mozmarket-spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.mozmarket-buy[aria-busy=true] .mozmarket-spinner{animation:none}}
.mozmarket-test-badge{padding:.1em .4em;border:1px solid #7a4a00;border-radius:4px;color:#7a4a00;background:#fff8e6;font-size:.85em}
.mozmarket-status{flex-basis:100%;color:#1a1a1a;min-height:0}
.mozmarket-alert{flex-basis:100%;color:#a00000}
.mozmarket-alert a{color:#00449e}
"#;

thread_local! {
    static SHEET: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

fn sheet() -> Option<JsValue> {
    SHEET.with(|s| {
        if let Some(sheet) = s.borrow().as_ref() {
            return Some(sheet.clone());
        }
        let sheet = web_sys::CssStyleSheet::new().ok()?;
        let replace = Reflect::get(&sheet, &"replaceSync".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        replace.call1(&sheet, &JsValue::from_str(CSS)).ok()?;
        let v: JsValue = sheet.into();
        *s.borrow_mut() = Some(v.clone());
        Some(v)
    })
}

/// Adds the stylesheet to `target.adoptedStyleSheets` (a Document or a ShadowRoot), once.
pub fn adopt(target: &JsValue) {
    let Some(sheet) = sheet() else { return };
    let Ok(list) = Reflect::get(target, &"adoptedStyleSheets".into()) else { return };
    if !Array::is_array(&list) {
        return;
    }
    let arr = Array::from(&list);
    if arr.iter().any(|s| js_sys::Object::is(&s, &sheet)) {
        return;
    }
    let next = arr.concat(&Array::of1(&sheet));
    let _ = Reflect::set(target, &"adoptedStyleSheets".into(), &next);
}
