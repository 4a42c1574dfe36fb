//! Strict JSON (RFC 8259) with the limits of §1.7: nesting depth, duplicate member names after
//! unescaping, valid UTF-8, no unpaired surrogate escapes, no numbers that overflow a double.
//! One pass; the violation that comes first in the text is the one reported.
//!
//! HELPER-A implements: `parse`, `parse_with`, `Json::to_json_text` and the accessors.

/// A JSON value. Objects keep their members in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
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
    pub max_depth: usize,
    pub duplicates: Duplicates,
}

/// The receipt limits: depth 32, duplicates refused.
pub const STRICT: Limits = Limits { max_depth: 32, duplicates: Duplicates::Reject };

/// Parses with [`STRICT`] limits.
pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    parse_with(bytes, STRICT)
}

/// Parses with the given limits.
pub fn parse_with(bytes: &[u8], limits: Limits) -> Result<Json, JsonError> {
    let _ = (bytes, limits);
    todo!("HELPER-A")
}

impl Json {
    /// Member `key` of an object (`None` for a missing member or a non-object).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Obj(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Obj(_))
    }

    /// The text `JSON.stringify` would produce for this value (numbers in JS `Number#toString`
    /// form, strings escaped as JS does).
    pub fn to_json_text(&self) -> String {
        todo!("HELPER-A")
    }
}
