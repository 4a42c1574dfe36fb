//! The pay widget's local receipt check (payments §7.5 stage 1, with the chain rules of §6.3) as a
//! pure function the shell calls after installing a receipt and before any request to its
//! `verify` URL.
//!
//! ```text
//! let mut fetched = vec![];                       // (url, keys) of root documents, cached 1 h
//! loop {
//!     match check_receipt(&receipt, &policy, &fetched, Date.now(), &urls) {
//!         ReceiptCheck::NeedsRoot { url } => {
//!             // GET url (timeout apiTimeoutMs); a failure or an unparsable body fails the
//!             // attempt as the shell decides; otherwise:
//!             fetched.push((url, parse_root_document(&body, &urls)?));
//!         }
//!         done => break done,                     // .verdict() → Action::LocalVerification
//!     }
//! }
//! ```
//!
//! The cryptography, strict parsing, JOSE header rules, key selection, certificate checks,
//! required claims and the S8–S13 policy are those of the receipt verifier
//! ([`crate::verify::strict_local`]); this module only chooses the trust anchor from
//! `trustedRoots`, sets the verifier policy, adds the widget's own checks and maps the outcome to
//! a [`LocalCheck`]. Decisions:
//!
//! - **Trust anchor.** A receipt is exactly `<certificate>~<receipt>`. The certificate's `iss`
//!   (still unverified at that point) must equal a `trustedRoots` `url` **exactly** (string
//!   equality, as §6.3 demands), otherwise the check fails with `issuer` and nothing is fetched.
//!   Only that root's keys are then given to the verifier as configured keys: pinned `keys` when
//!   an entry with that url has them, else the keys the shell fetched for that url (or
//!   [`ReceiptCheck::NeedsRoot`] when it has not fetched them yet). As the certificate must
//!   verify with one of those keys, a certificate whose signature checks out really names that
//!   root. The verifier's own root-document source (`rootKeyOrigins`) is not used: it accepts
//!   `https:` origins only, while the demo provider is `http://127.0.0.1:7802`, and it matches
//!   by origin instead of by exact url.
//! - **Issuer allowlist (S12).** The widget has no separate issuer allowlist, so
//!   `installs_allowed_from` is `["*"]`: S12 passes for every receipt whose chain anchored at the
//!   chosen trusted root (its `iss` must still be an origin, else `parse`). A pinned key that
//!   carries its own `iss` binding keeps it (S12c, failing with `issuer`).
//! - **Extra §6.3 rules** the general verifier leaves open: the certificate's `jwk` holds exactly
//!   one key and its `price_limit`, when present, is a non-negative number (else `signature`,
//!   like any certificate error); the receipt has an `exp` (else `parse`).
//! - **Types.** `purchase-receipt`, plus `test-receipt` when `allow_test_receipts`; a
//!   `test-receipt` refused for that reason is [`LocalCheck::TestReceipt`], any other type
//!   [`LocalCheck::Type`].
//! - **Product.** `product.url` is compared with `app_origin` after §2.5.2 normalisation (case of
//!   scheme and host, default port, a trailing `/`). `product.storedata` must be a form-urlencoded
//!   string with exactly one `inapp_id` field whose decoded value equals `product_id`.
//! - **Time.** `nbf`/`iat`/`exp` of the receipt and of the certificate with 60 s leeway; a
//!   certificate that is expired or not yet valid is `time` too (not `signature`).
//! - **Verify URL.** Checked by the verifier's S13 (scheme, host under `iss`) and by
//!   [`verify_url_in_sites`].

use super::{LocalCheck, LocalVerdict};
use crate::claims::PolicyInput;
use crate::compact::{check_header, parse_strict};
use crate::error::Failure;
use crate::json::Json;
use crate::jwk::PublicKey;
use crate::pay::form_pairs;
use crate::state::Class;
use crate::url::{origin, UrlParser, UrlParts};
use crate::verify::{strict_local, Local, Mode, Policy};

/// The leeway of the local time checks (payments §7.5).
pub const RECEIPT_LEEWAY_MS: f64 = 60_000.0;

const PURCHASE_RECEIPT: &str = "purchase-receipt";
const TEST_RECEIPT: &str = "test-receipt";

/// The chain verifier's details for a certificate outside its validity period.
const CERT_EXPIRED: &str = "Certificate expired";
const CERT_NOT_YET_VALID: &str = "Certificate not yet valid";

/// One entry of the `trustedRoots` option: certificate `iss` must equal `url`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedRoot {
    /// The root document URL that certificates name as `iss`.
    pub url: String,
    /// Pinned keys; `None`: the shell fetches the document at `url`.
    pub keys: Option<Vec<PublicKey>>,
}

/// The widget's local policy (§7.5 stage 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptPolicy {
    /// Expected `storedata` `inapp_id`.
    pub product_id: String,
    /// Expected `product.url` (compared as origins, normalised).
    pub app_origin: String,
    /// `allowTestReceipts`: accept `typ: test-receipt`.
    pub allow_test_receipts: bool,
    /// Absolute URLs (see [`verify_url_in_sites`]).
    pub receipt_check_sites: Vec<String>,
    /// The roots the certificate chain must anchor in.
    pub trusted_roots: Vec<TrustedRoot>,
}

/// The outcome of [`check_receipt`].
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiptCheck {
    /// Passed every local check; `verify` is the receipt's verify URL (already allowed by
    /// `receipt_check_sites`), `test` when `typ` is `test-receipt`. `transaction_id` is the
    /// `contrib` field of `product.storedata` (payments §6.2: the provider's numeric transaction
    /// id, decoded), when there is exactly one and it is not empty. It is **not** the
    /// `webpay:<uuid>` transaction ID of §4.2, which receipts do not carry.
    Passed {
        /// The receipt is a `test-receipt`.
        test: bool,
        /// The receipt's verify URL.
        verify: String,
        /// The `contrib` field of `storedata`, decoded.
        transaction_id: Option<String>,
    },
    /// The chain's root certificate names `url` (one of `trusted_roots` without pinned keys) and
    /// its keys are not in `fetched`: the shell GETs `url`, parses it with
    /// [`crate::jwk::parse_root_document`], and calls again with `(url, keys)` added to
    /// `fetched`.
    NeedsRoot {
        /// The root document to fetch.
        url: String,
    },
    /// The first local check that failed.
    Failed(LocalCheck),
}

impl ReceiptCheck {
    /// The verdict for [`super::Action::LocalVerification`]; `None` for
    /// [`ReceiptCheck::NeedsRoot`].
    pub fn verdict(&self) -> Option<LocalVerdict> {
        match self {
            ReceiptCheck::Passed { test, .. } => Some(LocalVerdict::Passed { test: *test }),
            ReceiptCheck::Failed(check) => Some(LocalVerdict::Failed(*check)),
            ReceiptCheck::NeedsRoot { .. } => None,
        }
    }
}

/// Payments §7.5 stage 1 for `receipt` at time `now_ms`. `fetched` holds the root documents the
/// shell has fetched so far, by exact url. Never panics, whatever the input.
pub fn check_receipt(
    receipt: &str,
    policy: &ReceiptPolicy,
    fetched: &[(String, Vec<PublicKey>)],
    now_ms: f64,
    urls: &dyn UrlParser,
) -> ReceiptCheck {
    match run(receipt, policy, fetched, now_ms, urls) {
        Ok(outcome) => outcome,
        Err(check) => ReceiptCheck::Failed(check),
    }
}

fn run(
    receipt: &str,
    policy: &ReceiptPolicy,
    fetched: &[(String, Vec<PublicKey>)],
    now_ms: f64,
    urls: &dyn UrlParser,
) -> Result<ReceiptCheck, LocalCheck> {
    // §6.3 rule 1 with the strict parse, and the header rules, before anything is fetched.
    let parsed = parse_strict(receipt).map_err(|f| class_check(f.class))?;
    let [certificate, body] = parsed.parts.as_slice() else {
        return Err(LocalCheck::Parse);
    };
    for (i, part) in parsed.parts.iter().enumerate() {
        check_header(&part.header, i).map_err(|f| class_check(f.class))?;
    }
    // The trust anchor, by the exact certificate `iss`.
    let root_url = certificate
        .payload
        .get("iss")
        .and_then(Json::as_str)
        .ok_or(LocalCheck::Issuer)?;
    let trusted = match anchor_keys(root_url, &policy.trusted_roots, fetched) {
        Anchor::Keys(keys) => keys,
        Anchor::Fetch => {
            return Ok(ReceiptCheck::NeedsRoot {
                url: root_url.to_owned(),
            })
        }
        Anchor::Untrusted => return Err(LocalCheck::Issuer),
    };
    let mut typs_allowed = vec![PURCHASE_RECEIPT.to_owned()];
    if policy.allow_test_receipts {
        typs_allowed.push(TEST_RECEIPT.to_owned());
    }
    let strict = Policy {
        mode: Mode::Strict,
        trusted,
        root_key_origins: Vec::new(),
        leeway_ms: RECEIPT_LEEWAY_MS,
        checks: PolicyInput {
            typs_allowed,
            product_urls: vec![policy.app_origin.clone()],
            installs_allowed_from: Some(vec!["*".to_owned()]),
        },
    };
    let passed = match strict_local(receipt, &strict, None, now_ms, urls) {
        Local::Passed(passed) => passed,
        Local::Failed(failure) => return Err(failure_check(&failure, &body.payload)),
        // Not reachable without `root_key_origins`; a root is only ever one of ours.
        Local::NeedsRootDocument { .. } => return Err(LocalCheck::Issuer),
    };
    if !certificate_extras_ok(&certificate.payload) {
        return Err(LocalCheck::Signature);
    }
    if passed.payload.get("exp").is_none() {
        return Err(LocalCheck::Parse);
    }
    let storedata = passed
        .product
        .get("storedata")
        .and_then(Json::as_str)
        .map(|s| form_pairs(s.as_bytes()))
        .unwrap_or_default();
    if single_field(&storedata, "inapp_id") != Some(policy.product_id.as_str()) {
        return Err(LocalCheck::ProductId);
    }
    if !verify_url_in_sites(&passed.verify, &policy.receipt_check_sites, urls) {
        return Err(LocalCheck::VerifyUrl);
    }
    let typ = passed.payload.get("typ").and_then(Json::as_str);
    Ok(ReceiptCheck::Passed {
        test: typ == Some(TEST_RECEIPT),
        transaction_id: single_field(&storedata, "contrib")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        verify: passed.verify,
    })
}

/// Which keys anchor a chain whose certificate names `url`.
enum Anchor {
    Keys(Vec<PublicKey>),
    /// An unpinned trusted root whose document the shell has not fetched yet.
    Fetch,
    /// No trusted root has this url.
    Untrusted,
}

/// Pinned keys win: when several entries have the url, the pinned keys of all of them are used
/// and nothing is fetched. Otherwise the fetched keys for exactly this url.
fn anchor_keys(url: &str, roots: &[TrustedRoot], fetched: &[(String, Vec<PublicKey>)]) -> Anchor {
    let mut pinned: Option<Vec<PublicKey>> = None;
    let mut unpinned = false;
    for root in roots.iter().filter(|r| r.url == url) {
        match &root.keys {
            Some(keys) => pinned
                .get_or_insert_with(Vec::new)
                .extend(keys.iter().cloned()),
            None => unpinned = true,
        }
    }
    if let Some(keys) = pinned {
        return Anchor::Keys(keys);
    }
    if !unpinned {
        return Anchor::Untrusted;
    }
    match fetched.iter().find(|(u, _)| u == url) {
        Some((_, keys)) => Anchor::Keys(keys.clone()),
        None => Anchor::Fetch,
    }
}

/// The value of the only field called `name`; `None` when it is missing or repeated.
fn single_field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut found = pairs.iter().filter(|(n, _)| n == name);
    match (found.next(), found.next()) {
        (Some((_, value)), None) => Some(value.as_str()),
        _ => None,
    }
}

/// §6.3: `jwk` holds exactly one key; `price_limit`, when present, is a non-negative number.
fn certificate_extras_ok(payload: &Json) -> bool {
    let one_key = payload
        .get("jwk")
        .and_then(Json::as_array)
        .is_some_and(|l| l.len() == 1);
    let price_ok = payload
        .get("price_limit")
        .is_none_or(|p| p.as_f64().is_some_and(|n| n.is_finite() && n >= 0.0));
    one_key && price_ok
}

/// The check a failure of the receipt verifier belongs to. `payload` is the receipt payload (to
/// tell a refused `test-receipt` from another wrong type).
fn failure_check(failure: &Failure, payload: &Json) -> LocalCheck {
    match failure.class {
        Class::WrongType if payload.get("typ").and_then(Json::as_str) == Some(TEST_RECEIPT) => {
            LocalCheck::TestReceipt
        }
        Class::CertificateError
            if failure.detail == CERT_EXPIRED || failure.detail == CERT_NOT_YET_VALID =>
        {
            LocalCheck::Time
        }
        class => class_check(class),
    }
}

/// Maps a verifier error class by its place in the §5.3 tree. Classes the local stage never
/// produces (states, store and network errors) fail closed as `parse`.
fn class_check(class: Class) -> LocalCheck {
    if class.is_a(Class::ReceiptSignatureError) {
        LocalCheck::Signature
    } else {
        match class {
            Class::InvalidReceiptIssuer => LocalCheck::Issuer,
            Class::WrongType => LocalCheck::Type,
            Class::ProductUrlError => LocalCheck::ProductUrl,
            Class::VerifyDomainMismatch => LocalCheck::VerifyUrl,
            Class::ReceiptExpired | Class::ReceiptNotYetValid => LocalCheck::Time,
            // ReceiptFormatError and its child ReceiptParseError, and anything unexpected.
            _ => LocalCheck::Parse,
        }
    }
}

/// The `receiptCheckSites` rule (§7.1): `verify` must have exactly the origin of an entry and a
/// path equal to or below the entry's path, segment-wise (`/receipts/verify/test` is below
/// `/receipts/verify`; `/receipts/verifyX` is not).
///
/// - Both are parsed with `urls` (so dot segments are already resolved) and must be `http:` or
///   `https:` URLs with a host and no userinfo. Origins are compared as serialised (scheme, host,
///   non-default port).
/// - A `verify` URL with a non-empty query or fragment is refused: the provider never issues one,
///   and the widget POSTs to this URL, so nothing beyond the allowed path is sent. An entry with a
///   query or fragment never matches.
/// - An entry's trailing `/` is ignored: `/receipts/verify/` allows `/receipts/verify` and what
///   is below it. An entry with the path `/` allows the whole origin.
/// - Paths are compared as serialised, without decoding: `/receipts/%76erify` is not
///   `/receipts/verify`.
pub fn verify_url_in_sites(verify: &str, sites: &[String], urls: &dyn UrlParser) -> bool {
    let Some(v) = urls.parse(verify).filter(web_url) else {
        return false;
    };
    let v_origin = origin(&v);
    sites.iter().any(|site| {
        urls.parse(site)
            .filter(web_url)
            .is_some_and(|e| origin(&e) == v_origin && path_within(&v.path, &e.path))
    })
}

/// An `http:`/`https:` URL with a host, no userinfo, no query and no fragment.
fn web_url(u: &UrlParts) -> bool {
    matches!(u.scheme.as_str(), "http" | "https")
        && !u.host.is_empty()
        && !u.has_userinfo
        && u.query.is_empty()
        && u.fragment.is_empty()
}

/// `path` equals `base` or lies below it, segment-wise (one trailing `/` of `base` ignored).
fn path_within(path: &str, base: &str) -> bool {
    let base = base.strip_suffix('/').unwrap_or(base);
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(all(test, feature = "native-url"))]
mod tests;
