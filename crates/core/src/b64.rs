//! base64url: the canonical form of §2.3.1 rule 7 and the lenient form of §2.4.

const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 6-bit value of a base64url character.
fn url_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// The 6-bit value of a character in either alphabet (`-`/`+` and `_`/`/`).
fn lenient_value(c: u8) -> Option<u32> {
    match c {
        b'+' => Some(62),
        b'/' => Some(63),
        _ => url_value(c),
    }
}

/// Decodes unpadded characters with `value`. `None` for an unknown character or a length
/// ≡ 1 (mod 4); with `strict`, also for non-zero unused trailing bits.
fn decode_with(s: &[u8], value: fn(u8) -> Option<u32>, strict: bool) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut chunks = s.chunks_exact(4);
    for chunk in &mut chunks {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | value(c)?;
        }
        out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut acc = 0u32;
        for &c in rest {
            acc = (acc << 6) | value(c)?;
        }
        // 2 characters carry 12 bits (1 byte + 4 unused), 3 carry 18 (2 bytes + 2 unused).
        let (bytes, unused) = if rest.len() == 2 { (1, 4) } else { (2, 2) };
        if strict && acc & ((1 << unused) - 1) != 0 {
            return None;
        }
        let acc = acc >> unused;
        if bytes == 2 {
            out.push((acc >> 8) as u8);
        }
        out.push(acc as u8);
    }
    Some(out)
}

/// Canonical unpadded base64url: alphabet `A–Z a–z 0–9 - _` only, no `=`, length mod 4 ≠ 1,
/// unused trailing bits zero. `None` on any violation.
pub fn decode_strict(s: &str) -> Option<Vec<u8>> {
    decode_with(s.as_bytes(), url_value, true)
}

/// Lenient (§2.4): `-` or `+`, `_` or `/`, up to two trailing `=`, length mod 4 ≠ 1 once the `=`
/// are removed, unused bits ignored, any other character (whitespace included) rejected.
pub fn decode_lenient(s: &str) -> Option<Vec<u8>> {
    let mut body = s.as_bytes();
    for _ in 0..2 {
        if let Some(stripped) = body.strip_suffix(b"=") {
            body = stripped;
        }
    }
    // Any `=` left over is an unknown character for `lenient_value`.
    decode_with(body, lenient_value, false)
}

/// Unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    let char_at =
        |v: u32| -> char { URL_ALPHABET.get((v & 63) as usize).map_or('A', |&b| char::from(b)) };
    for chunk in bytes.chunks(3) {
        let mut acc = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= u32::from(b) << (16 - 8 * i);
        }
        // 1 byte → 2 characters, 2 bytes → 3, 3 bytes → 4.
        for i in 0..=chunk.len() {
            out.push(char_at(acc >> (18 - 6 * i)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn encode_known_vectors() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"foob"), "Zm9vYg");
        assert_eq!(encode(b"fooba"), "Zm9vYmE");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(encode(b"{\"alg\":\"ES256\"}"), "eyJhbGciOiJFUzI1NiJ9");
    }

    #[test]
    fn round_trip_all_lengths_and_bytes() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            let bytes = &data[..len];
            let enc = encode(bytes);
            assert_eq!(decode_strict(&enc).as_deref(), Some(bytes), "len {len}");
            assert_eq!(decode_lenient(&enc).as_deref(), Some(bytes), "len {len}");
        }
    }

    #[test]
    fn matches_base64_crate() {
        use base64::Engine;
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..data.len() {
            let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&data[..len]);
            assert_eq!(encode(&data[..len]), expected);
        }
    }

    #[test]
    fn strict_rejects_padding() {
        assert_eq!(decode_strict("Zg"), Some(b"f".to_vec()));
        assert_eq!(decode_strict("Zg=="), None);
        assert_eq!(decode_strict("Zm8="), None);
        assert_eq!(decode_strict("Zm9v="), None);
        assert_eq!(decode_strict("="), None);
    }

    #[test]
    fn strict_rejects_length_mod_4_is_1() {
        assert_eq!(decode_strict("Z"), None);
        assert_eq!(decode_strict("Zm9vY"), None);
        assert_eq!(decode_lenient("Z"), None);
        assert_eq!(decode_lenient("Zm9vY"), None);
        assert_eq!(decode_lenient("Zm9vY=="), None);
    }

    #[test]
    fn strict_rejects_non_zero_unused_bits() {
        // "Zg" is canonical for "f"; "Zh".."Zv" decode to the same byte with unused bits set.
        for c in ['h', 'i', 'p', 'v'] {
            let s = format!("Z{c}");
            assert_eq!(decode_strict(&s), None, "{s}");
            assert_eq!(decode_lenient(&s), Some(b"f".to_vec()), "{s}");
        }
        // "Zm8" is canonical for "fo"; "Zm9" has the low 2 bits set.
        assert_eq!(decode_strict("Zm9"), None);
        assert_eq!(decode_lenient("Zm9"), Some(b"fo".to_vec()));
    }

    #[test]
    fn strict_rejects_characters_outside_url_alphabet() {
        for s in ["Zm9+", "Zm9/", "Zm 9v", " Zm9v", "Zm9v\n", "Zm9v.", "Zm9v~", "Zé9v", "Zm9v\0"] {
            assert_eq!(decode_strict(s), None, "{s:?}");
        }
    }

    #[test]
    fn strict_empty_is_empty() {
        assert_eq!(decode_strict(""), Some(Vec::new()));
    }

    #[test]
    fn lenient_accepts_both_alphabets() {
        assert_eq!(decode_lenient("-_-_"), Some(vec![0xfb, 0xff, 0xbf]));
        assert_eq!(decode_lenient("+/+/"), Some(vec![0xfb, 0xff, 0xbf]));
        assert_eq!(decode_lenient("-/+_"), Some(vec![0xfb, 0xff, 0xbf]));
    }

    #[test]
    fn lenient_accepts_up_to_two_trailing_padding() {
        assert_eq!(decode_lenient("Zg=="), Some(b"f".to_vec()));
        assert_eq!(decode_lenient("Zm8="), Some(b"fo".to_vec()));
        assert_eq!(decode_lenient("Zm8"), Some(b"fo".to_vec()));
        assert_eq!(decode_lenient("Zg="), Some(b"f".to_vec()));
        assert_eq!(decode_lenient("Zg==="), None);
        assert_eq!(decode_lenient("Z=g"), None);
        assert_eq!(decode_lenient("=Zg"), None);
        assert_eq!(decode_lenient("Zm9v=="), Some(b"foo".to_vec()));
    }

    #[test]
    fn lenient_rejects_whitespace_and_other_characters() {
        for s in ["Zm9 v", " Zm9v", "Zm9v\n", "Zm9v\r\n", "Zm9v\t", "Zm9v.", "Zm9v*", "Zm9vé"] {
            assert_eq!(decode_lenient(s), None, "{s:?}");
        }
    }
}
