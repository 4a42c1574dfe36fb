//! Compact encodings (§1.1), strict parsing (§2.3.1), header rules (§2.3.2), lenient parsing
//! (§2.4) and the add-receipt check (§1.8).
//!
//! HELPER-A implements.

use crate::error::Failure;
use crate::json::Json;

/// Receipt length limit in bytes (§1.7).
pub const MAX_RECEIPT_BYTES: usize = 1_048_576;
/// Decoded JWS header limit (§1.7).
pub const MAX_HEADER_BYTES: usize = 8_192;

/// One strictly parsed JWS compact token.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The decoded header object.
    pub header: Json,
    /// The decoded payload object.
    pub payload: Json,
    /// The decoded signature bytes.
    pub signature: Vec<u8>,
    /// The ASCII `header "." payload` as it appears in the receipt: the signed bytes.
    pub signing_input: String,
}

/// A strictly parsed receipt string: 0–2 certificates and the receipt JWT (the last part).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Every part in order; the last is the receipt.
    pub parts: Vec<Token>,
}

impl Parsed {
    /// The receipt JWT (the last part).
    pub fn receipt(&self) -> Option<&Token> {
        self.parts.last()
    }
    /// The certificate parts (all but the last).
    pub fn certificates(&self) -> &[Token] {
        match self.parts.split_last() {
            Some((_, certs)) => certs,
            None => &[],
        }
    }
}

/// §2.3.1 rules 1–13, in the order the spec gives (rules 2–13; rule 1 is the shell's, since a
/// non-string never reaches Rust). Errors are `ReceiptParseError` with `part`/`segment` attributes.
pub fn parse_strict(receipt: &str) -> Result<Parsed, Failure> {
    let _ = receipt;
    todo!("HELPER-A")
}

/// §2.3.2 H1–H6 for one header, part index `part`. Errors: `ReceiptParseError`,
/// `AlgorithmNotAllowed`, `UnsupportedHeader`.
pub fn check_header(header: &Json, part: usize) -> Result<Alg, Failure> {
    let _ = (header, part);
    todo!("HELPER-A")
}

/// The two signature algorithms receipts may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
}

/// Lenient parse (§2.4): the decoded payload object of the last part, or the reason text
/// (`Not valid JWT`, `invalid base64`, …) that the shell puts after `Error decoding JSON: `.
pub fn parse_lenient(receipt: &str) -> Result<Json, &'static str> {
    let _ = receipt;
    todo!("HELPER-A")
}

/// The add-receipt check of §1.8 on a string (rule 1 is the shell's). `Err` holds the error name,
/// e.g. `INVALID_SEGMENTS_NUMBER`.
pub fn add_receipt_check(receipt: &str) -> Result<(), &'static str> {
    let _ = receipt;
    todo!("HELPER-A")
}
