//! The payment side of core (`spec/payments.md`): pay request JWTs (§3), postback and
//! chargeback notices (§4, checked as in §2.5), receipt-issue requests (§6.1) and receipt issuing
//! (§6.2–§6.3). Used by the reference server in both roles.
//!
//! Core never reads a clock or a random source: every function takes the time (`now_secs`,
//! `iat`: seconds since the epoch) and any fresh identifier (UUIDs, `jti`, key-id suffixes) as
//! parameters. Nothing here panics. Tokens are parsed strictly per payments §0 by
//! [`crate::hs256`]; time checks use the 60 s leeway (`exp <= now - 60` is expired,
//! `nbf > now + 60` not yet valid, `iat > now + 60` issued in the future).
//!
//! Every error is a value with a stable wire code (`as_str()`), the HTTP status the spec
//! prescribes (`http_status()`) and, for the provider's pay page, the English developer message.
//!
//! # App server role
//!
//! ```text
//! use mozmarket_core::hs256::Hs256Key;
//! use mozmarket_core::pay::*;
//!
//! // Startup: every configured {key, secret} pair (secrets of ≥ 32 bytes, else a startup error).
//! let apps = vec![AppSecret { key: app_key.into(), secret: Hs256Key::from_secret(&secret)? }];
//!
//! // §2.2 buy: sign the pay JWT for a new order (exp = iat + 3600).
//! let request = RequestObject {
//!     id: product.guid, price_point: product.price_id, name, description,
//!     postback_url: format!("{origin}{prefix}/postback"),
//!     chargeback_url: format!("{origin}{prefix}/chargeback"),
//!     product_data: Some(format!("mm_order={order_id}")),
//!     icons, default_locale, locales,
//!     simulate: Some(Simulate::postback()),          // per app.simulate, or None
//! };
//! let pay = PayRequest::new(&app_key, &provider_domain, now, request);
//! let jwt = pay.sign(&signing_secret);
//! store(order, pay.request.to_json().to_json_text(), pay.iat, pay.exp);   // "the exact signed request"
//!
//! // §2.5 notice receivers (steps 1–2 are HTTP: 405, 413).
//! check_notice_content_type(content_type)?;                              // 415
//! let token = notice_from_form(&body)?;                                  // 400 MISSING_NOTICE
//! let v = verify_notice(&token, NoticeKind::Postback, &apps, &provider_domain, now)?; // steps 5–9
//! let order_id = v.echo.product_data.as_deref()
//!     .and_then(order_id_from_product_data);                             // step 10 → 409 UNKNOWN_ORDER
//! let ok = request_matches_order(&v.notice.request, &stored_request)
//!     && order.app_key == v.app.key;                                     // step 11 → 409 ORDER_MISMATCH
//! // step 12: one DB transaction keyed on (v.transaction_id.as_str(), kind); step 13: reply the ID.
//! // A rejection: status err.http_status(), text/plain body err.code.as_str(); log err.detail.
//!
//! // §2.8 / §6.1: ask the provider for a receipt (exp = iat + 300).
//! let jti = uuid_v4_from_bytes(random_16_bytes);
//! let body = format!("request={}", IssueRequest::new(&app_key, &provider_domain, now, &jti, &tx_id)
//!     .sign(&secret));
//! ```
//!
//! # Provider role
//!
//! ```text
//! // §3.4 on GET /mozpay/?req=…  (implement PayLookup over your keys and price tiers)
//! let ctx = PayContext { provider_domain, now_secs, pay_disabled, strict, urls: &NativeUrlParser };
//! match validate_pay_jwt(req.as_deref(), &ctx, &lookup) {      // steps 0–34
//!     Ok(valid) => { /* step 35 with valid.payload_sha256 and the key, then the checkout */ }
//!     Err(e) => { /* error screen: e.code.as_str(), e.http_status(), e.developer_message() */ }
//! }
//! // Async storage? Use the stages instead: decode_pay_jwt(req) (1–6) → look up jwt.iss() (7)
//! // → jwt.verify(&key, &ctx) (8–32) → valid.check_tier(tier) (33–34).
//! // GET /mozpay/dev/error_legend: {"errors": error_legend()}.
//!
//! // §4.2 / §4.4: transaction ID at confirm, a notice per delivery attempt.
//! let tx = TransactionId::new(TxKind::for_request(valid.is_simulated(), &price_point),
//!                             &uuid_v4_from_bytes(random))?;
//! let notice = Notice::new(NoticeKind::Postback, provider_domain, app_key, now,
//!     request_json.clone(), NoticeResponse { transaction_id: tx.to_string(),
//!         price: Some(Price { amount: "1.99".into(), currency: "USD".into() }), reason: None });
//! let body = format!("notice={}", notice.sign(&key_secret));
//! let delivered = notice_delivered(status, &first_kib_of_body, tx.as_str());
//!
//! // §6.1 receipt issue API.
//! let token = issue_token_from_form(&body)?;                     // 401
//! let issue = decode_issue_jwt(&token)?;                         // 401
//! let secret = keys.get(issue.iss()).ok_or(IssueError::new(IssueCode::BadJwtIssuer, "iss"))?; // 403
//! let req = issue.verify(secret, provider_domain, now)?;        // 401; then jti (409), transaction checks
//!
//! // §6.3 keys and certificates (keys: crate::sign::SigningKey over p256 / rsa).
//! let root_kid = key_id(KeyRole::Root, now, random_u16);
//! let cert = certify(&root, &root_kid, &eph, &eph_kid, provider_origin, now, DEFAULT_PRICE_LIMIT)?;
//! // store cert.jwt / cert.kid / cert.alg / cert.exp; publish root_document(&[root.public_jwk(&root_kid)])
//!
//! // §6.2 a receipt.
//! let payload = receipt_payload(&ReceiptInput { kind: ReceiptKind::Purchase, provider_origin,
//!     app_origin, app_id, contrib, inapp_id, user: directed_id, transaction_uuid: tx.uuid(),
//!     iat: now, lifetime_secs: RECEIPT_LIFETIME_SECS });
//! let receipt = sign_receipt(&cert, &eph, &payload)?;          // "<cert>~<receipt>"; Err if it outlives cert
//! ```
//!
//! Everything is re-exported at this level; the submodules group it by section.

pub mod ids;
pub mod issue;
pub mod notice;
pub mod receipt;
pub mod request;

#[cfg(test)]
mod tests;

pub use ids::{
    form_pairs, form_urlencode, is_form_urlencoded, is_uuid_v4, key_id, normalize_price_point,
    single_form_field, uuid_v4_from_bytes, KeyRole, TransactionId, TxKind,
};
pub use issue::{
    decode_issue_jwt, issue_token_from_form, verify_issue_jwt, IssueCode, IssueError, IssueJwt,
    IssueRequest, ISSUE_BODY_CAP, ISSUE_JWT_LIFETIME_SECS, ISSUE_TYP, JTI_MEMORY_SECS,
};
pub use notice::{
    check_notice_content_type, json_deep_eq, notice_delivered, notice_from_form,
    order_id_from_product_data, request_matches_order, verify_notice, AppSecret, EchoedRequest,
    Notice, NoticeCode, NoticeError, NoticeKind, NoticeResponse, Price, VerifiedNotice,
    CHARGEBACK_TYP, NOTICE_BODY_CAP, NOTICE_LIFETIME_SECS, NOTICE_MAX_AGE_SECS, POSTBACK_TYP,
};
pub use receipt::{
    certificate_payload, certify, check_issued_chain, jwks_document, receipt_payload, root_document, sign_receipt,
    storedata, Certificate, ReceiptInput, ReceiptKind, CERTIFICATE_LIFETIME_SECS,
    DEFAULT_PRICE_LIMIT, EPHEMERAL_ROTATION_SECS, RECEIPT_LIFETIME_SECS, ROOT_DOCUMENT_PATH,
};
pub use request::{
    decode_pay_jwt, error_legend, is_loopback_host, language_tag_ok, validate_pay_jwt,
    ChargebackReason, LocaleEntry, PayCode, PayContext, PayError, PayJwt, PayKey, PayLookup,
    PayRequest, RequestObject, SimResult, Simulate, TierCheck, ValidPay, MAX_FIELD_CHARS,
    MAX_ICON_URL_CHARS, MAX_LOCALES, MAX_LOCALE_TAG_CHARS, MAX_PAY_JWT_BYTES,
    PAY_JWT_LIFETIME_SECS, PAY_TYP,
};
