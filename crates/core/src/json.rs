//! Strict JSON (RFC 8259) with the limits of §1.7: nesting depth, duplicate member names after
//! unescaping, valid UTF-8, no unpaired surrogate escapes, no numbers that overflow a double.
//! One pass; the violation that comes first in the text is the one reported.

use std::collections::HashMap;

/// A JSON value. Objects keep their members in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (always finite: a number that overflows a double is a syntax error).
    Num(f64),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object: its members in document order.
    Obj(Vec<(String, Json)>),
}

/// Why a text is not acceptable JSON. Reported in text order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// The bytes are not valid UTF-8 (rule 9).
    Utf8,
    /// Not valid RFC 8259 JSON (rule 10): syntax, BOM, unpaired surrogate, overflowing number.
    Syntax,
    /// Nesting deeper than the limit (rule 11). The outermost container is level 1.
    Depth,
    /// Two members of one object with the same name after unescaping (rule 12).
    Duplicate,
}

/// What to do with duplicate member names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Refuse (receipts, headers, keys).
    Reject,
    /// Keep the last one, as `JSON.parse` does (store answers, §3.3 row 7).
    LastWins,
}

/// Parsing limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting allowed (the outermost container is level 1).
    pub max_depth: usize,
    /// What to do with duplicate member names.
    pub duplicates: Duplicates,
}

/// The receipt limits: depth 32, duplicates refused.
pub const STRICT: Limits = Limits { max_depth: 32, duplicates: Duplicates::Reject };

/// Parses with [`STRICT`] limits.
pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    parse_with(bytes, STRICT)
}

/// Parses with the given limits.
///
/// Rule 9 (UTF-8) is checked over the whole text first, as §2.3.1 orders it before rule 10; then a
/// single iterative pass finds syntax, depth and duplicate-name violations in text order. The
/// parser keeps its own stack on the heap, so hostile nesting cannot exhaust the call stack.
pub fn parse_with(bytes: &[u8], limits: Limits) -> Result<Json, JsonError> {
    let text = std::str::from_utf8(bytes).map_err(|_| JsonError::Utf8)?;
    Parser { text, bytes: text.as_bytes(), pos: 0, limits }.run()
}

/// Above this many members an object's names are also kept in a hash index, so duplicate
/// detection stays linear on hostile inputs with many members.
const INDEX_THRESHOLD: usize = 16;

/// An object under construction.
struct ObjFrame {
    members: Vec<(String, Json)>,
    /// Name → position, built once the object has more than [`INDEX_THRESHOLD`] members.
    index: Option<HashMap<String, usize>>,
    /// The name read for the value being parsed, and the position of an earlier member of the
    /// same name (only with [`Duplicates::LastWins`]).
    pending: Option<(String, Option<usize>)>,
}

impl ObjFrame {
    fn position_of(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.members.iter().position(|(k, _)| k == name),
        }
    }

    fn insert(&mut self, value: Json) {
        let Some((name, earlier)) = self.pending.take() else {
            return;
        };
        if let Some(slot) = earlier.and_then(|i| self.members.get_mut(i)) {
            slot.1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(name.clone(), self.members.len());
        } else if self.members.len() >= INDEX_THRESHOLD {
            let mut index: HashMap<String, usize> =
                self.members.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
            index.insert(name.clone(), self.members.len());
            self.index = Some(index);
        }
        self.members.push((name, value));
    }
}

enum Frame {
    Arr(Vec<Json>),
    Obj(ObjFrame),
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    limits: Limits,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` or fails with a syntax error.
    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn run(mut self) -> Result<Json, JsonError> {
        let mut stack: Vec<Frame> = Vec::new();
        self.skip_ws();
        loop {
            // Read one value, or open a container and go on with its first element.
            let mut value = match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if stack.len() >= self.limits.max_depth {
                        return Err(JsonError::Depth);
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if open == b'[' {
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                            Json::Arr(Vec::new())
                        } else {
                            stack.push(Frame::Arr(Vec::new()));
                            continue;
                        }
                    } else if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Json::Obj(Vec::new())
                    } else {
                        let mut obj = ObjFrame { members: Vec::new(), index: None, pending: None };
                        self.member_name(&mut obj)?;
                        stack.push(Frame::Obj(obj));
                        continue;
                    }
                }
                Some(b'"') => Json::Str(self.string()?),
                Some(b'-' | b'0'..=b'9') => Json::Num(self.number()?),
                Some(b't') => self.literal(b"true", Json::Bool(true))?,
                Some(b'f') => self.literal(b"false", Json::Bool(false))?,
                Some(b'n') => self.literal(b"null", Json::Null)?,
                _ => return Err(JsonError::Syntax),
            };
            // Hand the finished value to its container; close containers as they end.
            loop {
                self.skip_ws();
                match stack.last_mut() {
                    None => {
                        return if self.pos == self.bytes.len() {
                            Ok(value)
                        } else {
                            Err(JsonError::Syntax)
                        };
                    }
                    Some(Frame::Arr(items)) => {
                        items.push(value);
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                break;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                value = match stack.pop() {
                                    Some(Frame::Arr(items)) => Json::Arr(items),
                                    _ => return Err(JsonError::Syntax),
                                };
                            }
                            _ => return Err(JsonError::Syntax),
                        }
                    }
                    Some(Frame::Obj(obj)) => {
                        obj.insert(value);
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                self.member_name(obj)?;
                                break;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                value = match stack.pop() {
                                    Some(Frame::Obj(obj)) => Json::Obj(obj.members),
                                    _ => return Err(JsonError::Syntax),
                                };
                            }
                            _ => return Err(JsonError::Syntax),
                        }
                    }
                }
            }
        }
    }

    /// Reads `"name" :` and the whitespace after it. A duplicate name is reported as soon as the
    /// name has been read, which is where it sits in the text.
    fn member_name(&mut self, obj: &mut ObjFrame) -> Result<(), JsonError> {
        if self.peek() != Some(b'"') {
            return Err(JsonError::Syntax);
        }
        let name = self.string()?;
        let earlier = obj.position_of(&name);
        if earlier.is_some() && self.limits.duplicates == Duplicates::Reject {
            return Err(JsonError::Duplicate);
        }
        self.skip_ws();
        self.expect(b':')?;
        self.skip_ws();
        obj.pending = Some((name, earlier));
        Ok(())
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Result<Json, JsonError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(JsonError::Syntax)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; a value that overflows a double
    /// is a syntax error. Underflow rounds to zero as in every JSON parser.
    fn number(&mut self) -> Result<f64, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(JsonError::Syntax),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(JsonError::Syntax);
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(JsonError::Syntax);
            }
            self.digits();
        }
        let n = self
            .text
            .get(start..self.pos)
            .and_then(crate::num::parse_number)
            .ok_or(JsonError::Syntax)?;
        if n.is_finite() {
            Ok(n)
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// A string starting at the opening quote. Raw control characters, unknown escapes and
    /// unpaired surrogate escapes are syntax errors.
    fn string(&mut self) -> Result<String, JsonError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run ends at an ASCII byte (or the end), so both ends are char boundaries.
            out.push_str(self.text.get(run_start..self.pos).ok_or(JsonError::Syntax)?);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(esc) = self.peek() else {
                        return Err(JsonError::Syntax);
                    };
                    self.pos += 1;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(JsonError::Syntax),
                    };
                    out.push(c);
                }
                // A raw control character or the end of the text.
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// The rest of a `\u` escape (after `\u`), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(JsonError::Syntax);
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(JsonError::Syntax);
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(JsonError::Syntax),
            _ => first,
        };
        char::from_u32(code).ok_or(JsonError::Syntax)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d =
                self.peek().and_then(|b| char::from(b).to_digit(16)).ok_or(JsonError::Syntax)?;
            v = v * 16 + d;
            self.pos += 1;
        }
        Ok(v)
    }
}

/// JS `Number.prototype.toString()` (radix 10) for a double: `NaN`, `Infinity`, `-Infinity`,
/// `0` for both zeros, integers without `.0`, exponent form (`1e+21`, `5e-7`) outside
/// 1e-7 ≤ |n| < 1e21, and the shortest digits that round-trip.
pub fn number_to_js_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_owned();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".to_owned() } else { "-Infinity".to_owned() };
    }
    if n == 0.0 {
        return "0".to_owned();
    }
    let (digits, point) = crate::num::shortest_digits(n.abs());
    let k = digits.len() as i64;
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    if k <= point && point <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (point - k) as usize));
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at_checked(point as usize).unwrap_or((&digits, ""));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else {
        let mut chars = digits.chars();
        if let Some(first) = chars.next() {
            out.push(first);
        }
        let rest = chars.as_str();
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if point > 0 { '+' } else { '-' });
        out.push_str(&(point - 1).abs().to_string());
    }
    out
}

/// A string as `JSON.stringify` quotes it.
fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `key` is a JS array index (a canonical decimal integer below 2^32 − 1). Ordinary JS
/// objects list such keys first, in ascending numeric order, then the others in insertion order.
fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b.first() == Some(&b'0') {
        return None;
    }
    let v: u64 = key.parse().ok()?;
    if v < u64::from(u32::MAX) {
        u32::try_from(v).ok()
    } else {
        None
    }
}

/// Sorts by (index, position) in place: heapsort, O(n log n) with no extra memory and little
/// code (the standard sorts bring about 3 KB of wasm for this one call).
fn heap_sort<T>(v: &mut [(u32, usize, T)]) {
    fn key<T>(v: &[(u32, usize, T)], i: usize) -> Option<(u32, usize)> {
        v.get(i).map(|e| (e.0, e.1))
    }
    fn sift_down<T>(v: &mut [(u32, usize, T)], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && key(v, child + 1) > key(v, child) {
                child += 1;
            }
            if key(v, child) <= key(v, root) {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// The members of an object in the order a JS object enumerates them.
fn js_member_order(members: &[(String, Json)]) -> Vec<&(String, Json)> {
    // (index, position): no two alike, so any sort gives the order a stable sort by index would.
    let mut indexed: Vec<(u32, usize, &(String, Json))> = members
        .iter()
        .enumerate()
        .filter_map(|(pos, m)| array_index(&m.0).map(|i| (i, pos, m)))
        .collect();
    if indexed.is_empty() {
        return members.iter().collect();
    }
    heap_sort(&mut indexed);
    let mut out: Vec<&(String, Json)> = indexed.into_iter().map(|(_, _, m)| m).collect();
    out.extend(members.iter().filter(|m| array_index(&m.0).is_none()));
    out
}

/// One item of the iterative serialiser's work list.
enum Emit<'a> {
    Value(&'a Json),
    Text(&'static str),
    Key(&'a str),
}

impl Json {
    /// Member `key` of an object (`None` for a missing member or a non-object).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, for a [`Json::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number, for a [`Json::Num`].
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The items, for a [`Json::Arr`].
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// The members in document order, for a [`Json::Obj`].
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Obj(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is a [`Json::Obj`].
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Obj(_))
    }

    /// The text `JSON.stringify` would produce for this value (numbers in JS `Number#toString`
    /// form, strings escaped as JS does).
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        // Iterative, so the serialiser's stack use does not depend on the nesting depth.
        let mut work = vec![Emit::Value(self)];
        while let Some(item) = work.pop() {
            match item {
                Emit::Text(t) => out.push_str(t),
                Emit::Key(k) => {
                    push_quoted(&mut out, k);
                    out.push(':');
                }
                Emit::Value(Json::Null) => out.push_str("null"),
                Emit::Value(Json::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                Emit::Value(Json::Num(n)) => {
                    if n.is_finite() {
                        out.push_str(&number_to_js_string(*n));
                    } else {
                        out.push_str("null");
                    }
                }
                Emit::Value(Json::Str(s)) => push_quoted(&mut out, s),
                Emit::Value(Json::Arr(items)) => {
                    out.push('[');
                    work.push(Emit::Text("]"));
                    for (i, item) in items.iter().enumerate().rev() {
                        work.push(Emit::Value(item));
                        if i > 0 {
                            work.push(Emit::Text(","));
                        }
                    }
                }
                Emit::Value(Json::Obj(members)) => {
                    out.push('{');
                    work.push(Emit::Text("}"));
                    for (i, (k, v)) in js_member_order(members).into_iter().enumerate().rev() {
                        work.push(Emit::Value(v));
                        work.push(Emit::Key(k));
                        if i > 0 {
                            work.push(Emit::Text(","));
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;

    fn p(s: &str) -> Result<Json, JsonError> {
        parse(s.as_bytes())
    }

    fn nested_arrays(n: usize) -> String {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }

    fn obj(members: &[(&str, Json)]) -> Json {
        Json::Obj(members.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    #[test]
    fn scalars_and_containers() {
        assert_eq!(p("null"), Ok(Json::Null));
        assert_eq!(p("true"), Ok(Json::Bool(true)));
        assert_eq!(p("false"), Ok(Json::Bool(false)));
        assert_eq!(p("42"), Ok(Json::Num(42.0)));
        assert_eq!(p("\"x\""), Ok(Json::Str("x".into())));
        assert_eq!(p("[]"), Ok(Json::Arr(vec![])));
        assert_eq!(p("{}"), Ok(Json::Obj(vec![])));
        assert_eq!(
            p(r#"{"a":[1,{"b":null}],"c":"d"}"#),
            Ok(obj(&[
                ("a", Json::Arr(vec![Json::Num(1.0), obj(&[("b", Json::Null)])])),
                ("c", Json::Str("d".into())),
            ]))
        );
    }

    #[test]
    fn members_keep_document_order() {
        let v = p(r#"{"z":1,"a":2,"m":3}"#).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn whitespace_between_tokens() {
        let v = p(" \t\r\n{ \"a\" \n:\t[ 1 , 2 ] ,\r\"b\" : { } } \n").unwrap();
        assert_eq!(
            v,
            obj(&[
                ("a", Json::Arr(vec![Json::Num(1.0), Json::Num(2.0)])),
                ("b", Json::Obj(vec![]))
            ])
        );
    }

    #[test]
    fn syntax_errors() {
        for s in [
            "",
            " ",
            "{",
            "}",
            "[",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{\"a\":}",
            "{a:1}",
            "{'a':1}",
            "{\"typ\":",
            "{1:1}",
            "nul",
            "nulll",
            "True",
            "tru",
            "NaN",
            "Infinity",
            "-Infinity",
            "undefined",
            "1 2",
            "{}{}",
            "{} x",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"a\u{1}b\"",
            "\"a\nb\"",
            "\"\t\"",
            "\u{a0}1",
            "\u{c}1",
            "/* c */ 1",
            "[1]]",
        ] {
            assert_eq!(p(s), Err(JsonError::Syntax), "{s:?}");
        }
    }

    #[test]
    fn number_grammar() {
        for (s, v) in [
            ("0", 0.0),
            ("-0", -0.0),
            ("1", 1.0),
            ("-12", -12.0),
            ("1.5", 1.5),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("1e+3", 1000.0),
            ("1e-3", 0.001),
            ("-1.25e-2", -0.0125),
            ("1e-400", 0.0),
            ("1.7976931348623157e308", f64::MAX),
            ("1353028900", 1_353_028_900.0),
        ] {
            assert_eq!(p(s), Ok(Json::Num(v)), "{s}");
        }
        assert!(p("-0").unwrap().as_f64().unwrap().is_sign_negative());
        for s in [
            "01", "-01", "00", "+1", ".5", "1.", "1.e3", "1e", "1e+", "-", "--1", "0x10", "1_000",
            "1.5.2",
        ] {
            assert_eq!(p(s), Err(JsonError::Syntax), "{s}");
        }
    }

    #[test]
    fn numbers_overflowing_a_double_are_syntax_errors() {
        assert_eq!(p("1e400"), Err(JsonError::Syntax));
        assert_eq!(p("-1e400"), Err(JsonError::Syntax));
        assert_eq!(p("1.8e308"), Err(JsonError::Syntax));
        assert_eq!(p(&format!("1{}", "0".repeat(400))), Err(JsonError::Syntax));
        assert_eq!(p(r#"{"exp":1e400}"#), Err(JsonError::Syntax));
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            p(r#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC""#),
            Ok(Json::Str("\"\\/\u{8}\u{c}\n\r\tAé€".into()))
        );
        assert_eq!(p(r#""\ud83d\ude00""#), Ok(Json::Str("😀".into())));
        assert_eq!(p(r#""\uD83D\uDE00""#), Ok(Json::Str("😀".into())));
        assert_eq!(p("\"é😀\u{7f}\""), Ok(Json::Str("é😀\u{7f}".into())));
        assert_eq!(p(r#""\u0000""#), Ok(Json::Str("\0".into())));
    }

    #[test]
    fn unpaired_surrogate_escapes_are_syntax_errors() {
        for s in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800x""#,
            r#""\ud800\n""#,
            r#""\ud800\u0041""#,
            r#""\ud800\ud800""#,
            r#""\ude00\ud83d""#,
            r#"{"iss":"\ud800"}"#,
            r#"{"\udfff":1}"#,
        ] {
            assert_eq!(p(s), Err(JsonError::Syntax), "{s}");
        }
    }

    #[test]
    fn invalid_utf8() {
        assert_eq!(parse(b"{\"a\":\"\xff\"}"), Err(JsonError::Utf8));
        assert_eq!(parse(b"\xff"), Err(JsonError::Utf8));
        assert_eq!(parse(b"{\"a\":\"\xc3\"}"), Err(JsonError::Utf8));
        // An encoded surrogate (CESU-8) and an overlong encoding are not UTF-8.
        assert_eq!(parse(b"\"\xed\xa0\x80\""), Err(JsonError::Utf8));
        assert_eq!(parse(b"\"\xc0\xaf\""), Err(JsonError::Utf8));
        // Rule 9 is decided before rule 10 (§2.3.1), even when a syntax error comes first.
        assert_eq!(parse(b"{,\xff}"), Err(JsonError::Utf8));
    }

    #[test]
    fn bom_is_a_syntax_error() {
        assert_eq!(parse(b"\xef\xbb\xbf{}"), Err(JsonError::Syntax));
        assert_eq!(parse(b"{}\xef\xbb\xbf"), Err(JsonError::Syntax));
        // Inside a string it is an ordinary character.
        assert_eq!(parse(b"\"\xef\xbb\xbf\""), Ok(Json::Str("\u{feff}".into())));
    }

    #[test]
    fn depth_limit_outermost_is_level_one() {
        assert!(p(&nested_arrays(32)).is_ok());
        assert_eq!(p(&nested_arrays(33)), Err(JsonError::Depth));
        // The payload object is level 1; a member holding 31 nested arrays reaches 32.
        let ok = format!("{{\"a\":1,\"x\":{}}}", nested_arrays(31));
        assert!(p(&ok).is_ok());
        let deep = format!("{{\"a\":1,\"x\":{}}}", nested_arrays(32));
        assert_eq!(p(&deep), Err(JsonError::Depth));
        // Objects count as well.
        let objs = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(p(&objs(32)).is_ok());
        assert_eq!(p(&objs(33)), Err(JsonError::Depth));
        // Empty containers count.
        assert_eq!(p(&format!("{}{{}}{}", "[".repeat(32), "]".repeat(32))), Err(JsonError::Depth));
    }

    #[test]
    fn depth_limit_is_configurable() {
        let limits = Limits { max_depth: 2, duplicates: Duplicates::Reject };
        assert!(parse_with(b"[[1]]", limits).is_ok());
        assert_eq!(parse_with(b"[[[1]]]", limits), Err(JsonError::Depth));
        let zero = Limits { max_depth: 0, duplicates: Duplicates::Reject };
        assert_eq!(parse_with(b"1", zero), Ok(Json::Num(1.0)));
        assert_eq!(parse_with(b"[]", zero), Err(JsonError::Depth));
    }

    #[test]
    fn hostile_nesting_returns_depth_without_recursion() {
        let start = std::time::Instant::now();
        let hostile = "[".repeat(100_000);
        assert_eq!(p(&hostile), Err(JsonError::Depth));
        let hostile_obj = "{\"a\":".repeat(100_000);
        assert_eq!(p(&hostile_obj), Err(JsonError::Depth));
        let balanced = nested_arrays(100_000);
        assert_eq!(p(&balanced), Err(JsonError::Depth));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        // A huge depth limit still does not use the call stack, on a small thread.
        let handle = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                let unbounded = Limits { max_depth: usize::MAX, duplicates: Duplicates::Reject };
                let r = parse_with("[".repeat(200_000).as_bytes(), unbounded);
                assert_eq!(r, Err(JsonError::Syntax));
            })
            .unwrap();
        handle.join().unwrap();
    }

    #[test]
    fn duplicate_names_rejected_at_any_depth() {
        assert_eq!(p(r#"{"iss":"a","iss":"b"}"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"iss":"a","\u0069ss":"b"}"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"\u0069ss":"a","iss":"b"}"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"a\/b":1,"a/b":2}"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"😀":1,"\ud83d\ude00":2}"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"product":{"url":"x","url":"y"}}"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"[{"a":1},{"b":[{"c":1,"c":1}]}]"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"":1,"":2}"#), Err(JsonError::Duplicate));
        // Same name in different objects, or differing only in case, is fine.
        assert!(p(r#"{"a":{"a":1},"b":{"a":2},"A":3}"#).is_ok());
    }

    #[test]
    fn duplicates_in_large_objects() {
        let mut members: Vec<String> = (0..1000).map(|i| format!("\"k{i}\":{i}")).collect();
        let ok = format!("{{{}}}", members.join(","));
        assert_eq!(p(&ok).unwrap().as_object().unwrap().len(), 1000);
        members.push("\"k17\":0".into());
        assert_eq!(p(&format!("{{{}}}", members.join(","))), Err(JsonError::Duplicate));
        // Many members stay fast (hash index, not a quadratic scan).
        let start = std::time::Instant::now();
        let big: Vec<String> = (0..50_000).map(|i| format!("\"k{i}\":0")).collect();
        assert!(p(&format!("{{{}}}", big.join(","))).is_ok());
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn last_wins_keeps_first_position_and_last_value() {
        let limits = Limits { max_depth: 32, duplicates: Duplicates::LastWins };
        let v = parse_with(br#"{"a":1,"b":2,"a":3}"#, limits).unwrap();
        assert_eq!(v, obj(&[("a", Json::Num(3.0)), ("b", Json::Num(2.0))]));
        let v = parse_with(br#"{"s":"x","\u0073":{"t":1,"t":2}}"#, limits).unwrap();
        assert_eq!(v, obj(&[("s", obj(&[("t", Json::Num(2.0))]))]));
        // Also once the object is indexed.
        let mut members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        members.push("\"k3\":\"last\"".into());
        members.push("\"k39\":\"end\"".into());
        let v = parse_with(format!("{{{}}}", members.join(",")).as_bytes(), limits).unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m.len(), 40);
        assert_eq!(m[3], ("k3".to_owned(), Json::Str("last".into())));
        assert_eq!(m[39], ("k39".to_owned(), Json::Str("end".into())));
    }

    #[test]
    fn first_violation_in_text_wins() {
        // Duplicate before a later syntax error.
        assert_eq!(p(r#"{"a":1,"a":2,"#), Err(JsonError::Duplicate));
        assert_eq!(p(r#"{"a":1,"a""#), Err(JsonError::Duplicate));
        // Syntax error before a later duplicate.
        assert_eq!(p(r#"{"a":01,"a":2}"#), Err(JsonError::Syntax));
        assert_eq!(p(r#"{"a":"\ud800","a":2}"#), Err(JsonError::Syntax));
        // Depth before a later duplicate, duplicate before later depth.
        let deep_then_dup = format!("{{\"x\":{},\"x\":1}}", "[".repeat(40));
        assert_eq!(p(&deep_then_dup), Err(JsonError::Depth));
        let dup_then_deep = format!("{{\"x\":1,\"x\":{}}}", nested_arrays(40));
        assert_eq!(p(&dup_then_deep), Err(JsonError::Duplicate));
        // Syntax error before depth, depth before syntax error.
        assert_eq!(p(&format!("[1,,{}", "[".repeat(40))), Err(JsonError::Syntax));
        assert_eq!(p(&format!("{}1,,", "[".repeat(40))), Err(JsonError::Depth));
        // Overflow before a duplicate.
        assert_eq!(p(r#"{"a":1e999,"a":1}"#), Err(JsonError::Syntax));
    }

    #[test]
    fn accessors() {
        let v = p(r#"{"s":"x","n":1.5,"a":[true],"o":{}}"#).unwrap();
        assert_eq!(v.get("s").and_then(Json::as_str), Some("x"));
        assert_eq!(v.get("n").and_then(Json::as_f64), Some(1.5));
        assert_eq!(v.get("a").and_then(Json::as_array).map(<[Json]>::len), Some(1));
        assert!(v.get("o").is_some_and(Json::is_object));
        assert!(v.get("missing").is_none());
        assert!(Json::Null.get("s").is_none());
        assert!(v.is_object());
    }

    #[test]
    fn js_number_formatting() {
        for (n, s) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100"),
            (1_353_028_900.0, "1353028900"),
            (1_700_000_000_000.0, "1700000000000"),
            (253_402_300_799.0, "253402300799"),
            (123_456.789, "123456.789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (-1e21, "-1e+21"),
            (123_456_789_012_345_680_000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (5e-7, "5e-7"),
            (1.25e-7, "1.25e-7"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (2f64.powi(53), "9007199254740992"),
            (1e300, "1e+300"),
            // Several shortest digit strings round-trip; JS takes the closest one.
            (f64::from_bits(0x4311_6271_4db6_7c25), "1223328344678153.2"),
            (f64::from_bits(0x42eb_16d7_de59_7044), "238279399230338.12"),
            (f64::from_bits(0xc2bf_1f4f_560b_c550), "-34219335486405.312"),
            // Next to a power of two the gap below is half the gap above.
            (f64::from_bits(0x0060_0000_0000_0000), "7.120236347223045e-307"),
            (f64::from_bits(0x0100_0000_0000_0000), "7.291122019556398e-304"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(number_to_js_string(n), s, "{n:e}");
        }
    }

    #[test]
    fn stringify_like_json_stringify() {
        let v =
            p(r#"{"a":[1,2.5,-0,1e21,5e-7,true,false,null],"b":{"c":"d"},"e":[],"f":{}}"#).unwrap();
        assert_eq!(
            v.to_json_text(),
            r#"{"a":[1,2.5,0,1e+21,5e-7,true,false,null],"b":{"c":"d"},"e":[],"f":{}}"#
        );
        assert_eq!(Json::Num(f64::NAN).to_json_text(), "null");
        assert_eq!(Json::Arr(vec![Json::Num(f64::INFINITY)]).to_json_text(), "[null]");
        assert_eq!(Json::Str(String::new()).to_json_text(), r#""""#);
    }

    #[test]
    fn stringify_escapes_strings_as_js() {
        let s = "q\"b\\s/ \u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é€😀\u{2028}\u{2029}<>&'";
        assert_eq!(
            Json::Str(s.into()).to_json_text(),
            "\"q\\\"b\\\\s/ \\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é€😀\u{2028}\u{2029}<>&'\""
        );
        let v = obj(&[("k\"\n", Json::Str("\u{1b}".into()))]);
        assert_eq!(v.to_json_text(), "{\"k\\\"\\n\":\"\\u001b\"}");
    }

    #[test]
    fn stringify_orders_integer_keys_first_as_js_objects_do() {
        let v =
            p(r#"{"b":1,"2":2,"a":3,"10":4,"1":5,"01":6,"-1":7,"4294967295":8,"4294967294":9}"#)
                .unwrap();
        assert_eq!(
            v.to_json_text(),
            r#"{"1":5,"2":2,"10":4,"4294967294":9,"b":1,"a":3,"01":6,"-1":7,"4294967295":8}"#
        );
    }

    #[test]
    fn stringify_orders_many_integer_keys() {
        // Against the standard library's stable sort by index, on objects of every small size
        // and some large ones, with repeated indices (only a hand-built value can have those).
        let mut seed = 1u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed >> 33
        };
        for n in (0..40).chain([100, 1000, 5000]) {
            let members: Vec<(String, Json)> = (0..n)
                .map(|i| {
                    let key = match next() % 4 {
                        0 => format!("k{}", next() % 50),
                        1 => (next() % 20).to_string(),
                        _ => (next() % 100_000).to_string(),
                    };
                    (key, Json::Num(f64::from(i)))
                })
                .collect();
            let got: Vec<&(String, Json)> = js_member_order(&members);
            let mut want: Vec<(u32, &(String, Json))> =
                members.iter().filter_map(|m| array_index(&m.0).map(|i| (i, m))).collect();
            want.sort_by_key(|(i, _)| *i);
            let mut want: Vec<&(String, Json)> = want.into_iter().map(|(_, m)| m).collect();
            want.extend(members.iter().filter(|m| array_index(&m.0).is_none()));
            assert_eq!(got, want, "{n} members");
        }
    }

    #[test]
    fn stringify_round_trips_parsed_text() {
        let text = r#"{"typ":"purchase-receipt","product":{"url":"https://app.example","storedata":"id=1"},"user":{"type":"directed-identifier","value":"u-1"},"iss":"https://store.example","verify":"https://receiptcheck.store.example/verify/1","iat":1699996400,"nbf":1699996400,"exp":1702592000.5}"#;
        let v = p(text).unwrap();
        assert_eq!(v.to_json_text(), text);
        assert_eq!(p(&v.to_json_text()).unwrap(), v);
    }

    #[test]
    fn stringify_deep_value_without_recursion() {
        let mut v = Json::Null;
        for _ in 0..10_000 {
            v = Json::Arr(vec![v]);
        }
        let text = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let t = v.to_json_text();
                // Dropping a deep value recurses; leak it on this small thread.
                std::mem::forget(v);
                t
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(text, format!("{}null{}", "[".repeat(10_000), "]".repeat(10_000)));
    }

    fn from_serde(v: &serde_json::Value) -> Json {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Num(n.as_f64().unwrap()),
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(a) => Json::Arr(a.iter().map(from_serde).collect()),
            serde_json::Value::Object(o) => {
                Json::Obj(o.iter().map(|(k, v)| (k.clone(), from_serde(v))).collect())
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_valid_documents() {
        for text in [
            r#"{"a":[1,2,{"b":"c\u00e9\n"}],"d":-1.5e-3,"e":null,"f":true}"#,
            r#"[0,-0.0,1E+2,"\ud83d\ude00",{},[[]]]"#,
            r#"  "x"  "#,
        ] {
            let ours = p(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, from_serde(&theirs), "{text}");
            let again: serde_json::Value = serde_json::from_str(&ours.to_json_text()).unwrap();
            assert_eq!(ours, from_serde(&again), "{text}");
        }
    }
}
