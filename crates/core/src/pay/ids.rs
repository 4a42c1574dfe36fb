//! Identifiers and small encodings shared by the payment tokens: UUID v4 text, transaction IDs
//! (payments §4.2), signing-key ids (§6.3), price points (§3.3) and
//! `application/x-www-form-urlencoded` (notice and issue bodies, `productData`, `storedata`).

use crate::json::Json;

/// The lowercase hyphenated text of a UUID v4 made from 16 random bytes supplied by the caller
/// (core has no random source). The version and variant bits are set here, so any 16 bytes do.
pub fn uuid_v4_from_bytes(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let part = |from: usize, to: usize| hex.get(from..to).unwrap_or_default();
    format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32))
}

/// Whether `s` is a lowercase hyphenated UUID v4:
/// `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`.
pub fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    b.iter().enumerate().all(|(i, &c)| match i {
        8 | 13 | 18 | 23 => c == b'-',
        14 => c == b'4',
        19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
        _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
    })
}

/// The three transaction kinds of payments §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// `webpay:` — every other completed payment.
    Webpay,
    /// `simulate:` — `request.simulate` present (takes precedence over free).
    Simulate,
    /// `free:` — price point `"0"` without `simulate`.
    Free,
}

impl TxKind {
    /// The prefix including the colon: `webpay:`, `simulate:` or `free:`.
    pub fn prefix(self) -> &'static str {
        match self {
            TxKind::Webpay => "webpay:",
            TxKind::Simulate => "simulate:",
            TxKind::Free => "free:",
        }
    }

    /// The kind for a request (payments §4.2): `simulate:` when simulated, else `free:` for the
    /// normalised price point `"0"`, else `webpay:`.
    pub fn for_request(simulated: bool, price_point: &str) -> TxKind {
        if simulated {
            TxKind::Simulate
        } else if price_point == "0" {
            TxKind::Free
        } else {
            TxKind::Webpay
        }
    }
}

/// A transaction ID of payments §4.2: `<webpay|simulate|free>:<lowercase UUID v4>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionId {
    kind: TxKind,
    text: String,
}

impl TransactionId {
    /// A transaction ID of `kind` for `uuid`; `None` unless `uuid` is a lowercase UUID v4.
    pub fn new(kind: TxKind, uuid: &str) -> Option<Self> {
        is_uuid_v4(uuid).then(|| TransactionId { kind, text: format!("{}{uuid}", kind.prefix()) })
    }

    /// Parses the exact form `^(webpay|simulate|free):<uuid v4>$` (payments §2.5 step 9).
    pub fn parse(s: &str) -> Option<Self> {
        [TxKind::Webpay, TxKind::Simulate, TxKind::Free].into_iter().find_map(|kind| {
            s.strip_prefix(kind.prefix()).and_then(|uuid| TransactionId::new(kind, uuid))
        })
    }

    /// The kind (prefix).
    pub fn kind(&self) -> TxKind {
        self.kind
    }

    /// The UUID part (the provider's `transactions.uuid`, used in receipt `detail` URLs).
    pub fn uuid(&self) -> &str {
        self.text.get(self.kind.prefix().len()..).unwrap_or_default()
    }

    /// The whole ID, for example `webpay:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for TransactionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The role of a receipt signing key (payments §6.3 "Key ids").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// `root-…`
    Root,
    /// `eph-…`
    Ephemeral,
}

/// A key id `root-<YYYYMMDD>-<4 hex>` or `eph-<YYYYMMDD>-<4 hex>` (payments §6.3) for a key
/// created at `unix_secs` (UTC date), with 16 random bits from the caller.
pub fn key_id(role: KeyRole, unix_secs: i64, random: u16) -> String {
    let (y, m, d) = civil_date(unix_secs);
    let prefix = match role {
        KeyRole::Root => "root",
        KeyRole::Ephemeral => "eph",
    };
    format!("{prefix}-{y:04}{m:02}{d:02}-{random:04x}")
}

/// The proleptic Gregorian UTC date of a Unix time (H. Hinnant's `civil_from_days`).
fn civil_date(unix_secs: i64) -> (i64, i64, i64) {
    let z = unix_secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The largest integer a JSON number carries exactly (2^53).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A `pricePoint` normalised to its string form (payments §3.3): a string as it is (compared
/// exactly later, so `"05"` stays `"05"`), a non-negative integral number as its decimal string
/// (`5` → `"5"`, `5.0` → `"5"`). `None` for anything else (negative, fractional, above 2^53, or
/// not a string or number).
pub fn normalize_price_point(value: &Json) -> Option<String> {
    match value {
        Json::Str(s) => Some(s.clone()),
        Json::Num(n)
            if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n <= MAX_SAFE_INTEGER =>
        {
            Some(format!("{}", *n as u64))
        }
        _ => None,
    }
}

/// The name/value pairs of an `application/x-www-form-urlencoded` body, as the WHATWG URL
/// standard parses it: split on `&`, skip empty pieces, split each at the first `=`, `+` is a
/// space, `%XX` is a byte (other `%` stay), then UTF-8 with U+FFFD for invalid sequences.
pub fn form_pairs(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(i) => {
                    (piece.get(..i).unwrap_or_default(), piece.get(i + 1..).unwrap_or_default())
                }
                None => (piece, &[][..]),
            };
            (form_decode(name), form_decode(value))
        })
        .collect()
}

fn form_decode(bytes: &[u8]) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of the only field called `name` in a form body, when there is exactly one and it is
/// non-empty (payments §2.5 step 4: one `notice` field; §6.1: one `request` field).
pub fn single_form_field(body: &[u8], name: &str) -> Option<String> {
    let mut found = form_pairs(body).into_iter().filter(|(n, _)| n == name);
    match (found.next(), found.next()) {
        (Some((_, value)), None) if !value.is_empty() => Some(value),
        _ => None,
    }
}

/// The `application/x-www-form-urlencoded` byte serialiser (WHATWG): ASCII alphanumerics and
/// `*-._` stay, a space becomes `+`, every other byte of the UTF-8 text is `%XX` (upper case).
pub fn form_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(char::from(b));
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Whether a `Content-Type` value has the media type `application/x-www-form-urlencoded`
/// (parameters ignored, case-insensitive; payments §2.5 step 3).
pub fn is_form_urlencoded(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default();
    media
        .trim_matches(|c: char| c == ' ' || c == '\t')
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn uuid_v4_text() {
        let u = uuid_v4_from_bytes([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid_v4(&u));
        let u = uuid_v4_from_bytes([0; 16]);
        assert_eq!(u, "00000000-0000-4000-8000-000000000000");
        assert!(is_uuid_v4(&u));
        for i in 0..=255u8 {
            assert!(is_uuid_v4(&uuid_v4_from_bytes([i; 16])));
        }
        for bad in [
            "",
            "3F0C2B9E-5D7A-4C1E-9A43-0D6F1E2B7C55",
            "3f0c2b9e-5d7a-3c1e-9a43-0d6f1e2b7c55",
            "3f0c2b9e-5d7a-4c1e-7a43-0d6f1e2b7c55",
            "3f0c2b9e5d7a-4c1e-9a43-0d6f1e2b7c55-",
            "3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c5",
            "3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c555",
            "{3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55}",
            "3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7cg5",
        ] {
            assert!(!is_uuid_v4(bad), "{bad}");
        }
        assert!(is_uuid_v4("3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55"));
    }

    #[test]
    fn transaction_ids() {
        let uuid = "3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55";
        for kind in [TxKind::Webpay, TxKind::Simulate, TxKind::Free] {
            let t = TransactionId::new(kind, uuid).unwrap();
            assert_eq!(t.as_str(), format!("{}{uuid}", kind.prefix()));
            assert_eq!(t.uuid(), uuid);
            assert_eq!(TransactionId::parse(t.as_str()), Some(t.clone()));
            assert_eq!(t.to_string(), t.as_str());
        }
        for bad in [
            "webpay:../../x",
            "webpay:",
            "webpay",
            "Webpay:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55",
            "paypal:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55",
            " webpay:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55",
            "webpay:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55\n",
            "webpay:simulate:3f0c2b9e-5d7a-4c1e-9a43-0d6f1e2b7c55",
            "webpay:3F0C2B9E-5D7A-4C1E-9A43-0D6F1E2B7C55",
        ] {
            assert_eq!(TransactionId::parse(bad), None, "{bad}");
        }
        assert_eq!(TransactionId::new(TxKind::Free, "x"), None);
        assert_eq!(TxKind::for_request(true, "0"), TxKind::Simulate);
        assert_eq!(TxKind::for_request(false, "0"), TxKind::Free);
        assert_eq!(TxKind::for_request(false, "00"), TxKind::Webpay);
        assert_eq!(TxKind::for_request(false, "5"), TxKind::Webpay);
    }

    #[test]
    fn key_ids_and_dates() {
        assert_eq!(key_id(KeyRole::Root, 0, 0), "root-19700101-0000");
        assert_eq!(key_id(KeyRole::Ephemeral, 1_767_225_600, 0x3fa2), "eph-20260101-3fa2");
        assert_eq!(key_id(KeyRole::Ephemeral, 1_767_225_599, 0xffff), "eph-20251231-ffff");
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(-86_400), (1969, 12, 31));
        assert!(crate::hs256::kid_ok(&key_id(KeyRole::Root, 4_102_444_800, 0xabcd)));
    }

    #[test]
    fn price_points() {
        let n = |v: f64| normalize_price_point(&Json::Num(v));
        assert_eq!(normalize_price_point(&Json::Str("05".into())), Some("05".into()));
        assert_eq!(normalize_price_point(&Json::Str(String::new())), Some(String::new()));
        assert_eq!(n(5.0), Some("5".into()));
        assert_eq!(n(0.0), Some("0".into()));
        assert_eq!(n(-0.0), Some("0".into()));
        assert_eq!(n(1e3), Some("1000".into()));
        assert_eq!(n(9_007_199_254_740_992.0), Some("9007199254740992".into()));
        assert_eq!(n(1e300), None);
        assert_eq!(n(-1.0), None);
        assert_eq!(n(1.5), None);
        assert_eq!(n(f64::NAN), None);
        assert_eq!(normalize_price_point(&Json::Null), None);
        assert_eq!(normalize_price_point(&Json::Bool(true)), None);
        assert_eq!(normalize_price_point(&Json::Arr(vec![])), None);
    }

    #[test]
    fn forms() {
        assert_eq!(
            form_pairs(b"a=1&b=x+y&&c&d=%41%zz%4&e=%C3%A9&=v&f=a=b"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), String::new()),
                ("d".into(), "A%zz%4".into()),
                ("e".into(), "é".into()),
                (String::new(), "v".into()),
                ("f".into(), "a=b".into()),
            ]
        );
        assert_eq!(form_pairs(b"x=%ff").first().unwrap().1, "\u{fffd}");
        assert_eq!(single_form_field(b"notice=abc", "notice"), Some("abc".into()));
        assert_eq!(single_form_field(b"notice=abc&other=1", "notice"), Some("abc".into()));
        assert_eq!(single_form_field(b"notice=abc&notice=abc", "notice"), None);
        assert_eq!(single_form_field(b"notice=", "notice"), None);
        assert_eq!(single_form_field(b"notice", "notice"), None);
        assert_eq!(single_form_field(b"", "notice"), None);
        assert_eq!(single_form_field(b"Notice=abc", "notice"), None);
        assert_eq!(single_form_field(b"notic%65=abc", "notice"), Some("abc".into()));
        assert_eq!(form_urlencode("a b*-._~:/é"), "a+b*-._%7E%3A%2F%C3%A9");
        assert_eq!(
            form_pairs(form_urlencode("x=&y +%").as_bytes()),
            vec![("x=&y +%".into(), String::new())]
        );
        assert!(is_form_urlencoded("application/x-www-form-urlencoded"));
        assert!(is_form_urlencoded("Application/X-WWW-Form-URLencoded; charset=utf-8"));
        assert!(is_form_urlencoded(" application/x-www-form-urlencoded ;x"));
        assert!(!is_form_urlencoded("application/json"));
        assert!(!is_form_urlencoded("application/x-www-form-urlencodedx"));
        assert!(!is_form_urlencoded(""));
        assert!(!is_form_urlencoded("multipart/form-data"));
    }
}
