//! The per-receipt pipelines: strict (§2.3) and compat (§2.4), up to the cache and store check,
//! which need the shell's I/O. The shell calls [`strict_local`] (and again with the root document
//! when asked), then consults the cache with [`crate::cache`] and maps the store answer with
//! [`crate::store`].

use crate::chain::{verify_chain, ChainInput, ChainOutcome};
use crate::claims::{check_compat, check_required, check_strict, PolicyInput};
use crate::compact::{check_header, parse_lenient, parse_strict};
use crate::error::Failure;
use crate::json::Json;
use crate::jwk::PublicKey;
use crate::state::Class;
use crate::url::UrlParser;

/// The verification mode (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Signatures and the chain against trust roots, then claims, policy and the store (§2.3).
    Strict,
    /// The original library's checks: no signature is read; the store vouches (§2.4).
    Compat,
}

/// Everything a run has resolved that the per-receipt pipeline needs.
pub struct Policy {
    /// Strict or compat.
    pub mode: Mode,
    /// The configured root keys (`trustedKeys`), strict mode.
    pub trusted: Vec<PublicKey>,
    /// `rootKeyOrigins`, normalised.
    pub root_key_origins: Vec<String>,
    /// `leeway` in milliseconds.
    pub leeway_ms: f64,
    /// The effective type, product and issuer lists.
    pub checks: PolicyInput,
}

/// A receipt that passed every local check.
#[derive(Debug, Clone, PartialEq)]
pub struct Passed {
    /// The decoded payload (the last part).
    pub payload: Json,
    /// `payload.product` (pushed onto `products` when verified).
    pub product: Json,
    /// `iss`, for the strict redirect check of the store answer.
    pub iss: String,
    /// The store's verify URL.
    pub verify: String,
    /// `iat` in seconds, when it is a finite number (refund-window rule).
    pub iat: Option<f64>,
}

/// The decision of the local stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Local {
    /// Every local check passed: on to the cache and the store.
    Passed(Passed),
    /// Strict: fetch this root document and call [`strict_local`] again with its keys.
    NeedsRootDocument { url: String },
    /// The receipt's error.
    Failed(Failure),
}

/// The strict local stage (§2.3.1–§2.3.7) at time `now_ms`. `root_document` is `None` on the
/// first call and the fetched keys on the second.
pub fn strict_local(
    receipt: &str,
    policy: &Policy,
    root_document: Option<&[PublicKey]>,
    now_ms: f64,
    urls: &dyn UrlParser,
) -> Local {
    let parsed = match parse_strict(receipt) {
        Ok(p) => p,
        Err(f) => return Local::Failed(f),
    };
    let mut algs = Vec::with_capacity(parsed.parts.len());
    for (i, part) in parsed.parts.iter().enumerate() {
        match check_header(&part.header, i) {
            Ok(alg) => algs.push(alg),
            Err(f) => return Local::Failed(f),
        }
    }
    let input = ChainInput {
        parsed: &parsed,
        algs: &algs,
        trusted: &policy.trusted,
        root_key_origins: &policy.root_key_origins,
        root_document,
        now_ms,
        leeway_ms: policy.leeway_ms,
    };
    let (anchor_iss, last_cert_exp) = match verify_chain(&input, urls) {
        ChainOutcome::Verified { anchor_iss, last_cert_exp } => (anchor_iss, last_cert_exp),
        ChainOutcome::NeedsRootDocument { url } => return Local::NeedsRootDocument { url },
        ChainOutcome::Failed(f) => return Local::Failed(f),
    };
    let Some(receipt_token) = parsed.receipt() else {
        return Local::Failed(Failure::new(Class::ReceiptParseError, "Receipt has an empty part"));
    };
    let payload = &receipt_token.payload;
    let claims = match check_required(payload) {
        Ok(c) => c,
        Err(f) => return Local::Failed(f),
    };
    if let Err(f) = check_strict(
        &claims,
        payload,
        &policy.checks,
        anchor_iss.as_deref(),
        last_cert_exp,
        parsed.certificates().len(),
        now_ms,
        policy.leeway_ms,
        urls,
    ) {
        return Local::Failed(f);
    }
    Local::Passed(Passed {
        product: payload.get("product").cloned().unwrap_or(Json::Null),
        iss: claims.iss,
        verify: claims.verify,
        iat: Some(claims.iat),
        payload: payload.clone(),
    })
}

/// The compat local stage (§2.4 C1–C7). The C0 cache lookup happens before this, in the shell,
/// using [`compat_cache_iat`] to read `iat` leniently.
pub fn compat_local(receipt: &str, policy: &Policy, urls: &dyn UrlParser) -> Local {
    let payload = match parse_lenient(receipt) {
        Ok(p) => p,
        Err(reason) => {
            return Local::Failed(Failure::new(
                Class::ReceiptParseError,
                format!("Error decoding JSON: {reason}"),
            ))
        }
    };
    let verify = match check_compat(&payload, &policy.checks, urls) {
        Ok(v) => v,
        Err(f) => return Local::Failed(f),
    };
    Local::Passed(Passed {
        product: payload.get("product").cloned().unwrap_or(Json::Null),
        iss: payload.get("iss").and_then(Json::as_str).unwrap_or_default().to_owned(),
        verify,
        iat: payload.get("iat").and_then(Json::as_f64).filter(|n| n.is_finite()),
        payload,
    })
}

/// C0 needs the payload of a receipt that parses leniently (for `product` and `iat`); `None`
/// means the cache hit is ignored.
pub fn compat_cache_payload(receipt: &str) -> Option<Json> {
    parse_lenient(receipt).ok()
}

/// `iat` (seconds) of a leniently parsed payload, when it is a finite number.
pub fn compat_cache_iat(payload: &Json) -> Option<f64> {
    payload.get("iat").and_then(Json::as_f64).filter(|n| n.is_finite())
}
