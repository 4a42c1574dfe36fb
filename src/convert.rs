//! Conversions between core values and plain JS values.

use js_sys::{Array, Object, Reflect};
use mozmarket_core::{Attr, Failure, Json};
use wasm_bindgen::JsValue;

pub fn obj() -> Object {
    Object::new()
}

/// Defines an own, enumerable, writable data property, even for the key `__proto__`.
pub fn set(o: &Object, key: &str, value: &JsValue) {
    let desc = Object::new();
    let _ = Reflect::set(&desc, &"value".into(), value);
    let _ = Reflect::set(&desc, &"enumerable".into(), &JsValue::TRUE);
    let _ = Reflect::set(&desc, &"writable".into(), &JsValue::TRUE);
    let _ = Reflect::set(&desc, &"configurable".into(), &JsValue::TRUE);
    let _ = Object::define_property(o, &JsValue::from_str(key), &desc);
}

/// A core JSON value as the plain JS value `JSON.parse` would give (members in order).
pub fn json_to_js(j: &Json) -> JsValue {
    match j {
        Json::Null => JsValue::NULL,
        Json::Bool(b) => JsValue::from_bool(*b),
        Json::Num(n) => JsValue::from_f64(*n),
        Json::Str(s) => JsValue::from_str(s),
        Json::Arr(items) => items.iter().map(json_to_js).collect::<Array>().into(),
        Json::Obj(members) => {
            let o = obj();
            for (k, v) in members {
                set(&o, k, &json_to_js(v));
            }
            o.into()
        }
    }
}

fn attr_to_js(a: &Attr) -> JsValue {
    match a {
        Attr::Num(n) => JsValue::from_f64(*n),
        Attr::Str(s) => JsValue::from_str(s),
        Attr::Json(j) => json_to_js(j),
    }
}

/// `{name, detail, attrs: [[key, value], …]}`.
pub fn failure_to_js(f: &Failure) -> JsValue {
    let o = obj();
    set(&o, "name", &f.class.name().into());
    set(&o, "detail", &f.detail.as_str().into());
    let attrs: Array = f
        .attrs
        .iter()
        .map(|(k, v)| {
            let pair = Array::new();
            pair.push(&JsValue::from_str(k));
            pair.push(&attr_to_js(v));
            JsValue::from(pair)
        })
        .collect();
    set(&o, "attrs", &attrs);
    o.into()
}
