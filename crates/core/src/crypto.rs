//! RS256 and ES256 verification (§2.3.5) on RustCrypto primitives, and the hook through which an
//! embedder may answer the signature equations itself (the browser's WebCrypto).
//!
//! # Delegated signature checks
//!
//! [`with_answers`] runs a pipeline with a table of answers supplied by the caller. Inside it,
//! every signature check still makes all of its own structural decisions here (the algorithm must
//! fit the key, the signature length, `0 < r, s < n`, DER refused); only the final equation is
//! looked up by a [`SignatureRequest::id`] (a SHA-256 over the algorithm, the key, the signing
//! input and the signature). A check without an answer is recorded as pending and counts as
//! *valid for this pass only*: the caller verifies the pending requests, adds the answers and
//! runs the pipeline again, until a pass records nothing. Only that pass's result may be used: it
//! was decided on real answers alone. The core stays pure: the answers are an input, like the
//! clock.

use crate::compact::Alg;
use crate::jwk::KeyMaterial;
use p256::ecdsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use std::cell::RefCell;

/// The public key of a [`SignatureRequest`], in the forms WebCrypto imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKey {
    /// A P-256 point, SEC1 uncompressed (`04‖X‖Y`, 65 bytes): WebCrypto's `raw` EC format.
    P256Uncompressed(Vec<u8>),
    /// An RSA key: big-endian modulus and public exponent (a JWK's `n` and `e`).
    Rsa {
        /// The modulus, big-endian, without leading zero bytes.
        n: Vec<u8>,
        /// The public exponent, big-endian.
        e: Vec<u8>,
    },
}

/// One signature equation left to the caller by [`with_answers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRequest {
    /// Names this request in the answer table: base64url (no padding) of a SHA-256 over the
    /// algorithm, the key, the signing input and the signature, each length-prefixed.
    pub id: String,
    /// RS256 or ES256.
    pub alg: Alg,
    /// The key to verify with.
    pub key: RequestKey,
    /// The JWS signing input (`header.payload`).
    pub signing_input: Vec<u8>,
    /// The signature bytes (RSA: the modulus length; ES256: 64 bytes `R‖S`).
    pub signature: Vec<u8>,
}

struct Oracle {
    answers: Vec<(String, bool)>,
    pending: Vec<SignatureRequest>,
}

thread_local! {
    static ORACLE: RefCell<Option<Oracle>> = const { RefCell::new(None) };
}

/// Runs `f` with signature equations answered from `answers` (`(id, valid)` pairs) and returns
/// its result with the requests that had no answer (each once, in the order first met). When the
/// list is empty, the result was decided on the given answers alone; otherwise it must not be
/// used. A nested call has its own table and its own pending list; the outer ones are restored
/// when it returns.
pub fn with_answers<R>(
    answers: Vec<(String, bool)>,
    f: impl FnOnce() -> R,
) -> (R, Vec<SignatureRequest>) {
    let outer = ORACLE.with(|o| {
        o.borrow_mut().replace(Oracle {
            answers,
            pending: Vec::new(),
        })
    });
    let out = f();
    let pending = ORACLE
        .with(|o| std::mem::replace(&mut *o.borrow_mut(), outer))
        .map(|o| o.pending)
        .unwrap_or_default();
    (out, pending)
}

fn request_for(
    alg: Alg,
    key: &KeyMaterial,
    signing_input: &[u8],
    signature: &[u8],
) -> SignatureRequest {
    let (tag, request_key) = match key {
        KeyMaterial::P256(k) => (
            b"ES256".as_slice(),
            RequestKey::P256Uncompressed(k.to_encoded_point(false).as_bytes().to_vec()),
        ),
        KeyMaterial::Rsa(k) => (
            b"RS256".as_slice(),
            RequestKey::Rsa {
                n: k.n().to_bytes_be(),
                e: k.e().to_bytes_be(),
            },
        ),
    };
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    part(tag);
    match &request_key {
        RequestKey::P256Uncompressed(p) => part(p),
        RequestKey::Rsa { n, e } => {
            part(n);
            part(e);
        }
    }
    part(signing_input);
    part(signature);
    let id = crate::b64::encode(&h.finalize());
    SignatureRequest {
        id,
        alg,
        key: request_key,
        signing_input: signing_input.to_vec(),
        signature: signature.to_vec(),
    }
}

/// The equation itself: answered by the table inside [`with_answers`], else computed here.
fn equation(
    alg: Alg,
    key: &KeyMaterial,
    signing_input: &[u8],
    signature: &[u8],
    compute: impl FnOnce() -> bool,
) -> bool {
    let delegated = ORACLE.with(|o| {
        let mut o = o.borrow_mut();
        let oracle = o.as_mut()?;
        let request = request_for(alg, key, signing_input, signature);
        if let Some((_, valid)) = oracle.answers.iter().find(|(id, _)| *id == request.id) {
            return Some(*valid);
        }
        if !oracle.pending.iter().any(|p| p.id == request.id) {
            oracle.pending.push(request);
        }
        Some(true) // this pass only: the caller must answer and run again
    });
    match delegated {
        Some(valid) => valid,
        None => compute(),
    }
}

/// Verifies `signature` over `signing_input`. RS256 needs an RSA key and a signature of exactly
/// the modulus length; ES256 needs a P-256 key and exactly 64 bytes `R‖S` with 0 < r, s < n
/// (DER refused, high-S accepted). Any mismatch is `false`. Inside [`with_answers`] the final
/// equation comes from the caller's table (see the module docs).
pub fn verify(alg: Alg, key: &KeyMaterial, signing_input: &[u8], signature: &[u8]) -> bool {
    match (alg, key) {
        (Alg::Rs256, KeyMaterial::Rsa(rsa_key)) => {
            // A zero-stripped (shorter) signature is refused, not left-padded.
            if signature.len() != rsa_key.size() {
                return false;
            }
            equation(alg, key, signing_input, signature, || {
                let hashed = Sha256::digest(signing_input);
                rsa_key
                    .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hashed, signature)
                    .is_ok()
            })
        }
        (Alg::Es256, KeyMaterial::P256(ec_key)) => {
            if signature.len() != 64 {
                return false;
            }
            // `from_slice` refuses r or s equal to 0 or ≥ n. No low-S normalisation is required.
            match p256::ecdsa::Signature::from_slice(signature) {
                Ok(sig) => equation(alg, key, signing_input, signature, || {
                    ec_key.verify(signing_input, &sig).is_ok()
                }),
                Err(_) => false,
            }
        }
        _ => false,
    }
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
    use crate::jwk::test_support::*;
    use rsa::BigUint;

    /// The order n of P-256.
    fn p256_order() -> BigUint {
        BigUint::parse_bytes(
            b"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
            16,
        )
        .unwrap()
    }

    fn be32(v: &BigUint) -> Vec<u8> {
        let b = v.to_bytes_be();
        let mut out = vec![0u8; 32 - b.len()];
        out.extend_from_slice(&b);
        out
    }

    /// ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` of a P1363 signature.
    fn der(sig: &[u8]) -> Vec<u8> {
        let int = |v: &[u8]| {
            let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
            if v.first().is_none_or(|b| *b >= 0x80) {
                v.insert(0, 0);
            }
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let mut body = int(&sig[..32]);
        body.extend(int(&sig[32..]));
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    #[test]
    fn es256() {
        let k = ec_key(11);
        let key = KeyMaterial::P256(*k.verifying_key());
        let msg = b"header.payload";
        let sig = sign_es256(&k, msg);
        assert!(verify(Alg::Es256, &key, msg, &sig));
        assert!(!verify(Alg::Es256, &key, b"header.payloaD", &sig));
        assert!(!verify(Alg::Rs256, &key, msg, &sig), "alg must fit the key");
        assert!(!verify(
            Alg::Es256,
            &KeyMaterial::P256(*ec_key(12).verifying_key()),
            msg,
            &sig
        ));
        assert!(!verify(Alg::Es256, &key, msg, &der(&sig)), "DER is refused");
        assert!(!verify(Alg::Es256, &key, msg, &sig[..63]));
        let mut longer = sig.clone();
        longer.push(0);
        assert!(!verify(Alg::Es256, &key, msg, &longer));
        assert!(!verify(Alg::Es256, &key, msg, &[]));
    }

    #[test]
    fn es256_scalar_ranges_and_high_s() {
        let k = ec_key(13);
        let key = KeyMaterial::P256(*k.verifying_key());
        let msg = b"h.p";
        let sig = sign_es256(&k, msg);
        let n = p256_order();
        let r = BigUint::from_bytes_be(&sig[..32]);
        let s = BigUint::from_bytes_be(&sig[32..]);
        // (r, n − s) is the same signature with the other S: one of the two is high-S.
        let mut flipped = be32(&r);
        flipped.extend(be32(&(&n - &s)));
        assert!(verify(Alg::Es256, &key, msg, &flipped), "high-S accepted");
        assert!(verify(Alg::Es256, &key, msg, &sig));
        assert!(!verify(Alg::Es256, &key, msg, &[0; 64]));
        for (r2, s2) in [(&n, &s), (&r, &n), (&(&r + &n), &s)] {
            if r2.bits() > 256 {
                continue;
            }
            let mut bad = be32(r2);
            bad.extend(be32(s2));
            assert!(!verify(Alg::Es256, &key, msg, &bad));
        }
        let mut zero_s = sig[..32].to_vec();
        zero_s.extend([0u8; 32]);
        assert!(!verify(Alg::Es256, &key, msg, &zero_s));
        let mut max = vec![0xffu8; 32];
        max.extend_from_slice(&sig[32..]);
        assert!(!verify(Alg::Es256, &key, msg, &max));
    }

    #[test]
    fn rs256() {
        use rsa::traits::PublicKeyParts;
        let private = rsa_key(0);
        let key = KeyMaterial::Rsa(private.to_public_key());
        let msg = b"header.payload";
        let sig = sign_rs256(private, msg);
        assert_eq!(sig.len(), private.size());
        assert!(verify(Alg::Rs256, &key, msg, &sig));
        assert!(!verify(Alg::Es256, &key, msg, &sig));
        assert!(!verify(Alg::Rs256, &key, b"header.payloaD", &sig));
        assert!(!verify(
            Alg::Rs256,
            &KeyMaterial::Rsa(rsa_key(1).to_public_key()),
            msg,
            &sig
        ));
        let mut prefixed = vec![0u8];
        prefixed.extend_from_slice(&sig);
        assert!(!verify(Alg::Rs256, &key, msg, &prefixed), "k + 1 bytes");
        // A signature that starts with 0x00 must not be accepted zero-stripped (k − 1 bytes).
        let (msg, sig) = (0u32..)
            .map(|i| {
                let m = format!("h.{i}");
                let s = sign_rs256(private, m.as_bytes());
                (m, s)
            })
            .find(|(_, s)| s[0] == 0)
            .unwrap();
        assert!(verify(Alg::Rs256, &key, msg.as_bytes(), &sig));
        assert!(!verify(Alg::Rs256, &key, msg.as_bytes(), &sig[1..]));
        // A value ≥ n of the right length.
        assert!(!verify(
            Alg::Rs256,
            &key,
            msg.as_bytes(),
            &vec![0xff; private.size()]
        ));
    }

    #[test]
    fn delegated_answers_decide_and_unanswered_requests_are_pending() {
        let k = ec_key(21);
        let key = KeyMaterial::P256(*k.verifying_key());
        let msg = b"header.payload";
        let good = sign_es256(&k, msg);
        let mut bad = good.clone();
        bad[10] ^= 1;
        // Nothing answered: both count as valid for the pass, and both are pending (once each).
        let (results, pending) = with_answers(Vec::new(), || {
            [
                verify(Alg::Es256, &key, msg, &good),
                verify(Alg::Es256, &key, msg, &bad),
                verify(Alg::Es256, &key, msg, &good),
            ]
        });
        assert_eq!(results, [true, true, true]);
        assert_eq!(pending.len(), 2);
        assert_ne!(pending[0].id, pending[1].id);
        assert_eq!(pending[0].signature, good);
        assert_eq!(pending[0].signing_input, msg);
        assert!(
            matches!(&pending[0].key, RequestKey::P256Uncompressed(p) if p.len() == 65 && p[0] == 4)
        );
        // The answers decide (even a wrong one: the table is the caller's responsibility).
        let answers = vec![
            (pending[0].id.clone(), true),
            (pending[1].id.clone(), false),
        ];
        let (results, pending2) = with_answers(answers.clone(), || {
            [
                verify(Alg::Es256, &key, msg, &good),
                verify(Alg::Es256, &key, msg, &bad),
            ]
        });
        assert_eq!(results, [true, false]);
        assert!(pending2.is_empty());
        // Structural refusals are still made here, without a request.
        let (r, p) = with_answers(Vec::new(), || {
            [
                verify(Alg::Es256, &key, msg, &good[..63]),
                verify(Alg::Rs256, &key, msg, &good),
                verify(Alg::Es256, &key, msg, &[0; 64]),
            ]
        });
        assert_eq!((r, p.len()), ([false, false, false], 0));
        // Outside with_answers the equation is computed here again.
        assert!(verify(Alg::Es256, &key, msg, &good));
        assert!(!verify(Alg::Es256, &key, msg, &bad));
    }

    #[test]
    fn nested_delegation_reports_its_own_pending_and_restores_the_outer_table() {
        let k = ec_key(22);
        let key = KeyMaterial::P256(*k.verifying_key());
        let good = sign_es256(&k, b"outer");
        let inner_sig = sign_es256(&k, b"inner");
        let (outer_id, inner_id) = {
            let (_, p) = with_answers(Vec::new(), || {
                verify(Alg::Es256, &key, b"outer", &good);
                verify(Alg::Es256, &key, b"inner", &inner_sig)
            });
            (p[0].id.clone(), p[1].id.clone())
        };
        let ((inner, after), outer_pending) = with_answers(vec![(outer_id.clone(), false)], || {
            // The inner table does not know the inner equation: it must come back as pending,
            // never as a silently optimistic decision.
            let inner = with_answers(Vec::new(), || verify(Alg::Es256, &key, b"inner", &inner_sig));
            // The outer table is back in force.
            (inner, verify(Alg::Es256, &key, b"outer", &good))
        });
        assert!(inner.0, "optimistic for this pass");
        assert_eq!(inner.1.len(), 1);
        assert_eq!(inner.1[0].id, inner_id);
        assert!(!after, "the outer answer decides after the inner call");
        assert!(outer_pending.is_empty());
        // Outside every call the equation is computed again.
        assert!(verify(Alg::Es256, &key, b"outer", &good));
    }

    #[test]
    fn delegated_rsa_request_carries_n_and_e() {
        let private = rsa_key(0);
        let key = KeyMaterial::Rsa(private.to_public_key());
        let sig = sign_rs256(private, b"a.b");
        let (ok, pending) = with_answers(Vec::new(), || verify(Alg::Rs256, &key, b"a.b", &sig));
        assert!(ok);
        assert_eq!(pending.len(), 1);
        match &pending[0].key {
            RequestKey::Rsa { n, e } => {
                assert_eq!(n.len(), private.size());
                assert_eq!(e, &vec![1, 0, 1]);
            }
            other => panic!("unexpected key {other:?}"),
        }
        // Same key, input and signature: the same id.
        let (_, again) = with_answers(Vec::new(), || verify(Alg::Rs256, &key, b"a.b", &sig));
        assert_eq!(again[0].id, pending[0].id);
    }
}
