//! Receipt signing keys (spec/payments.md §6.3): a root key created on first start, ephemeral
//! keys certified by it (a new one every 30 days, or whenever a receipt would outlive the current
//! certificate), all persisted in `signing_keys` as PKCS#8. The formats (certificate and receipt
//! payloads, JWS signing, `cert~receipt`) come from `mozmarket_core::pay`.

use anyhow::Context as _;
use base64::Engine as _;
use mozmarket_core::hs256::JwsAlg;
use mozmarket_core::json::Json;
use mozmarket_core::pay::{certify, jwks_document, key_id, root_document, Certificate, KeyRole, EPHEMERAL_ROTATION_SECS};
use mozmarket_core::sign::SigningKey;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};

use super::store::{self, SigningKeyRow};
use super::{AppState, Inner, ReceiptAlg};

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A fresh private key of the configured algorithm.
pub fn generate(alg: ReceiptAlg) -> anyhow::Result<SigningKey> {
    let mut rng = rand::rngs::OsRng;
    Ok(match alg {
        ReceiptAlg::Es256 => SigningKey::Es256(p256::ecdsa::SigningKey::random(&mut rng)),
        ReceiptAlg::Rs256 => SigningKey::Rs256(rsa::RsaPrivateKey::new(&mut rng, 2048).context("RSA key generation")?),
    })
}

/// PKCS#8 DER of a private key.
pub fn to_pkcs8_der(key: &SigningKey) -> anyhow::Result<Vec<u8>> {
    let der = match key {
        SigningKey::Es256(k) => k.to_pkcs8_der().context("PKCS#8 encoding")?,
        SigningKey::Rs256(k) => rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(k).context("PKCS#8 encoding")?,
    };
    Ok(der.as_bytes().to_vec())
}

/// PKCS#8 DER (base64) of a private key, as stored.
pub fn to_pkcs8(key: &SigningKey) -> anyhow::Result<String> {
    Ok(b64().encode(to_pkcs8_der(key)?))
}

/// A private key from its stored PKCS#8 form.
pub fn from_pkcs8(alg: &str, text: &str) -> anyhow::Result<SigningKey> {
    let der = b64().decode(text.trim()).context("stored key is not base64")?;
    match alg {
        "ES256" => Ok(SigningKey::Es256(p256::ecdsa::SigningKey::from_pkcs8_der(&der).context("bad P-256 key")?)),
        "RS256" => Ok(SigningKey::Rs256(
            rsa::pkcs8::DecodePrivateKey::from_pkcs8_der(&der).context("bad RSA key")?,
        )),
        other => anyhow::bail!("unknown key algorithm {other}"),
    }
}

fn alg_name(key: &SigningKey) -> &'static str {
    match key.alg() {
        JwsAlg::Rs256 => "RS256",
        _ => "ES256",
    }
}

fn new_kid(role: KeyRole, now_secs: i64) -> String {
    key_id(role, now_secs, rand::random::<u16>())
}

/// Creates a new root key and makes it the active one (the previous active root stays
/// published). Returns its kid.
async fn create_root(st: &Inner) -> anyhow::Result<String> {
    let key = generate(st.opts.receipt.alg)?;
    let now_ms = st.now_ms();
    let kid = new_kid(KeyRole::Root, st.now_secs());
    store::insert_signing_key(
        &st.db,
        &SigningKeyRow {
            kid: kid.clone(),
            role: "root".into(),
            alg: alg_name(&key).into(),
            private_pkcs8: to_pkcs8(&key)?,
            public_jwk: key.public_jwk(&kid).to_json_text(),
            certificate: None,
            parent_kid: None,
            price_limit: None,
            not_before_ms: now_ms,
            not_after_ms: i64::MAX,
            state: "published".into(),
            created_ms: now_ms,
        },
    )
    .await?;
    store::activate_signing_key(&st.db, "root", &kid, "published").await?;
    tracing::info!(kid = %kid, "market: receipt root key created");
    Ok(kid)
}

/// Creates the root key on the provider's first start.
pub async fn ensure_root(st: &Inner) -> anyhow::Result<()> {
    let _guard = st.signing_lock.lock().await;
    let roots = store::signing_keys(&st.db, "root").await?;
    if !roots.iter().any(|r| r.state == "active") {
        create_root(st).await?;
    }
    Ok(())
}

async fn active_root(st: &Inner) -> anyhow::Result<(SigningKeyRow, SigningKey)> {
    let roots = store::signing_keys(&st.db, "root").await?;
    let row = roots.into_iter().find(|r| r.state == "active").context("no active root key")?;
    let key = from_pkcs8(&row.alg, &row.private_pkcs8)?;
    Ok((row, key))
}

/// Certifies a new ephemeral key with the active root and makes it the active one.
async fn certify_new(st: &Inner) -> anyhow::Result<(Certificate, SigningKey)> {
    let (root_row, root) = active_root(st).await?;
    let eph = generate(st.opts.receipt.alg)?;
    let now_secs = st.now_secs();
    let kid = new_kid(KeyRole::Ephemeral, now_secs);
    let cert = certify(&root, &root_row.kid, &eph, &kid, &st.origin, now_secs, st.opts.receipt.price_limit)
        .map_err(|e| anyhow::anyhow!("certifying: {e}"))?;
    let price_limit = st.opts.receipt.price_limit;
    store::insert_signing_key(
        &st.db,
        &SigningKeyRow {
            kid: kid.clone(),
            role: "ephemeral".into(),
            alg: alg_name(&eph).into(),
            private_pkcs8: to_pkcs8(&eph)?,
            public_jwk: eph.public_jwk(&kid).to_json_text(),
            certificate: Some(cert.jwt.clone()),
            parent_kid: Some(root_row.kid.clone()),
            price_limit: if price_limit.is_finite() && price_limit >= 0.0 { Some(price_limit.floor() as i64) } else { None },
            not_before_ms: now_secs.saturating_mul(1000),
            not_after_ms: cert.exp.saturating_mul(1000),
            state: "retired".into(),
            created_ms: st.now_ms(),
        },
    )
    .await?;
    store::activate_signing_key(&st.db, "ephemeral", &kid, "retired").await?;
    tracing::info!(kid = %kid, root = %root_row.kid, "market: ephemeral receipt key certified");
    Ok((cert, eph))
}

fn cert_of(row: &SigningKeyRow) -> anyhow::Result<Certificate> {
    let jwt = row.certificate.clone().context("ephemeral key without certificate")?;
    let alg = if row.alg == "RS256" { JwsAlg::Rs256 } else { JwsAlg::Es256 };
    Ok(Certificate { jwt, kid: row.kid.clone(), alg, exp: row.not_after_ms.div_euclid(1000) })
}

/// The certificate and ephemeral key to sign a receipt expiring at `receipt_exp` (seconds): the
/// active ephemeral key when it is younger than 30 days, was certified by the active root and
/// its certificate covers the receipt; otherwise a freshly certified one.
pub async fn signer_for(st: &Inner, receipt_exp: i64) -> anyhow::Result<(Certificate, SigningKey)> {
    let _guard = st.signing_lock.lock().await;
    let roots = store::signing_keys(&st.db, "root").await?;
    let active_root = roots.iter().find(|r| r.state == "active").map(|r| r.kid.clone());
    let ephs = store::signing_keys(&st.db, "ephemeral").await?;
    let now_ms = st.now_ms();
    if let Some(row) = ephs.iter().find(|r| r.state == "active") {
        let young = now_ms.saturating_sub(row.not_before_ms) < EPHEMERAL_ROTATION_SECS.saturating_mul(1000)
            && row.not_before_ms <= now_ms.saturating_add(60_000);
        let cert = cert_of(row)?;
        if young && cert.covers(receipt_exp) && row.parent_kid == active_root {
            let key = from_pkcs8(&row.alg, &row.private_pkcs8)?;
            return Ok((cert, key));
        }
    }
    certify_new(st).await
}

/// The public JWKs of the published roots (active and published), newest first.
pub async fn published_root_jwks(st: &Inner) -> anyhow::Result<Vec<Json>> {
    let roots = store::signing_keys(&st.db, "root").await?;
    roots
        .iter()
        .filter(|r| r.state == "active" || r.state == "published")
        .map(|r| {
            mozmarket_core::json::parse(r.public_jwk.as_bytes()).map_err(|e| anyhow::anyhow!("stored JWK: {e:?}"))
        })
        .collect()
}

/// `{"jwk": [...]}` (§6.4).
pub async fn root_document_text(st: &Inner) -> anyhow::Result<String> {
    Ok(root_document(&published_root_jwks(st).await?).to_json_text())
}

/// `{"keys": [...]}` (§6.4).
pub async fn root_jwks_text(st: &Inner) -> anyhow::Result<String> {
    Ok(jwks_document(&published_root_jwks(st).await?).to_json_text())
}

/// The root keys the verify service trusts: every published root, with its kid.
pub async fn trusted_roots(st: &Inner) -> anyhow::Result<Vec<(String, JwsAlg, mozmarket_core::jwk::KeyMaterial)>> {
    let roots = store::signing_keys(&st.db, "root").await?;
    let mut out = Vec::new();
    for r in roots.iter().filter(|r| r.state == "active" || r.state == "published") {
        let key = from_pkcs8(&r.alg, &r.private_pkcs8)?;
        out.push((r.kid.clone(), key.alg(), key.public_key()));
    }
    Ok(out)
}

/// Hub / API: rotate the ephemeral key, or the root key (which also certifies a new ephemeral
/// key under the new root). Returns the new kid.
pub async fn rotate(st: &AppState, which: &str) -> anyhow::Result<String> {
    let _guard = st.signing_lock.lock().await;
    match which {
        "root" => {
            let kid = create_root(st).await?;
            certify_new(st).await?;
            Ok(kid)
        }
        _ => Ok(certify_new(st).await?.0.kid),
    }
}

/// Hub: retire a published (non-active) root; false when it is the active one or unknown.
pub async fn retire_root(st: &AppState, kid: &str) -> anyhow::Result<bool> {
    let _guard = st.signing_lock.lock().await;
    let roots = store::signing_keys(&st.db, "root").await?;
    match roots.iter().find(|r| r.kid == kid) {
        Some(r) if r.state == "published" => store::set_signing_key_state(&st.db, kid, "retired").await,
        _ => Ok(false),
    }
}
