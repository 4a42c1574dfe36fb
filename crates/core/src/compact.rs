//! Compact encodings (§1.1), strict parsing (§2.3.1), header rules (§2.3.2), lenient parsing
//! (§2.4) and the add-receipt check (§1.8).

use crate::b64;
use crate::error::{clip, Failure};
use crate::json::{self, Json, JsonError};
use crate::state::Class;

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
    // Rule 2: `str::len` is the UTF-8 length.
    if receipt.len() > MAX_RECEIPT_BYTES {
        return Err(parse_error("Receipt is too big (limit 1048576 bytes)"));
    }
    // Rule 3.
    if !receipt.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    {
        return Err(parse_error("Receipt contains an invalid character"));
    }
    // Rule 4a, then 4b.
    let count = receipt.split('~').count();
    if count > 3 {
        return Err(parse_error(format!(
            "Receipt has {count} ~-separated parts (expected 1 to 3)"
        )));
    }
    if receipt.split('~').any(str::is_empty) {
        return Err(parse_error("Receipt has an empty part"));
    }
    // Rules 5–13, one part after the other.
    let parts = receipt
        .split('~')
        .enumerate()
        .map(|(index, part)| parse_part(part, index))
        .collect::<Result<Vec<Token>, Failure>>()?;
    Ok(Parsed { parts })
}

/// The segment names of §2.3.1, in segment order.
const SEGMENTS: [&str; 3] = ["header", "payload", "signature"];

fn parse_error(detail: impl Into<String>) -> Failure {
    Failure::new(Class::ReceiptParseError, detail)
}

/// A `ReceiptParseError` about part `index`.
fn part_error(detail: &str, index: usize) -> Failure {
    parse_error(detail).with_num("part", index as f64)
}

/// A `ReceiptParseError` about one segment of part `index`.
fn segment_error(detail: &str, index: usize, segment: &str) -> Failure {
    part_error(detail, index).with_str("segment", segment)
}

/// Rules 5–13 for one part (already known to be non-empty and of allowed characters).
fn parse_part(part: &str, index: usize) -> Result<Token, Failure> {
    // Rule 5.
    let count = part.split('.').count();
    let mut split = part.split('.');
    let (Some(header), Some(payload), Some(signature), 3) =
        (split.next(), split.next(), split.next(), count)
    else {
        return Err(part_error(&format!("JWT has {count} segments (expected 3)"), index));
    };
    let segments = [header, payload, signature];
    // Rule 6 for every segment, then rule 7 for every segment.
    for (name, text) in SEGMENTS.iter().zip(segments) {
        if text.is_empty() {
            return Err(segment_error("JWT has an empty segment", index, name));
        }
    }
    let mut decoded: Vec<Vec<u8>> = Vec::with_capacity(3);
    for (name, text) in SEGMENTS.iter().zip(segments) {
        match b64::decode_strict(text) {
            Some(bytes) => decoded.push(bytes),
            None => return Err(segment_error("Invalid base64url in JWT segment", index, name)),
        }
    }
    let mut decoded = decoded.into_iter();
    let (Some(header_bytes), Some(payload_bytes), Some(signature_bytes)) =
        (decoded.next(), decoded.next(), decoded.next())
    else {
        return Err(segment_error("Invalid base64url in JWT segment", index, "header"));
    };
    // Rule 8.
    if header_bytes.len() > MAX_HEADER_BYTES {
        return Err(part_error("JWT header is too big (limit 8192 bytes)", index));
    }
    // Rules 9–13, header first.
    let header_json = parse_object(&header_bytes, index, "header")?;
    let payload_json = parse_object(&payload_bytes, index, "payload")?;
    Ok(Token {
        header: header_json,
        payload: payload_json,
        signature: signature_bytes,
        signing_input: format!("{header}.{payload}"),
    })
}

/// Rules 9–13 for one decoded segment.
fn parse_object(bytes: &[u8], index: usize, segment: &str) -> Result<Json, Failure> {
    let value = json::parse(bytes).map_err(|e| {
        let detail = match e {
            JsonError::Utf8 => "JWT segment is not valid UTF-8",
            JsonError::Syntax => "JWT segment is not valid JSON",
            JsonError::Depth => "JSON nesting too deep (limit 32)",
            JsonError::Duplicate => "Duplicate member name in JSON",
        };
        segment_error(detail, index, segment)
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(segment_error("JWT segment is not a JSON object", index, segment))
    }
}

/// §2.3.2 H1–H6 for one header, part index `part`. Errors: `ReceiptParseError`,
/// `AlgorithmNotAllowed`, `UnsupportedHeader`.
pub fn check_header(header: &Json, part: usize) -> Result<Alg, Failure> {
    let index = part as f64;
    // H1.
    let Some(alg) = header.get("alg").and_then(Json::as_str) else {
        return Err(part_error("JWT header alg is missing or not a string", part));
    };
    // H2.
    let alg = match alg {
        "RS256" => Alg::Rs256,
        "ES256" => Alg::Es256,
        other => {
            return Err(Failure::new(
                Class::AlgorithmNotAllowed,
                format!("Algorithm not allowed: {}", clip(other)),
            )
            .with_num("part", index)
            .with_str("alg", other));
        }
    };
    // H3.
    if header.get("crit").is_some() {
        return Err(Failure::new(Class::UnsupportedHeader, "Unsupported crit header")
            .with_num("part", index));
    }
    // H4.
    for name in ["b64", "cty", "enc", "zip"] {
        if header.get(name).is_some() {
            return Err(Failure::new(
                Class::UnsupportedHeader,
                format!("Unsupported header parameter: {name}"),
            )
            .with_num("part", index));
        }
    }
    // H5.
    if let Some(kid) = header.get("kid") {
        let valid = kid.as_str().is_some_and(|k| {
            (1..=256).contains(&k.len()) && k.bytes().all(|b| (0x21..=0x7e).contains(&b))
        });
        if !valid {
            return Err(part_error("JWT header kid is invalid", part));
        }
    }
    // H6.
    if header.get("typ").is_some_and(|typ| typ.as_str().is_none()) {
        return Err(part_error("JWT header typ is invalid", part));
    }
    Ok(alg)
}

/// The two signature algorithms receipts may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of 2048–4096 bits).
    Rs256,
    /// ECDSA on P-256 with SHA-256 (64-byte `R‖S` signatures).
    Es256,
}

/// Lenient parse (§2.4): the decoded payload object of the last part, or the reason text
/// (`Not valid JWT`, `invalid base64`, …) that the shell puts after `Error decoding JSON: `.
pub fn parse_lenient(receipt: &str) -> Result<Json, &'static str> {
    if too_big(receipt) {
        return Err("receipt is too big");
    }
    if !receipt.contains('.') {
        return Err("Not valid JWT");
    }
    if receipt.split('~').count() > 3 {
        return Err("too many ~-separated parts");
    }
    let last = receipt.rsplit('~').next().unwrap_or_default();
    let Some(payload) = payload_segment(last) else {
        return Err("Not valid JWT");
    };
    let bytes = b64::decode_lenient(payload).ok_or("invalid base64")?;
    let value = json::parse(&bytes).map_err(|e| match e {
        JsonError::Utf8 | JsonError::Syntax => "invalid JSON",
        JsonError::Depth => "nesting too deep",
        JsonError::Duplicate => "duplicate member name",
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err("payload is not a JSON object")
    }
}

/// Whether the receipt is longer than [`MAX_RECEIPT_BYTES`] as JS counts `length` (UTF-16 code
/// units), which is what Gecko and the original compared (lenient parse and §1.8). The strict
/// rule 2 counts UTF-8 bytes instead.
fn too_big(receipt: &str) -> bool {
    // A string's UTF-16 length never exceeds its UTF-8 length.
    receipt.len() > MAX_RECEIPT_BYTES
        && receipt.chars().map(char::len_utf16).sum::<usize>() > MAX_RECEIPT_BYTES
}

/// The payload segment of a JWT that has exactly three `.`-segments.
fn payload_segment(jwt: &str) -> Option<&str> {
    let mut split = jwt.split('.');
    let (_, payload, _, None) = (split.next()?, split.next()?, split.next()?, split.next()) else {
        return None;
    };
    Some(payload)
}

/// JS truthiness of a member (a missing member is `undefined`, which is falsy).
fn truthy(value: Option<&Json>) -> bool {
    match value {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(Json::Num(n)) => *n != 0.0 && !n.is_nan(),
        Some(Json::Str(s)) => !s.is_empty(),
        Some(Json::Arr(_) | Json::Obj(_)) => true,
    }
}

/// The four receipt `typ` values of §1.3.
const RECEIPT_TYPES: [&str; 4] =
    ["purchase-receipt", "developer-receipt", "reviewer-receipt", "test-receipt"];

/// The add-receipt check of §1.8 on a string (rule 1 is the shell's). `Err` holds the error name,
/// e.g. `INVALID_SEGMENTS_NUMBER`.
pub fn add_receipt_check(receipt: &str) -> Result<(), &'static str> {
    // 2.
    if too_big(receipt) {
        return Err("RECEIPT_TOO_BIG");
    }
    // 3.
    if receipt.split('~').count() > 3 || receipt.split('~').any(str::is_empty) {
        return Err("INVALID_SEGMENTS_NUMBER");
    }
    // 4.
    let last = receipt.rsplit('~').next().unwrap_or_default();
    let Some(payload) = payload_segment(last) else {
        return Err("INVALID_SEGMENTS_NUMBER");
    };
    // 5: the same decoding and JSON limits as the lenient parse (§1.7 applies to both modes).
    let payload = b64::decode_lenient(payload)
        .and_then(|bytes| json::parse(&bytes).ok())
        .filter(Json::is_object)
        .ok_or("INVALID_RECEIPT_ENCODING")?;
    // 6–11.
    for (member, error) in [
        ("typ", "RECEIPT_TYPE_REQUIRED"),
        ("product", "RECEIPT_PRODUCT_REQUIRED"),
        ("user", "RECEIPT_USER_REQUIRED"),
        ("iss", "RECEIPT_ISS_REQUIRED"),
        ("nbf", "RECEIPT_NBF_REQUIRED"),
        ("iat", "RECEIPT_IAT_REQUIRED"),
    ] {
        if !truthy(payload.get(member)) {
            return Err(error);
        }
    }
    // 12.
    let typ = payload.get("typ").and_then(Json::as_str).unwrap_or_default();
    if !RECEIPT_TYPES.contains(&typ) {
        return Err("RECEIPT_TYPE_UNSUPPORTED");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::b64::encode;
    use crate::error::Attr;

    const CERT_HEADER: &str = r#"{"alg":"ES256","kid":"root-1"}"#;
    const CERT_PAYLOAD: &str = r#"{"typ":"certified-key","iss":"https://keys.store.example/root.jwk","jwk":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"sign-1"}],"iat":1699913600,"nbf":1699913600,"exp":1731536000}"#;
    const J_HEADER: &str = r#"{"alg":"ES256","typ":"JWT","kid":"sign-1"}"#;
    const J_PAYLOAD: &str = r#"{"typ":"purchase-receipt","product":{"url":"https://app.example","storedata":"id=1"},"user":{"type":"directed-identifier","value":"u-1"},"iss":"https://store.example","verify":"https://receiptcheck.store.example/verify/1","iat":1699996400,"nbf":1699996400,"exp":1702592000}"#;

    /// A dummy 64-byte ES256-sized signature.
    fn sig() -> Vec<u8> {
        (0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(5)).collect()
    }

    fn jwt_bytes(header: &[u8], payload: &[u8], signature: &[u8]) -> String {
        format!("{}.{}.{}", encode(header), encode(payload), encode(signature))
    }

    fn jwt(header: &str, payload: &str) -> String {
        jwt_bytes(header.as_bytes(), payload.as_bytes(), &sig())
    }

    fn cert() -> String {
        jwt(CERT_HEADER, CERT_PAYLOAD)
    }

    fn receipt_jwt() -> String {
        jwt(J_HEADER, J_PAYLOAD)
    }

    /// The baseline `C~J` with J's payload replaced.
    fn with_payload(payload: &str) -> String {
        format!("{}~{}", cert(), jwt(J_HEADER, payload))
    }

    /// The baseline `C~J` with J's header replaced.
    fn with_header(header: &str) -> String {
        format!("{}~{}", cert(), jwt(header, J_PAYLOAD))
    }

    fn baseline() -> String {
        format!("{}~{}", cert(), receipt_jwt())
    }

    fn num(n: f64) -> Attr {
        Attr::Num(n)
    }

    fn text(s: &str) -> Attr {
        Attr::Str(s.to_owned())
    }

    /// Asserts a failure's class, exact detail and exact attributes (in order).
    fn assert_failure(f: &Failure, class: Class, detail: &str, attrs: &[(&str, Attr)]) {
        assert_eq!(f.class, class, "{}", f.summary());
        assert_eq!(f.detail, detail);
        let got: Vec<(&str, Attr)> = f.attrs.iter().map(|(n, v)| (*n, v.clone())).collect();
        assert_eq!(got, attrs, "{}", f.summary());
    }

    fn strict_err(receipt: &str) -> Failure {
        parse_strict(receipt).expect_err("expected a strict parse failure")
    }

    fn assert_parse_error(receipt: &str, detail: &str, attrs: &[(&str, Attr)]) {
        assert_failure(&strict_err(receipt), Class::ReceiptParseError, detail, attrs);
    }

    /// The header failure of the baseline with J's header replaced (parts parse, then H1–H6).
    fn header_err(header: &str, part: usize) -> Failure {
        let parsed = parse_strict(&with_header(header)).unwrap();
        check_header(&parsed.parts[part].header, part).expect_err("expected a header failure")
    }

    fn header_json(text: &str) -> Json {
        json::parse(text.as_bytes()).unwrap()
    }

    // ---- §2.3.1: structure and the happy path ----

    #[test]
    fn baseline_parses() {
        let parsed = parse_strict(&baseline()).unwrap();
        assert_eq!(parsed.parts.len(), 2);
        assert_eq!(parsed.certificates().len(), 1);
        let j = parsed.receipt().unwrap();
        assert_eq!(j.header, header_json(J_HEADER));
        assert_eq!(j.payload, header_json(J_PAYLOAD));
        assert_eq!(j.signature, sig());
        let jt = receipt_jwt();
        let (input, _) = jt.rsplit_once('.').unwrap();
        assert_eq!(j.signing_input, input);
        assert_eq!(parsed.parts[0].header, header_json(CERT_HEADER));
        assert_eq!(check_header(&parsed.parts[0].header, 0), Ok(Alg::Es256));
        assert_eq!(check_header(&j.header, 1), Ok(Alg::Es256));
    }

    #[test]
    fn one_two_and_three_parts_parse() {
        let one = parse_strict(&receipt_jwt()).unwrap();
        assert_eq!(one.parts.len(), 1);
        assert!(one.certificates().is_empty());
        let three = parse_strict(&format!("{}~{}~{}", cert(), cert(), receipt_jwt())).unwrap();
        assert_eq!(three.parts.len(), 3);
        assert_eq!(three.certificates().len(), 2);
        assert_eq!(three.receipt().unwrap().payload, header_json(J_PAYLOAD));
        let empty = Parsed { parts: vec![] };
        assert!(empty.receipt().is_none());
        assert!(empty.certificates().is_empty());
    }

    #[test]
    fn rs256_header_is_accepted() {
        assert_eq!(check_header(&header_json(r#"{"alg":"RS256","typ":"JWT"}"#), 0), Ok(Alg::Rs256));
    }

    // ---- §9.2 rows 2–23 ----

    #[test]
    fn row2_too_big() {
        let r = "a".repeat(MAX_RECEIPT_BYTES + 1);
        assert_parse_error(&r, "Receipt is too big (limit 1048576 bytes)", &[]);
        assert_eq!(parse_lenient(&r), Err("receipt is too big"));
        assert_eq!(add_receipt_check(&r), Err("RECEIPT_TOO_BIG"));
        // Checked before anything else, characters included.
        let r = " ".repeat(MAX_RECEIPT_BYTES + 1);
        assert_parse_error(&r, "Receipt is too big (limit 1048576 bytes)", &[]);
        // Exactly at the limit is not too big.
        let r = "a".repeat(MAX_RECEIPT_BYTES);
        assert_parse_error(&r, "JWT has 1 segments (expected 3)", &[("part", num(0.0))]);
        assert_eq!(parse_lenient(&r), Err("Not valid JWT"));
        assert_eq!(add_receipt_check(&r), Err("INVALID_SEGMENTS_NUMBER"));
        // A real receipt of exactly 1,048,576 bytes parses; one byte more does not.
        let build = |n: usize, extra_sig: usize| {
            let payload = J_PAYLOAD.replacen('{', &format!(r#"{{"x":"{}","#, "y".repeat(n)), 1);
            let mut signature = sig();
            signature.extend(std::iter::repeat_n(7u8, extra_sig));
            format!("{}~{}", cert(), jwt_bytes(J_HEADER.as_bytes(), payload.as_bytes(), &signature))
        };
        // Unpadded base64 lengths skip 1 (mod 4), so two knobs are needed to hit the limit.
        let enc_len = |m: usize| (4 * m).div_ceil(3);
        let fixed = cert().len() + 3 + enc_len(J_HEADER.len());
        let total = |n: usize, e: usize| fixed + enc_len(J_PAYLOAD.len() + 7 + n) + enc_len(64 + e);
        let mut n = (MAX_RECEIPT_BYTES - baseline().len()) * 3 / 4 - 100;
        let e = loop {
            if let Some(e) = (0..3).find(|&e| total(n, e) == MAX_RECEIPT_BYTES) {
                break e;
            }
            n += 1;
        };
        let exact = build(n, e);
        assert_eq!(exact.len(), MAX_RECEIPT_BYTES);
        assert!(parse_strict(&exact).is_ok());
        assert_eq!(parse_lenient(&exact).map(|_| ()), Ok(()));
        assert_eq!(add_receipt_check(&exact), Ok(()));
        let over = format!("{exact}A");
        assert_parse_error(&over, "Receipt is too big (limit 1048576 bytes)", &[]);
        assert_eq!(parse_lenient(&over), Err("receipt is too big"));
        assert_eq!(add_receipt_check(&over), Err("RECEIPT_TOO_BIG"));
    }

    #[test]
    fn row2_strict_counts_utf8_bytes_lenient_counts_js_length() {
        // 524,289 × "é" is 1,048,578 UTF-8 bytes but 524,289 UTF-16 code units.
        let r = "é".repeat(MAX_RECEIPT_BYTES / 2 + 1);
        assert_parse_error(&r, "Receipt is too big (limit 1048576 bytes)", &[]);
        assert_eq!(parse_lenient(&r), Err("Not valid JWT"));
        assert_eq!(add_receipt_check(&r), Err("INVALID_SEGMENTS_NUMBER"));
        // Astral characters count 2 in JS.
        let r = "😀".repeat(MAX_RECEIPT_BYTES / 2 + 1);
        assert_eq!(parse_lenient(&r), Err("receipt is too big"));
        assert_eq!(add_receipt_check(&r), Err("RECEIPT_TOO_BIG"));
    }

    #[test]
    fn row3_whitespace() {
        let b = baseline();
        let dot = b.rfind('.').unwrap();
        let mut inside = b.clone();
        inside.insert(dot + 3, ' ');
        for r in [format!(" {b}"), format!("{b}\n"), inside, format!("{b}\r"), format!("{b}\t")] {
            assert_parse_error(&r, "Receipt contains an invalid character", &[]);
        }
    }

    #[test]
    fn row4_padding() {
        let r = format!(
            "{}~{}.{}=.{}",
            cert(),
            encode(J_HEADER.as_bytes()),
            encode(J_PAYLOAD.as_bytes()),
            encode(&sig())
        );
        assert_parse_error(&r, "Receipt contains an invalid character", &[]);
    }

    #[test]
    fn row5_standard_base64_signature() {
        // Bytes chosen so that standard base64 contains both '+' and '/'.
        let s = [0xfb, 0xef, 0xff, 0xfb, 0xef, 0xff];
        let url = encode(&s);
        assert_eq!(url, "--__--__");
        for std_sig in ["++//++//", "--//--//", "++__++__"] {
            let r = format!(
                "{}~{}.{}.{}",
                cert(),
                encode(J_HEADER.as_bytes()),
                encode(J_PAYLOAD.as_bytes()),
                std_sig
            );
            assert_parse_error(&r, "Receipt contains an invalid character", &[]);
        }
    }

    #[test]
    fn row6_non_ascii() {
        let b = baseline();
        for r in [format!("é{b}"), format!("{b}é"), b.replacen('.', "é.", 1), format!("{b}\u{0}")]
        {
            assert_parse_error(&r, "Receipt contains an invalid character", &[]);
        }
    }

    #[test]
    fn row7_non_zero_trailing_bits_in_payload() {
        // Trailing whitespace is valid JSON; use it to get a length that leaves unused bits.
        let mut payload = J_PAYLOAD.to_owned();
        while payload.len() % 3 != 1 {
            payload.push(' ');
        }
        let p = encode(payload.as_bytes());
        assert_ne!(p.len() % 4, 0, "the payload must leave unused bits");
        let last = p.chars().last().unwrap();
        // Flip the lowest bit of the last character's value: same decoded bytes, unused bit set.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap();
        let tweaked = alphabet.as_bytes()[idx ^ 1] as char;
        let mut p2 = p.clone();
        p2.pop();
        p2.push(tweaked);
        assert_eq!(b64::decode_lenient(&p2).unwrap(), payload.as_bytes());
        let r = format!("{}~{}.{}.{}", cert(), encode(J_HEADER.as_bytes()), p2, encode(&sig()));
        assert_parse_error(
            &r,
            "Invalid base64url in JWT segment",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        // The lenient parse ignores unused bits.
        assert_eq!(parse_lenient(&r), Ok(header_json(J_PAYLOAD)));
    }

    #[test]
    fn row8_length_mod_4_is_1() {
        let h = encode(J_HEADER.as_bytes());
        let p = encode(J_PAYLOAD.as_bytes());
        let s = encode(&sig());
        let bad = |seg: &str| {
            let mut seg = seg.to_owned();
            while seg.len() % 4 != 1 {
                seg.push('A');
            }
            seg
        };
        for (r, name) in [
            (format!("{}~{}.{p}.{s}", cert(), bad(&h)), "header"),
            (format!("{}~{h}.{}.{s}", cert(), bad(&p)), "payload"),
            (format!("{}~{h}.{p}.{}", cert(), bad(&s)), "signature"),
        ] {
            assert_parse_error(
                &r,
                "Invalid base64url in JWT segment",
                &[("part", num(1.0)), ("segment", text(name))],
            );
        }
        assert_parse_error(
            &format!("{}.{p}.{s}~{}", bad(&h), receipt_jwt()),
            "Invalid base64url in JWT segment",
            &[("part", num(0.0)), ("segment", text("header"))],
        );
    }

    #[test]
    fn row9_row10_segment_count() {
        let h = encode(J_HEADER.as_bytes());
        let p = encode(J_PAYLOAD.as_bytes());
        let s = encode(&sig());
        assert_parse_error(
            &format!("{}~{h}.{p}", cert()),
            "JWT has 2 segments (expected 3)",
            &[("part", num(1.0))],
        );
        assert_parse_error(
            &format!("{}~{h}.{p}.{s}.x", cert()),
            "JWT has 4 segments (expected 3)",
            &[("part", num(1.0))],
        );
        assert_parse_error(
            &format!("{h}~{}", receipt_jwt()),
            "JWT has 1 segments (expected 3)",
            &[("part", num(0.0))],
        );
        assert_parse_error("a.b.c.d.e.f", "JWT has 6 segments (expected 3)", &[("part", num(0.0))]);
    }

    #[test]
    fn row11_stripped_signature() {
        let h = encode(J_HEADER.as_bytes());
        let p = encode(J_PAYLOAD.as_bytes());
        assert_parse_error(
            &format!("{}~{h}.{p}.", cert()),
            "JWT has an empty segment",
            &[("part", num(1.0)), ("segment", text("signature"))],
        );
        assert_parse_error(
            &format!("{}~.{p}.{}", cert(), encode(&sig())),
            "JWT has an empty segment",
            &[("part", num(1.0)), ("segment", text("header"))],
        );
        assert_parse_error(
            &format!("{h}..x"),
            "JWT has an empty segment",
            &[("part", num(0.0)), ("segment", text("payload"))],
        );
    }

    #[test]
    fn row12_too_many_parts() {
        let c = cert();
        let j = receipt_jwt();
        let r = format!("{c}~{c}~{c}~{j}");
        assert_parse_error(&r, "Receipt has 4 ~-separated parts (expected 1 to 3)", &[]);
        assert_eq!(parse_lenient(&r), Err("too many ~-separated parts"));
        assert_eq!(add_receipt_check(&r), Err("INVALID_SEGMENTS_NUMBER"));
        // 4a comes before 4b.
        assert_parse_error("~~~~", "Receipt has 5 ~-separated parts (expected 1 to 3)", &[]);
    }

    #[test]
    fn row13_empty_part() {
        let c = cert();
        let j = receipt_jwt();
        for r in [format!("~{j}"), format!("{c}~"), format!("{c}~~{j}"), String::new(), "~".into()]
        {
            assert_parse_error(&r, "Receipt has an empty part", &[]);
            assert_eq!(add_receipt_check(&r), Err("INVALID_SEGMENTS_NUMBER"), "{r}");
        }
    }

    #[test]
    fn row14_row15_payload_not_an_object() {
        for payload in
            [r#""eyJhbGciOi...""#, "null", "[]", "42", "true", r#"[{"typ":"purchase-receipt"}]"#]
        {
            let r = with_payload(payload);
            assert_parse_error(
                &r,
                "JWT segment is not a JSON object",
                &[("part", num(1.0)), ("segment", text("payload"))],
            );
            assert_eq!(parse_lenient(&r), Err("payload is not a JSON object"), "{payload}");
            assert_eq!(add_receipt_check(&r), Err("INVALID_RECEIPT_ENCODING"), "{payload}");
        }
        assert_parse_error(
            &with_header(r#"["ES256"]"#),
            "JWT segment is not a JSON object",
            &[("part", num(1.0)), ("segment", text("header"))],
        );
    }

    #[test]
    fn row16_truncated_json() {
        let r = with_payload(r#"{"typ":"#);
        assert_parse_error(
            &r,
            "JWT segment is not valid JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("invalid JSON"));
    }

    #[test]
    fn row17_invalid_utf8() {
        let mut payload = br#"{"typ":"purchase-receipt","x":""#.to_vec();
        payload.push(0xff);
        payload.extend_from_slice(br#""}"#);
        let r = format!("{}~{}", cert(), jwt_bytes(J_HEADER.as_bytes(), &payload, &sig()));
        assert_parse_error(
            &r,
            "JWT segment is not valid UTF-8",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("invalid JSON"));
        assert_eq!(add_receipt_check(&r), Err("INVALID_RECEIPT_ENCODING"));
        let r = jwt_bytes(b"{\"alg\":\"ES256\xff\"}", J_PAYLOAD.as_bytes(), &sig());
        assert_parse_error(
            &r,
            "JWT segment is not valid UTF-8",
            &[("part", num(0.0)), ("segment", text("header"))],
        );
    }

    #[test]
    fn row18_bom_and_lone_surrogate() {
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice(J_PAYLOAD.as_bytes());
        let r = format!("{}~{}", cert(), jwt_bytes(J_HEADER.as_bytes(), &bom, &sig()));
        assert_parse_error(
            &r,
            "JWT segment is not valid JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("invalid JSON"));
        let r = with_payload(r#"{"typ":"purchase-receipt","iss":"\ud800"}"#);
        assert_parse_error(
            &r,
            "JWT segment is not valid JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("invalid JSON"));
        let r = with_payload(r#"{"typ":"purchase-receipt","exp":1e400}"#);
        assert_parse_error(
            &r,
            "JWT segment is not valid JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
    }

    #[test]
    fn row19_row20_row21_duplicates() {
        // J's payload with a second `iss` at the end.
        let dup =
            format!(r#"{},"iss":"https://evil.example"}}"#, J_PAYLOAD.strip_suffix('}').unwrap());
        let r = with_payload(&dup);
        assert_parse_error(
            &r,
            "Duplicate member name in JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("duplicate member name"));
        assert_eq!(add_receipt_check(&r), Err("INVALID_RECEIPT_ENCODING"));
        for payload in [
            r#"{"iss":"https://store.example","\u0069ss":"https://evil.example"}"#,
            r#"{"typ":"purchase-receipt","product":{"url":"https://app.example","url":"https://evil.example"}}"#,
        ] {
            let r = with_payload(payload);
            assert_parse_error(
                &r,
                "Duplicate member name in JSON",
                &[("part", num(1.0)), ("segment", text("payload"))],
            );
            assert_eq!(parse_lenient(&r), Err("duplicate member name"));
        }
        assert_parse_error(
            &with_header(r#"{"alg":"ES256","alg":"none"}"#),
            "Duplicate member name in JSON",
            &[("part", num(1.0)), ("segment", text("header"))],
        );
    }

    #[test]
    fn row22_depth() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let with_extra =
            |n: usize| J_PAYLOAD.replacen('{', &format!(r#"{{"extra":{},"#, nested(n)), 1);
        assert!(parse_strict(&with_payload(&with_extra(31))).is_ok());
        assert_eq!(parse_lenient(&with_payload(&with_extra(31))).map(|_| ()), Ok(()));
        let r = with_payload(&with_extra(32));
        assert_parse_error(
            &r,
            "JSON nesting too deep (limit 32)",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("nesting too deep"));
        let r = with_header(&format!(r#"{{"alg":"ES256","x":{}}}"#, nested(40)));
        assert_parse_error(
            &r,
            "JSON nesting too deep (limit 32)",
            &[("part", num(1.0)), ("segment", text("header"))],
        );
    }

    #[test]
    fn row22_hostile_nesting_is_quick() {
        let start = std::time::Instant::now();
        let r = with_payload(&"[".repeat(100_000));
        assert_parse_error(
            &r,
            "JSON nesting too deep (limit 32)",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        assert_eq!(parse_lenient(&r), Err("nesting too deep"));
        assert!(start.elapsed() < std::time::Duration::from_secs(3));
    }

    #[test]
    fn row23_header_size() {
        let header_of = |len: usize| {
            let base = r#"{"alg":"ES256","x":""}"#;
            let h = format!(r#"{{"alg":"ES256","x":"{}"}}"#, "a".repeat(len - base.len()));
            assert_eq!(h.len(), len);
            h
        };
        assert!(parse_strict(&with_header(&header_of(8192))).is_ok());
        assert_parse_error(
            &with_header(&header_of(8193)),
            "JWT header is too big (limit 8192 bytes)",
            &[("part", num(1.0))],
        );
        // Rule 8 comes before rule 9–13: an oversized header that is not even JSON.
        let r = format!("{}~{}", cert(), jwt_bytes(&[0xff; 9000], J_PAYLOAD.as_bytes(), &sig()));
        assert_parse_error(&r, "JWT header is too big (limit 8192 bytes)", &[("part", num(1.0))]);
        // A big payload is fine.
        let big = J_PAYLOAD.replacen('{', &format!(r#"{{"x":"{}","#, "b".repeat(20_000)), 1);
        assert!(parse_strict(&with_payload(&big)).is_ok());
    }

    // ---- §2.3.1 ordering ----

    #[test]
    fn rule6_runs_for_all_segments_before_rule7() {
        // An invalid header segment and an empty signature: the empty segment is reported.
        let r = format!("AAAAA.{}.", encode(J_PAYLOAD.as_bytes()));
        assert_parse_error(
            &r,
            "JWT has an empty segment",
            &[("part", num(0.0)), ("segment", text("signature"))],
        );
    }

    #[test]
    fn rule7_in_segment_order_then_rule8() {
        let big_header = format!(r#"{{"alg":"ES256","x":"{}"}}"#, "a".repeat(9000));
        // Oversized header and a non-canonical signature: rule 7 first.
        let r = format!("{}.{}.AAAAA", encode(big_header.as_bytes()), encode(J_PAYLOAD.as_bytes()));
        assert_parse_error(
            &r,
            "Invalid base64url in JWT segment",
            &[("part", num(0.0)), ("segment", text("signature"))],
        );
        // Bad payload and bad signature: the payload is reported.
        let r = format!("{}.AAAAA.AAAAA", encode(J_HEADER.as_bytes()));
        assert_parse_error(
            &r,
            "Invalid base64url in JWT segment",
            &[("part", num(0.0)), ("segment", text("payload"))],
        );
    }

    #[test]
    fn header_rules_9_to_13_before_payload() {
        // Header not an object (rule 13) and payload not UTF-8 (rule 9): the header wins.
        let r = jwt_bytes(b"[]", b"\xff", &sig());
        assert_parse_error(
            &r,
            "JWT segment is not a JSON object",
            &[("part", num(0.0)), ("segment", text("header"))],
        );
        // Header duplicate vs payload depth.
        let r = jwt(r#"{"a":1,"a":2}"#, &"[".repeat(50));
        assert_parse_error(
            &r,
            "Duplicate member name in JSON",
            &[("part", num(0.0)), ("segment", text("header"))],
        );
    }

    #[test]
    fn first_violation_in_text_wins_within_a_segment() {
        let r = with_payload(r#"{"iss":"a","iss":"b","x":[1,]}"#);
        assert_parse_error(
            &r,
            "Duplicate member name in JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        let r = with_payload(r#"{"x":[1,],"iss":"a","iss":"b"}"#);
        assert_parse_error(
            &r,
            "JWT segment is not valid JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
        let r = with_payload(&format!(r#"{{"x":{},"iss":"a","iss":"b"}}"#, "[".repeat(40)));
        assert_parse_error(
            &r,
            "JSON nesting too deep (limit 32)",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
    }

    #[test]
    fn parts_are_processed_in_order() {
        // Part 0 has a duplicate in its payload, part 1 has 2 segments: part 0 is reported.
        let bad_cert = jwt(CERT_HEADER, r#"{"typ":"certified-key","typ":"x"}"#);
        let r = format!("{bad_cert}~{}", encode(b"{}"));
        assert_parse_error(
            &r,
            "Duplicate member name in JSON",
            &[("part", num(0.0)), ("segment", text("payload"))],
        );
        let r = format!("{}~{}~{}", cert(), jwt(J_HEADER, "{"), encode(b"x"));
        assert_parse_error(
            &r,
            "JWT segment is not valid JSON",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
    }

    #[test]
    fn every_part_parses_before_header_rules() {
        // Part 0 has a forbidden alg, part 1 does not parse: the parse error wins.
        let r = format!("{}~{}", jwt(r#"{"alg":"none"}"#, CERT_PAYLOAD), jwt(J_HEADER, "[]"));
        assert_parse_error(
            &r,
            "JWT segment is not a JSON object",
            &[("part", num(1.0)), ("segment", text("payload"))],
        );
    }

    #[test]
    fn signature_is_decoded_not_parsed() {
        let r = jwt_bytes(J_HEADER.as_bytes(), J_PAYLOAD.as_bytes(), &[0xff, 0xfe, 0x00]);
        let parsed = parse_strict(&r).unwrap();
        assert_eq!(parsed.parts[0].signature, vec![0xff, 0xfe, 0x00]);
        let r = jwt_bytes(J_HEADER.as_bytes(), J_PAYLOAD.as_bytes(), b"[");
        assert!(parse_strict(&r).is_ok());
        // A non-canonical signature (unused bits set) fails rule 7.
        let r = format!("{}.{}.AB", encode(J_HEADER.as_bytes()), encode(J_PAYLOAD.as_bytes()));
        assert_parse_error(
            &r,
            "Invalid base64url in JWT segment",
            &[("part", num(0.0)), ("segment", text("signature"))],
        );
    }

    // ---- §2.3.2 / §9.3 rows 25–33 ----

    #[test]
    fn row25_alg_none() {
        let f = header_err(r#"{"alg":"none"}"#, 1);
        assert_failure(
            &f,
            Class::AlgorithmNotAllowed,
            "Algorithm not allowed: none",
            &[("part", num(1.0)), ("alg", text("none"))],
        );
    }

    #[test]
    fn row26_hs256() {
        let f = header_err(r#"{"alg":"HS256","typ":"JWT"}"#, 1);
        assert_failure(
            &f,
            Class::AlgorithmNotAllowed,
            "Algorithm not allowed: HS256",
            &[("part", num(1.0)), ("alg", text("HS256"))],
        );
    }

    #[test]
    fn row27_rs512_single_jwt() {
        let r = jwt(r#"{"alg":"RS512","typ":"JWT"}"#, J_PAYLOAD);
        let parsed = parse_strict(&r).unwrap();
        let f = check_header(&parsed.parts[0].header, 0).unwrap_err();
        assert_failure(
            &f,
            Class::AlgorithmNotAllowed,
            "Algorithm not allowed: RS512",
            &[("part", num(0.0)), ("alg", text("RS512"))],
        );
    }

    #[test]
    fn row28_other_algs() {
        for alg in
            ["es256", "PS256", "EdDSA", "ES384", "RS384", "HS512", "rs256", "ES256 ", "", "PS512"]
        {
            let f = header_err(&format!(r#"{{"alg":"{alg}"}}"#), 1);
            assert_failure(
                &f,
                Class::AlgorithmNotAllowed,
                &format!("Algorithm not allowed: {alg}"),
                &[("part", num(1.0)), ("alg", text(alg))],
            );
        }
    }

    #[test]
    fn row28_long_alg_is_clipped_in_the_detail() {
        let alg = "A".repeat(300);
        let f = check_header(&header_json(&format!(r#"{{"alg":"{alg}"}}"#)), 0).unwrap_err();
        assert_eq!(f.detail, format!("Algorithm not allowed: {}...", "A".repeat(256)));
        assert_eq!(f.attr("alg"), Some(&text(&alg)));
    }

    #[test]
    fn row29_alg_missing_or_not_string() {
        for h in [
            r#"{"typ":"JWT"}"#,
            r#"{"alg":256}"#,
            r#"{"alg":null}"#,
            r#"{"alg":["ES256"]}"#,
            r#"{"ALG":"ES256"}"#,
            "{}",
        ] {
            let f = header_err(h, 1);
            assert_failure(
                &f,
                Class::ReceiptParseError,
                "JWT header alg is missing or not a string",
                &[("part", num(1.0))],
            );
        }
    }

    #[test]
    fn row30_crit() {
        for h in [
            r#"{"alg":"ES256","crit":["exp"]}"#,
            r#"{"alg":"ES256","crit":[]}"#,
            r#"{"alg":"ES256","crit":"x"}"#,
            r#"{"alg":"ES256","crit":null}"#,
            r#"{"alg":"RS256","crit":["b64"],"b64":false}"#,
        ] {
            let part = 1;
            let f = header_err(h, part);
            assert_failure(
                &f,
                Class::UnsupportedHeader,
                "Unsupported crit header",
                &[("part", num(1.0))],
            );
        }
    }

    #[test]
    fn row31_unsupported_parameters_in_order() {
        for (h, name) in [
            (r#"{"alg":"ES256","b64":false}"#, "b64"),
            (r#"{"alg":"ES256","cty":"JWT"}"#, "cty"),
            (r#"{"alg":"ES256","enc":"A128GCM"}"#, "enc"),
            (r#"{"alg":"ES256","zip":"DEF"}"#, "zip"),
            (r#"{"alg":"ES256","zip":"DEF","enc":"A128GCM","cty":"JWT","b64":false}"#, "b64"),
            (r#"{"alg":"ES256","zip":"DEF","enc":"A128GCM","cty":"JWT"}"#, "cty"),
            (r#"{"alg":"ES256","zip":null,"enc":null}"#, "enc"),
        ] {
            let f = header_err(h, 1);
            assert_failure(
                &f,
                Class::UnsupportedHeader,
                &format!("Unsupported header parameter: {name}"),
                &[("part", num(1.0))],
            );
        }
    }

    #[test]
    fn row32_kid() {
        let long = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(300));
        for h in [
            long.as_str(),
            r#"{"alg":"ES256","kid":5}"#,
            r#"{"alg":"ES256","kid":""}"#,
            r#"{"alg":"ES256","kid":null}"#,
            r#"{"alg":"ES256","kid":"a b"}"#,
            r#"{"alg":"ES256","kid":"ké"}"#,
            r#"{"alg":"ES256","kid":"a\u007f"}"#,
            r#"{"alg":"ES256","kid":"a\n"}"#,
        ] {
            let f = header_err(h, 1);
            assert_failure(
                &f,
                Class::ReceiptParseError,
                "JWT header kid is invalid",
                &[("part", num(1.0))],
            );
        }
        let max = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(256));
        assert_eq!(check_header(&header_json(&max), 0), Ok(Alg::Es256));
        let printable: String =
            (0x21u8..=0x7e).map(char::from).filter(|c| *c != '"' && *c != '\\').collect();
        let h = Json::Obj(vec![
            ("alg".into(), Json::Str("ES256".into())),
            ("kid".into(), Json::Str(printable)),
        ]);
        assert_eq!(check_header(&h, 0), Ok(Alg::Es256));
        let h = Json::Obj(vec![
            ("alg".into(), Json::Str("ES256".into())),
            ("kid".into(), Json::Str("\"\\~!".into())),
        ]);
        assert_eq!(check_header(&h, 0), Ok(Alg::Es256));
    }

    #[test]
    fn row33_typ() {
        for h in [
            r#"{"alg":"ES256","typ":1}"#,
            r#"{"alg":"ES256","typ":null}"#,
            r#"{"alg":"ES256","typ":{}}"#,
        ] {
            let f = header_err(h, 1);
            assert_failure(
                &f,
                Class::ReceiptParseError,
                "JWT header typ is invalid",
                &[("part", num(1.0))],
            );
        }
        // Any string value is fine.
        assert_eq!(
            check_header(&header_json(r#"{"alg":"ES256","typ":"whatever"}"#), 0),
            Ok(Alg::Es256)
        );
        assert_eq!(check_header(&header_json(r#"{"alg":"ES256","typ":""}"#), 0), Ok(Alg::Es256));
    }

    #[test]
    fn header_rules_run_in_order() {
        // H2 before H3.
        let f = check_header(&header_json(r#"{"crit":[],"alg":"none"}"#), 2).unwrap_err();
        assert_eq!(f.class, Class::AlgorithmNotAllowed);
        assert_eq!(f.attr("part"), Some(&num(2.0)));
        // H3 before H4.
        let f =
            check_header(&header_json(r#"{"alg":"ES256","zip":"DEF","crit":[]}"#), 0).unwrap_err();
        assert_eq!(f.detail, "Unsupported crit header");
        // H4 before H5.
        let f =
            check_header(&header_json(r#"{"alg":"ES256","kid":5,"cty":"JWT"}"#), 0).unwrap_err();
        assert_eq!(f.detail, "Unsupported header parameter: cty");
        // H5 before H6.
        let f = check_header(&header_json(r#"{"alg":"ES256","typ":1,"kid":""}"#), 0).unwrap_err();
        assert_eq!(f.detail, "JWT header kid is invalid");
        // H1 on a non-object.
        let f = check_header(&Json::Null, 0).unwrap_err();
        assert_eq!(f.detail, "JWT header alg is missing or not a string");
    }

    #[test]
    fn tolerated_header_members_are_ignored() {
        let h = header_json(
            r#"{"alg":"ES256","jku":"https://attacker.example/k","x5u":"https://attacker.example/c","jwk":{"kty":"EC"},"x5c":["AAAA"],"x5t":"x","x5t#S256":"y","other":1}"#,
        );
        assert_eq!(check_header(&h, 1), Ok(Alg::Es256));
    }

    // ---- §2.4 lenient parse ----

    #[test]
    fn lenient_accepts_the_baseline_and_every_form() {
        let expected = header_json(J_PAYLOAD);
        assert_eq!(parse_lenient(&baseline()), Ok(expected.clone()));
        assert_eq!(parse_lenient(&receipt_jwt()), Ok(expected.clone()));
        let three = format!("{}~{}~{}", cert(), cert(), receipt_jwt());
        assert_eq!(parse_lenient(&three), Ok(expected.clone()));
        // Header and signature are never decoded; empty certificate parts are not checked.
        let p = encode(J_PAYLOAD.as_bytes());
        assert_eq!(parse_lenient(&format!("not base64 at all!.{p}.")), Ok(expected.clone()));
        assert_eq!(parse_lenient(&format!("~~.{p}.")), Ok(expected));
    }

    #[test]
    fn lenient_base64_variants() {
        // Standard alphabet and padding in the payload.
        let payload = r#"{"typ":"purchase-receipt","x":"\u00fb\u00ff\u00bf?>"}"#;
        let std = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(payload.as_bytes())
        };
        assert!(std.contains('+') || std.contains('/') || std.ends_with('='));
        let r = format!("h.{std}.s");
        assert_eq!(parse_lenient(&r), Ok(header_json(payload)));
        for (seg, ok) in [
            ("e30", true),
            ("e30=", true),
            ("e30==", true),
            ("e30===", false),
            ("e 30", false),
            ("e30\n", false),
            ("e3", false),
            ("e", false),
        ] {
            let r = format!("h.{seg}.s");
            if ok {
                assert_eq!(parse_lenient(&r), Ok(Json::Obj(vec![])), "{seg:?}");
            } else {
                assert!(
                    matches!(parse_lenient(&r), Err("invalid base64" | "invalid JSON")),
                    "{seg:?}"
                );
            }
        }
        assert_eq!(parse_lenient("h.e 30.s"), Err("invalid base64"));
        assert_eq!(parse_lenient("h.e.s"), Err("invalid base64"));
        assert_eq!(parse_lenient("h.e30===.s"), Err("invalid base64"));
        // "e3" decodes to "{" (unused bits ignored), which is not JSON.
        assert_eq!(parse_lenient("h.e3.s"), Err("invalid JSON"));
        // An empty payload decodes to nothing, which is not JSON.
        assert_eq!(parse_lenient("h..s"), Err("invalid JSON"));
    }

    #[test]
    fn lenient_rules_in_order() {
        assert_eq!(parse_lenient("abc"), Err("Not valid JWT"));
        assert_eq!(parse_lenient(""), Err("Not valid JWT"));
        assert_eq!(parse_lenient("a~b~c~d"), Err("Not valid JWT"));
        assert_eq!(parse_lenient("a.b~c~d~e"), Err("too many ~-separated parts"));
        assert_eq!(parse_lenient("a.b"), Err("Not valid JWT"));
        assert_eq!(parse_lenient("a.b.c.d"), Err("Not valid JWT"));
        assert_eq!(parse_lenient(&format!("{}~", cert())), Err("Not valid JWT"));
        assert_eq!(parse_lenient(&format!("{}~abc", cert())), Err("Not valid JWT"));
        assert_eq!(parse_lenient("h.!!!!.s"), Err("invalid base64"));
        assert_eq!(parse_lenient(&format!("h.{}.s", encode(b"\xff"))), Err("invalid JSON"));
        assert_eq!(
            parse_lenient(&format!("h.{}.s", encode(b"\xef\xbb\xbf{}"))),
            Err("invalid JSON")
        );
        assert_eq!(
            parse_lenient(&format!("h.{}.s", encode(br#"{"a":"\udc00"}"#))),
            Err("invalid JSON")
        );
        assert_eq!(
            parse_lenient(&format!(
                "h.{}.s",
                encode(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")
            )),
            Err("nesting too deep")
        );
        assert_eq!(
            parse_lenient(&format!("h.{}.s", encode(br#"{"a":1,"a":1}"#))),
            Err("duplicate member name")
        );
        assert_eq!(
            parse_lenient(&format!("h.{}.s", encode(br#""str""#))),
            Err("payload is not a JSON object")
        );
    }

    // ---- §1.8 add-receipt check ----

    fn add_check_payload(payload: &str) -> Result<(), &'static str> {
        add_receipt_check(&with_payload(payload))
    }

    #[test]
    fn add_receipt_check_accepts_well_formed_receipts() {
        assert_eq!(add_receipt_check(&baseline()), Ok(()));
        assert_eq!(add_receipt_check(&receipt_jwt()), Ok(()));
        assert_eq!(add_receipt_check(&format!("{}~{}~{}", cert(), cert(), receipt_jwt())), Ok(()));
        for typ in RECEIPT_TYPES {
            let p = J_PAYLOAD.replace("purchase-receipt", typ);
            assert_eq!(add_check_payload(&p), Ok(()), "{typ}");
        }
        // The header and signature are not looked at.
        let p = encode(J_PAYLOAD.as_bytes());
        assert_eq!(add_receipt_check(&format!("x.{p}.")), Ok(()));
    }

    #[test]
    fn add_receipt_check_segments() {
        let j = receipt_jwt();
        let c = cert();
        for r in [
            format!("{c}~{c}~{c}~{j}"),
            format!("~{j}"),
            format!("{c}~"),
            format!("{c}~~{j}"),
            String::new(),
            "abc".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            format!("{j}.x"),
        ] {
            assert_eq!(add_receipt_check(&r), Err("INVALID_SEGMENTS_NUMBER"), "{r}");
        }
    }

    #[test]
    fn add_receipt_check_encoding() {
        for r in [
            "h.!!!.s".to_owned(),
            "h.e.s".to_owned(),
            format!("h.{}.s", encode(b"\xff")),
            format!("h.{}.s", encode(b"{")),
            format!("h.{}.s", encode(b"[]")),
            format!("h.{}.s", encode(b"\"purchase-receipt\"")),
            format!("h.{}.s", encode(br#"{"typ":"purchase-receipt","typ":"x"}"#)),
            format!("h.{}.s", encode(format!("{}{}", "[".repeat(40), "]".repeat(40)).as_bytes())),
        ] {
            assert_eq!(add_receipt_check(&r), Err("INVALID_RECEIPT_ENCODING"), "{r}");
        }
    }

    #[test]
    fn add_receipt_check_required_members_in_order() {
        let full = r#"{"typ":"purchase-receipt","product":{"url":"u"},"user":{"type":"email","value":"a"},"iss":"i","nbf":1,"iat":1}"#;
        assert_eq!(add_check_payload(full), Ok(()));
        let cases = [
            (r#"{}"#, "RECEIPT_TYPE_REQUIRED"),
            (r#"{"typ":""}"#, "RECEIPT_TYPE_REQUIRED"),
            (r#"{"typ":null,"product":1}"#, "RECEIPT_TYPE_REQUIRED"),
            (r#"{"typ":0}"#, "RECEIPT_TYPE_REQUIRED"),
            (r#"{"typ":false}"#, "RECEIPT_TYPE_REQUIRED"),
            (r#"{"typ":"purchase-receipt"}"#, "RECEIPT_PRODUCT_REQUIRED"),
            (r#"{"typ":"purchase-receipt","product":""}"#, "RECEIPT_PRODUCT_REQUIRED"),
            (r#"{"typ":"purchase-receipt","product":{}}"#, "RECEIPT_USER_REQUIRED"),
            (r#"{"typ":"purchase-receipt","product":[],"user":false}"#, "RECEIPT_USER_REQUIRED"),
            (r#"{"typ":"purchase-receipt","product":{},"user":{}}"#, "RECEIPT_ISS_REQUIRED"),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":""}"#,
                "RECEIPT_ISS_REQUIRED",
            ),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":"i"}"#,
                "RECEIPT_NBF_REQUIRED",
            ),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":"i","nbf":0}"#,
                "RECEIPT_NBF_REQUIRED",
            ),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":"i","nbf":-0.0}"#,
                "RECEIPT_NBF_REQUIRED",
            ),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":"i","nbf":"0"}"#,
                "RECEIPT_IAT_REQUIRED",
            ),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":"i","nbf":1,"iat":null}"#,
                "RECEIPT_IAT_REQUIRED",
            ),
            (
                r#"{"typ":"purchase-receipt","product":{},"user":{},"iss":"i","nbf":1,"iat":true}"#,
                "OK",
            ),
            (
                r#"{"typ":"certified-key","product":{},"user":{},"iss":"i","nbf":1,"iat":1}"#,
                "RECEIPT_TYPE_UNSUPPORTED",
            ),
            (
                r#"{"typ":"mozilla/payments/pay/v1","product":{},"user":{},"iss":"i","nbf":1,"iat":1}"#,
                "RECEIPT_TYPE_UNSUPPORTED",
            ),
            (
                r#"{"typ":"Purchase-Receipt","product":{},"user":{},"iss":"i","nbf":1,"iat":1}"#,
                "RECEIPT_TYPE_UNSUPPORTED",
            ),
            (
                r#"{"typ":true,"product":{},"user":{},"iss":"i","nbf":1,"iat":1}"#,
                "RECEIPT_TYPE_UNSUPPORTED",
            ),
            (
                r#"{"typ":["purchase-receipt"],"product":{},"user":{},"iss":"i","nbf":1,"iat":1}"#,
                "RECEIPT_TYPE_UNSUPPORTED",
            ),
        ];
        for (payload, expected) in cases {
            let got = add_check_payload(payload);
            if expected == "OK" {
                assert_eq!(got, Ok(()), "{payload}");
            } else {
                assert_eq!(got, Err(expected), "{payload}");
            }
        }
    }

    #[test]
    fn truthiness_follows_js() {
        assert!(!truthy(None));
        assert!(!truthy(Some(&Json::Null)));
        assert!(!truthy(Some(&Json::Bool(false))));
        assert!(truthy(Some(&Json::Bool(true))));
        assert!(!truthy(Some(&Json::Num(0.0))));
        assert!(!truthy(Some(&Json::Num(-0.0))));
        assert!(!truthy(Some(&Json::Num(f64::NAN))));
        assert!(truthy(Some(&Json::Num(-1.0))));
        assert!(!truthy(Some(&Json::Str(String::new()))));
        assert!(truthy(Some(&Json::Str("0".into()))));
        assert!(truthy(Some(&Json::Arr(vec![]))));
        assert!(truthy(Some(&Json::Obj(vec![]))));
    }

    // ---- hostile inputs never panic ----

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs = [
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            "~".into(),
            "~~".into(),
            "~.~".into(),
            ".~.~.".into(),
            "a.b.c".into(),
            "A.A.A".into(),
            "AA.AA.AA".into(),
            "e30.e30.AA".into(),
            "e30.e30.AA~e30.e30.AA".into(),
            ".".repeat(100_000),
            "~".repeat(100_000),
            format!("{}.e30.AA", encode("[".repeat(8000).as_bytes())),
            format!("e30.{}.AA", encode("{\"a\":".repeat(100_000).as_bytes())),
            format!("e30.{}.AA", encode(&[0xc0; 1000])),
        ];
        for r in &inputs {
            let _ = parse_strict(r);
            let _ = parse_lenient(r);
            let _ = add_receipt_check(r);
            if let Ok(p) = parse_strict(r) {
                for (i, t) in p.parts.iter().enumerate() {
                    let _ = check_header(&t.header, i);
                }
            }
        }
        // "e30" is "{}": a header without alg.
        let p = parse_strict("e30.e30.AA").unwrap();
        assert_eq!(
            check_header(&p.parts[0].header, 0).unwrap_err().detail,
            "JWT header alg is missing or not a string"
        );
    }
}
