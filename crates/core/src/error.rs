//! Per-receipt failures: a class from the state/error tree, an exact detail text and the
//! attributes the spec names (§5.3). The shell turns a [`Failure`] into a JS state object.

use crate::json::Json;
use crate::state::Class;

/// One attribute value of a failure (§5.3 "Attributes").
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// `part`, `index`, `status`, and numeric claim values.
    Num(f64),
    /// `segment`, `alg`, `iss`, `verify`, `url`, `text`.
    Str(String),
    /// `parsed`, `result`, claim values of any JSON type, `installs_allowed_from`.
    Json(Json),
}

/// A typed failure with the exact detail text of the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The state or error class (§5.2, §5.3).
    pub class: Class,
    /// The exact detail text.
    pub detail: String,
    /// Attributes in insertion order (the order `toString()` prints them).
    pub attrs: Vec<(&'static str, Attr)>,
}

impl Failure {
    /// A failure of `class` with `detail` and no attributes.
    pub fn new(class: Class, detail: impl Into<String>) -> Self {
        Failure { class, detail: detail.into(), attrs: Vec::new() }
    }

    /// Adds an attribute (builder style).
    pub fn with(mut self, name: &'static str, value: Attr) -> Self {
        self.attrs.push((name, value));
        self
    }

    /// Adds a numeric attribute.
    pub fn with_num(self, name: &'static str, value: f64) -> Self {
        self.with(name, Attr::Num(value))
    }

    /// Adds a string attribute.
    pub fn with_str(self, name: &'static str, value: impl Into<String>) -> Self {
        self.with(name, Attr::Str(value.into()))
    }

    /// Adds a JSON attribute.
    pub fn with_json(self, name: &'static str, value: Json) -> Self {
        self.with(name, Attr::Json(value))
    }

    /// The attribute called `name`, if any.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// `Name: detail` (no attributes, no JS-exact formatting); for logs and tests.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.class.name(), self.detail)
    }
}

/// Interpolation rule of §0.4: values longer than 256 characters are cut and `...` appended.
pub fn clip(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == 256 {
            out.push_str("...");
            return out;
        }
        out.push(c);
    }
    out
}
