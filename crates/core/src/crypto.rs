//! RS256 and ES256 verification (§2.3.5) on RustCrypto primitives.

use crate::compact::Alg;
use crate::jwk::KeyMaterial;
use p256::ecdsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

/// Verifies `signature` over `signing_input`. RS256 needs an RSA key and a signature of exactly
/// the modulus length; ES256 needs a P-256 key and exactly 64 bytes `R‖S` with 0 < r, s < n
/// (DER refused, high-S accepted). Any mismatch is `false`.
pub fn verify(alg: Alg, key: &KeyMaterial, signing_input: &[u8], signature: &[u8]) -> bool {
    match (alg, key) {
        (Alg::Rs256, KeyMaterial::Rsa(key)) => {
            // A zero-stripped (shorter) signature is refused, not left-padded.
            if signature.len() != key.size() {
                return false;
            }
            let hashed = Sha256::digest(signing_input);
            key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hashed, signature)
                .is_ok()
        }
        (Alg::Es256, KeyMaterial::P256(key)) => {
            if signature.len() != 64 {
                return false;
            }
            // `from_slice` refuses r or s equal to 0 or ≥ n. No low-S normalisation is required.
            match p256::ecdsa::Signature::from_slice(signature) {
                Ok(sig) => key.verify(signing_input, &sig).is_ok(),
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
}
