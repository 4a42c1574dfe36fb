//! The mount options of the Buy and Restore buttons (payments §7.1, §7.8): read from a JS object,
//! validated, and resolved against the page (origin, `navigator.mozPay`, languages). Every bad
//! value is a thrown `ConfigurationError` / `IncorrectUsage` carrying the option's name; nothing
//! is rendered then.

use super::js::{js_error, widget_error};
use crate::urlparse::BrowserUrl;
use js_sys::{Array, Function, Object, Reflect};
use mozmarket_core::jwk::{self, PublicKey};
use mozmarket_core::url::UrlParser;
use mozmarket_core::widget::{
    self, default_on_broken_webrt, negotiate_locale, Config, ErrorCode, Locale,
    PayProviders, ReceiptPolicy, Timing, TrustedRoot, WidgetError,
};
use wasm_bindgen::{JsCast, JsValue};

/// Where receipts go (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the option's own values: auto, mozApps, localStorage, memory
pub enum Storage {
    Auto,
    MozApps,
    LocalStorage,
    Memory,
}

/// `support: {text, email?, url?}` (§7.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Support {
    pub text: String,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// The callbacks of §7.7.
#[derive(Default, Clone)]
pub struct Callbacks {
    pub on_purchase: Option<Function>,
    pub on_failed: Option<Function>,
    pub on_cancelled: Option<Function>,
    pub on_state_change: Option<Function>,
    pub on_warning: Option<Function>,
    pub on_restored: Option<Function>,
}

/// What the verification of a receipt needs (shared by the buy and restore buttons).
#[derive(Clone)]
pub struct VerifyOptions {
    pub policy: ReceiptPolicy,
    pub storage: Storage,
    pub local_storage_key: String,
    pub api_timeout_ms: f64,
    pub credentials_include: bool,
    pub locale: Locale,
    pub support: Option<Support>,
}

/// The resolved options of a Buy button.
pub struct BuyOptions {
    pub core: Config,
    pub buy_url: String,
    pub win_width: f64,
    pub win_height: f64,
    pub verify: VerifyOptions,
    pub callbacks: Callbacks,
}

/// The resolved options of a Restore button.
pub struct RestoreOptions {
    pub restore_url: String,
    pub verify: VerifyOptions,
    pub callbacks: Callbacks,
}

const BUY_OPTIONS: &[&str] = &[
    "productId", "productName", "label", "consumable", "owned", "buyUrl", "providerOrigin",
    "payProviderUrls", "extraProviderUrls", "useMozPay", "onBrokenWebRT", "appOrigin",
    "allowTestReceipts", "receiptCheckSites", "trustedRoots", "apiTimeoutMs", "pollInitialMs",
    "pollMaxMs", "pollFactor", "pollJitter", "purchaseTimeoutMs", "closedGraceMs",
    "windowPollMs", "unloadedGraceMs", "winWidth", "winHeight", "useEventStream",
    "receiptStorage", "localStorageKey", "credentials", "locale", "support", "onPurchase",
    "onFailed", "onCancelled", "onStateChange", "onWarning",
];

const RESTORE_OPTIONS: &[&str] = &[
    "restoreUrl", "providerOrigin", "appOrigin", "allowTestReceipts", "receiptCheckSites",
    "trustedRoots", "receiptStorage", "localStorageKey", "apiTimeoutMs", "credentials", "locale",
    "support", "onRestored", "onFailed", "onStateChange", "onWarning",
];

type R<T> = Result<T, JsValue>;

fn bad(option: &str) -> JsValue {
    widget_error(
        &WidgetError::new(ErrorCode::InvalidConfiguration).with_str("option", option),
        None,
        None,
    )
}

/// The option object's own enumerable keys, each checked against `allowed`.
fn check_names(options: &Object, allowed: &[&str]) -> R<()> {
    for key in Object::keys(options).iter() {
        let name = key.as_string().unwrap_or_default();
        if !allowed.contains(&name.as_str()) {
            let e = WidgetError::new(ErrorCode::IncorrectUsage).with_str("option", &name);
            return Err(widget_error(&e, None, None));
        }
    }
    Ok(())
}

fn get(options: &Object, name: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined())
}

fn string(options: &Object, name: &str) -> R<Option<String>> {
    match get(options, name) {
        None => Ok(None),
        Some(v) => v.as_string().map(Some).ok_or_else(|| bad(name)),
    }
}

fn boolean(options: &Object, name: &str, default: bool) -> R<bool> {
    match get(options, name) {
        None => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| bad(name)),
    }
}

fn number(options: &Object, name: &str, default: f64) -> R<f64> {
    match get(options, name) {
        None => Ok(default),
        Some(v) => v.as_f64().filter(|n| n.is_finite()).ok_or_else(|| bad(name)),
    }
}

fn function(options: &Object, name: &str) -> R<Option<Function>> {
    match get(options, name) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => v.dyn_into::<Function>().map(Some).map_err(|_| bad(name)),
    }
}

fn one_of(options: &Object, name: &str, allowed: &[&str], default: &str) -> R<String> {
    let v = string(options, name)?.unwrap_or_else(|| default.to_owned());
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(bad(name))
    }
}

/// A plain `{string: string}` object as pairs, in key order.
fn string_map(options: &Object, name: &str) -> R<Vec<(String, String)>> {
    let Some(v) = get(options, name) else { return Ok(Vec::new()) };
    let o = v.dyn_into::<Object>().map_err(|_| bad(name))?;
    if Array::is_array(&o) {
        return Err(bad(name));
    }
    let mut out = Vec::new();
    for key in Object::keys(&o).iter() {
        let k = key.as_string().unwrap_or_default();
        let value = Reflect::get(&o, &key).ok().and_then(|v| v.as_string()).ok_or_else(|| bad(name))?;
        out.push((k, value));
    }
    Ok(out)
}

fn window() -> R<web_sys::Window> {
    web_sys::window().ok_or_else(|| js_error("mozmarket widgets need a window"))
}

/// The page's origin (`location.origin`).
pub fn page_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// An origin option: an absolute `http(s)` URL that is exactly an origin (a trailing `/` is
/// tolerated); returned serialised.
fn origin_option(options: &Object, name: &str) -> R<Option<String>> {
    let Some(s) = string(options, name)? else { return Ok(None) };
    let parts = BrowserUrl.parse(&s).ok_or_else(|| bad(name))?;
    let only_origin = (parts.path == "/" || parts.path.is_empty())
        && parts.query.is_empty()
        && parts.fragment.is_empty()
        && !parts.has_userinfo;
    if !(parts.scheme == "https" || parts.scheme == "http") || parts.host.is_empty() || !only_origin {
        return Err(bad(name));
    }
    Ok(Some(mozmarket_core::url::origin(&parts)))
}

/// An absolute `http(s)` URL resolved against the page (for `buyUrl`, `restoreUrl`, …).
pub fn resolve(url: &str, base: &str) -> Option<String> {
    web_sys::Url::new_with_base(url, base).ok().map(|u| u.href())
}

fn absolute_http(s: &str) -> Option<String> {
    let parts = BrowserUrl.parse(s)?;
    ((parts.scheme == "https" || parts.scheme == "http") && !parts.host.is_empty()).then(|| s.to_owned())
}

fn support(options: &Object) -> R<Option<Support>> {
    let Some(v) = get(options, "support") else { return Ok(None) };
    let o = v.dyn_into::<Object>().map_err(|_| bad("support"))?;
    let field = |f: &str| -> R<Option<String>> {
        match Reflect::get(&o, &JsValue::from_str(f)).ok().filter(|v| !v.is_undefined()) {
            None => Ok(None),
            Some(v) => v.as_string().map(Some).ok_or_else(|| bad("support")),
        }
    };
    let text = field("text")?.filter(|t| !t.is_empty()).ok_or_else(|| bad("support"))?;
    let email = field("email")?;
    if let Some(e) = &email {
        if e.is_empty() || !e.contains('@') || e.chars().any(|c| c.is_whitespace() || c == '?' || c == '/' || c == ':') {
            return Err(bad("support"));
        }
    }
    let url = field("url")?;
    if let Some(u) = &url {
        let parts = BrowserUrl.parse(u).ok_or_else(|| bad("support"))?;
        let ok = parts.scheme == "https"
            || (parts.scheme == "http" && mozmarket_core::prompter::is_loopback_host(&parts.host));
        if !ok {
            return Err(bad("support"));
        }
    }
    Ok(Some(Support { text, email, url }))
}

fn trusted_roots(options: &Object, provider: Option<&str>) -> R<Vec<TrustedRoot>> {
    let Some(v) = get(options, "trustedRoots") else {
        let p = provider.ok_or_else(|| bad("providerOrigin"))?;
        return Ok(vec![TrustedRoot { url: format!("{p}/public_keys/root.jwk"), keys: None }]);
    };
    if !Array::is_array(&v) {
        return Err(bad("trustedRoots"));
    }
    let mut out = Vec::new();
    for entry in Array::from(&v).iter() {
        let o = entry.dyn_into::<Object>().map_err(|_| bad("trustedRoots"))?;
        let url = Reflect::get(&o, &"url".into()).ok().and_then(|u| u.as_string()).ok_or_else(|| bad("trustedRoots"))?;
        let url = absolute_http(&url).ok_or_else(|| bad("trustedRoots"))?;
        let keys = match Reflect::get(&o, &"keys".into()).ok().filter(|k| !k.is_undefined() && !k.is_null()) {
            None => None,
            Some(k) => Some(parse_keys(&k)?),
        };
        out.push(TrustedRoot { url, keys });
    }
    if out.is_empty() {
        return Err(bad("trustedRoots"));
    }
    Ok(out)
}

/// Pinned keys: an array of JWKs, a JWKS (`{keys: [...]}`) or a root document (`{jwk: [...]}`).
fn parse_keys(k: &JsValue) -> R<Vec<PublicKey>> {
    let list = if Array::is_array(k) {
        k.clone()
    } else {
        let keys = Reflect::get(k, &"keys".into()).ok().filter(Array::is_array);
        let jwk = Reflect::get(k, &"jwk".into()).ok().filter(Array::is_array);
        keys.or(jwk).ok_or_else(|| bad("trustedRoots"))?
    };
    let text = js_sys::JSON::stringify(&list).ok().and_then(|s| s.as_string()).ok_or_else(|| bad("trustedRoots"))?;
    let doc = format!("{{\"jwk\":{text}}}");
    jwk::parse_root_document(&doc, &BrowserUrl).filter(|keys| !keys.is_empty()).ok_or_else(|| bad("trustedRoots"))
}

/// The UI locale (§7.9): the `locale` option if given, otherwise `navigator.languages` in order;
/// the first supported match wins, `en` when nothing matches (an unsupported `locale` such as
/// `ja` falls back too; only a non-string value is a configuration error).
fn locale(options: &Object) -> R<Locale> {
    if let Some(tag) = string(options, "locale")? {
        return Ok(negotiate_locale([tag.as_str()]));
    }
    let w = window()?;
    let candidates: Vec<String> = w.navigator().languages().iter().filter_map(|l| l.as_string()).collect();
    Ok(negotiate_locale(candidates.iter().map(String::as_str)))
}

fn verify_options(options: &Object, product_id: &str, provider: Option<&str>) -> R<VerifyOptions> {
    let allow_test = boolean(options, "allowTestReceipts", false)?;
    let app_origin = origin_option(options, "appOrigin")?.unwrap_or_else(page_origin);
    let sites = match get(options, "receiptCheckSites") {
        Some(v) => {
            if !Array::is_array(&v) {
                return Err(bad("receiptCheckSites"));
            }
            let mut out = Vec::new();
            for s in Array::from(&v).iter() {
                let s = s.as_string().and_then(|s| absolute_http(&s)).ok_or_else(|| bad("receiptCheckSites"))?;
                out.push(s);
            }
            out
        }
        None => {
            // Without providerOrigin (allowed when payProviderUrls and trustedRoots are given)
            // there is no default: the sites must be given.
            let p = provider.ok_or_else(|| bad("receiptCheckSites"))?;
            let mut v = vec![format!("{p}/receipts/verify")];
            if allow_test {
                v.push(format!("{p}/receipts/verify/test"));
            }
            v
        }
    };
    let trusted_roots = trusted_roots(options, provider)?;
    let storage = match one_of(options, "receiptStorage", &["auto", "mozApps", "localStorage", "memory"], "auto")?.as_str() {
        "mozApps" => Storage::MozApps,
        "localStorage" => Storage::LocalStorage,
        "memory" => Storage::Memory,
        _ => Storage::Auto,
    };
    let key = string(options, "localStorageKey")?.unwrap_or_else(|| widget::DEFAULT_LOCAL_STORAGE_KEY.to_owned());
    if key.is_empty() {
        return Err(bad("localStorageKey"));
    }
    let api_timeout_ms = number(options, "apiTimeoutMs", 10_000.0)?;
    if api_timeout_ms <= 0.0 {
        return Err(bad("apiTimeoutMs"));
    }
    let credentials_include = one_of(options, "credentials", &["include", "same-origin"], "include")? == "include";
    Ok(VerifyOptions {
        policy: ReceiptPolicy {
            product_id: product_id.to_owned(),
            app_origin,
            allow_test_receipts: allow_test,
            receipt_check_sites: sites,
            trusted_roots,
        },
        storage,
        local_storage_key: key,
        api_timeout_ms,
        credentials_include,
        locale: locale(options)?,
        support: support(options)?,
    })
}

fn options_object(options: &JsValue) -> R<Object> {
    if options.is_undefined() || options.is_null() {
        return Ok(Object::new());
    }
    options.clone().dyn_into::<Object>().map_err(|_| {
        widget_error(&WidgetError::new(ErrorCode::IncorrectUsage).with_str("option", "options"), None, None)
    })
}

/// Reads and validates the options of `mountBuyButton` (§7.1).
pub fn buy_options(options: &JsValue) -> R<BuyOptions> {
    let o = options_object(options)?;
    check_names(&o, BUY_OPTIONS)?;
    let product_id = string(&o, "productId")?.ok_or_else(|| bad("productId"))?;
    widget::validate_product_id(&product_id).map_err(|e| widget_error(&e, None, None))?;
    let provider = origin_option(&o, "providerOrigin")?;
    let pay_map = string_map(&o, "payProviderUrls")?;
    let extra = string_map(&o, "extraProviderUrls")?;
    let has_map = get(&o, "payProviderUrls").is_some();
    let providers = if has_map {
        PayProviders::new(
            pay_map.iter().chain(extra.iter()).map(|(a, b)| (a.as_str(), b.as_str())),
            &BrowserUrl,
        )
    } else {
        let p = provider.as_deref().ok_or_else(|| bad("providerOrigin"))?;
        PayProviders::with_default(p, extra.iter().map(|(a, b)| (a.as_str(), b.as_str())), &BrowserUrl)
    }
    .map_err(|e| widget_error(&e, None, None))?;
    if provider.is_none() && (!has_map || get(&o, "trustedRoots").is_none()) {
        return Err(bad("providerOrigin"));
    }
    let w = window()?;
    let nav = w.navigator();
    let mozpay_present = Reflect::get(&nav, &"mozPay".into()).map(|f| f.is_function()).unwrap_or(false);
    let open_present = Reflect::get(&w, &"open".into()).map(|f| f.is_function()).unwrap_or(false);
    let use_mozpay_auto = one_of(&o, "useMozPay", &["auto", "never"], "auto")? == "auto";
    let ua = nav.user_agent().unwrap_or_default();
    let timing = Timing {
        api_timeout_ms: number(&o, "apiTimeoutMs", 10_000.0)?,
        poll_initial_ms: number(&o, "pollInitialMs", 250.0)?,
        poll_max_ms: number(&o, "pollMaxMs", 2_000.0)?,
        poll_factor: number(&o, "pollFactor", 2.0)?,
        poll_jitter: number(&o, "pollJitter", 0.1)?,
        purchase_timeout_ms: number(&o, "purchaseTimeoutMs", 120_000.0)?,
        closed_grace_ms: number(&o, "closedGraceMs", 3_000.0)?,
        window_poll_ms: number(&o, "windowPollMs", 500.0)?,
        unloaded_grace_ms: number(&o, "unloadedGraceMs", 300.0)?,
    };
    let event_source_present = Reflect::get(&w, &"EventSource".into()).map(|f| f.is_function()).unwrap_or(false);
    let verify = verify_options(&o, &product_id, provider.as_deref())?;
    let config = Config {
        product_id: product_id.clone(),
        product_name: string(&o, "productName")?,
        label: string(&o, "label")?,
        consumable: boolean(&o, "consumable", false)?,
        owned: boolean(&o, "owned", false)?,
        pay_path: widget::choose_pay_path(use_mozpay_auto, mozpay_present, open_present),
        on_broken_webrt: boolean(&o, "onBrokenWebRT", default_on_broken_webrt(mozpay_present, &ua))?,
        allow_test_receipts: verify.policy.allow_test_receipts,
        providers,
        timing,
        use_event_stream: boolean(&o, "useEventStream", true)? && event_source_present,
        locale: verify.locale,
    };
    config.validate().map_err(|e| widget_error(&e, None, None))?;
    let buy_template = string(&o, "buyUrl")?.unwrap_or_else(|| widget::DEFAULT_BUY_URL.to_owned());
    let base = w.location().href().unwrap_or_default();
    let buy_url = resolve(&widget::buy_url(&buy_template, &product_id), &base)
        .and_then(|u| absolute_http(&u))
        .ok_or_else(|| bad("buyUrl"))?;
    let win_width = number(&o, "winWidth", 400.0)?;
    let win_height = number(&o, "winHeight", 560.0)?;
    if win_width <= 0.0 || win_height <= 0.0 {
        return Err(bad(if win_width <= 0.0 { "winWidth" } else { "winHeight" }));
    }
    Ok(BuyOptions {
        core: config,
        buy_url,
        win_width,
        win_height,
        verify,
        callbacks: Callbacks {
            on_purchase: function(&o, "onPurchase")?,
            on_failed: function(&o, "onFailed")?,
            on_cancelled: function(&o, "onCancelled")?,
            on_state_change: function(&o, "onStateChange")?,
            on_warning: function(&o, "onWarning")?,
            on_restored: None,
        },
    })
}

/// Reads and validates the options of `mountRestoreButton` (§7.8).
pub fn restore_options(options: &JsValue) -> R<RestoreOptions> {
    let o = options_object(options)?;
    check_names(&o, RESTORE_OPTIONS)?;
    let provider = origin_option(&o, "providerOrigin")?;
    // The expected product is each entry's own; the policy's product_id is replaced per entry.
    let verify = verify_options(&o, "", provider.as_deref())?;
    let w = window()?;
    let base = w.location().href().unwrap_or_default();
    let template = string(&o, "restoreUrl")?.unwrap_or_else(|| "/mozpay/receipts".to_owned());
    let restore_url = resolve(&template, &base).and_then(|u| absolute_http(&u)).ok_or_else(|| bad("restoreUrl"))?;
    Ok(RestoreOptions {
        restore_url,
        verify,
        callbacks: Callbacks {
            on_restored: function(&o, "onRestored")?,
            on_failed: function(&o, "onFailed")?,
            on_state_change: function(&o, "onStateChange")?,
            on_warning: function(&o, "onWarning")?,
            ..Callbacks::default()
        },
    })
}
