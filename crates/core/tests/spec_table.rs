//! The required negative cases of spec §9 that the core decides, run end to end: rows 1–33
//! (§9.2, §9.3) and 61–85 (§9.5, §9.6), plus the core's share of rows 105 and 113 (§9.8).
//!
//! Every row is built from baseline B of §9.1 (`common::Fixture`), changing only what the row
//! states and re-signing every JWT whose bytes change (unless the row is about the signature),
//! then run through `verify::strict_local` (mode S) or `verify::compat_local` (mode C, the B-C
//! options minus `trustedKeys`). Each case asserts the exact class name, detail and attributes.
//!
//! Attributes: every case lists the attributes of the failing rule in the order the pipeline
//! tables give them (§2.3.1, §2.3.2, §2.3.6, §2.3.7, §2.4), each with its exact value. Where a
//! row writes `…` (present), the value follows from §5.3: `parsed` is the decoded payload object,
//! `exp`/`nbf`/`iat` are the claim values, `installs_allowed_from` is the effective list. The
//! names must match exactly, so an extra or a missing attribute fails too.
//!
//! Rows decided outside the core are not faked here; the shell's tests (tests/browser/) own them:
//! - row 1 (`receipts: [42]`): a non-string never reaches the core (`strict_local` takes `&str`);
//!   rule 1 and the `"42"` key are the shell's (tests/browser/strict.test.mjs, "#1");
//! - row 69 (`now` returns `NaN`): the run stops in §2.2 step 3 before any receipt is processed
//!   (tests/browser/strict.test.mjs);
//! - rows 86 and 87: configuration errors of §2.2 step 5, raised by the shell before the
//!   per-receipt pipeline runs (tests/browser/strict.test.mjs and classic.test.mjs);
//! - row 112 (501 receipts, 500 outcomes and the `WARN`): the shell's receipt collection (§1.7,
//!   §7.1; tests/browser/strict.test.mjs and classic.test.mjs, "#112");
//! - the shell halves of rows 105 (the cache is consulted only after `Local::Passed`, S14, so no
//!   `OKCache`) and 113 (`receiptErrors` gets an *own* `__proto__` property), in
//!   tests/browser/strict.test.mjs. Their core halves are below.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::alphabet;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD, URL_SAFE,
};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use common::{b64, core_json, jws, jws_bytes, keys, segments, sign_segments, Fixture, T, TS};
use mozmarket_core::cache::{self, Fresh};
use mozmarket_core::url::NativeUrlParser;
use mozmarket_core::verify::{compat_local, strict_local, Local, Policy};
use mozmarket_core::Attr;
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeSet;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// The table

/// Which pipeline a case runs through (the spec's "Mode" column).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// `verify::strict_local` with the policy of baseline B.
    S,
    /// `verify::compat_local` with the policy of B-C.
    C,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Run::S => "S",
            Run::C => "C",
        })
    }
}

enum Want {
    /// A positive control: the local stage passes.
    Pass,
    Fail {
        /// The spec's class name (`Class::name`).
        class: &'static str,
        detail: String,
        attrs: Vec<(&'static str, Attr)>,
    },
}

struct Case {
    /// The §9 row number, e.g. `"19"` or `"64a"` (`"9.1"` for the baselines).
    row: &'static str,
    variant: String,
    run: Run,
    receipt: String,
    policy: Policy,
    want: Want,
}

#[derive(Default)]
struct Table(Vec<Case>);

impl Table {
    fn push(
        &mut self,
        row: &'static str,
        variant: impl Into<String>,
        run: Run,
        fx: &Fixture,
        receipt: String,
        want: Want,
    ) {
        let policy = match run {
            Run::S => fx.policy(),
            Run::C => fx.compat_policy(),
        };
        self.0.push(Case {
            row,
            variant: variant.into(),
            run,
            receipt,
            policy,
            want,
        });
    }

    /// A mode S case.
    fn s(
        &mut self,
        row: &'static str,
        variant: impl Into<String>,
        fx: &Fixture,
        receipt: String,
        want: Want,
    ) {
        self.push(row, variant, Run::S, fx, receipt, want);
    }

    /// A mode C case.
    fn c(
        &mut self,
        row: &'static str,
        variant: impl Into<String>,
        fx: &Fixture,
        receipt: String,
        want: Want,
    ) {
        self.push(row, variant, Run::C, fx, receipt, want);
    }

    /// The same receipt in both modes, when the row gives one result for `S, C`.
    fn sc(
        &mut self,
        row: &'static str,
        variant: &str,
        fx: &Fixture,
        receipt: String,
        want: impl Fn() -> Want,
    ) {
        self.s(row, variant, fx, receipt.clone(), want());
        self.c(row, variant, fx, receipt, want());
    }

    /// Runs every case and fails once, naming every failing row.
    fn check(self) {
        assert!(!self.0.is_empty());
        let failures: Vec<String> = self
            .0
            .iter()
            .filter_map(|case| check_case(case).err())
            .collect();
        assert!(
            failures.is_empty(),
            "{} case(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    fn rows(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0
            .iter()
            .filter(|c| matches!(c.want, Want::Fail { .. }))
            .map(|c| c.row)
    }
}

fn run_case(case: &Case) -> Local {
    match case.run {
        Run::S => strict_local(&case.receipt, &case.policy, None, T, &NativeUrlParser),
        Run::C => compat_local(&case.receipt, &case.policy, &NativeUrlParser),
    }
}

/// Debug text cut to a readable length (some payloads are a megabyte).
fn short(text: String) -> String {
    const MAX: usize = 600;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn check_case(case: &Case) -> Result<(), String> {
    let label = format!("row {} ({}) {}", case.row, case.run, case.variant);
    let got = run_case(case);
    match (&case.want, got) {
        (Want::Pass, Local::Passed(_)) => Ok(()),
        (Want::Pass, other) => Err(format!(
            "{label}: expected the local stage to pass, got {}",
            short(format!("{other:?}"))
        )),
        (
            Want::Fail {
                class,
                detail,
                attrs,
            },
            Local::Failed(f),
        ) => {
            let expected = format!(
                "{class}: {detail} {:?}",
                attrs.iter().map(|(n, _)| *n).collect::<Vec<_>>()
            );
            let got_text = || short(format!("{}: {} {:?}", f.class.name(), f.detail, f.attrs));
            if f.class.name() != *class || f.detail != *detail {
                return Err(format!("{label}: expected {expected}, got {}", got_text()));
            }
            let names: Vec<&str> = f.attrs.iter().map(|(n, _)| *n).collect();
            let want_names: Vec<&str> = attrs.iter().map(|(n, _)| *n).collect();
            if names != want_names {
                return Err(format!(
                    "{label}: expected attributes {want_names:?}, got {}",
                    got_text()
                ));
            }
            for (name, v) in attrs {
                if f.attr(name) != Some(v) {
                    return Err(format!(
                        "{label}: attribute {name}: expected {}, got {}",
                        short(format!("{v:?}")),
                        got_text()
                    ));
                }
            }
            Ok(())
        }
        (Want::Fail { class, detail, .. }, other) => Err(format!(
            "{label}: expected {class}: {detail}, got {}",
            short(format!("{other:?}"))
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Expected results

fn fail(class: &'static str, detail: impl Into<String>, attrs: Vec<(&'static str, Attr)>) -> Want {
    Want::Fail {
        class,
        detail: detail.into(),
        attrs,
    }
}

/// `ReceiptParseError` in strict mode (§2.3.1, H1, H5, H6).
fn parse_error(detail: &str, attrs: Vec<(&'static str, Attr)>) -> Want {
    fail("ReceiptParseError", detail, attrs)
}

/// `ReceiptParseError` of the compat lenient parse (C1): `Error decoding JSON: ‹reason›`.
fn compat_parse_error(reason: &str) -> Want {
    fail(
        "ReceiptParseError",
        format!("Error decoding JSON: {reason}"),
        vec![],
    )
}

/// `ReceiptFormatError`, which never has attributes (§2.3.6, S12a, C4, C6).
fn format_error(detail: &str) -> Want {
    fail("ReceiptFormatError", detail, vec![])
}

fn part(n: u32) -> (&'static str, Attr) {
    ("part", Attr::Num(f64::from(n)))
}

fn segment(name: &str) -> (&'static str, Attr) {
    ("segment", Attr::Str(name.to_owned()))
}

fn num(name: &'static str, n: i64) -> (&'static str, Attr) {
    (name, Attr::Num(n as f64))
}

fn text(name: &'static str, s: &str) -> (&'static str, Attr) {
    (name, Attr::Str(s.to_owned()))
}

/// `parsed`: the decoded payload object (§5.3).
fn parsed(payload: &Value) -> (&'static str, Attr) {
    ("parsed", Attr::Json(core_json(payload)))
}

fn allowlist(list: &[String]) -> (&'static str, Attr) {
    ("installs_allowed_from", Attr::Json(core_json(&json!(list))))
}

// ---------------------------------------------------------------------------------------------
// Building inputs

/// The compact JSON text of a value (the bytes the fixtures sign).
fn text_of(v: &Value) -> String {
    v.to_string()
}

/// `text` (a JSON object) with `member` (already JSON text, e.g. `"iss":"x"`) appended.
fn append_member(text: &str, member: &str) -> String {
    let body = text.strip_suffix('}').unwrap();
    format!("{body},{member}}}")
}

/// `s` with `A`s appended until its length is ≡ 1 (mod 4).
fn length_1_mod_4(s: &str) -> String {
    let mut s = s.to_owned();
    while s.len() % 4 != 1 {
        s.push('A');
    }
    s
}

/// HMAC-SHA-256 (RFC 2104), for the HS256 confusion attack of row 26.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    block.resize(64, 0);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// `C~J` where J's payload gets an extra padding member (and, when the lengths need it, J's
/// header a short one) so that the whole string is `target` characters long. J is re-signed;
/// every character stays in the base64url alphabet.
fn receipt_of_length(b: &Fixture, target: usize) -> String {
    let c = b.c();
    let sig_len = b64(&b.k.sign(b"length probe")).len();
    // The payload segment cannot have a length ≡ 1 (mod 4); a small header member shifts it.
    for extra in 0..4 {
        let mut header = b.j_header.clone();
        if extra > 0 {
            header["x-h"] = json!("h".repeat(extra));
        }
        let header_len = b64(text_of(&header).as_bytes()).len();
        let need = target - (c.len() + 1 + header_len + 1 + 1 + sig_len);
        if need % 4 == 1 {
            continue;
        }
        let mut payload = b.j_payload.clone();
        payload["x-pad"] = json!("");
        let base = text_of(&payload).len();
        // n bytes encode to ceil(4n/3) characters; this n gives exactly `need`.
        payload["x-pad"] = json!("p".repeat(need * 3 / 4 - base));
        let receipt = format!("{c}~{}", jws(b.k, &header, &payload));
        assert_eq!(receipt.len(), target);
        return receipt;
    }
    panic!("no receipt of length {target}");
}

/// Baseline B with J's payload changed by `edit` (and J re-signed).
fn claims(edit: impl FnOnce(&mut Value)) -> (Fixture, String) {
    let mut b = Fixture::b();
    edit(&mut b.j_payload);
    let receipt = b.receipt();
    (b, receipt)
}

/// Baseline B with the header of part `p` (0: C, 1: J) changed by `edit`, and re-signed.
fn header_of(p: u32, edit: impl FnOnce(&mut Value)) -> (Fixture, String) {
    let mut b = Fixture::b();
    edit(if p == 0 {
        &mut b.c_header
    } else {
        &mut b.j_header
    });
    let receipt = b.receipt();
    (b, receipt)
}

/// Baseline B with J's header changed by `edit` (and J re-signed).
fn header(edit: impl FnOnce(&mut Value)) -> (Fixture, String) {
    header_of(1, edit)
}

/// Rows 28–32 do not say which header: both parts are tried (H1–H6 run for each part, §2.3.2).
const HEADERS: [(u32, &str); 2] = [(1, "J's header"), (0, "C's header")];

// ---------------------------------------------------------------------------------------------
// §9.2 Encoding and structure (rows 1–24)

fn encoding_and_structure() -> Table {
    let mut t = Table::default();
    let b = Fixture::b();
    let (c, j, receipt) = (b.c(), b.j(), b.receipt());
    let [jh, jp, js] = segments(&j);
    let (jh_text, jp_text) = (text_of(&b.j_header), text_of(&b.j_payload));
    let k = b.k;
    // J with a raw payload text (bytes), re-signed by K.
    let with_payload = |payload: &[u8]| format!("{c}~{}", b.j_bytes(jh_text.as_bytes(), payload));

    // §9.1: baseline B verifies in both modes.
    t.s("9.1", "baseline B", &b, receipt.clone(), Want::Pass);
    t.c("9.1", "baseline B-C", &b, receipt.clone(), Want::Pass);

    // Row 1 (`receipts: [42]`) is the shell's: see the module comment.

    // Row 2. The limit itself is allowed (controls).
    let too_big = receipt_of_length(&b, 1_048_577);
    t.s(
        "2",
        "1,048,577 characters",
        &b,
        too_big.clone(),
        parse_error("Receipt is too big (limit 1048576 bytes)", vec![]),
    );
    t.c(
        "2",
        "1,048,577 characters",
        &b,
        too_big,
        compat_parse_error("receipt is too big"),
    );
    let at_limit = receipt_of_length(&b, 1_048_576);
    t.s(
        "2",
        "control: 1,048,576 characters verify",
        &b,
        at_limit.clone(),
        Want::Pass,
    );
    t.c(
        "2",
        "control: 1,048,576 characters verify",
        &b,
        at_limit,
        Want::Pass,
    );

    // Row 3.
    let invalid_character = || parse_error("Receipt contains an invalid character", vec![]);
    let inner_space = format!(
        "{c}~{}",
        sign_segments(k, &jh, &format!("{} {}", &jp[..10], &jp[10..]))
    );
    t.s(
        "3",
        "leading space",
        &b,
        format!(" {receipt}"),
        invalid_character(),
    );
    t.s(
        "3",
        "trailing \\n",
        &b,
        format!("{receipt}\n"),
        invalid_character(),
    );
    t.s(
        "3",
        "space inside J's payload segment",
        &b,
        inner_space,
        invalid_character(),
    );

    // Row 4. J's payload is 273 bytes (a multiple of 3), so its canonical padding is empty; a
    // payload with one more byte (a trailing space) is padded `==` as base64 does.
    assert_eq!(jp_text.len(), 273, "§9.1: J's payload in compact JSON");
    t.s(
        "4",
        "`=` appended",
        &b,
        format!("{c}~{}", sign_segments(k, &jh, &format!("{jp}="))),
        invalid_character(),
    );
    let padded = URL_SAFE.encode(format!("{jp_text} ").as_bytes());
    assert!(padded.ends_with("=="));
    t.s(
        "4",
        "`==` padding of a 274-byte payload",
        &b,
        format!("{c}~{}", sign_segments(k, &jh, &padded)),
        invalid_character(),
    );

    // Row 5: the same signature bytes in standard base64, which here has a `+` or a `/`.
    let (b5, j5) = (0..1000)
        .map(|i| {
            let mut b5 = b.clone();
            if i > 0 {
                b5.j_payload["user"]["value"] = json!(format!("u-{i}"));
            }
            let j5 = b5.j();
            (b5, j5)
        })
        .find(|(_, j5)| {
            STANDARD_NO_PAD
                .encode(common::unb64(&segments(j5)[2]))
                .contains(['+', '/'])
        })
        .unwrap();
    let [h5, p5, s5] = segments(&j5);
    let standard = STANDARD_NO_PAD.encode(common::unb64(&s5));
    t.s(
        "5",
        "control: the base64url signature verifies",
        &b5,
        format!("{}~{j5}", b5.c()),
        Want::Pass,
    );
    t.s(
        "5",
        "standard base64 signature",
        &b5,
        format!("{}~{h5}.{p5}.{standard}", b5.c()),
        invalid_character(),
    );

    // Row 6.
    let [ch, cp, cs] = segments(&c);
    t.s(
        "6",
        "`é` first",
        &b,
        format!("é{receipt}"),
        invalid_character(),
    );
    t.s(
        "6",
        "`é` last",
        &b,
        format!("{receipt}é"),
        invalid_character(),
    );
    t.s(
        "6",
        "`é` inside J's payload segment",
        &b,
        format!(
            "{c}~{}",
            sign_segments(k, &jh, &format!("{}é{}", &jp[..10], &jp[10..]))
        ),
        invalid_character(),
    );
    t.s(
        "6",
        "`é` inside C's signature",
        &b,
        format!("{ch}.{cp}.{}é{}~{j}", &cs[..20], &cs[20..]),
        invalid_character(),
    );

    // Row 7. Baseline J's payload segment has no unused bits (273 bytes), so the payload gets one
    // or two trailing spaces (insignificant JSON whitespace); the canonical forms verify.
    let lenient = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    const URL_ALPHABET: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (spaces, label) in [
        (1, "1 trailing byte, 4 unused bits"),
        (2, "2 trailing bytes, 2 unused bits"),
    ] {
        let canonical = b64(format!("{jp_text}{}", " ".repeat(spaces)).as_bytes());
        t.s(
            "7",
            format!("control: canonical, {label}"),
            &b,
            format!("{c}~{}", sign_segments(k, &jh, &canonical)),
            Want::Pass,
        );
        let mut chars = canonical.clone().into_bytes();
        let last = chars.last_mut().unwrap();
        let value = URL_ALPHABET.iter().position(|a| a == last).unwrap();
        assert_eq!(value & 1, 0, "canonical unused bits are zero");
        *last = URL_ALPHABET[value | 1];
        let noncanonical = String::from_utf8(chars).unwrap();
        assert_eq!(
            lenient.decode(&noncanonical).unwrap(),
            lenient.decode(&canonical).unwrap()
        );
        t.s(
            "7",
            format!("non-zero unused bits, {label}"),
            &b,
            format!("{c}~{}", sign_segments(k, &jh, &noncanonical)),
            parse_error(
                "Invalid base64url in JWT segment",
                vec![part(1), segment("payload")],
            ),
        );
    }

    // Row 8: every segment of J, and one of C.
    let bad_b64 = |p: u32, s: &str| {
        parse_error(
            "Invalid base64url in JWT segment",
            vec![part(p), segment(s)],
        )
    };
    t.s(
        "8",
        "J's header segment",
        &b,
        format!("{c}~{}", sign_segments(k, &length_1_mod_4(&jh), &jp)),
        bad_b64(1, "header"),
    );
    t.s(
        "8",
        "J's payload segment",
        &b,
        format!("{c}~{}", sign_segments(k, &jh, &length_1_mod_4(&jp))),
        bad_b64(1, "payload"),
    );
    t.s(
        "8",
        "J's signature segment",
        &b,
        format!("{c}~{jh}.{jp}.{}", length_1_mod_4(&js)),
        bad_b64(1, "signature"),
    );
    t.s(
        "8",
        "C's payload segment",
        &b,
        format!("{}~{j}", sign_segments(b.r, &ch, &length_1_mod_4(&cp))),
        bad_b64(0, "payload"),
    );

    // Rows 9–11.
    t.s(
        "9",
        "h.p",
        &b,
        format!("{c}~{jh}.{jp}"),
        parse_error("JWT has 2 segments (expected 3)", vec![part(1)]),
    );
    t.s(
        "10",
        "h.p.s.x",
        &b,
        format!("{c}~{j}.eA"),
        parse_error("JWT has 4 segments (expected 3)", vec![part(1)]),
    );
    t.s(
        "11",
        "h.p.",
        &b,
        format!("{c}~{jh}.{jp}."),
        parse_error(
            "JWT has an empty segment",
            vec![part(1), segment("signature")],
        ),
    );

    // Row 12.
    let four = format!("{c}~{c}~{c}~{j}");
    t.s(
        "12",
        "C~C~C~J",
        &b,
        four.clone(),
        parse_error("Receipt has 4 ~-separated parts (expected 1 to 3)", vec![]),
    );
    t.c(
        "12",
        "C~C~C~J",
        &b,
        four,
        compat_parse_error("too many ~-separated parts"),
    );

    // Row 13.
    for (variant, r) in [
        ("~J", format!("~{j}")),
        ("C~", format!("{c}~")),
        ("C~~J", format!("{c}~~{j}")),
    ] {
        t.s(
            "13",
            variant,
            &b,
            r,
            parse_error("Receipt has an empty part", vec![]),
        );
    }

    // Rows 14–18: J's payload bytes replaced (J re-signed).
    let payload_error = |detail: &str| parse_error(detail, vec![part(1), segment("payload")]);
    let as_string = text_of(&Value::String(jp_text.clone()));
    t.s(
        "14",
        "payload is a JSON string",
        &b,
        with_payload(as_string.as_bytes()),
        payload_error("JWT segment is not a JSON object"),
    );
    t.c(
        "14",
        "payload is a JSON string",
        &b,
        with_payload(as_string.as_bytes()),
        compat_parse_error("payload is not a JSON object"),
    );
    for payload in ["null", "[]", "42"] {
        t.s(
            "15",
            format!("payload {payload}"),
            &b,
            with_payload(payload.as_bytes()),
            payload_error("JWT segment is not a JSON object"),
        );
    }
    t.s(
        "16",
        "payload {\"typ\":",
        &b,
        with_payload(br#"{"typ":"#),
        payload_error("JWT segment is not valid JSON"),
    );
    let mut with_ff = jp_text.clone().into_bytes();
    let at = jp_text.find(r#""u-1""#).unwrap() + 4;
    with_ff.insert(at, 0xFF);
    t.s(
        "17",
        "0xFF inside user.value",
        &b,
        with_payload(&with_ff),
        payload_error("JWT segment is not valid UTF-8"),
    );
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(jp_text.as_bytes());
    t.s(
        "18",
        "UTF-8 BOM first",
        &b,
        with_payload(&with_bom),
        payload_error("JWT segment is not valid JSON"),
    );
    let surrogate = jp_text.replace(r#""u-1""#, r#""u-1\ud800""#);
    assert_ne!(surrogate, jp_text);
    t.s(
        "18",
        "escape \\ud800",
        &b,
        with_payload(surrogate.as_bytes()),
        payload_error("JWT segment is not valid JSON"),
    );

    // Rows 19–21: duplicate member names.
    let duplicate_iss = append_member(&jp_text, r#""iss":"https://evil.example""#);
    t.s(
        "19",
        "iss twice",
        &b,
        with_payload(duplicate_iss.as_bytes()),
        payload_error("Duplicate member name in JSON"),
    );
    t.c(
        "19",
        "iss twice",
        &b,
        with_payload(duplicate_iss.as_bytes()),
        compat_parse_error("duplicate member name"),
    );
    let escaped = append_member(&jp_text, r#""\u0069ss":"https://evil.example""#);
    t.s(
        "20",
        "iss and \\u0069ss",
        &b,
        with_payload(escaped.as_bytes()),
        payload_error("Duplicate member name in JSON"),
    );
    let in_product = jp_text.replace(
        r#""product":{"#,
        r#""product":{"url":"https://evil.example","#,
    );
    assert_ne!(in_product, jp_text);
    t.s(
        "20",
        "url twice inside product",
        &b,
        with_payload(in_product.as_bytes()),
        payload_error("Duplicate member name in JSON"),
    );
    let alg_twice = append_member(&jh_text, r#""alg":"none""#);
    assert!(alg_twice.starts_with(r#"{"alg":"ES256","#));
    t.s(
        "21",
        "alg twice (ES256, then none)",
        &b,
        format!(
            "{c}~{}",
            jws_bytes(k, alg_twice.as_bytes(), jp_text.as_bytes())
        ),
        parse_error(
            "Duplicate member name in JSON",
            vec![part(1), segment("header")],
        ),
    );

    // Row 22: the payload object is level 1, so n nested arrays reach depth n + 1.
    let nested = |n: usize| {
        append_member(
            &jp_text,
            &format!(r#""x-deep":{}{}"#, "[".repeat(n), "]".repeat(n)),
        )
    };
    t.s(
        "22",
        "32 nested arrays (depth 33)",
        &b,
        with_payload(nested(32).as_bytes()),
        payload_error("JSON nesting too deep (limit 32)"),
    );
    t.s(
        "22",
        "control: 31 nested arrays (depth 32) verify",
        &b,
        with_payload(nested(31).as_bytes()),
        Want::Pass,
    );

    // Row 23: a long extra header member; the limit itself verifies.
    let long_header = |len: usize| {
        let mut h = b.j_header.clone();
        h["x-pad"] = json!("");
        let base = text_of(&h).len();
        h["x-pad"] = json!("p".repeat(len - base));
        let text = text_of(&h);
        assert_eq!(text.len(), len);
        format!("{c}~{}", b.j_bytes(text.as_bytes(), jp_text.as_bytes()))
    };
    t.s(
        "23",
        "header of 8,193 bytes",
        &b,
        long_header(8193),
        parse_error("JWT header is too big (limit 8192 bytes)", vec![part(1)]),
    );
    t.s(
        "23",
        "control: header of 8,192 bytes verifies",
        &b,
        long_header(8192),
        Want::Pass,
    );

    // Row 24.
    t.c(
        "24",
        "\"abc\"",
        &b,
        "abc".to_owned(),
        compat_parse_error("Not valid JWT"),
    );
    t
}

// ---------------------------------------------------------------------------------------------
// §9.3 JOSE header and algorithms (rows 25–33; 34–35 are in negative_cases.rs)

fn header_and_algorithms() -> Table {
    let mut t = Table::default();
    let b = Fixture::b();
    let c = b.c();
    let jp_text = text_of(&b.j_payload);
    let not_allowed = |alg: &str, p: u32| {
        fail(
            "AlgorithmNotAllowed",
            format!("Algorithm not allowed: {alg}"),
            vec![part(p), text("alg", alg)],
        )
    };

    // Row 25: exactly `{"alg":"none"}`, with a non-empty signature.
    let none = format!(
        "{c}~{}",
        b.j_bytes(br#"{"alg":"none"}"#, jp_text.as_bytes())
    );
    t.s("25", "alg none, signed", &b, none, not_allowed("none", 1));
    // …and with an empty signature, row 11 applies.
    let [none_h, none_p, _] = segments(&b.j_bytes(br#"{"alg":"none"}"#, jp_text.as_bytes()));
    t.s(
        "25",
        "alg none, empty signature (row 11)",
        &b,
        format!("{c}~{none_h}.{none_p}."),
        parse_error(
            "JWT has an empty segment",
            vec![part(1), segment("signature")],
        ),
    );

    // Row 26: an HS256 MAC keyed with K's public key, in several encodings.
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "RFC 4231 test case 2"
    );
    let public = keys().k_ec.verifying_key();
    let secrets: [(&str, Vec<u8>); 4] = [
        ("JWK text", text_of(&b.k.jwk(Some("sign-1"))).into_bytes()),
        (
            "SEC1 point",
            public.to_encoded_point(false).as_bytes().to_vec(),
        ),
        (
            "SPKI DER",
            public.to_public_key_der().unwrap().as_bytes().to_vec(),
        ),
        (
            "SPKI PEM",
            public
                .to_public_key_pem(LineEnding::LF)
                .unwrap()
                .into_bytes(),
        ),
    ];
    for (encoding, secret) in secrets {
        let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(jp_text.as_bytes()));
        let token = format!("{input}.{}", b64(&hmac_sha256(&secret, input.as_bytes())));
        t.s(
            "26",
            format!("HS256 keyed with K's {encoding}"),
            &b,
            format!("{c}~{token}"),
            not_allowed("HS256", 1),
        );
    }

    // Row 27: a bare JWT signed RS512 by the (RSA) root, as old dev receipts were.
    let b_rsa = Fixture::b_rsa();
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"RS512","typ":"JWT"}"#),
        b64(jp_text.as_bytes())
    );
    let rs512 = keys()
        .r_rsa
        .sign(
            rsa::Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(input.as_bytes()),
        )
        .unwrap();
    t.s(
        "27",
        "unchained RS512",
        &b_rsa,
        format!("{input}.{}", b64(&rs512)),
        not_allowed("RS512", 0),
    );

    // Rows 28–32, in J's header and in C's.
    for (p, which) in HEADERS {
        for alg in ["es256", "PS256", "EdDSA"] {
            let (fx, r) = header_of(p, |h| h["alg"] = json!(alg));
            t.s(
                "28",
                format!("{which}: alg {alg}"),
                &fx,
                r,
                not_allowed(alg, p),
            );
        }

        let alg_error = || parse_error("JWT header alg is missing or not a string", vec![part(p)]);
        let (fx, r) = header_of(p, |h| {
            h.as_object_mut().unwrap().remove("alg");
        });
        t.s("29", format!("{which}: alg missing"), &fx, r, alg_error());
        let (fx, r) = header_of(p, |h| h["alg"] = json!(256));
        t.s("29", format!("{which}: alg 256"), &fx, r, alg_error());

        for crit in [json!(["exp"]), json!([]), json!("x")] {
            let (fx, r) = header_of(p, |h| h["crit"] = crit.clone());
            let want = fail(
                "UnsupportedHeader",
                "Unsupported crit header",
                vec![part(p)],
            );
            t.s("30", format!("{which}: crit {crit}"), &fx, r, want);
        }

        for (name, value) in [
            ("b64", json!(false)),
            ("cty", json!("JWT")),
            ("enc", json!("A128GCM")),
            ("zip", json!("DEF")),
        ] {
            let (fx, r) = header_of(p, |h| h[name] = value.clone());
            let detail = format!("Unsupported header parameter: {name}");
            let want = fail("UnsupportedHeader", detail, vec![part(p)]);
            t.s("31", format!("{which}: {name}: {value}"), &fx, r, want);
        }

        for (variant, kid) in [
            ("kid of 300 characters", json!("k".repeat(300))),
            ("kid 5", json!(5)),
            ("kid \"\"", json!("")),
        ] {
            let (fx, r) = header_of(p, |h| h["kid"] = kid.clone());
            let want = parse_error("JWT header kid is invalid", vec![part(p)]);
            t.s("32", format!("{which}: {variant}"), &fx, r, want);
        }
    }

    // Row 33.
    let (fx, r) = header(|h| h["typ"] = json!(1));
    t.s(
        "33",
        "typ 1",
        &fx,
        r,
        parse_error("JWT header typ is invalid", vec![part(1)]),
    );
    t
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// §9.5 Claims and time (rows 61–69)

fn claims_and_time() -> Table {
    let mut t = Table::default();

    // Row 61, with its control.
    let (fx, r) = claims(|p| p["exp"] = json!(TS - 60));
    t.s(
        "61",
        "exp t − 60",
        &fx,
        r,
        fail(
            "ReceiptExpired",
            "Receipt has expired",
            vec![num("exp", TS - 60)],
        ),
    );
    let (fx, r) = claims(|p| p["exp"] = json!(TS - 59));
    t.s("61", "control: exp t − 59 verifies", &fx, r, Want::Pass);

    // Row 62.
    let (mut fx, _) = claims(|p| p["exp"] = json!(TS));
    fx.leeway_ms = 0.0;
    t.s(
        "62",
        "leeway 0, exp t",
        &fx,
        fx.receipt(),
        fail(
            "ReceiptExpired",
            "Receipt has expired",
            vec![num("exp", TS)],
        ),
    );

    // Row 63, with its control.
    let (fx, r) = claims(|p| p["nbf"] = json!(TS + 61));
    t.s(
        "63",
        "nbf t + 61",
        &fx,
        r,
        fail(
            "ReceiptNotYetValid",
            "Receipt is not yet valid (nbf)",
            vec![num("nbf", TS + 61)],
        ),
    );
    let (fx, r) = claims(|p| p["nbf"] = json!(TS + 60));
    t.s("63", "control: nbf t + 60 verifies", &fx, r, Want::Pass);

    // Row 64.
    let (fx, r) = claims(|p| p["iat"] = json!(TS + 61));
    t.s(
        "64",
        "iat t + 61",
        &fx,
        r,
        fail(
            "ReceiptNotYetValid",
            "Receipt was issued in the future (iat)",
            vec![num("iat", TS + 61)],
        ),
    );

    // Row 64a: milliseconds by mistake.
    let (fx, r) = claims(|p| p["iat"] = json!(T as i64));
    t.s(
        "64a",
        "iat T (milliseconds)",
        &fx,
        r,
        format_error("Field iat has the wrong type"),
    );

    // Row 65.
    for exp in [
        json!("9999999999"),
        json!(null),
        json!(true),
        json!(-1),
        json!(1e300),
    ] {
        let (fx, r) = claims(|p| p["exp"] = exp.clone());
        t.s(
            "65",
            format!("exp {exp}"),
            &fx,
            r,
            format_error("Field exp has the wrong type"),
        );
    }

    // Row 66.
    for field in ["typ", "iat", "nbf", "user", "verify"] {
        let (fx, r) = claims(|p| {
            p.as_object_mut().unwrap().remove(field);
        });
        t.s(
            "66",
            format!("{field} missing"),
            &fx,
            r,
            format_error(&format!("No (or empty) {field} field")),
        );
    }

    // Row 67.
    for user in [json!("u-1"), json!({})] {
        let (fx, r) = claims(|p| p["user"] = user.clone());
        t.s(
            "67",
            format!("user {user}"),
            &fx,
            r,
            format_error("Field user has the wrong type"),
        );
    }

    // Row 68.
    let (fx, r) = claims(|p| p["verify"] = json!(42));
    t.s(
        "68",
        "verify 42",
        &fx,
        r,
        format_error("Field verify has the wrong type"),
    );
    let (fx, r) = claims(|p| p["product"] = json!("x"));
    t.s(
        "68",
        "product \"x\"",
        &fx,
        r,
        format_error("Field product has the wrong type"),
    );
    let (fx, r) = claims(|p| p["product"]["url"] = json!(7));
    t.s(
        "68",
        "product.url 7",
        &fx,
        r,
        format_error("Field product.url has the wrong type"),
    );

    // Row 69 (`now` returns NaN) is the shell's: see the module comment.
    t
}

// ---------------------------------------------------------------------------------------------
// §9.6 Policy (rows 70–87)

fn policy() -> Table {
    let mut t = Table::default();
    let store = vec!["https://store.example".to_owned()];

    // Rows 70–71.
    let (fx, r) = claims(|p| p["typ"] = json!("test-receipt"));
    let payload = fx.j_payload.clone();
    t.sc("70", "typ test-receipt", &fx, r, || {
        fail(
            "WrongType",
            "Wrong receipt type: test-receipt",
            vec![parsed(&payload)],
        )
    });
    for typ in [
        "certified-key",
        "Purchase-Receipt",
        "mozilla/payments/pay/v1",
    ] {
        let (fx, r) = claims(|p| p["typ"] = json!(typ));
        t.s(
            "71",
            format!("typ {typ}"),
            &fx,
            r,
            fail(
                "WrongType",
                format!("Wrong receipt type: {typ}"),
                vec![parsed(&fx.j_payload)],
            ),
        );
    }

    // Rows 72–74.
    for (row, url) in [
        ("72", "https://other.example"),
        ("73", "https://app.exampl"),
        ("74", "https://app.example.evil.com"),
        ("74", "http://app.example"),
        ("74", "https://app.example/inapp/1"),
    ] {
        let (fx, r) = claims(|p| p["product"]["url"] = json!(url));
        let payload = fx.j_payload.clone();
        t.sc(row, &format!("product.url {url}"), &fx, r, || {
            fail(
                "ProductURLError",
                format!("Product URL wrong: {url}"),
                vec![parsed(&payload)],
            )
        });
    }

    // Row 75.
    let (fx, r) = claims(|p| p["product"] = json!({"storedata": "id=1"}));
    let payload = fx.j_payload.clone();
    t.sc("75", "product without url", &fx, r, || {
        fail(
            "ProductURLError",
            "Product URL missing.",
            vec![parsed(&payload)],
        )
    });

    // Row 76: with `productURL` unset, the shell resolves the app's own origin (§2.5.2 default,
    // here `location.origin`) and hands it to the core as the effective product URL; that
    // resolution is tested in the shell. The core's part is the match against it.
    let (mut fx, _) = claims(|p| p["product"]["url"] = json!("https://other.example"));
    fx.product_urls = vec!["https://app.example".to_owned()];
    t.s(
        "76",
        "effective product URL = location.origin",
        &fx,
        fx.receipt(),
        fail(
            "ProductURLError",
            "Product URL wrong: https://other.example",
            vec![parsed(&fx.j_payload)],
        ),
    );

    // Rows 77–78.
    let not_installer = |iss: &str, list: &[String]| {
        fail(
            "InvalidReceiptIssuer",
            format!("Issuer (iss) of receipt is not a valid installer: {iss}"),
            vec![text("iss", iss), allowlist(list)],
        )
    };
    let (fx, r) = claims(|p| p["iss"] = json!("https://evil.example"));
    t.sc("77", "iss https://evil.example", &fx, r, || {
        not_installer("https://evil.example", &store)
    });
    for iss in ["https://store.example.evil.com", "http://store.example"] {
        let (fx, r) = claims(|p| p["iss"] = json!(iss));
        t.s(
            "78",
            format!("iss {iss}"),
            &fx,
            r,
            not_installer(iss, &store),
        );
    }

    // Row 79.
    let (fx, r) = claims(|p| p["iss"] = json!("https://store.example/path"));
    t.s(
        "79",
        "iss with a path",
        &fx,
        r,
        format_error("Field iss is not an origin"),
    );

    // Row 80: R is bound to another issuer; both issuers are allowed.
    let mut fx = Fixture::b();
    fx.trusted[0]["iss"] = json!("https://other-store.example");
    fx.installs_allowed_from = vec![
        "https://store.example".to_owned(),
        "https://other-store.example".to_owned(),
    ];
    t.s(
        "80",
        "R bound to https://other-store.example",
        &fx,
        fx.receipt(),
        fail(
            "InvalidReceiptIssuer",
            "Receipt issuer does not match its signing key: https://store.example",
            vec![text("iss", "https://store.example")],
        ),
    );

    // Rows 81–84.
    const HOST: &str = "Verifier domain is not the same (or a subdomain) of the issuer domain";
    const NOT_ALLOWED: &str = "Verify URL is not allowed";
    let mismatch = |detail: &str, payload: &Value| {
        let iss = payload["iss"].as_str().unwrap();
        let verify = payload["verify"].as_str().unwrap();
        fail(
            "VerifyDomainMismatch",
            detail,
            vec![parsed(payload), text("iss", iss), text("verify", verify)],
        )
    };
    let (mut fx, _) = claims(|p| {
        p["iss"] = json!("https://firefox.com");
        p["verify"] = json!("https://evilfirefox.com/verify/1");
    });
    fx.installs_allowed_from
        .push("https://firefox.com".to_owned());
    t.sc(
        "81",
        "verify https://evilfirefox.com/verify/1",
        &fx,
        fx.receipt(),
        || mismatch(HOST, &fx.j_payload),
    );
    let (fx, r) = claims(|p| p["verify"] = json!("https://store.example.evil.com/v"));
    t.sc(
        "82",
        "verify https://store.example.evil.com/v",
        &fx,
        r,
        || mismatch(HOST, &fx.j_payload),
    );
    let (fx, r) = claims(|p| p["verify"] = json!("https://store.example@evil.com/v"));
    t.s(
        "83",
        "verify with userinfo",
        &fx,
        r.clone(),
        mismatch(NOT_ALLOWED, &fx.j_payload),
    );
    t.c(
        "83",
        "verify with userinfo (host evil.com)",
        &fx,
        r,
        mismatch(HOST, &fx.j_payload),
    );
    for verify in [
        "http://receiptcheck.store.example/v",
        "javascript:alert(1)",
        "data:,ok",
    ] {
        let (fx, r) = claims(|p| p["verify"] = json!(verify));
        t.s(
            "84",
            format!("verify {verify}"),
            &fx,
            r,
            mismatch(NOT_ALLOWED, &fx.j_payload),
        );
    }

    // Row 85.
    let (fx, r) = claims(|p| {
        p.as_object_mut().unwrap().remove("verify");
    });
    t.c(
        "85",
        "verify missing",
        &fx,
        r,
        format_error("No (or empty) verify field"),
    );

    // Rows 86–87 are configuration errors of the shell: see the module comment.
    t
}

// ---------------------------------------------------------------------------------------------
// §9.8: the core's share of rows 105 and 113 (112 is the shell's)

fn cache_and_sources() -> Table {
    let mut t = Table::default();
    let b = Fixture::b();

    // Row 105: the forged receipt (a bad signature) fails the local stage, so the shell never
    // reaches the cache (S14), even though the seeded entry itself is a fresh `ok`.
    let j = b.j();
    let mut sig = common::unb64(&segments(&j)[2]);
    sig[40] ^= 0x01;
    let forged = format!("{}~{}", b.c(), common::with_signature(&j, &sig));
    let entry = format!(r#"{{"created":{},"result":{{"status":"ok"}}}}"#, T as i64);
    assert_eq!(
        cache::fresh(Some(&entry), T, 86_400_000.0, 0.0, Some((TS - 3600) as f64)),
        Fresh::Hit(core_json(&json!({"status": "ok"}))),
        "row 105: the seeded entry is a fresh ok"
    );
    assert!(cache::key(&forged).starts_with("receiptverifier."));
    t.s(
        "105",
        "forged receipt with a seeded cache entry",
        &b,
        forged,
        fail(
            "InvalidSignature",
            "Signature verification failed",
            vec![part(1)],
        ),
    );

    // Row 113.
    t.s(
        "113",
        "__proto__",
        &b,
        "__proto__".to_owned(),
        parse_error("JWT has 1 segments (expected 3)", vec![part(0)]),
    );
    t
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn section_9_2_encoding_and_structure() {
    encoding_and_structure().check();
}

#[test]
fn section_9_3_header_and_algorithms() {
    header_and_algorithms().check();
}

#[test]
fn section_9_5_claims_and_time() {
    claims_and_time().check();
}

#[test]
fn section_9_6_policy() {
    policy().check();
}

#[test]
fn section_9_8_core_parts() {
    cache_and_sources().check();
}

/// Every row the core decides has at least one negative case, and nothing else is claimed.
#[test]
fn every_core_row_is_in_the_table() {
    let tables = [
        encoding_and_structure(),
        header_and_algorithms(),
        claims_and_time(),
        policy(),
        cache_and_sources(),
    ];
    let covered: BTreeSet<&str> = tables.iter().flat_map(Table::rows).collect();
    let mut expected: BTreeSet<String> = (2..=33)
        .chain(61..=68)
        .chain(70..=85)
        .map(|n| n.to_string())
        .collect();
    expected.extend(["64a", "105", "113"].map(String::from));
    let covered: BTreeSet<String> = covered.into_iter().map(String::from).collect();
    assert_eq!(covered, expected);
}
