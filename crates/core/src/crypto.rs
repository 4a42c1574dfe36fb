//! RS256 and ES256 verification (§2.3.5) on RustCrypto primitives.
//!
//! HELPER-B implements.

use crate::compact::Alg;
use crate::jwk::KeyMaterial;

/// Verifies `signature` over `signing_input`. RS256 needs an RSA key and a signature of exactly
/// the modulus length; ES256 needs a P-256 key and exactly 64 bytes `R‖S` with 0 < r, s < n
/// (DER refused, high-S accepted). Any mismatch is `false`.
pub fn verify(alg: Alg, key: &KeyMaterial, signing_input: &[u8], signature: &[u8]) -> bool {
    let _ = (alg, key, signing_input, signature);
    todo!("HELPER-B")
}
