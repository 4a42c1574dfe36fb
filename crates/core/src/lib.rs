//! `mozmarket-core`: the pure-Rust decisions of mozmarket.
//!
//! Everything here is deterministic and does no I/O: it never reads a clock, a random source,
//! the network or storage. The browser shell (and the reference server) gather the inputs — a
//! receipt string, the configured policy, the current time in milliseconds, HTTP answers — and
//! hand them over; this crate returns a decision. Nothing in here panics on any input.
//!
//! Layout follows `spec/receipts.md`:
//! - [`json`] strict JSON (depth, duplicate members, UTF-8) — §2.3.1 rules 9–13;
//! - [`b64`] canonical and lenient base64url — §2.3.1 rule 7, §2.4;
//! - [`compact`] the compact encodings, header rules and the add-receipt check — §1.1, §1.2, §1.8,
//!   §2.3.1, §2.3.2, §2.4;
//! - [`jwk`] public keys and root documents — §1.5, §1.6;
//! - [`crypto`] RS256 and ES256 — §2.3.5;
//! - [`chain`] trust anchors, key selection and certificate chains — §2.3.3, §2.3.4;
//! - [`url`] origins, product URLs and the verify-host rule — §2.5;
//! - [`claims`] required claims, time and policy — §2.3.6, §2.3.7, §2.4;
//! - [`store`] the store answer mapping — §3.3;
//! - [`cache`] cache freshness and refund window — §5.5;
//! - [`state`] the state and error tree and promotion — §5;
//! - [`verify`] the per-receipt pipelines that tie these together — §2.3, §2.4;
//! - [`prompter`] the Prompter's rules: option and template validation, the default templates,
//!   the state → template decision, template expansion and the HTML sanitiser that turns template
//!   output into a small node tree for the UI — §8.1–§8.6.
//!
//! The payment side follows `spec/payments.md` (used by the reference server in both roles):
//! - [`hs256`] strict compact JWS for payment tokens (depth 16, forbidden header parameters,
//!   `kid` pattern), HS256 keys with constant-time verification, the 60 s leeway rules — §0;
//! - [`sign`] deterministic ES256 / RS256 signing and public JWKs for receipts and
//!   certificates — §6.3;
//! - [`pay`] pay request JWTs and their validation order and error legend (§3), postback and
//!   chargeback notices (§4, checked as in §2.5), receipt-issue requests (§6.1), receipt payloads
//!   and the `certificate~receipt` assembly (§6.2, §6.3);
//! - [`widget`] the pay widget's Buy-button flow as a pure reducer (states, actions, effects),
//!   the polling backoff, `postMessage` acceptance, the error catalogue, the UI strings and locale
//!   negotiation, pay URL templates and the restore helpers — §5.1–§5.7, §7.
//!
//! [`p256`] and [`rsa`] are re-exported so that callers build [`sign::SigningKey`]s from the same
//! crate versions.

pub mod b64;
pub mod cache;
pub mod chain;
pub mod claims;
pub mod compact;
pub mod crypto;
pub mod error;
pub mod hs256;
pub mod json;
pub mod jwk;
mod num;
pub mod pay;
pub mod prompter;
pub mod sign;
pub mod state;
pub mod store;
pub mod url;
pub mod verify;
pub mod widget;

pub use error::{Attr, Failure};
pub use json::Json;
pub use state::Class;

pub use p256;
pub use rsa;
