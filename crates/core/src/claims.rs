//! Required claims and their types (§2.3.6), the strict claim and policy checks S8–S13
//! (§2.3.7), and the compat checks C2–C7 (§2.4).

use crate::error::{clip, Failure};
use crate::json::Json;
use crate::state::Class;
use crate::url::{
    iss_origin, issuer_allowed, normalize_product_url, verify_host_ok, verify_url_allowed,
    UrlParser,
};

/// The NumericDate range of §1.3.
pub const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// The four receipt types of §1.3.
pub const RECEIPT_TYPES: [&str; 4] = [
    "purchase-receipt",
    "developer-receipt",
    "reviewer-receipt",
    "test-receipt",
];

/// The typed claims of a receipt payload that passed §2.3.6.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// The receipt type (`purchase-receipt`, …), not yet checked against `typsAllowed`.
    pub typ: String,
    /// `product.url`, when present (S11a reports it missing).
    pub product_url: Option<String>,
    /// The issuer, as written (S12a checks that it is an origin).
    pub iss: String,
    /// Not before, NumericDate seconds.
    pub nbf: f64,
    /// Issued at, NumericDate seconds.
    pub iat: f64,
    /// Expiry, NumericDate seconds, when present.
    pub exp: Option<f64>,
    /// The store's verify URL, as written.
    pub verify: String,
}

/// The policy inputs of S10–S13 and C2–C7 (already resolved by the run: effective lists).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyInput {
    /// `typsAllowed`: the accepted receipt types.
    pub typs_allowed: Vec<String>,
    /// Effective product URLs; empty means "no product check" (compat only).
    pub product_urls: Vec<String>,
    /// Effective issuer allowlist; `None` means no allowlist (compat, mozApps receipts only).
    pub installs_allowed_from: Option<Vec<String>>,
}

/// `ReceiptFormatError` with no attributes.
fn format_error(detail: String) -> Failure {
    Failure::new(Class::ReceiptFormatError, detail)
}

fn missing(field: &str) -> Failure {
    format_error(format!("No (or empty) {field} field"))
}

fn wrong_type(field: &str) -> Failure {
    format_error(format!("Field {field} has the wrong type"))
}

/// A NumericDate (§1.3): a finite JSON number in `0..=MAX_NUMERIC_DATE`.
fn numeric_date(v: &Json) -> Option<f64> {
    v.as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0 && *n <= MAX_NUMERIC_DATE)
}

/// A required string member: absent or `""` is missing, any other non-string the wrong type.
fn required_str(payload: &Json, field: &str) -> Result<String, Failure> {
    match payload.get(field) {
        None => Err(missing(field)),
        Some(Json::Str(s)) if s.is_empty() => Err(missing(field)),
        Some(Json::Str(s)) => Ok(s.clone()),
        Some(_) => Err(wrong_type(field)),
    }
}

/// An optional string member: a present non-string is the wrong type.
fn optional_str(obj: Option<&Json>, key: &str, field: &str) -> Result<Option<String>, Failure> {
    match obj.and_then(|o| o.get(key)) {
        None => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(field)),
    }
}

/// A required NumericDate member.
fn required_date(payload: &Json, field: &str) -> Result<f64, Failure> {
    match payload.get(field) {
        None => Err(missing(field)),
        Some(v) => numeric_date(v).ok_or_else(|| wrong_type(field)),
    }
}

/// §2.3.6, in table order. Errors are `ReceiptFormatError` with no attributes.
pub fn check_required(payload: &Json) -> Result<Claims, Failure> {
    let typ = required_str(payload, "typ")?;
    let product = match payload.get("product") {
        None => return Err(missing("product")),
        Some(p) if p.is_object() => p,
        Some(_) => return Err(wrong_type("product")),
    };
    let product_url = optional_str(Some(product), "url", "product.url")?;
    optional_str(Some(product), "storedata", "product.storedata")?;
    match payload.get("user") {
        None => return Err(missing("user")),
        Some(u) => {
            let typed = u.is_object()
                && u.get("type").and_then(Json::as_str).is_some()
                && u.get("value").and_then(Json::as_str).is_some();
            if !typed {
                return Err(wrong_type("user"));
            }
        }
    }
    let iss = required_str(payload, "iss")?;
    let nbf = required_date(payload, "nbf")?;
    let iat = required_date(payload, "iat")?;
    let exp = match payload.get("exp") {
        None => None,
        Some(v) => Some(numeric_date(v).ok_or_else(|| wrong_type("exp"))?),
    };
    let verify = required_str(payload, "verify")?;
    optional_str(Some(payload), "detail", "detail")?;
    optional_str(Some(payload), "reissue", "reissue")?;
    Ok(Claims {
        typ,
        product_url,
        iss,
        nbf,
        iat,
        exp,
        verify,
    })
}

/// The effective allowlist as a JSON array (the `installs_allowed_from` attribute).
fn allowlist_json(list: Option<&[String]>) -> Json {
    match list {
        Some(l) => Json::Arr(l.iter().map(|e| Json::Str(e.clone())).collect()),
        None => Json::Null,
    }
}

/// Whether `url` matches one of the effective product URLs (§2.5.2).
fn product_url_matches(url: &str, entries: &[String], urls: &dyn UrlParser) -> bool {
    let Some(key) = normalize_product_url(url, urls) else {
        return false;
    };
    entries
        .iter()
        .any(|e| normalize_product_url(e, urls).as_deref() == Some(key.as_str()))
}

fn verify_mismatch(detail: &str, payload: &Json, iss: &str, verify: &str) -> Failure {
    Failure::new(Class::VerifyDomainMismatch, detail)
        .with_json("parsed", payload.clone())
        .with_str("iss", iss)
        .with_str("verify", verify)
}

fn not_valid_installer(iss: &str, list: Option<&[String]>) -> Failure {
    Failure::new(
        Class::InvalidReceiptIssuer,
        format!(
            "Issuer (iss) of receipt is not a valid installer: {}",
            clip(iss)
        ),
    )
    .with_str("iss", iss)
    .with_json("installs_allowed_from", allowlist_json(list))
}

const HOST_MISMATCH: &str = "Verifier domain is not the same (or a subdomain) of the issuer domain";

/// S8–S13 in order. `payload` is the decoded receipt (for `parsed` attributes); `anchor_iss` and
/// `last_cert_exp` come from chain verification; `cert_count` is the number of certificates.
#[allow(clippy::too_many_arguments)]
pub fn check_strict(
    claims: &Claims,
    payload: &Json,
    policy: &PolicyInput,
    anchor_iss: Option<&str>,
    last_cert_exp: Option<f64>,
    cert_count: usize,
    now_ms: f64,
    leeway_ms: f64,
    urls: &dyn UrlParser,
) -> Result<(), Failure> {
    // S8: time claims.
    if let Some(exp) = claims.exp {
        // Written so that a NaN comparison fails the check.
        let unexpired = exp * 1000.0 > now_ms - leeway_ms;
        if !unexpired {
            return Err(
                Failure::new(Class::ReceiptExpired, "Receipt has expired").with_num("exp", exp)
            );
        }
    }
    let started = claims.nbf * 1000.0 <= now_ms + leeway_ms;
    if !started {
        return Err(
            Failure::new(Class::ReceiptNotYetValid, "Receipt is not yet valid (nbf)")
                .with_num("nbf", claims.nbf),
        );
    }
    let issued = claims.iat * 1000.0 <= now_ms + leeway_ms;
    if !issued {
        return Err(Failure::new(
            Class::ReceiptNotYetValid,
            "Receipt was issued in the future (iat)",
        )
        .with_num("iat", claims.iat));
    }
    // S9: the receipt must not outlive its signing certificate.
    if let (Some(exp), true) = (claims.exp, cert_count > 0) {
        let outlives = match last_cert_exp {
            Some(cert_exp) => {
                let within = exp <= cert_exp;
                !within
            }
            None => false,
        };
        if outlives {
            return Err(Failure::new(
                Class::CertificateError,
                "Receipt outlives its signing certificate",
            )
            .with_num("part", cert_count as f64));
        }
    }
    // S10: type.
    if !policy.typs_allowed.contains(&claims.typ) {
        return Err(Failure::new(
            Class::WrongType,
            format!("Wrong receipt type: {}", clip(&claims.typ)),
        )
        .with_json("parsed", payload.clone()));
    }
    // S11: product URL.
    let product_url = match claims.product_url.as_deref() {
        Some(u) if !u.is_empty() => u,
        _ => {
            return Err(Failure::new(Class::ProductUrlError, "Product URL missing.")
                .with_json("parsed", payload.clone()))
        }
    };
    if !product_url_matches(product_url, &policy.product_urls, urls) {
        return Err(Failure::new(
            Class::ProductUrlError,
            format!("Product URL wrong: {}", clip(product_url)),
        )
        .with_json("parsed", payload.clone()));
    }
    // S12: issuer.
    let Some(receipt_origin) = iss_origin(&claims.iss, urls) else {
        return Err(format_error("Field iss is not an origin".to_owned()));
    };
    let list = policy.installs_allowed_from.as_deref();
    let allowed = list.is_some_and(|l| {
        l.iter()
            .any(|e| issuer_allowed(e, &claims.iss, false, urls))
    });
    if !allowed {
        return Err(not_valid_installer(&claims.iss, list));
    }
    if let Some(anchor) = anchor_iss {
        if iss_origin(anchor, urls).as_deref() != Some(receipt_origin.as_str()) {
            return Err(Failure::new(
                Class::InvalidReceiptIssuer,
                format!(
                    "Receipt issuer does not match its signing key: {}",
                    clip(&claims.iss)
                ),
            )
            .with_str("iss", claims.iss.as_str()));
        }
    }
    // S13: verify URL.
    if !verify_url_allowed(&claims.iss, &claims.verify, urls) {
        return Err(verify_mismatch(
            "Verify URL is not allowed",
            payload,
            &claims.iss,
            &claims.verify,
        ));
    }
    if !verify_host_ok(&claims.iss, &claims.verify, false, urls) {
        return Err(verify_mismatch(
            HOST_MISMATCH,
            payload,
            &claims.iss,
            &claims.verify,
        ));
    }
    Ok(())
}

/// JavaScript `String(value)` for a JSON value (`undefined` for a missing one).
fn js_string(v: Option<&Json>) -> String {
    fn inner(v: &Json, depth: usize) -> String {
        match v {
            Json::Null => "null".to_owned(),
            Json::Bool(b) => b.to_string(),
            Json::Num(_) => v.to_json_text(),
            Json::Str(s) => s.clone(),
            Json::Obj(_) => "[object Object]".to_owned(),
            // Array#join: null elements become "", nested arrays join recursively.
            Json::Arr(items) => items
                .iter()
                .map(|item| match item {
                    Json::Null => String::new(),
                    _ if depth > 64 => String::new(),
                    _ => inner(item, depth + 1),
                })
                .collect::<Vec<_>>()
                .join(","),
        }
    }
    match v {
        None => "undefined".to_owned(),
        Some(v) => inner(v, 0),
    }
}

/// A member that is a non-empty string.
fn non_empty_str(v: Option<&Json>) -> Option<&str> {
    v.and_then(Json::as_str).filter(|s| !s.is_empty())
}

/// C2–C7 in order on a leniently parsed payload. Returns the `verify` string for the store check.
pub fn check_compat(
    payload: &Json,
    policy: &PolicyInput,
    urls: &dyn UrlParser,
) -> Result<String, Failure> {
    // C2: type (only a string can be in the list).
    let typ = payload.get("typ");
    let typ_ok = typ
        .and_then(Json::as_str)
        .is_some_and(|t| policy.typs_allowed.iter().any(|a| a == t));
    if !typ_ok {
        return Err(Failure::new(
            Class::WrongType,
            format!("Wrong receipt type: {}", clip(&js_string(typ))),
        )
        .with_json("parsed", payload.clone()));
    }
    // C3: product URL, only when configured.
    if !policy.product_urls.is_empty() {
        let url = non_empty_str(payload.get("product").and_then(|p| p.get("url")));
        let Some(url) = url else {
            return Err(Failure::new(Class::ProductUrlError, "Product URL missing.")
                .with_json("parsed", payload.clone()));
        };
        if !product_url_matches(url, &policy.product_urls, urls) {
            return Err(Failure::new(
                Class::ProductUrlError,
                format!("Product URL wrong: {}", clip(url)),
            )
            .with_json("parsed", payload.clone()));
        }
    }
    // C4: iss.
    let Some(iss) = non_empty_str(payload.get("iss")) else {
        return Err(format_error("No (or empty) iss field".to_owned()));
    };
    // C5: allowlist, when there is one.
    if let Some(list) = policy.installs_allowed_from.as_deref() {
        if !list.iter().any(|e| issuer_allowed(e, iss, true, urls)) {
            return Err(not_valid_installer(iss, Some(list)));
        }
    }
    // C6: verify.
    let Some(verify) = non_empty_str(payload.get("verify")) else {
        return Err(format_error("No (or empty) verify field".to_owned()));
    };
    // C7: host rule.
    if !verify_host_ok(iss, verify, true, urls) {
        return Err(verify_mismatch(HOST_MISMATCH, payload, iss, verify));
    }
    Ok(verify.to_owned())
}

#[cfg(all(test, feature = "native-url"))]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use crate::error::Attr;
    use crate::url::NativeUrlParser;
    use serde_json::{json, Value};

    const P: NativeUrlParser = NativeUrlParser;
    const T: f64 = 1_700_000_000_000.0;
    const SEC: f64 = 1_700_000_000.0;
    const LEEWAY: f64 = 60_000.0;

    /// serde_json → our Json (keeps these tests independent of the JSON parser).
    fn j(v: Value) -> Json {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Num(n.as_f64().unwrap()),
            Value::String(s) => Json::Str(s),
            Value::Array(a) => Json::Arr(a.into_iter().map(j).collect()),
            Value::Object(o) => Json::Obj(o.into_iter().map(|(k, v)| (k, j(v))).collect()),
        }
    }

    /// The payload of receipt J in baseline B (§9.1).
    fn baseline() -> Value {
        json!({
            "typ": "purchase-receipt",
            "product": {"url": "https://app.example", "storedata": "id=1"},
            "user": {"type": "directed-identifier", "value": "u-1"},
            "iss": "https://store.example",
            "verify": "https://receiptcheck.store.example/verify/1",
            "iat": SEC - 3600.0,
            "nbf": SEC - 3600.0,
            "exp": SEC + 2_592_000.0
        })
    }

    fn with(edit: impl FnOnce(&mut Value)) -> Value {
        let mut v = baseline();
        edit(&mut v);
        v
    }

    fn policy() -> PolicyInput {
        PolicyInput {
            typs_allowed: ["purchase-receipt", "developer-receipt", "reviewer-receipt"]
                .map(String::from)
                .to_vec(),
            product_urls: vec!["https://app.example".into()],
            installs_allowed_from: Some(vec!["https://store.example".into()]),
        }
    }

    const CERT_EXP: f64 = SEC + 31_536_000.0;

    fn strict_with(
        v: Value,
        policy: &PolicyInput,
        anchor: Option<&str>,
        leeway: f64,
    ) -> Result<(), Failure> {
        let payload = j(v);
        let claims =
            check_required(&payload).unwrap_or_else(|f| panic!("required: {}", f.summary()));
        check_strict(
            &claims,
            &payload,
            policy,
            anchor,
            Some(CERT_EXP),
            1,
            T,
            leeway,
            &P,
        )
    }

    fn strict(v: Value) -> Result<(), Failure> {
        strict_with(v, &policy(), None, LEEWAY)
    }

    fn required_err(v: Value) -> Failure {
        match check_required(&j(v)) {
            Ok(c) => panic!("expected a failure, got {c:?}"),
            Err(f) => f,
        }
    }

    fn assert_format(v: Value, detail: &str) {
        let f = required_err(v);
        assert_eq!(
            (f.class, f.detail.as_str()),
            (Class::ReceiptFormatError, detail)
        );
        assert!(f.attrs.is_empty(), "ReceiptFormatError has no attributes");
    }

    fn expect_err(r: Result<(), Failure>) -> Failure {
        match r {
            Ok(()) => panic!("expected a failure"),
            Err(f) => f,
        }
    }

    fn assert_fail(r: Result<(), Failure>, class: Class, detail: &str, attrs: &[(&str, Attr)]) {
        let f = expect_err(r);
        assert_eq!((f.class, f.detail.as_str()), (class, detail));
        let got: Vec<(&str, &Attr)> = f.attrs.iter().map(|(k, v)| (*k, v)).collect();
        let want: Vec<(&str, &Attr)> = attrs.iter().map(|(k, v)| (*k, v)).collect();
        assert_eq!(got, want, "attributes of {detail}");
    }

    fn parsed(v: &Value) -> Attr {
        Attr::Json(j(v.clone()))
    }

    fn s(v: &str) -> Attr {
        Attr::Str(v.to_owned())
    }

    // ---- §2.3.6 ----

    #[test]
    fn baseline_claims() {
        let c = check_required(&j(baseline())).unwrap();
        assert_eq!(
            c,
            Claims {
                typ: "purchase-receipt".into(),
                product_url: Some("https://app.example".into()),
                iss: "https://store.example".into(),
                nbf: SEC - 3600.0,
                iat: SEC - 3600.0,
                exp: Some(SEC + 2_592_000.0),
                verify: "https://receiptcheck.store.example/verify/1".into(),
            }
        );
        assert_eq!(strict(baseline()), Ok(()));
        // Optional members absent.
        let c = check_required(&j(with(|v| {
            v.as_object_mut().unwrap().remove("exp");
            v["product"].as_object_mut().unwrap().clear();
        })))
        .unwrap();
        assert_eq!((c.exp, c.product_url), (None, None));
        // Optional string members present as strings; fractions and the range limits.
        let c = check_required(&j(with(|v| {
            v["detail"] = json!("https://store.example/d");
            v["reissue"] = json!("https://store.example/r");
            v["nbf"] = json!(0);
            v["iat"] = json!(0.5);
            v["exp"] = json!(MAX_NUMERIC_DATE);
            v["user"] = json!({"type": "", "value": ""});
            v["extra"] = json!(null);
        })))
        .unwrap();
        assert_eq!((c.nbf, c.iat, c.exp), (0.0, 0.5, Some(MAX_NUMERIC_DATE)));
    }

    #[test]
    fn row_64a_iat_in_milliseconds() {
        assert_format(
            with(|v| v["iat"] = json!(T)),
            "Field iat has the wrong type",
        );
    }

    #[test]
    fn row_65_exp_wrong_type() {
        for bad in [
            json!("9999999999"),
            json!(null),
            json!(true),
            json!(-1),
            json!(1e300),
            json!(253_402_300_800u64),
            json!({}),
            json!([1]),
        ] {
            assert_format(
                with(|v| v["exp"] = bad.clone()),
                "Field exp has the wrong type",
            );
        }
    }

    #[test]
    fn row_66_missing_fields() {
        for field in ["typ", "product", "user", "iss", "nbf", "iat", "verify"] {
            assert_format(
                with(|v| {
                    v.as_object_mut().unwrap().remove(field);
                }),
                &format!("No (or empty) {field} field"),
            );
        }
        // "" counts as missing for string members.
        for field in ["typ", "iss", "verify"] {
            assert_format(
                with(|v| v[field] = json!("")),
                &format!("No (or empty) {field} field"),
            );
        }
    }

    #[test]
    fn row_67_user_wrong_type() {
        for bad in [
            json!("u-1"),
            json!({}),
            json!(null),
            json!([]),
            json!({"type": "email"}),
            json!({"value": "u"}),
            json!({"type": 1, "value": "u"}),
            json!({"type": "email", "value": null}),
        ] {
            assert_format(
                with(|v| v["user"] = bad.clone()),
                "Field user has the wrong type",
            );
        }
        // "" is not "missing" for an object member.
        assert_format(
            with(|v| v["user"] = json!("")),
            "Field user has the wrong type",
        );
    }

    #[test]
    fn row_68_wrong_types() {
        assert_format(
            with(|v| v["verify"] = json!(42)),
            "Field verify has the wrong type",
        );
        assert_format(
            with(|v| v["product"] = json!("x")),
            "Field product has the wrong type",
        );
        assert_format(
            with(|v| v["product"]["url"] = json!(7)),
            "Field product.url has the wrong type",
        );
        assert_format(
            with(|v| v["product"]["url"] = json!(null)),
            "Field product.url has the wrong type",
        );
        assert_format(
            with(|v| v["product"]["storedata"] = json!(1)),
            "Field product.storedata has the wrong type",
        );
        assert_format(
            with(|v| v["product"] = json!(null)),
            "Field product has the wrong type",
        );
        assert_format(
            with(|v| v["product"] = json!([])),
            "Field product has the wrong type",
        );
        assert_format(
            with(|v| v["product"] = json!("")),
            "Field product has the wrong type",
        );
        assert_format(
            with(|v| v["typ"] = json!(null)),
            "Field typ has the wrong type",
        );
        assert_format(
            with(|v| v["typ"] = json!(1)),
            "Field typ has the wrong type",
        );
        assert_format(
            with(|v| v["iss"] = json!(["https://store.example"])),
            "Field iss has the wrong type",
        );
        assert_format(
            with(|v| v["nbf"] = json!("1353028900")),
            "Field nbf has the wrong type",
        );
        assert_format(
            with(|v| v["nbf"] = json!(null)),
            "Field nbf has the wrong type",
        );
        assert_format(
            with(|v| v["nbf"] = json!(-0.5)),
            "Field nbf has the wrong type",
        );
        assert_format(
            with(|v| v["iat"] = json!(false)),
            "Field iat has the wrong type",
        );
        assert_format(
            with(|v| v["detail"] = json!(1)),
            "Field detail has the wrong type",
        );
        assert_format(
            with(|v| v["reissue"] = json!(null)),
            "Field reissue has the wrong type",
        );
        // product.url "" passes here (S11 reports it).
        assert!(check_required(&j(with(|v| v["product"]["url"] = json!("")))).is_ok());
    }

    #[test]
    fn required_table_order() {
        let mut v = json!({
            "typ": 1, "product": 1, "user": 1, "iss": 1, "nbf": "x", "iat": "x", "exp": "x",
            "verify": 1, "detail": 1, "reissue": 1
        });
        let steps: [(&str, Value, &str); 13] = [
            (
                "typ",
                json!("purchase-receipt"),
                "Field typ has the wrong type",
            ),
            (
                "product",
                json!({"url": 1, "storedata": 1}),
                "Field product has the wrong type",
            ),
            (
                "product",
                json!({"url": "https://app.example", "storedata": 1}),
                "Field product.url has the wrong type",
            ),
            (
                "product",
                json!({"url": "https://app.example"}),
                "Field product.storedata has the wrong type",
            ),
            (
                "user",
                json!({"type": "email", "value": "a@b"}),
                "Field user has the wrong type",
            ),
            (
                "iss",
                json!("https://store.example"),
                "Field iss has the wrong type",
            ),
            ("nbf", json!(1), "Field nbf has the wrong type"),
            ("iat", json!(1), "Field iat has the wrong type"),
            ("exp", json!(2), "Field exp has the wrong type"),
            (
                "verify",
                json!("https://store.example/v"),
                "Field verify has the wrong type",
            ),
            ("detail", json!("d"), "Field detail has the wrong type"),
            ("reissue", json!("r"), "Field reissue has the wrong type"),
            ("extra", json!(null), ""),
        ];
        for (field, fix, detail) in steps {
            if detail.is_empty() {
                assert!(check_required(&j(v.clone())).is_ok());
            } else {
                assert_format(v.clone(), detail);
            }
            v[field] = fix;
        }
        // Missing members, in order.
        assert_format(json!({}), "No (or empty) typ field");
        assert_format(json!({"typ": "x"}), "No (or empty) product field");
        assert_format(
            json!({"typ": "x", "product": {}}),
            "No (or empty) user field",
        );
        assert_format(
            json!({"typ": "x", "product": {}, "user": {"type": "a", "value": "b"}}),
            "No (or empty) iss field",
        );
        assert_format(
            json!({"typ": "x", "product": {}, "user": {"type": "a", "value": "b"}, "iss": "i"}),
            "No (or empty) nbf field",
        );
        assert_format(
            json!({"typ": "x", "product": {}, "user": {"type": "a", "value": "b"}, "iss": "i", "nbf": 1}),
            "No (or empty) iat field",
        );
        assert_format(
            json!({"typ": "x", "product": {}, "user": {"type": "a", "value": "b"}, "iss": "i", "nbf": 1, "iat": 1}),
            "No (or empty) verify field",
        );
        // Not an object at all.
        assert_format(json!([]), "No (or empty) typ field");
    }

    // ---- §2.3.7 / §9.5 ----

    #[test]
    fn row_61_expired() {
        let v = with(|v| v["exp"] = json!(SEC - 60.0));
        assert_fail(
            strict(v),
            Class::ReceiptExpired,
            "Receipt has expired",
            &[("exp", Attr::Num(SEC - 60.0))],
        );
        assert_eq!(strict(with(|v| v["exp"] = json!(SEC - 59.0))), Ok(()));
    }

    #[test]
    fn row_62_expired_without_leeway() {
        let v = with(|v| v["exp"] = json!(SEC));
        assert_fail(
            strict_with(v, &policy(), None, 0.0),
            Class::ReceiptExpired,
            "Receipt has expired",
            &[("exp", Attr::Num(SEC))],
        );
        assert_eq!(
            strict_with(with(|v| v["exp"] = json!(SEC + 0.5)), &policy(), None, 0.0),
            Ok(())
        );
    }

    #[test]
    fn row_63_not_yet_valid() {
        let v = with(|v| v["nbf"] = json!(SEC + 61.0));
        assert_fail(
            strict(v),
            Class::ReceiptNotYetValid,
            "Receipt is not yet valid (nbf)",
            &[("nbf", Attr::Num(SEC + 61.0))],
        );
        assert_eq!(strict(with(|v| v["nbf"] = json!(SEC + 60.0))), Ok(()));
    }

    #[test]
    fn row_64_issued_in_future() {
        let v = with(|v| v["iat"] = json!(SEC + 61.0));
        assert_fail(
            strict(v),
            Class::ReceiptNotYetValid,
            "Receipt was issued in the future (iat)",
            &[("iat", Attr::Num(SEC + 61.0))],
        );
        assert_eq!(strict(with(|v| v["iat"] = json!(SEC + 60.0))), Ok(()));
    }

    #[test]
    fn s9_receipt_outlives_certificate() {
        // Row 54: C's exp = t + 86400, J's exp = t + 2592000.
        let payload = j(baseline());
        let claims = check_required(&payload).unwrap();
        let run = |cert_exp: Option<f64>, count: usize| {
            check_strict(
                &claims,
                &payload,
                &policy(),
                None,
                cert_exp,
                count,
                T,
                LEEWAY,
                &P,
            )
        };
        assert_fail(
            run(Some(SEC + 86_400.0), 1),
            Class::CertificateError,
            "Receipt outlives its signing certificate",
            &[("part", Attr::Num(1.0))],
        );
        assert_fail(
            run(Some(SEC + 86_400.0), 2),
            Class::CertificateError,
            "Receipt outlives its signing certificate",
            &[("part", Attr::Num(2.0))],
        );
        assert_eq!(run(Some(SEC + 2_592_000.0), 1), Ok(()), "equal exp is fine");
        assert_eq!(
            run(Some(SEC + 86_400.0), 0),
            Ok(()),
            "bare JWT: no certificate"
        );
        // No receipt exp: nothing to compare.
        let payload = j(with(|v| {
            v.as_object_mut().unwrap().remove("exp");
        }));
        let claims = check_required(&payload).unwrap();
        assert_eq!(
            check_strict(
                &claims,
                &payload,
                &policy(),
                None,
                Some(SEC + 1.0),
                1,
                T,
                LEEWAY,
                &P
            ),
            Ok(())
        );
    }

    // ---- §9.6 strict ----

    #[test]
    fn rows_70_71_wrong_type() {
        for typ in [
            "test-receipt",
            "certified-key",
            "Purchase-Receipt",
            "mozilla/payments/pay/v1",
        ] {
            let v = with(|v| v["typ"] = json!(typ));
            assert_fail(
                strict(v.clone()),
                Class::WrongType,
                &format!("Wrong receipt type: {typ}"),
                &[("parsed", parsed(&v))],
            );
        }
        let mut p = policy();
        p.typs_allowed.push("test-receipt".into());
        assert_eq!(
            strict_with(with(|v| v["typ"] = json!("test-receipt")), &p, None, LEEWAY),
            Ok(())
        );
        for typ in ["developer-receipt", "reviewer-receipt"] {
            assert_eq!(strict(with(|v| v["typ"] = json!(typ))), Ok(()));
        }
        // Interpolated values are clipped at 256 characters.
        let long = "x".repeat(300);
        let v = with(|v| v["typ"] = json!(long));
        let f = expect_err(strict(v));
        assert_eq!(
            f.detail,
            format!("Wrong receipt type: {}...", "x".repeat(256))
        );
    }

    #[test]
    fn rows_72_to_76_product_url() {
        for url in [
            "https://other.example",
            "https://app.exampl",
            "https://app.example.evil.com",
            "http://app.example",
            "https://app.example/inapp/1",
            "https://u@app.example",
            "not a url at all",
        ] {
            let v = with(|v| v["product"]["url"] = json!(url));
            assert_fail(
                strict(v.clone()),
                Class::ProductUrlError,
                &format!("Product URL wrong: {url}"),
                &[("parsed", parsed(&v))],
            );
        }
        // Row 75.
        let v = with(|v| v["product"] = json!({"storedata": "id=1"}));
        assert_fail(
            strict(v.clone()),
            Class::ProductUrlError,
            "Product URL missing.",
            &[("parsed", parsed(&v))],
        );
        let v = with(|v| v["product"]["url"] = json!(""));
        assert_fail(
            strict(v.clone()),
            Class::ProductUrlError,
            "Product URL missing.",
            &[("parsed", parsed(&v))],
        );
        // Normalised matches.
        assert_eq!(
            strict(with(
                |v| v["product"]["url"] = json!("https://APP.example:443/")
            )),
            Ok(())
        );
        let mut p = policy();
        p.product_urls = vec![
            "https://elsewhere.example".into(),
            "https://app.example/inapp/1".into(),
        ];
        assert_eq!(
            strict_with(
                with(|v| v["product"]["url"] = json!("https://app.example/inapp/1")),
                &p,
                None,
                LEEWAY
            ),
            Ok(())
        );
        p.product_urls = vec!["packaged.example".into()];
        assert_eq!(
            strict_with(
                with(|v| v["product"]["url"] = json!("app://packaged.example")),
                &p,
                None,
                LEEWAY
            ),
            Ok(())
        );
        // An empty product list never matches in strict mode.
        p.product_urls.clear();
        let v = baseline();
        assert_fail(
            strict_with(v.clone(), &p, None, LEEWAY),
            Class::ProductUrlError,
            "Product URL wrong: https://app.example",
            &[("parsed", parsed(&v))],
        );
    }

    fn allow_attr(list: &[&str]) -> Attr {
        Attr::Json(Json::Arr(
            list.iter().map(|s| Json::Str((*s).to_owned())).collect(),
        ))
    }

    #[test]
    fn rows_77_78_invalid_issuer() {
        for iss in [
            "https://evil.example",
            "https://store.example.evil.com",
            "http://store.example",
            "https://store.example:8443",
        ] {
            let v = with(|v| v["iss"] = json!(iss));
            assert_fail(
                strict(v),
                Class::InvalidReceiptIssuer,
                &format!("Issuer (iss) of receipt is not a valid installer: {iss}"),
                &[
                    ("iss", s(iss)),
                    (
                        "installs_allowed_from",
                        allow_attr(&["https://store.example"]),
                    ),
                ],
            );
        }
        // Empty allowlist allows nobody.
        let mut p = policy();
        p.installs_allowed_from = Some(vec![]);
        assert_fail(
            strict_with(baseline(), &p, None, LEEWAY),
            Class::InvalidReceiptIssuer,
            "Issuer (iss) of receipt is not a valid installer: https://store.example",
            &[
                ("iss", s("https://store.example")),
                ("installs_allowed_from", allow_attr(&[])),
            ],
        );
        // No allowlist at all fails closed.
        p.installs_allowed_from = None;
        assert_fail(
            strict_with(baseline(), &p, None, LEEWAY),
            Class::InvalidReceiptIssuer,
            "Issuer (iss) of receipt is not a valid installer: https://store.example",
            &[
                ("iss", s("https://store.example")),
                ("installs_allowed_from", Attr::Json(Json::Null)),
            ],
        );
        // "*" is accepted in strict mode; equal origins match.
        p.installs_allowed_from = Some(vec!["*".into()]);
        assert_eq!(strict_with(baseline(), &p, None, LEEWAY), Ok(()));
        p.installs_allowed_from = Some(vec![
            "https://evil.example".into(),
            "https://STORE.example/".into(),
        ]);
        assert_eq!(strict_with(baseline(), &p, None, LEEWAY), Ok(()));
        assert_eq!(
            strict(with(|v| v["iss"] = json!("https://store.example:443/"))),
            Ok(())
        );
        // Strict has no exact-string match for a non-origin entry.
        p.installs_allowed_from = Some(vec!["store.example".into()]);
        let f = expect_err(strict_with(baseline(), &p, None, LEEWAY));
        assert_eq!(f.class, Class::InvalidReceiptIssuer);
    }

    #[test]
    fn row_79_iss_not_an_origin() {
        for iss in [
            "https://store.example/path",
            "store.example",
            "https://u@store.example",
            "https://store.example?x",
            "https://store.example#x",
            "app://store.example",
        ] {
            let mut p = policy();
            p.installs_allowed_from = Some(vec!["*".into(), iss.into()]);
            assert_fail(
                strict_with(with(|v| v["iss"] = json!(iss)), &p, None, LEEWAY),
                Class::ReceiptFormatError,
                "Field iss is not an origin",
                &[],
            );
        }
    }

    #[test]
    fn row_80_issuer_bound_to_key() {
        let mut p = policy();
        p.installs_allowed_from = Some(vec![
            "https://store.example".into(),
            "https://other-store.example".into(),
        ]);
        assert_fail(
            strict_with(baseline(), &p, Some("https://other-store.example"), LEEWAY),
            Class::InvalidReceiptIssuer,
            "Receipt issuer does not match its signing key: https://store.example",
            &[("iss", s("https://store.example"))],
        );
        assert_eq!(
            strict_with(baseline(), &p, Some("https://store.example"), LEEWAY),
            Ok(())
        );
        assert_eq!(
            strict_with(baseline(), &p, Some("https://Store.Example/"), LEEWAY),
            Ok(())
        );
        let f = expect_err(strict_with(
            baseline(),
            &p,
            Some("http://store.example"),
            LEEWAY,
        ));
        assert_eq!(
            f.detail,
            "Receipt issuer does not match its signing key: https://store.example"
        );
        // S12b is checked before S12c.
        let f = expect_err(strict_with(
            with(|v| v["iss"] = json!("https://evil.example")),
            &p,
            Some("https://other-store.example"),
            LEEWAY,
        ));
        assert_eq!(
            f.detail,
            "Issuer (iss) of receipt is not a valid installer: https://evil.example"
        );
    }

    #[test]
    fn rows_81_to_84_verify_url() {
        let host = "Verifier domain is not the same (or a subdomain) of the issuer domain";
        let mut p = policy();
        p.installs_allowed_from = Some(vec![
            "https://firefox.com".into(),
            "https://store.example".into(),
            "http://store.example".into(),
        ]);
        let cases: [(&str, &str, &str); 9] = [
            (
                "https://firefox.com",
                "https://evilfirefox.com/verify/1",
                host,
            ),
            (
                "https://store.example",
                "https://store.example.evil.com/v",
                host,
            ),
            ("https://store.example", "https://store.example./v", host),
            (
                "https://store.example",
                "https://store.example@evil.com/v",
                "Verify URL is not allowed",
            ),
            (
                "https://store.example",
                "http://receiptcheck.store.example/v",
                "Verify URL is not allowed",
            ),
            (
                "https://store.example",
                "javascript:alert(1)",
                "Verify URL is not allowed",
            ),
            (
                "https://store.example",
                "data:,ok",
                "Verify URL is not allowed",
            ),
            (
                "https://store.example",
                "/verify/1",
                "Verify URL is not allowed",
            ),
            (
                "http://store.example",
                "ftp://store.example/v",
                "Verify URL is not allowed",
            ),
        ];
        for (iss, verify, detail) in cases {
            let v = with(|v| {
                v["iss"] = json!(iss);
                v["verify"] = json!(verify);
            });
            assert_fail(
                strict_with(v.clone(), &p, None, LEEWAY),
                Class::VerifyDomainMismatch,
                detail,
                &[
                    ("parsed", parsed(&v)),
                    ("iss", s(iss)),
                    ("verify", s(verify)),
                ],
            );
        }
        // Passing forms: same host, subdomain, port, http only for an http issuer.
        for (iss, verify) in [
            ("https://firefox.com", "https://firefox.com/verify/1"),
            ("https://firefox.com", "https://a.b.firefox.com:8443/v"),
            (
                "http://store.example",
                "http://receiptcheck.store.example/v",
            ),
            (
                "http://store.example",
                "https://receiptcheck.store.example/v",
            ),
        ] {
            let v = with(|v| {
                v["iss"] = json!(iss);
                v["verify"] = json!(verify);
            });
            assert_eq!(strict_with(v, &p, None, LEEWAY), Ok(()), "{iss} {verify}");
        }
    }

    #[test]
    fn strict_step_order() {
        // Everything wrong at once; fixing one step at a time walks S8a → S13b.
        let mut p = policy();
        p.installs_allowed_from = Some(vec![
            "https://store.example".into(),
            "https://store2.example".into(),
        ]);
        let mut v = json!({
            "typ": "test-receipt",
            "product": {},
            "user": {"type": "email", "value": "a@b"},
            "iss": "https://store.example/path",
            "verify": "http://evil.example/v",
            "iat": SEC + 61.0, "nbf": SEC + 61.0, "exp": SEC - 60.0
        });
        let steps: [(&str, Value, &str); 11] = [
            ("exp", json!(SEC + 31_536_001.0), "Receipt has expired"),
            ("nbf", json!(SEC), "Receipt is not yet valid (nbf)"),
            ("iat", json!(SEC), "Receipt was issued in the future (iat)"),
            (
                "exp",
                json!(SEC + 100.0),
                "Receipt outlives its signing certificate",
            ),
            (
                "typ",
                json!("purchase-receipt"),
                "Wrong receipt type: test-receipt",
            ),
            (
                "product",
                json!({"url": "https://x.example"}),
                "Product URL missing.",
            ),
            (
                "product",
                json!({"url": "https://app.example"}),
                "Product URL wrong: https://x.example",
            ),
            (
                "iss",
                json!("https://evil.example"),
                "Field iss is not an origin",
            ),
            (
                "iss",
                json!("https://store.example"),
                "Issuer (iss) of receipt is not a valid installer: https://evil.example",
            ),
            (
                "verify",
                json!("https://evil.example/v"),
                "Verify URL is not allowed",
            ),
            (
                "verify",
                json!("https://store.example/v"),
                "Verifier domain is not the same (or a subdomain) of the issuer domain",
            ),
        ];
        for (field, fix, detail) in steps {
            let f = expect_err(strict_with(v.clone(), &p, None, LEEWAY));
            assert_eq!(f.detail, detail);
            v[field] = fix;
        }
        // S12c comes after S12b and before S13.
        let f = expect_err(strict_with(
            with(|x| x["verify"] = json!("http://a.example")),
            &p,
            Some("https://store2.example"),
            LEEWAY,
        ));
        assert_eq!(
            f.detail,
            "Receipt issuer does not match its signing key: https://store.example"
        );
        assert_eq!(
            strict_with(v, &p, Some("https://store.example"), LEEWAY),
            Ok(())
        );
    }

    // ---- §2.4 compat ----

    fn compat_policy() -> PolicyInput {
        policy()
    }

    fn compat(v: Value) -> Result<String, Failure> {
        check_compat(&j(v), &compat_policy(), &P)
    }

    fn compat_err(v: Value, policy: &PolicyInput) -> Failure {
        match check_compat(&j(v), policy, &P) {
            Ok(s) => panic!("expected failure, got {s}"),
            Err(f) => f,
        }
    }

    fn assert_compat(
        v: Value,
        policy: &PolicyInput,
        class: Class,
        detail: &str,
        attrs: &[(&str, Attr)],
    ) {
        let f = compat_err(v, policy);
        assert_eq!((f.class, f.detail.as_str()), (class, detail));
        let got: Vec<(&str, &Attr)> = f.attrs.iter().map(|(k, v)| (*k, v)).collect();
        let want: Vec<(&str, &Attr)> = attrs.iter().map(|(k, v)| (*k, v)).collect();
        assert_eq!(got, want, "attributes of {detail}");
    }

    #[test]
    fn compat_baseline_returns_verify() {
        assert_eq!(
            compat(baseline()).as_deref(),
            Ok("https://receiptcheck.store.example/verify/1")
        );
        // Compat reads nothing else: no user, times, exp or types of other members.
        let v = json!({
            "typ": "purchase-receipt", "product": {"url": "https://app.example"},
            "iss": "https://store.example", "verify": "https://store.example/v", "exp": "x", "nbf": null
        });
        assert_eq!(compat(v).as_deref(), Ok("https://store.example/v"));
    }

    #[test]
    fn compat_c2_wrong_type() {
        let pol = compat_policy();
        let v = with(|v| v["typ"] = json!("test-receipt"));
        assert_compat(
            v.clone(),
            &pol,
            Class::WrongType,
            "Wrong receipt type: test-receipt",
            &[("parsed", parsed(&v))],
        );
        let v = with(|v| {
            v.as_object_mut().unwrap().remove("typ");
        });
        assert_compat(
            v.clone(),
            &pol,
            Class::WrongType,
            "Wrong receipt type: undefined",
            &[("parsed", parsed(&v))],
        );
        for (typ, shown) in [
            (json!(null), "null"),
            (json!(true), "true"),
            (json!(5), "5"),
            (json!(1.5), "1.5"),
            (json!({"a": 1}), "[object Object]"),
            (json!(["purchase-receipt"]), "purchase-receipt"),
            (json!([1, null, [2, 3], "x"]), "1,,2,3,x"),
            (json!(""), ""),
        ] {
            let v = with(|v| v["typ"] = typ.clone());
            let f = compat_err(v, &pol);
            assert_eq!(
                (f.class, f.detail),
                (Class::WrongType, format!("Wrong receipt type: {shown}"))
            );
        }
    }

    #[test]
    fn compat_c3_product_url() {
        let pol = compat_policy();
        for url in [
            "https://other.example",
            "https://app.exampl",
            "https://app.example.evil.com",
            "http://app.example",
            "https://app.example/inapp/1",
        ] {
            let v = with(|v| v["product"]["url"] = json!(url));
            assert_compat(
                v.clone(),
                &pol,
                Class::ProductUrlError,
                &format!("Product URL wrong: {url}"),
                &[("parsed", parsed(&v))],
            );
        }
        for product in [
            json!({"storedata": "id=1"}),
            json!({"url": ""}),
            json!({"url": 7}),
            json!("x"),
            json!(null),
        ] {
            let v = with(|v| v["product"] = product.clone());
            assert_compat(
                v.clone(),
                &pol,
                Class::ProductUrlError,
                "Product URL missing.",
                &[("parsed", parsed(&v))],
            );
        }
        let v = with(|v| {
            v.as_object_mut().unwrap().remove("product");
        });
        assert_compat(
            v.clone(),
            &pol,
            Class::ProductUrlError,
            "Product URL missing.",
            &[("parsed", parsed(&v))],
        );
        // Without productURL there is no product check at all.
        let mut p = compat_policy();
        p.product_urls.clear();
        assert!(check_compat(&j(v), &p, &P).is_ok());
        assert!(check_compat(
            &j(with(
                |v| v["product"]["url"] = json!("https://other.example")
            )),
            &p,
            &P
        )
        .is_ok());
    }

    #[test]
    fn compat_c4_to_c6() {
        let pol = compat_policy();
        for iss in [json!(""), json!(null), json!(5)] {
            assert_compat(
                with(|v| v["iss"] = iss.clone()),
                &pol,
                Class::ReceiptFormatError,
                "No (or empty) iss field",
                &[],
            );
        }
        assert_compat(
            with(|v| {
                v.as_object_mut().unwrap().remove("iss");
            }),
            &pol,
            Class::ReceiptFormatError,
            "No (or empty) iss field",
            &[],
        );
        // Row 85.
        assert_compat(
            with(|v| {
                v.as_object_mut().unwrap().remove("verify");
            }),
            &pol,
            Class::ReceiptFormatError,
            "No (or empty) verify field",
            &[],
        );
        for verify in [json!(""), json!(42), json!(null)] {
            assert_compat(
                with(|v| v["verify"] = verify.clone()),
                &pol,
                Class::ReceiptFormatError,
                "No (or empty) verify field",
                &[],
            );
        }
    }

    #[test]
    fn compat_c5_issuer() {
        let pol = compat_policy();
        // Row 77 (compat).
        let v = with(|v| v["iss"] = json!("https://evil.example"));
        assert_compat(
            v,
            &pol,
            Class::InvalidReceiptIssuer,
            "Issuer (iss) of receipt is not a valid installer: https://evil.example",
            &[
                ("iss", s("https://evil.example")),
                (
                    "installs_allowed_from",
                    allow_attr(&["https://store.example"]),
                ),
            ],
        );
        // Same origin, exact string, "*", or no allowlist at all.
        assert!(compat(with(|v| v["iss"] = json!("https://STORE.example/"))).is_ok());
        let mut p = compat_policy();
        p.installs_allowed_from = Some(vec!["store.example".into()]);
        let v = with(|v| {
            v["iss"] = json!("store.example");
            v["verify"] = json!("https://receiptcheck.store.example/v");
        });
        assert_eq!(
            check_compat(&j(v.clone()), &p, &P).as_deref(),
            Ok("https://receiptcheck.store.example/v")
        );
        p.installs_allowed_from = Some(vec!["*".into()]);
        assert!(
            check_compat(
                &j(with(|v| v["iss"] = json!("https://anyone.example"))),
                &p,
                &P
            )
            .is_err(),
            "C7 still applies"
        );
        assert!(check_compat(&j(v.clone()), &p, &P).is_ok());
        p.installs_allowed_from = None;
        assert!(check_compat(&j(v), &p, &P).is_ok());
        // The iss interpolation is clipped; the attribute is not.
        let long = format!("https://{}.example", "a".repeat(300));
        let f = compat_err(with(|v| v["iss"] = json!(long)), &pol);
        assert_eq!(
            f.detail,
            format!(
                "Issuer (iss) of receipt is not a valid installer: {}...",
                &long[..256]
            )
        );
        assert_eq!(f.attr("iss"), Some(&s(&long)));
    }

    #[test]
    fn compat_c7_host_rule() {
        let host = "Verifier domain is not the same (or a subdomain) of the issuer domain";
        let mut p = compat_policy();
        p.installs_allowed_from = Some(vec![
            "https://firefox.com".into(),
            "https://store.example".into(),
        ]);
        for (iss, verify) in [
            ("https://firefox.com", "https://evilfirefox.com/verify/1"),
            ("https://store.example", "https://store.example.evil.com/v"),
            ("https://store.example", "https://store.example@evil.com/v"),
            ("https://store.example", "not a url"),
            ("https://store.example", "data:,ok"),
        ] {
            let v = with(|v| {
                v["iss"] = json!(iss);
                v["verify"] = json!(verify);
            });
            assert_compat(
                v.clone(),
                &p,
                Class::VerifyDomainMismatch,
                host,
                &[
                    ("parsed", parsed(&v)),
                    ("iss", s(iss)),
                    ("verify", s(verify)),
                ],
            );
        }
        // Compat has no scheme rule.
        let v = with(|v| v["verify"] = json!("http://receiptcheck.store.example/v"));
        assert_eq!(
            check_compat(&j(v), &p, &P).as_deref(),
            Ok("http://receiptcheck.store.example/v")
        );
    }

    #[test]
    fn compat_step_order() {
        let mut v = json!({"typ": "bogus", "product": {}, "iss": "", "verify": ""});
        let mut p = compat_policy();
        p.installs_allowed_from = Some(vec!["https://store.example".into()]);
        let steps: [(&str, Value, &str); 6] = [
            (
                "typ",
                json!("purchase-receipt"),
                "Wrong receipt type: bogus",
            ),
            (
                "product",
                json!({"url": "https://x.example"}),
                "Product URL missing.",
            ),
            (
                "product",
                json!({"url": "https://app.example"}),
                "Product URL wrong: https://x.example",
            ),
            (
                "iss",
                json!("https://evil.example"),
                "No (or empty) iss field",
            ),
            (
                "iss",
                json!("https://store.example"),
                "Issuer (iss) of receipt is not a valid installer: https://evil.example",
            ),
            (
                "verify",
                json!("https://evil.example/v"),
                "No (or empty) verify field",
            ),
        ];
        for (field, fix, detail) in steps {
            assert_eq!(compat_err(v.clone(), &p).detail, detail);
            v[field] = fix;
        }
        assert_eq!(
            compat_err(v.clone(), &p).detail,
            "Verifier domain is not the same (or a subdomain) of the issuer domain"
        );
        v["verify"] = json!("https://store.example/v");
        assert_eq!(
            check_compat(&j(v), &p, &P).as_deref(),
            Ok("https://store.example/v")
        );
    }
}
