//! Issuing receipts for in-app purchases (payments §6.2, §6.3): the receipt payload, the
//! certificate of an ephemeral key, and the `<certificate JWT>~<receipt JWT>` assembly. The
//! results verify with the receipt verifier ([`crate::verify::strict_local`]).

use super::ids::form_urlencode;
use crate::hs256::JwsAlg;
use crate::json::Json;
use crate::jwk::{parse_jwk, KeyMaterial, KeySource};
use crate::url::UrlParser;
use crate::sign::{sign_jws, SignError, SigningKey};

/// The default receipt lifetime: 182 days (`receipt.lifetime_s`, payments §6.2).
pub const RECEIPT_LIFETIME_SECS: i64 = 15_724_800;
/// A certificate lives `30 + 182 + 1 = 213` days from its `iat` (payments §6.3).
pub const CERTIFICATE_LIFETIME_SECS: i64 = 213 * 86_400;
/// A new ephemeral key is certified every 30 days (payments §6.3).
pub const EPHEMERAL_ROTATION_SECS: i64 = 30 * 86_400;
/// The default `price_limit` in USD (payments §10).
pub const DEFAULT_PRICE_LIMIT: f64 = 1000.0;
/// The path of the root public-key document; `<provider origin>` + this is the certificate
/// `iss` (payments §6.3, §6.4).
pub const ROOT_DOCUMENT_PATH: &str = "/public_keys/root.jwk";

/// The two receipt types the provider issues (payments §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// `purchase-receipt`, verified at `/receipts/verify`.
    Purchase,
    /// `test-receipt` for `simulate:` transactions, verified at `/receipts/verify/test`.
    Test,
}

impl ReceiptKind {
    /// The `typ` claim.
    pub fn typ(self) -> &'static str {
        match self {
            ReceiptKind::Purchase => "purchase-receipt",
            ReceiptKind::Test => "test-receipt",
        }
    }

    /// The verify endpoint path (payments §6.5).
    pub fn verify_path(self) -> &'static str {
        match self {
            ReceiptKind::Purchase => "/receipts/verify",
            ReceiptKind::Test => "/receipts/verify/test",
        }
    }
}

/// `product.storedata` (payments §6.2): `id=<app number>&contrib=<transaction number>&inapp_id=
/// <request.id>`, form-urlencoded, in exactly this order.
pub fn storedata(app_id: u64, contrib: u64, inapp_id: &str) -> String {
    format!("id={app_id}&contrib={contrib}&inapp_id={}", form_urlencode(inapp_id))
}

/// The inputs of one receipt (payments §6.2).
#[derive(Debug, Clone, Copy)]
pub struct ReceiptInput<'a> {
    /// Purchase or test receipt (decides `typ` and the verify URL).
    pub kind: ReceiptKind,
    /// The provider origin, e.g. `http://127.0.0.1:7802` (the receipt `iss`).
    pub provider_origin: &'a str,
    /// The app's primary origin (§8.2), e.g. `http://localhost:7801` (`product.url`).
    pub app_origin: &'a str,
    /// The provider's numeric app id.
    pub app_id: u64,
    /// The numeric transaction id.
    pub contrib: u64,
    /// `request.id` of the transaction.
    pub inapp_id: &'a str,
    /// The buyer's directed identifier for this app (a UUID v4).
    pub user: &'a str,
    /// The transaction's UUID (the part after the transaction ID prefix).
    pub transaction_uuid: &'a str,
    /// The issue time (`iat` and `nbf`).
    pub iat: i64,
    /// `exp - iat`, normally [`RECEIPT_LIFETIME_SECS`].
    pub lifetime_secs: i64,
}

/// The receipt payload of payments §6.2, members in table order: `typ`, `product` (`url`,
/// `storedata`), `user` (`type`, `value`), `iss`, `verify`, `detail`, `reissue`, `iat`, `nbf`,
/// `exp`. Trailing slashes of the two origins are dropped.
pub fn receipt_payload(input: &ReceiptInput<'_>) -> Json {
    let s = |v: String| Json::Str(v);
    let provider = input.provider_origin.trim_end_matches('/');
    let app = input.app_origin.trim_end_matches('/');
    Json::Obj(vec![
        ("typ".into(), s(input.kind.typ().to_owned())),
        (
            "product".into(),
            Json::Obj(vec![
                ("url".into(), s(app.to_owned())),
                ("storedata".into(), s(storedata(input.app_id, input.contrib, input.inapp_id))),
            ]),
        ),
        (
            "user".into(),
            Json::Obj(vec![
                ("type".into(), s("directed-identifier".to_owned())),
                ("value".into(), s(input.user.to_owned())),
            ]),
        ),
        ("iss".into(), s(provider.to_owned())),
        ("verify".into(), s(format!("{provider}{}", input.kind.verify_path()))),
        ("detail".into(), s(format!("{provider}/receipts/detail/{}", input.transaction_uuid))),
        ("reissue".into(), s(format!("{provider}/receipts/reissue"))),
        ("iat".into(), Json::Num(input.iat as f64)),
        ("nbf".into(), Json::Num(input.iat as f64)),
        ("exp".into(), Json::Num(input.iat.saturating_add(input.lifetime_secs) as f64)),
    ])
}

/// The certificate payload of payments §6.3: `typ` `certified-key`, `iss` the root document
/// URL, `jwk` (exactly one key), `iat`, `nbf` (= `iat`), `exp` (`iat` + 213 days),
/// `price_limit`.
pub fn certificate_payload(
    provider_origin: &str,
    ephemeral_jwk: Json,
    iat: i64,
    price_limit: f64,
) -> Json {
    let provider = provider_origin.trim_end_matches('/');
    Json::Obj(vec![
        ("typ".into(), Json::Str("certified-key".into())),
        ("iss".into(), Json::Str(format!("{provider}{ROOT_DOCUMENT_PATH}"))),
        ("jwk".into(), Json::Arr(vec![ephemeral_jwk])),
        ("iat".into(), Json::Num(iat as f64)),
        ("nbf".into(), Json::Num(iat as f64)),
        ("exp".into(), Json::Num(iat.saturating_add(CERTIFICATE_LIFETIME_SECS) as f64)),
        ("price_limit".into(), Json::Num(price_limit)),
    ])
}

/// A signed certificate of an ephemeral key, as the provider stores it (`signing_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate JWT (signed by the root key).
    pub jwt: String,
    /// The certified (ephemeral) key's `kid`: the receipt header `kid`.
    pub kid: String,
    /// The certified key's algorithm.
    pub alg: JwsAlg,
    /// The certificate `exp`: no receipt may outlive it.
    pub exp: i64,
}

impl Certificate {
    /// Whether a receipt expiring at `receipt_exp` may be signed under this certificate
    /// (payments §6.3: otherwise certify a fresh ephemeral key).
    pub fn covers(&self, receipt_exp: i64) -> bool {
        receipt_exp <= self.exp
    }
}

/// Certifies `ephemeral` with the root key (payments §6.3): header
/// `{"alg","typ":"JWT","kid":<root kid>}`, payload of [`certificate_payload`] with the
/// ephemeral key's public JWK (`kid` = `ephemeral_kid`).
pub fn certify(
    root: &SigningKey,
    root_kid: &str,
    ephemeral: &SigningKey,
    ephemeral_kid: &str,
    provider_origin: &str,
    iat: i64,
    price_limit: f64,
) -> Result<Certificate, SignError> {
    let payload =
        certificate_payload(provider_origin, ephemeral.public_jwk(ephemeral_kid), iat, price_limit);
    Ok(Certificate {
        jwt: sign_jws(root, root_kid, &payload)?,
        kid: ephemeral_kid.to_owned(),
        alg: ephemeral.alg(),
        exp: iat.saturating_add(CERTIFICATE_LIFETIME_SECS),
    })
}

/// Signs a receipt payload with the certified ephemeral key and returns the receipt string
/// `<certificate JWT>~<receipt JWT>` (payments §6.3). Refuses a payload whose `exp` is missing or
/// beyond the certificate's (`OutlivesCertificate`) and a key of another algorithm than the
/// certified one (`InvalidKey`).
pub fn sign_receipt(
    certificate: &Certificate,
    ephemeral: &SigningKey,
    payload: &Json,
) -> Result<String, SignError> {
    if ephemeral.alg() != certificate.alg {
        return Err(SignError::InvalidKey);
    }
    let exp = payload.get("exp").and_then(crate::hs256::numeric_date);
    if !exp.is_some_and(|exp| certificate.covers(exp)) {
        return Err(SignError::OutlivesCertificate);
    }
    let receipt = sign_jws(ephemeral, &certificate.kid, payload)?;
    Ok(format!("{}~{receipt}", certificate.jwt))
}

/// `GET /public_keys/root.jwk`: `{"jwk": [<root public JWK>, …]}`, newest first (payments §6.4).
pub fn root_document(public_jwks: &[Json]) -> Json {
    Json::Obj(vec![("jwk".into(), Json::Arr(public_jwks.to_vec()))])
}

/// `GET /.well-known/jwks.json`: `{"keys": [<root public JWK>, …]}` (payments §6.4).
pub fn jwks_document(public_jwks: &[Json]) -> Json {
    Json::Obj(vec![("keys".into(), Json::Arr(public_jwks.to_vec()))])
}

/// Decodes a compact JWS for either receipt algorithm.
fn decode_any(token: &str) -> Option<crate::hs256::UnverifiedJwt> {
    crate::hs256::decode(token, JwsAlg::Es256, MAX_ISSUED_PART_BYTES)
        .or_else(|_| crate::hs256::decode(token, JwsAlg::Rs256, MAX_ISSUED_PART_BYTES))
        .ok()
}

/// Largest token of an issued `cert~receipt` the store's own check reads (one part).
pub const MAX_ISSUED_PART_BYTES: usize = 64 * 1024;

fn claim_num(claims: &Json, name: &str) -> Option<i64> {
    claims.get(name).and_then(crate::hs256::numeric_date)
}

fn claim_str<'a>(claims: &'a Json, path: &[&str]) -> Option<&'a str> {
    let mut v = claims;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

/// The store's own check of a receipt it issued (payments §6.3 chain, with the §6.5
/// relaxation: the expiry of either token is not a failure here, but the certificate must have
/// been valid at the receipt's `iat`). `roots` are the store's trusted roots as
/// `(kid, alg, key)`; `root_document_url` is what certificates name as `iss`. Returns the
/// receipt's claims, or `None` for anything that is not such a receipt.
pub fn check_issued_chain(
    receipt: &str,
    roots: &[(String, JwsAlg, KeyMaterial)],
    root_document_url: &str,
    urls: &dyn UrlParser,
) -> Option<Json> {
    let mut parts = receipt.split('~');
    let (Some(cert_part), Some(receipt_part), None) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    // Certificate: kid names one of the roots, alg is the root's, signature verifies.
    let cert = decode_any(cert_part)?;
    let kid = cert.kid()?.to_owned();
    let (_, root_alg, root_key) = roots.iter().find(|(k, _, _)| *k == kid)?;
    if cert.alg() != *root_alg {
        return None;
    }
    let cert = cert.verify_public(root_key).ok()?.into_claims();
    if claim_str(&cert, &["typ"]) != Some("certified-key") || claim_str(&cert, &["iss"]) != Some(root_document_url) {
        return None;
    }
    let (cert_nbf, cert_exp) = (claim_num(&cert, "nbf")?, claim_num(&cert, "exp")?);
    let Some([jwk]) = cert.get("jwk").and_then(Json::as_array) else { return None };
    let eph = parse_jwk(jwk, KeySource::Certificate, urls).ok()?;
    let eph_alg = match eph.material {
        KeyMaterial::P256(_) => JwsAlg::Es256,
        KeyMaterial::Rsa(_) => JwsAlg::Rs256,
    };
    // Receipt: kid is the certified key's, alg matches, signature verifies.
    let rec = decode_any(receipt_part)?;
    if rec.alg() != eph_alg || rec.kid().is_none() || rec.kid() != eph.kid.as_deref() {
        return None;
    }
    let claims = rec.verify_public(&eph.material).ok()?.into_claims();
    // Required claims with their types.
    let strings_ok = [&["typ"][..], &["product", "url"], &["product", "storedata"], &["user", "type"], &["user", "value"], &["iss"], &["verify"]]
        .iter()
        .all(|p| claim_str(&claims, p).is_some());
    let (iat, _nbf, exp) = (claim_num(&claims, "iat")?, claim_num(&claims, "nbf")?, claim_num(&claims, "exp")?);
    if !strings_ok || exp > cert_exp {
        return None;
    }
    // The certificate was valid at the receipt's iat.
    let leeway = crate::hs256::LEEWAY_SECS;
    if cert_nbf > iat.saturating_add(leeway) || cert_exp <= iat.saturating_sub(leeway) {
        return None;
    }
    Some(claims)
}
