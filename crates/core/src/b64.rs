//! base64url: the canonical form of §2.3.1 rule 7 and the lenient form of §2.4.
//!
//! HELPER-A implements.

/// Canonical unpadded base64url: alphabet `A–Z a–z 0–9 - _` only, no `=`, length mod 4 ≠ 1,
/// unused trailing bits zero. `None` on any violation.
pub fn decode_strict(s: &str) -> Option<Vec<u8>> {
    let _ = s;
    todo!("HELPER-A")
}

/// Lenient (§2.4): `-` or `+`, `_` or `/`, up to two trailing `=`, length mod 4 ≠ 1 once the `=`
/// are removed, unused bits ignored, any other character (whitespace included) rejected.
pub fn decode_lenient(s: &str) -> Option<Vec<u8>> {
    let _ = s;
    todo!("HELPER-A")
}

/// Unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    let _ = bytes;
    todo!("HELPER-A")
}
