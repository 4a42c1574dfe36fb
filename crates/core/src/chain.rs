//! Trust anchors, key selection and certificate chains (§2.3.3, §2.3.4).

use crate::claims::MAX_NUMERIC_DATE;
use crate::compact::{Alg, Parsed, Token};
use crate::error::Failure;
use crate::json::Json;
use crate::jwk::{parse_jwk, KeyMaterial, KeySource, PublicKey};
use crate::state::Class;
use crate::url::UrlParser;

/// Inputs to chain verification.
pub struct ChainInput<'a> {
    /// The strictly parsed receipt (certificates and the receipt part).
    pub parsed: &'a Parsed,
    /// The header `alg` of each part, from [`crate::compact::check_header`].
    pub algs: &'a [Alg],
    /// The configured roots (`trustedKeys`).
    pub trusted: &'a [PublicKey],
    /// `rootKeyOrigins`: exact `https:` origins (normalised).
    pub root_key_origins: &'a [String],
    /// The keys of the root document named by `certs[0].iss`, once the shell has fetched it.
    pub root_document: Option<&'a [PublicKey]>,
    /// The current time in milliseconds since the epoch (for certificate `exp`).
    pub now_ms: f64,
    /// The clock tolerance in milliseconds (`leeway`).
    pub leeway_ms: f64,
}

/// What chain verification decided.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainOutcome {
    /// Every signature and certificate check passed.
    Verified {
        /// The `iss` binding of the configured key that anchored the chain, if it has one
        /// (`None` also when a root-document key anchored it).
        anchor_iss: Option<String>,
        /// The `exp` (seconds) of the last certificate, for S9; `None` for a bare JWT.
        last_cert_exp: Option<f64>,
    },
    /// Part 0 did not verify with a configured key and source (b) applies: fetch this URL
    /// (exactly `certs[0].iss`), parse it with [`crate::jwk::parse_root_document`], and call
    /// again with `root_document` set.
    NeedsRootDocument { url: String },
    /// A signature, key-selection or certificate failure.
    Failed(Failure),
}

/// The maximum number of keys in a certificate's `jwk` list (§1.4).
const MAX_CERT_KEYS: usize = 16;

/// §2.3.3–§2.3.4 for a strictly parsed receipt whose headers have passed §2.3.2.
pub fn verify_chain(input: &ChainInput<'_>, urls: &dyn UrlParser) -> ChainOutcome {
    match run(input, urls) {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

/// `Err` carries an early outcome (a failure or the root-document request).
fn run(input: &ChainInput<'_>, urls: &dyn UrlParser) -> Result<ChainOutcome, ChainOutcome> {
    let parts = input.parsed.parts.as_slice();
    let Some(first) = parts.first() else {
        return Err(ChainOutcome::Failed(Failure::new(
            Class::ReceiptParseError,
            "Receipt has an empty part",
        )));
    };
    let alg0 = alg_of(input, 0)?;

    // Part 0: configured keys first, then the root document when source (b) applies.
    let configured = select(input.trusted, alg0, first);
    let mut anchor_iss = None;
    let mut tried = configured.tried;
    if let Some(key) = configured.verified {
        anchor_iss = key.iss.clone();
    } else {
        let mut anchored = false;
        if let Some(url) = root_document_url(input, urls) {
            let Some(document) = input.root_document else {
                return Err(ChainOutcome::NeedsRootDocument { url });
            };
            let fetched = select(document, alg0, first);
            tried |= fetched.tried;
            anchored = fetched.verified.is_some();
        }
        if !anchored {
            return Err(ChainOutcome::Failed(selection_failure(tried, 0)));
        }
    }

    // Certificates in order; each one's keys are the candidates for the next part.
    let mut prev_exp: Option<f64> = None;
    for (i, pair) in parts.windows(2).enumerate() {
        let [cert, next] = pair else {
            continue;
        };
        let (keys, exp) = check_certificate(cert, i, prev_exp, input, urls).map_err(ChainOutcome::Failed)?;
        prev_exp = Some(exp);
        let selection = select(&keys, alg_of(input, i + 1)?, next);
        if selection.verified.is_none() {
            return Err(ChainOutcome::Failed(selection_failure(selection.tried, i + 1)));
        }
    }
    Ok(ChainOutcome::Verified {
        anchor_iss,
        last_cert_exp: prev_exp,
    })
}

fn alg_of(input: &ChainInput<'_>, part: usize) -> Result<Alg, ChainOutcome> {
    input.algs.get(part).copied().ok_or_else(|| {
        ChainOutcome::Failed(
            Failure::new(
                Class::ReceiptParseError,
                "JWT header alg is missing or not a string",
            )
            .with_num("part", part as f64),
        )
    })
}

/// The result of trying a candidate list on one JWT.
struct Selection<'k> {
    /// At least one key was left after the `alg` and `kid` filters.
    tried: bool,
    /// The first key, in list order, that verified.
    verified: Option<&'k PublicKey>,
}

/// §2.3.3 steps 1–3: filter by `alg`, then by `kid`, then try in list order.
fn select<'k>(keys: &'k [PublicKey], alg: Alg, token: &Token) -> Selection<'k> {
    let header_kid = token.header.get("kid");
    let mut tried = false;
    for key in keys {
        let fits_alg = matches!(
            (alg, &key.material),
            (Alg::Rs256, KeyMaterial::Rsa(_)) | (Alg::Es256, KeyMaterial::P256(_))
        );
        if !fits_alg {
            continue;
        }
        let fits_kid = match (header_kid, &key.kid) {
            (None, _) | (Some(_), None) => true,
            (Some(Json::Str(wanted)), Some(kid)) => wanted == kid,
            // H5 refuses a non-string kid before this; never match one.
            (Some(_), Some(_)) => false,
        };
        if !fits_kid {
            continue;
        }
        tried = true;
        if crate::crypto::verify(
            alg,
            &key.material,
            token.signing_input.as_bytes(),
            &token.signature,
        ) {
            return Selection {
                tried,
                verified: Some(key),
            };
        }
    }
    Selection {
        tried,
        verified: None,
    }
}

fn selection_failure(tried: bool, part: usize) -> Failure {
    let failure = if tried {
        Failure::new(Class::InvalidSignature, "Signature verification failed")
    } else {
        Failure::new(Class::UnknownSigningKey, "No trusted key matches the JWT header")
    };
    failure.with_num("part", part as f64)
}

/// Source (b) of §2.3.3: the exact `certs[0].iss` when the receipt has a certificate,
/// `rootKeyOrigins` is not empty, and `certs[0].iss` is an absolute `https:` URL with no userinfo
/// whose origin is in the list. `certs[0]` has not been verified yet: this is attacker data.
fn root_document_url(input: &ChainInput<'_>, urls: &dyn UrlParser) -> Option<String> {
    if input.parsed.certificates().is_empty() || input.root_key_origins.is_empty() {
        return None;
    }
    let iss = input.parsed.parts.first()?.payload.get("iss")?.as_str()?;
    let parts = urls.parse(iss)?;
    if parts.scheme != "https" || parts.has_userinfo || parts.host.is_empty() {
        return None;
    }
    let origin = crate::url::origin(&parts);
    input.root_key_origins.contains(&origin).then(|| iss.to_owned())
}

/// A JSON number that is a NumericDate (§1.3).
fn numeric_date(value: &Json) -> Option<f64> {
    value
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0 && *n <= MAX_NUMERIC_DATE)
}

/// §2.3.4 step 2 for certificate `part`, whose signature has verified. Returns its keys and `exp`.
fn check_certificate(
    token: &Token,
    part: usize,
    prev_exp: Option<f64>,
    input: &ChainInput<'_>,
    urls: &dyn UrlParser,
) -> Result<(Vec<PublicKey>, f64), Failure> {
    let fail = |detail: &str| Failure::new(Class::CertificateError, detail).with_num("part", part as f64);
    let payload = &token.payload;
    if payload.get("typ").and_then(Json::as_str) != Some("certified-key") {
        return Err(fail("Certificate typ is not certified-key"));
    }
    if payload
        .get("iss")
        .and_then(Json::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(fail("Certificate has no iss"));
    }
    let list = match payload.get("jwk").and_then(Json::as_array) {
        Some(list) if !list.is_empty() && list.len() <= MAX_CERT_KEYS => list,
        _ => return Err(fail("Certificate has no usable jwk list")),
    };
    let mut keys = Vec::with_capacity(list.len());
    for (index, jwk) in list.iter().enumerate() {
        match parse_jwk(jwk, KeySource::Certificate, urls) {
            Ok(key) => keys.push(key),
            Err(_) => return Err(fail("Certificate contains an invalid key").with_num("index", index as f64)),
        }
    }
    let Some(exp) = payload.get("exp").and_then(numeric_date) else {
        return Err(fail("Certificate has no valid exp"));
    };
    let mut not_before = Vec::with_capacity(2);
    for name in ["nbf", "iat"] {
        if let Some(value) = payload.get(name) {
            match numeric_date(value) {
                Some(n) => not_before.push(n),
                None => return Err(fail("Certificate has an invalid nbf or iat")),
            }
        }
    }
    // Each comparison is written as the condition that must hold, so a NaN clock fails closed.
    let alive = exp * 1000.0 > input.now_ms - input.leeway_ms;
    if !alive {
        return Err(fail("Certificate expired").with_num("exp", exp));
    }
    let started = not_before
        .iter()
        .all(|n| n * 1000.0 <= input.now_ms + input.leeway_ms);
    if !started {
        return Err(fail("Certificate not yet valid"));
    }
    if let Some(prev) = prev_exp {
        let within = exp <= prev;
        if !within {
            return Err(fail("Certificate outlives its issuer"));
        }
    }
    Ok((keys, exp))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::error::Attr;
    use crate::jwk::test_support::*;
    use crate::url::NativeUrlParser;

    const T: f64 = 1_700_000_000_000.0;
    const LEEWAY: f64 = 60_000.0;
    const SEC: i64 = 1_700_000_000;
    const DOC: &str = "https://keys.store.example/root.jwk";

    fn root() -> p256::ecdsa::SigningKey {
        ec_key(100)
    }
    fn signer() -> p256::ecdsa::SigningKey {
        ec_key(101)
    }
    fn attacker() -> p256::ecdsa::SigningKey {
        ec_key(666)
    }

    fn public(key: &p256::ecdsa::SigningKey, kid: Option<&str>, iss: Option<&str>) -> PublicKey {
        PublicKey {
            material: KeyMaterial::P256(*key.verifying_key()),
            kid: kid.map(str::to_owned),
            iss: iss.map(str::to_owned),
        }
    }

    fn trusted() -> Vec<PublicKey> {
        vec![public(&root(), Some("root-1"), Some("https://store.example"))]
    }

    fn k_jwk() -> String {
        ec_jwk_text(&signer(), r#","kid":"sign-1""#)
    }

    /// A certificate payload with `jwk` and `extra` members (text after the jwk list).
    fn cert_payload(jwk: &str, extra: &str) -> String {
        format!(r#"{{"typ":"certified-key","iss":"{DOC}","jwk":[{jwk}]{extra}}}"#)
    }

    fn std_cert_times() -> String {
        format!(
            r#","iat":{},"nbf":{},"exp":{}"#,
            SEC - 86400,
            SEC - 86400,
            SEC + 31_536_000
        )
    }

    fn cert_by(key: &p256::ecdsa::SigningKey, payload: &str) -> Token {
        token(r#"{"alg":"ES256","kid":"root-1"}"#, payload, Signer::Ec(key))
    }

    fn c() -> Token {
        cert_by(&root(), &cert_payload(&k_jwk(), &std_cert_times()))
    }

    fn j() -> Token {
        j_by(&signer())
    }

    fn j_by(key: &p256::ecdsa::SigningKey) -> Token {
        token(
            r#"{"alg":"ES256","typ":"JWT","kid":"sign-1"}"#,
            r#"{"typ":"purchase-receipt"}"#,
            Signer::Ec(key),
        )
    }

    fn algs_of(parts: &[Token]) -> Vec<Alg> {
        parts
            .iter()
            .map(|p| match p.header.get("alg").and_then(Json::as_str) {
                Some("RS256") => Alg::Rs256,
                _ => Alg::Es256,
            })
            .collect()
    }

    fn run_with(
        parts: Vec<Token>,
        trusted: &[PublicKey],
        origins: &[&str],
        doc: Option<&[PublicKey]>,
    ) -> ChainOutcome {
        let parsed = Parsed { parts };
        let algs = algs_of(&parsed.parts);
        let origins: Vec<String> = origins.iter().map(|s| (*s).to_owned()).collect();
        let input = ChainInput {
            parsed: &parsed,
            algs: &algs,
            trusted,
            root_key_origins: &origins,
            root_document: doc,
            now_ms: T,
            leeway_ms: LEEWAY,
        };
        verify_chain(&input, &NativeUrlParser)
    }

    fn run_parts(parts: Vec<Token>) -> ChainOutcome {
        run_with(parts, &trusted(), &[], None)
    }

    fn failed(outcome: ChainOutcome) -> Failure {
        match outcome {
            ChainOutcome::Failed(f) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    fn assert_fail(outcome: ChainOutcome, class: Class, detail: &str, attrs: &[(&str, f64)]) {
        let f = failed(outcome);
        assert_eq!((f.class, f.detail.as_str()), (class, detail));
        let expected: Vec<(&str, Attr)> = attrs.iter().map(|(n, v)| (*n, Attr::Num(*v))).collect();
        assert_eq!(f.attrs, expected);
    }

    #[test]
    fn certificate_and_receipt_verify() {
        assert_eq!(
            run_parts(vec![c(), j()]),
            ChainOutcome::Verified {
                anchor_iss: Some("https://store.example".into()),
                last_cert_exp: Some((SEC + 31_536_000) as f64)
            }
        );
    }

    #[test]
    fn bare_jwt_signed_by_a_root() {
        let bare = token(
            r#"{"alg":"ES256"}"#,
            r#"{"typ":"purchase-receipt"}"#,
            Signer::Ec(&root()),
        );
        assert_eq!(
            run_parts(vec![bare]),
            ChainOutcome::Verified {
                anchor_iss: Some("https://store.example".into()),
                last_cert_exp: None
            }
        );
        let roots = [public(&root(), None, None)];
        let bare = token(r#"{"alg":"ES256","kid":"any"}"#, "{}", Signer::Ec(&root()));
        assert_eq!(
            run_with(vec![bare], &roots, &[], None),
            ChainOutcome::Verified {
                anchor_iss: None,
                last_cert_exp: None
            },
            "a key without kid fits any header kid"
        );
    }

    #[test]
    fn key_selection() {
        // Tried in list order: a wrong key with the same kid first does not stop the right one.
        let roots = [
            public(&attacker(), Some("root-1"), Some("https://evil.example")),
            public(&root(), Some("root-1"), None),
        ];
        assert_eq!(
            run_with(vec![c(), j()], &roots, &[], None),
            ChainOutcome::Verified {
                anchor_iss: None,
                last_cert_exp: Some((SEC + 31_536_000) as f64)
            }
        );
        // Filtered out by kid: nothing tried.
        let bare = j();
        assert_fail(
            run_parts(vec![bare]),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 0.0)],
        );
        // No kid: R tried and fails.
        let bare = token(r#"{"alg":"ES256"}"#, "{}", Signer::Ec(&signer()));
        assert_fail(
            run_parts(vec![bare]),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 0.0)],
        );
        // Filtered out by alg.
        let rsa_root = [PublicKey {
            material: KeyMaterial::Rsa(rsa_key(0).to_public_key()),
            kid: None,
            iss: None,
        }];
        assert_fail(
            run_with(vec![c(), j()], &rsa_root, &[], None),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 0.0)],
        );
        // Broken chain: C signed by an attacker with R's kid.
        let forged = cert_by(&attacker(), &cert_payload(&k_jwk(), &std_cert_times()));
        assert_fail(
            run_parts(vec![forged, j()]),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 0.0)],
        );
    }

    #[test]
    fn receipt_key_selection_uses_the_certificate() {
        assert_fail(
            run_parts(vec![c(), j_by(&attacker())]),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 1.0)],
        );
        let other_kid = token(r#"{"alg":"ES256","kid":"other"}"#, "{}", Signer::Ec(&signer()));
        assert_fail(
            run_parts(vec![c(), other_kid]),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 1.0)],
        );
        let rsa_only = cert_by(
            &root(),
            &cert_payload(&rsa_jwk_text(rsa_key(0), ""), &std_cert_times()),
        );
        assert_fail(
            run_parts(vec![rsa_only, j()]),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 1.0)],
        );
        // RS256 receipt under an RSA key in the certificate.
        let rsa_cert = cert_by(
            &root(),
            &cert_payload(&rsa_jwk_text(rsa_key(0), ""), &std_cert_times()),
        );
        let rs = token(r#"{"alg":"RS256"}"#, "{}", Signer::Rsa(rsa_key(0)));
        assert!(matches!(
            run_parts(vec![rsa_cert, rs]),
            ChainOutcome::Verified { .. }
        ));
    }

    #[test]
    fn three_part_chains() {
        let mid = ec_key(102);
        let c0 = cert_by(
            &root(),
            &cert_payload(&ec_jwk_text(&mid, r#","kid":"mid""#), &std_cert_times()),
        );
        let c1_payload = cert_payload(&k_jwk(), &format!(r#","exp":{}"#, SEC + 86400));
        let c1 = token(r#"{"alg":"ES256","kid":"mid"}"#, &c1_payload, Signer::Ec(&mid));
        assert_eq!(
            run_parts(vec![c0.clone(), c1, j()]),
            ChainOutcome::Verified {
                anchor_iss: Some("https://store.example".into()),
                last_cert_exp: Some((SEC + 86400) as f64)
            }
        );
        // C1 outlives C0.
        let c1_payload = cert_payload(&k_jwk(), &format!(r#","exp":{}"#, SEC + 31_536_001));
        let c1 = token(r#"{"alg":"ES256","kid":"mid"}"#, &c1_payload, Signer::Ec(&mid));
        assert_fail(
            run_parts(vec![c0.clone(), c1.clone(), j()]),
            Class::CertificateError,
            "Certificate outlives its issuer",
            &[("part", 1.0)],
        );
        // Equal exp is fine.
        let c1_payload = cert_payload(&k_jwk(), &format!(r#","exp":{}"#, SEC + 31_536_000));
        let c1 = token(r#"{"alg":"ES256","kid":"mid"}"#, &c1_payload, Signer::Ec(&mid));
        assert!(matches!(
            run_parts(vec![c0.clone(), c1, j()]),
            ChainOutcome::Verified { .. }
        ));
        // C1 signed by a key that C0 does not certify.
        let c1 = token(
            r#"{"alg":"ES256","kid":"mid"}"#,
            &c1_payload,
            Signer::Ec(&attacker()),
        );
        assert_fail(
            run_parts(vec![c0.clone(), c1, j()]),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 1.0)],
        );
        // The receipt signed by the intermediate key (not certified by C1).
        let c1 = token(r#"{"alg":"ES256","kid":"mid"}"#, &c1_payload, Signer::Ec(&mid));
        let j_mid = token(r#"{"alg":"ES256"}"#, "{}", Signer::Ec(&mid));
        assert_fail(
            run_parts(vec![c0, c1, j_mid]),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 2.0)],
        );
    }

    #[test]
    fn certificate_checks_in_table_order() {
        let times = std_cert_times();
        let k = k_jwk();
        type Case<'a> = (String, &'a str, Vec<(&'a str, f64)>);
        let cases: Vec<Case<'_>> = vec![
            (
                format!(r#"{{"typ":"JWT","iss":"{DOC}","jwk":[{k}]{times}}}"#),
                "Certificate typ is not certified-key",
                vec![],
            ),
            (
                format!(r#"{{"iss":"{DOC}","jwk":[]}}"#),
                "Certificate typ is not certified-key",
                vec![],
            ),
            (
                format!(r#"{{"typ":"certified-key","iss":"","jwk":[{k}]{times}}}"#),
                "Certificate has no iss",
                vec![],
            ),
            (
                r#"{"typ":"certified-key","iss":5,"jwk":[]}"#.to_owned(),
                "Certificate has no iss",
                vec![],
            ),
            (
                format!(r#"{{"typ":"certified-key","iss":"{DOC}","jwk":[]{times}}}"#),
                "Certificate has no usable jwk list",
                vec![],
            ),
            (
                format!(r#"{{"typ":"certified-key","iss":"{DOC}"{times}}}"#),
                "Certificate has no usable jwk list",
                vec![],
            ),
            (
                format!(r#"{{"typ":"certified-key","iss":"{DOC}","jwk":{k}{times}}}"#),
                "Certificate has no usable jwk list",
                vec![],
            ),
            (
                cert_payload(&vec![k.as_str(); 17].join(","), &times),
                "Certificate has no usable jwk list",
                vec![],
            ),
            (
                cert_payload(&format!(r#"{k},{{"kty":"oct","k":"AA"}}"#), ""),
                "Certificate contains an invalid key",
                vec![("index", 1.0)],
            ),
            (
                cert_payload(&k, r#","exp":"9999999999""#),
                "Certificate has no valid exp",
                vec![],
            ),
            (
                cert_payload(&k, r#","exp":-1"#),
                "Certificate has no valid exp",
                vec![],
            ),
            (
                cert_payload(&k, r#","exp":253402300800"#),
                "Certificate has no valid exp",
                vec![],
            ),
            (
                cert_payload(&k, r#","exp":1,"nbf":null"#),
                "Certificate has an invalid nbf or iat",
                vec![],
            ),
            (
                cert_payload(&k, r#","exp":1,"iat":"1""#),
                "Certificate has an invalid nbf or iat",
                vec![],
            ),
            (
                cert_payload(&k, &format!(r#","exp":{},"nbf":{}"#, SEC - 60, SEC + 61)),
                "Certificate expired",
                vec![("exp", (SEC - 60) as f64)],
            ),
            (
                cert_payload(&k, &format!(r#","exp":{},"nbf":{}"#, SEC + 100, SEC + 61)),
                "Certificate not yet valid",
                vec![],
            ),
            (
                cert_payload(&k, &format!(r#","exp":{},"iat":{}"#, SEC + 100, SEC + 61)),
                "Certificate not yet valid",
                vec![],
            ),
        ];
        for (payload, detail, extra) in cases {
            let mut attrs = vec![("part", 0.0)];
            attrs.extend(extra);
            assert_fail(
                run_parts(vec![cert_by(&root(), &payload), j()]),
                Class::CertificateError,
                detail,
                &attrs,
            );
        }
        // 16 keys, t − 59 and t + 60 pass.
        let ok = [
            cert_payload(&vec![k.as_str(); 16].join(","), &times),
            cert_payload(
                &k,
                &format!(r#","exp":{},"nbf":{},"iat":{}"#, SEC - 59, SEC + 60, SEC + 60),
            ),
            cert_payload(&k, &format!(r#","exp":{}.5"#, SEC - 60)),
        ];
        for payload in ok {
            assert!(
                matches!(
                    run_parts(vec![cert_by(&root(), &payload), j()]),
                    ChainOutcome::Verified { .. }
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn a_nan_clock_fails_closed() {
        let parsed = Parsed {
            parts: vec![c(), j()],
        };
        let algs = algs_of(&parsed.parts);
        let trusted = trusted();
        let input = ChainInput {
            parsed: &parsed,
            algs: &algs,
            trusted: &trusted,
            root_key_origins: &[],
            root_document: None,
            now_ms: f64::NAN,
            leeway_ms: LEEWAY,
        };
        let f = failed(verify_chain(&input, &NativeUrlParser));
        assert_eq!(
            (f.class, f.detail.as_str()),
            (Class::CertificateError, "Certificate expired")
        );
    }

    #[test]
    fn signature_is_checked_before_certificate_content() {
        let bad = cert_by(&attacker(), &format!(r#"{{"typ":"JWT","iss":"{DOC}"}}"#));
        assert_fail(
            run_parts(vec![bad, j()]),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 0.0)],
        );
    }

    #[test]
    fn root_document_source() {
        let origins = ["https://keys.store.example"];
        // Configured keys tried first; nothing configured here.
        assert_eq!(
            run_with(vec![c(), j()], &[], &origins, None),
            ChainOutcome::NeedsRootDocument { url: DOC.into() }
        );
        // The URL is exactly certs[0].iss, not a normalised form.
        let odd_iss = r#"https://KEYS.store.example:443/root.jwk?v=1"#;
        let c_odd = cert_by(
            &root(),
            &format!(
                r#"{{"typ":"certified-key","iss":"{odd_iss}","jwk":[{}]{}}}"#,
                k_jwk(),
                std_cert_times()
            ),
        );
        assert_eq!(
            run_with(vec![c_odd, j()], &[], &origins, None),
            ChainOutcome::NeedsRootDocument { url: odd_iss.into() }
        );
        // A configured key that verifies means no request.
        assert!(matches!(
            run_with(vec![c(), j()], &trusted(), &origins, None),
            ChainOutcome::Verified { .. }
        ));
        // With the document: anchored by it, no issuer binding.
        let doc = [public(&root(), Some("root-1"), Some("https://ignored.example"))];
        assert_eq!(
            run_with(vec![c(), j()], &[], &origins, Some(&doc)),
            ChainOutcome::Verified {
                anchor_iss: None,
                last_cert_exp: Some((SEC + 31_536_000) as f64)
            }
        );
        // A configured key with a kid that does not match, then the document.
        let other = [public(&attacker(), Some("other"), None)];
        assert!(matches!(
            run_with(vec![c(), j()], &other, &origins, Some(&doc)),
            ChainOutcome::Verified { .. }
        ));
        // The document's keys do not verify; a configured key was tried: InvalidSignature.
        let wrong_doc = [public(&attacker(), None, None)];
        assert_fail(
            run_with(vec![c(), j()], &[], &origins, Some(&wrong_doc)),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 0.0)],
        );
        let attacker_root = [public(&attacker(), Some("root-1"), None)];
        let kid_doc = [public(&root(), Some("nope"), None)];
        assert_fail(
            run_with(vec![c(), j()], &attacker_root, &origins, Some(&kid_doc)),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 0.0)],
        );
        // Nothing tried in either source.
        assert_fail(
            run_with(vec![c(), j()], &other, &origins, Some(&kid_doc)),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 0.0)],
        );
        assert_fail(
            run_with(vec![c(), j()], &[], &origins, Some(&[])),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 0.0)],
        );
    }

    #[test]
    fn root_document_is_only_requested_from_allowed_origins() {
        let origins = ["https://keys.store.example"];
        for iss in [
            "https://keys.store.example.evil.com/root.jwk",
            "http://keys.store.example/root.jwk",
            "https://user@keys.store.example/root.jwk",
            "https://user:pw@keys.store.example/root.jwk",
            "https://keys.store.example:8443/root.jwk",
            "keys.store.example/root.jwk",
            "/root.jwk",
            "",
        ] {
            let payload = format!(
                r#"{{"typ":"certified-key","iss":"{iss}","jwk":[{}]{}}}"#,
                k_jwk(),
                std_cert_times()
            );
            let cert = cert_by(&root(), &payload);
            assert_fail(
                run_with(vec![cert, j()], &[], &origins, None),
                Class::UnknownSigningKey,
                "No trusted key matches the JWT header",
                &[("part", 0.0)],
            );
        }
        let cert = cert_by(&root(), r#"{"typ":"certified-key","iss":5,"jwk":[]}"#);
        assert_fail(
            run_with(vec![cert, j()], &[], &origins, None),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 0.0)],
        );
        // Empty rootKeyOrigins: no request, even for a perfect iss; the configured key was tried.
        let forged = cert_by(&attacker(), &cert_payload(&k_jwk(), &std_cert_times()));
        assert_fail(
            run_with(vec![forged, j()], &trusted(), &[], None),
            Class::InvalidSignature,
            "Signature verification failed",
            &[("part", 0.0)],
        );
        // A bare JWT never uses source (b).
        let bare = token(
            r#"{"alg":"ES256"}"#,
            &format!(r#"{{"iss":"{DOC}"}}"#),
            Signer::Ec(&root()),
        );
        assert_fail(
            run_with(vec![bare], &[], &origins, None),
            Class::UnknownSigningKey,
            "No trusted key matches the JWT header",
            &[("part", 0.0)],
        );
        // Origins compare as normalised: upper case and the default port match.
        let cert = cert_by(
            &root(),
            r#"{"typ":"certified-key","iss":"https://KEYS.store.example:443/r","jwk":[]}"#,
        );
        assert!(matches!(
            run_with(vec![cert, j()], &[], &origins, None),
            ChainOutcome::NeedsRootDocument { .. }
        ));
    }
}
