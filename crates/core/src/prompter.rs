//! The Prompter's business rules (`spec/receipts.md` §8), DOM-free.
//!
//! The browser shell owns the JS surface (`Prompter(options)`, `respond`, `removeOverlay`) and the
//! yew component owns the overlay. Every decision they need is made here:
//!
//! - option and template validation (§8.1 steps 2–6, §8.5): [`check_option_name`],
//!   [`TemplateSet`], [`parse_template`], [`validate_store_url`], [`validate_overlay_id`], with the
//!   exact thrown messages of [`PrompterError`];
//! - the default templates (§8.3): [`DEFAULT_TEMPLATES`];
//! - the state → template decision and the "best reason" walk (§8.2): [`respond`],
//!   [`best_reason`], [`reason_template`];
//! - template expansion (§8.5): [`Template::expand`], HTML escaping [`quote`];
//! - the sanitiser (§8.6): [`sanitize`], an HTML tokenizer and tree builder that produces a small
//!   [`Node`] tree which the UI turns into DOM nodes with `createElement`/`createTextNode`.
//!
//! ```text
//! // Construction (§8.1), after the shell has checked `document` and the option names:
//! let mut templates = TemplateSet::defaults();
//! for (key, text) in prototype_templates { templates.set(key, text)?; }  // Prompter.prototype.templates
//! for (key, text) in overrides { templates.set(key, text)?; }            // options.templates
//! validate_store_url(&store_url, &urls)?;                                // "Invalid storeURL option"
//! validate_overlay_id(&overlay_id)?;                                     // "Invalid overlayId option"
//!
//! // respond(verifier) (§8.2): the shell maps JS objects to classes with `instanceof`.
//! let r = respond(state_class, RespondOptions { allow_no_install, .. }, &receipt_error_classes);
//! prompter.error = r.reason.map(|i| receipt_errors[i]);
//! match r.action {
//!     PromptAction::Nothing => {}
//!     PromptAction::Show { template, blocking } => {
//!         let html = templates.get(template).expand(&store_url, &support_html, &mut |name| prop(name));
//!         let nodes = sanitize(&html, &document_base_uri, &urls);   // build with createElement
//!         let label = templates.text(TemplateName::DialogLabel);    // a text node
//!     }
//!     PromptAction::ThrowNotComplete => throw(NOT_COMPLETE_MESSAGE),
//!     PromptAction::ThrowUnexpectedState => throw(unexpected_state_message(&String(state))),
//! }
//! ```
//!
//! The sanitiser never produces markup text: its output is a tree, so nothing is ever re-parsed by
//! the browser, and a receipt-derived value is always text (§8.5). It is iterative with bounded
//! nesting ([`MAX_DEPTH`]), runs in time linear in its input and never panics.

use crate::state::Class;
use crate::url::{UrlParser, UrlParts};

// ---------------------------------------------------------------------------------------------
// Options (§8.1)
// ---------------------------------------------------------------------------------------------

/// The option names `Prompter(options)` accepts (§8.1 step 2), in the order of the spec's table.
pub const OPTION_NAMES: [&str; 10] = [
    "storeURL",
    "supportHTML",
    "allowNoInstall",
    "ignoreInternalError",
    "fatalInternalError",
    "templates",
    "verify",
    "verifier",
    "verifierOptions",
    "overlayId",
];

/// The default `overlayId` (§8.1).
pub const DEFAULT_OVERLAY_ID: &str = "moz-receiptverifier-overlay";

/// The `rel` every kept link gets when it is rendered (§8.6). No `target` is ever set.
pub const LINK_REL: &str = "noopener noreferrer";

/// The message thrown by `respond` before verification completed (§8.2 row 1).
pub const NOT_COMPLETE_MESSAGE: &str = "Prompter called before verification complete";

/// The message thrown by `Prompter(options)` when there is no `document` (§8.1).
pub const NEEDS_DOCUMENT_MESSAGE: &str = "Prompter needs a document";

/// §8.2 row 8: `Unexpected state in verifier: ‹String(state)›`.
pub fn unexpected_state_message(state_text: &str) -> String {
    format!("Unexpected state in verifier: {state_text}")
}

/// A construction error with the exact message of §8.1 (see [`PrompterError::message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrompterError {
    /// `Unknown option: ‹key›` (step 2).
    UnknownOption(String),
    /// `templates` is not an object (step 3). The spec gives no text; mozmarket throws
    /// `Invalid templates option`, in line with the other option errors.
    InvalidTemplates,
    /// `Unknown template: ‹key›` (step 3).
    UnknownTemplate(String),
    /// `Template ‹key› must be a string` (step 3).
    TemplateNotString(String),
    /// `Unsupported template expression in ‹key›: ‹placeholder as written›` (step 3, §8.5).
    UnsupportedExpression {
        /// The template name.
        key: String,
        /// The placeholder exactly as written, from `<%` to `%>` inclusive (or to the end of the
        /// template when it is unterminated).
        placeholder: String,
    },
    /// `You must provide a storeURL option` (step 4).
    MissingStoreUrl,
    /// `Invalid storeURL option` (step 4).
    InvalidStoreUrl,
    /// `You must provide a supportHTML option` (step 5).
    MissingSupportHtml,
    /// `Invalid supportHTML option` (step 5: not a string).
    InvalidSupportHtml,
    /// `Invalid overlayId option` (step 6).
    InvalidOverlayId,
}

impl PrompterError {
    /// The exact `Error.message` text.
    pub fn message(&self) -> String {
        match self {
            PrompterError::UnknownOption(key) => format!("Unknown option: {key}"),
            PrompterError::InvalidTemplates => "Invalid templates option".to_owned(),
            PrompterError::UnknownTemplate(key) => format!("Unknown template: {key}"),
            PrompterError::TemplateNotString(key) => format!("Template {key} must be a string"),
            PrompterError::UnsupportedExpression { key, placeholder } => {
                format!("Unsupported template expression in {key}: {placeholder}")
            }
            PrompterError::MissingStoreUrl => "You must provide a storeURL option".to_owned(),
            PrompterError::InvalidStoreUrl => "Invalid storeURL option".to_owned(),
            PrompterError::MissingSupportHtml => "You must provide a supportHTML option".to_owned(),
            PrompterError::InvalidSupportHtml => "Invalid supportHTML option".to_owned(),
            PrompterError::InvalidOverlayId => "Invalid overlayId option".to_owned(),
        }
    }
}

impl std::fmt::Display for PrompterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PrompterError {}

/// §8.1 step 2: `Ok` when `key` is one of [`OPTION_NAMES`].
pub fn check_option_name(key: &str) -> Result<(), PrompterError> {
    if OPTION_NAMES.contains(&key) {
        Ok(())
    } else {
        Err(PrompterError::UnknownOption(key.to_owned()))
    }
}

/// Whether a serialised host is a loopback host in the sense of §8.1 step 4 and §8.6:
/// `localhost`, `*.localhost`, `127.0.0.1` or `[::1]` (ASCII case-insensitive).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost") || h == "127.0.0.1" || h == "[::1]"
}

/// Whether parsed URL parts are `https:`, or `http:` on a loopback host.
fn https_or_loopback_http(p: &UrlParts) -> bool {
    p.scheme == "https" || (p.scheme == "http" && is_loopback_host(&p.host))
}

/// §8.1 step 4 for a string `storeURL`: empty (falsy) → `You must provide a storeURL option`;
/// not an absolute `https:` URL or `http:` URL on a loopback host → `Invalid storeURL option`.
///
/// The shell handles the JS cases first: a missing or other falsy value is
/// [`PrompterError::MissingStoreUrl`]; a truthy non-string is converted with `String()` and
/// passed here (it then fails to parse unless its text is such a URL).
pub fn validate_store_url(store_url: &str, urls: &dyn UrlParser) -> Result<(), PrompterError> {
    if store_url.is_empty() {
        return Err(PrompterError::MissingStoreUrl);
    }
    match urls.parse(store_url) {
        Some(p) if !p.host.is_empty() && https_or_loopback_http(&p) => Ok(()),
        _ => Err(PrompterError::InvalidStoreUrl),
    }
}

/// §8.1 step 6: `overlayId` must match `^[A-Za-z][A-Za-z0-9_-]{0,63}$`.
pub fn validate_overlay_id(id: &str) -> Result<(), PrompterError> {
    let b = id.as_bytes();
    let ok = b.len() <= 64
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(PrompterError::InvalidOverlayId)
    }
}

// ---------------------------------------------------------------------------------------------
// Templates (§8.3, §8.5)
// ---------------------------------------------------------------------------------------------

/// The ten template names of §8.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateName {
    /// `fatalInternalError`
    FatalInternalError,
    /// `internalError`
    InternalError,
    /// `storeInstall`
    StoreInstall,
    /// `refunded`
    Refunded,
    /// `invalidReceiptIssuer`
    InvalidReceiptIssuer,
    /// `invalidFromStore`
    InvalidFromStore,
    /// `receiptFormatError`
    ReceiptFormatError,
    /// `genericError`
    GenericError,
    /// `mozAppsNotSupported`
    MozAppsNotSupported,
    /// The dialog's accessible name: plain text, no placeholders.
    DialogLabel,
}

impl TemplateName {
    /// All names, in the order of §8.3.
    pub const ALL: [TemplateName; 10] = [
        TemplateName::FatalInternalError,
        TemplateName::InternalError,
        TemplateName::StoreInstall,
        TemplateName::Refunded,
        TemplateName::InvalidReceiptIssuer,
        TemplateName::InvalidFromStore,
        TemplateName::ReceiptFormatError,
        TemplateName::GenericError,
        TemplateName::MozAppsNotSupported,
        TemplateName::DialogLabel,
    ];

    /// The JS key (`storeInstall`, `dialogLabel`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateName::FatalInternalError => "fatalInternalError",
            TemplateName::InternalError => "internalError",
            TemplateName::StoreInstall => "storeInstall",
            TemplateName::Refunded => "refunded",
            TemplateName::InvalidReceiptIssuer => "invalidReceiptIssuer",
            TemplateName::InvalidFromStore => "invalidFromStore",
            TemplateName::ReceiptFormatError => "receiptFormatError",
            TemplateName::GenericError => "genericError",
            TemplateName::MozAppsNotSupported => "mozAppsNotSupported",
            TemplateName::DialogLabel => "dialogLabel",
        }
    }

    /// Looks a name up by its JS key (exact, case-sensitive).
    pub fn from_name(key: &str) -> Option<TemplateName> {
        TemplateName::ALL.iter().copied().find(|t| t.as_str() == key)
    }

    /// The position in [`TemplateName::ALL`].
    fn index(self) -> usize {
        TemplateName::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The default templates, exact text of §8.3 (the original's wording, its "a error" typo and
/// the two spaces after each sentence included). Exposed to JS as `Prompter.prototype.templates`.
pub const DEFAULT_TEMPLATES: [(TemplateName, &str); 10] = [
    (
        TemplateName::FatalInternalError,
        "We have encountered a error that keeps us from continuing.  Please contact support: <%= supportHTML %>",
    ),
    (
        TemplateName::InternalError,
        "We have encountered an error.  You may close this dialog to continue, but please also contact support: <%= supportHTML %>",
    ),
    (
        TemplateName::StoreInstall,
        "Please visit the <a href=\"<%= quote(storeURL) %>\">store page</a> to install the application.",
    ),
    (
        TemplateName::Refunded,
        "You purchased this app, but then got a refund.  If you still want to use the application, you must <a href=\"<%= quote(storeURL) %>\">purchase the application again</a>.",
    ),
    (
        TemplateName::InvalidReceiptIssuer,
        "You purchased this application from <%= error.iss %> which is not a store we have a relationship with.  Please either <a href=\"<%= quote(storeURL) %>\">re-purchase the application</a> or contact support: <%= supportHTML %>",
    ),
    (
        TemplateName::InvalidFromStore,
        "The store reports that your purchase receipt is invalid.  Please <a href=\"<%= quote(storeURL) %>\">visit the store to reinstall the application</a>.",
    ),
    (
        TemplateName::ReceiptFormatError,
        "Your purchase receipt is malformed.  Please <a href=\"<%= quote(storeURL) %>\">visit the store to reinstall the application</a>.",
    ),
    (
        TemplateName::GenericError,
        "An error has occurred.  <a href=\"<%= quote(storeURL) %>\">Reinstalling the application</a> may fix this problem.  If not please contact support: <%= supportHTML %>",
    ),
    (
        TemplateName::MozAppsNotSupported,
        "This browser or device does not support the Marketplace Apps system.",
    ),
    (TemplateName::DialogLabel, "Purchase verification"),
];

/// The default text of one template.
pub fn default_template(name: TemplateName) -> &'static str {
    DEFAULT_TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).unwrap_or_default()
}

/// One allowed placeholder expression (§8.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `supportHTML`: inserted as written (the whole result is sanitised afterwards).
    SupportHtml,
    /// `storeURL` or `quote(storeURL)`: the store URL, HTML-escaped either way.
    StoreUrl,
    /// `error.‹name›` or `quote(error.‹name›)`: an own property of `prompter.error`, always
    /// HTML-escaped.
    ErrorProp(String),
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal template text (markup included; it is sanitised after expansion).
    Text(String),
    /// A `<%= … %>` placeholder.
    Expr(Expr),
}

/// A validated template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// JS `\s` whitespace (what "whitespace inside the delimiters" means).
fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{FEFF}'
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses the inside of `<%= … %>` (already without the delimiters).
fn parse_expr(inner: &str) -> Option<Expr> {
    let e = inner.trim_matches(is_js_space);
    // `quote( x )`: whitespace around the argument is allowed too.
    let (arg, quoted) = match e.strip_prefix("quote") {
        Some(rest) => {
            let rest = rest.trim_start_matches(is_js_space);
            let arg = rest.strip_prefix('(')?.strip_suffix(')')?;
            (arg.trim_matches(is_js_space), true)
        }
        None => (e, false),
    };
    if arg == "storeURL" {
        return Some(Expr::StoreUrl);
    }
    if arg == "supportHTML" && !quoted {
        return Some(Expr::SupportHtml);
    }
    let name = arg.strip_prefix("error.")?;
    is_identifier(name).then(|| Expr::ErrorProp(name.to_owned()))
}

/// §8.5: parses and validates a template. `name` decides whether placeholders are allowed at all
/// (`dialogLabel` allows none).
///
/// Every `<%` starts a placeholder that runs to the next `%>`. Only `<%= expr %>` with one of the
/// expressions of [`Expr`] is accepted; anything else (a `<% … %>` code block, `<%- … %>`, another
/// expression, an unterminated `<%`) fails with
/// [`PrompterError::UnsupportedExpression`] naming the placeholder as written.
pub fn parse_template(name: TemplateName, text: &str) -> Result<Template, PrompterError> {
    let unsupported = |placeholder: &str| PrompterError::UnsupportedExpression {
        key: name.as_str().to_owned(),
        placeholder: placeholder.to_owned(),
    };
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<%") {
        let literal = rest.get(..start).unwrap_or_default();
        if !literal.is_empty() {
            parts.push(Part::Text(literal.to_owned()));
        }
        let from = rest.get(start..).unwrap_or_default();
        // The closing `%>` is searched after the opening `<%`, so `<%>` is not closed by itself.
        let Some(end) = from.get(2..).and_then(|s| s.find("%>")).map(|e| e + 4) else {
            return Err(unsupported(from));
        };
        let placeholder = from.get(..end).unwrap_or_default();
        let expr = match (name, placeholder.strip_prefix("<%=")) {
            (TemplateName::DialogLabel, _) | (_, None) => None,
            (_, Some(inner)) => parse_expr(inner.strip_suffix("%>").unwrap_or_default()),
        };
        match expr {
            Some(e) => parts.push(Part::Expr(e)),
            None => return Err(unsupported(placeholder)),
        }
        rest = from.get(end..).unwrap_or_default();
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(Template { source: text.to_owned(), parts })
}

/// §8.1 step 3 for one `templates` entry given by its JS key: `Unknown template: ‹key›` for a
/// name outside §8.3, then the checks of [`parse_template`].
pub fn validate_template(key: &str, text: &str) -> Result<Template, PrompterError> {
    let name = TemplateName::from_name(key)
        .ok_or_else(|| PrompterError::UnknownTemplate(key.to_owned()))?;
    parse_template(name, text)
}

impl Template {
    /// The template text as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed pieces, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// §8.5 step 1: expands the placeholders. The result is HTML that must go through
    /// [`sanitize`] before anything is built from it.
    ///
    /// `error_prop(name)` gives the value of `error.‹name›` as §8.5 defines it: the **own**
    /// property `name` of `prompter.error` (never an inherited one such as `constructor`); `""`
    /// when it is missing, `null` or `undefined` (or there is no error); JSON text for objects;
    /// `String()` otherwise. The value is HTML-escaped here.
    pub fn expand(
        &self,
        store_url: &str,
        support_html: &str,
        error_prop: &mut dyn FnMut(&str) -> String,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(Expr::SupportHtml) => out.push_str(support_html),
                Part::Expr(Expr::StoreUrl) => out.push_str(&quote(store_url)),
                Part::Expr(Expr::ErrorProp(name)) => out.push_str(&quote(&error_prop(name))),
            }
        }
        out
    }

    /// Expands (§8.5 step 1) and sanitises (step 2): the nodes to build under `#O-text`.
    /// `base_url` is `document.baseURI`.
    pub fn render(
        &self,
        store_url: &str,
        support_html: &str,
        error_prop: &mut dyn FnMut(&str) -> String,
        base_url: &str,
        urls: &dyn UrlParser,
    ) -> Vec<Node> {
        sanitize(&self.expand(store_url, support_html, error_prop), base_url, urls)
    }
}

/// The ten templates of a Prompter: a copy of the defaults with validated overrides merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSet {
    templates: Vec<Template>,
}

impl TemplateSet {
    /// The defaults of §8.3 (always valid).
    pub fn defaults() -> TemplateSet {
        let templates = TemplateName::ALL
            .iter()
            .map(|n| {
                let text = default_template(*n);
                parse_template(*n, text).unwrap_or_else(|_| Template {
                    source: text.to_owned(),
                    parts: vec![Part::Text(text.to_owned())],
                })
            })
            .collect();
        TemplateSet { templates }
    }

    /// Merges one entry (§8.1 step 3), validating it with [`validate_template`]. On an error the
    /// set is unchanged.
    pub fn set(&mut self, key: &str, text: &str) -> Result<(), PrompterError> {
        let t = validate_template(key, text)?;
        let i = TemplateName::from_name(key).map(TemplateName::index).unwrap_or(0);
        if let Some(slot) = self.templates.get_mut(i) {
            *slot = t;
        }
        Ok(())
    }

    /// Builds the set from overrides in order (the first invalid entry is the error).
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TemplateSet, PrompterError> {
        let mut set = TemplateSet::defaults();
        for (k, v) in overrides {
            set.set(k, v)?;
        }
        Ok(set)
    }

    /// The template called `name`.
    pub fn get(&self, name: TemplateName) -> &Template {
        // Always ten entries; the fallback is unreachable but keeps this panic-free.
        match self.templates.get(name.index()) {
            Some(t) => t,
            None => &EMPTY_TEMPLATE,
        }
    }

    /// The text of the template called `name` (for `dialogLabel`, the accessible name).
    pub fn text(&self, name: TemplateName) -> &str {
        self.get(name).source()
    }
}

static EMPTY_TEMPLATE: Template = Template { source: String::new(), parts: Vec::new() };

/// HTML escaping of §8.5 (`quote`): `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`, `"` → `&quot;`,
/// `'` → `&#39;`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// respond(verifier) (§8.2)
// ---------------------------------------------------------------------------------------------

/// The options that §8.2 reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RespondOptions {
    /// `allowNoInstall`
    pub allow_no_install: bool,
    /// `ignoreInternalError`
    pub ignore_internal_error: bool,
    /// `fatalInternalError`
    pub fatal_internal_error: bool,
}

/// What `respond(verifier)` does (§8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptAction {
    /// Show nothing (the user is in, or the options say so).
    Nothing,
    /// Show the overlay with this template. A blocking message has no close button and flashes
    /// instead of closing (§8.4).
    Show { template: TemplateName, blocking: bool },
    /// Throw `Error(`[`NOT_COMPLETE_MESSAGE`]`)` (row 1).
    ThrowNotComplete,
    /// Throw `Error(`[`unexpected_state_message`]`(String(state)))` (row 8).
    ThrowUnexpectedState,
}

/// The decision of [`respond`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// What to do.
    pub action: PromptAction,
    /// Row 7 only: the index in the receipt error list of the chosen reason; `prompter.error` is
    /// that error object. `None` in every other row (and for an empty list).
    pub reason: Option<usize>,
}

/// §8.2 "best reason": walks the receipt errors in `iterReceiptErrors` order; the first becomes
/// `best`, and a later one replaces `best` whenever `best` is a `NetworkError`. Returns the index
/// of `best`. `None` entries are objects of no known class (they are not `NetworkError`s).
pub fn best_reason(receipt_errors: &[Option<Class>]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for i in 0..receipt_errors.len() {
        let replace = match best {
            None => true,
            Some(b) => {
                matches!(receipt_errors.get(b), Some(Some(c)) if c.is_a(Class::NetworkError))
            }
        };
        if replace {
            best = Some(i);
        }
    }
    best
}

/// §8.2: the template for the chosen reason (first match; `None` → `genericError`).
pub fn reason_template(best: Option<Class>) -> TemplateName {
    match best {
        Some(c) if c.is_a(Class::Refunded) => TemplateName::Refunded,
        Some(c) if c.is_a(Class::InvalidReceiptIssuer) => TemplateName::InvalidReceiptIssuer,
        Some(c) if c.is_a(Class::InvalidFromStore) => TemplateName::InvalidFromStore,
        Some(c) if c.is_a(Class::ReceiptFormatError) => TemplateName::ReceiptFormatError,
        _ => TemplateName::GenericError,
    }
}

/// §8.2: from the verifier's state to the action, rows tested in order.
///
/// `state` is the class of `verifier.state` (the shell tests `instanceof` against the verifier's
/// own `states`/`errors` and passes the most derived class; `None` when it is an instance of none
/// of them). `receipt_errors` are the classes of `iterReceiptErrors`, in order.
pub fn respond(
    state: Option<Class>,
    options: RespondOptions,
    receipt_errors: &[Option<Class>],
) -> Response {
    let nothing = Response { action: PromptAction::Nothing, reason: None };
    let show = |template, blocking| Response {
        action: PromptAction::Show { template, blocking },
        reason: None,
    };
    let Some(s) = state else {
        return Response { action: PromptAction::ThrowUnexpectedState, reason: None };
    };
    let block = !options.allow_no_install;
    if s.is_a(Class::VerificationIncomplete) {
        Response { action: PromptAction::ThrowNotComplete, reason: None }
    } else if s.is_a(Class::Ok) || s.is_a(Class::NetworkError) {
        nothing
    } else if s.is_a(Class::MozAppsNotSupported) {
        show(TemplateName::MozAppsNotSupported, block)
    } else if s.is_a(Class::InternalError) {
        if options.ignore_internal_error {
            nothing
        } else if options.fatal_internal_error {
            show(TemplateName::FatalInternalError, true)
        } else {
            show(TemplateName::InternalError, false)
        }
    } else if s.is_a(Class::NeedsInstall) {
        if options.allow_no_install && s == Class::NoReceipts {
            nothing
        } else {
            show(TemplateName::StoreInstall, block)
        }
    } else if s.is_a(Class::NoValidReceipts) {
        let reason = best_reason(receipt_errors);
        let best = reason.and_then(|i| receipt_errors.get(i).copied().flatten());
        Response {
            action: PromptAction::Show { template: reason_template(best), blocking: block },
            reason,
        }
    } else {
        Response { action: PromptAction::ThrowUnexpectedState, reason: None }
    }
}

// ---------------------------------------------------------------------------------------------
// Sanitiser (§8.6)
// ---------------------------------------------------------------------------------------------

/// The elements the sanitiser keeps (§8.6). Everything else is unwrapped or dropped.
pub const KEPT_ELEMENTS: [&str; 8] = ["a", "b", "strong", "i", "em", "br", "p", "span"];

/// The elements removed together with their content (§8.6).
pub const DROPPED_ELEMENTS: [&str; 19] = [
    "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "noscript",
    "noembed", "svg", "math", "title", "textarea", "select", "head", "link", "meta", "base",
];

/// Kept elements nested deeper than this are unwrapped (their content stays).
pub const MAX_DEPTH: usize = 64;

/// A sanitised node. The UI builds it with `createElement`/`createTextNode` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A text node (character references already decoded).
    Text(String),
    /// A kept element. It has no attributes except `href` on an `a`; a rendered `a` also gets
    /// `rel="`[`LINK_REL`]`"`.
    Element {
        /// One of [`KEPT_ELEMENTS`].
        tag: &'static str,
        /// Only on `a`: the absolute URL the link points to (resolved against the base URL and
        /// checked: `https:`, `mailto:`, or `http:` on a loopback host). Always `Some` on `a`.
        href: Option<String>,
        /// The element's content, in order.
        children: Vec<Node>,
    },
}

impl Node {
    /// The concatenated text of this node and its descendants.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        collect_text(std::slice::from_ref(self), &mut out);
        out
    }
}

/// The concatenated text of a node list (depth-first, in order).
pub fn text_content(nodes: &[Node]) -> String {
    let mut out = String::new();
    collect_text(nodes, &mut out);
    out
}

fn collect_text(nodes: &[Node], out: &mut String) {
    // Depth is bounded by MAX_DEPTH, so recursion is fine.
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Element { children, .. } => collect_text(children, out),
        }
    }
}

/// §8.6: sanitises HTML into a node tree.
///
/// - `a b strong i em br p span` are kept without attributes, except `href` on `a`, which is
///   resolved against `base_url` (`document.baseURI`) and kept only for `https:`, `mailto:`, or
///   `http:` on a loopback host; otherwise the `a` is unwrapped.
/// - The elements of [`DROPPED_ELEMENTS`] go with their content (`script`, `style`, `iframe`,
///   `noscript`, `noembed`, `title` and `textarea` content is raw text up to the matching end
///   tag, as in HTML). Other elements are unwrapped. Comments, doctypes, processing instructions
///   and CDATA sections are removed.
/// - Character references are decoded per HTML: named ones (the HTML 4 Latin-1 set, the
///   markup-significant ones and common punctuation; the legacy names also without `;`), decimal
///   and hexadecimal ones with the HTML rules for invalid code points.
/// - Nesting of kept elements is capped at [`MAX_DEPTH`]; deeper ones are unwrapped.
///
/// Tree building is simplified HTML: a `p` start tag closes an open `p`, an `a` start tag closes an
/// open `a`, an end tag closes up to its open element (and is ignored when there is none), `</br>`
/// is a `br`, and everything is closed at the end. Linear in the input; never panics.
pub fn sanitize(html: &str, base_url: &str, urls: &dyn UrlParser) -> Vec<Node> {
    let input = normalize_newlines(html);
    let mut tb = TreeBuilder::new(base_url, urls);
    tokenize(&input, &mut tb);
    tb.finish()
}

/// The input stream preprocessing of HTML: CRLF and lone CR become LF.
fn normalize_newlines(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_owned();
    }
    s.replace("\r\n", "\n").replace('\r', "\n")
}

// ----- tokenizer -----

/// A token for the tree builder.
enum Token {
    Text(String),
    Start { name: String, href: Option<String>, self_closing: bool },
    End { name: String },
}

fn is_html_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b' ')
}

/// The elements whose content is raw text (no tags) up to their end tag.
fn raw_text_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" | "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
            Some(RawKind::RawText)
        }
        "textarea" | "title" => Some(RawKind::RcData),
        "plaintext" => Some(RawKind::PlainText),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum RawKind {
    /// Text as is, up to the end tag.
    RawText,
    /// Text with character references, up to the end tag.
    RcData,
    /// Text to the end of the input.
    PlainText,
}

fn tokenize(s: &str, sink: &mut TreeBuilder<'_>) {
    let b = s.as_bytes();
    let mut pos = 0;
    while pos < b.len() {
        // Text up to the next '<'.
        let lt = find_byte(b, pos, b'<').unwrap_or(b.len());
        if lt > pos {
            sink.token(Token::Text(decode_refs(slice(s, pos, lt), false)));
        }
        if lt >= b.len() {
            break;
        }
        pos = markup(s, lt, sink);
    }
}

/// Handles the markup starting with `<` at `i`; returns the position after it.
fn markup(s: &str, i: usize, sink: &mut TreeBuilder<'_>) -> usize {
    let b = s.as_bytes();
    let at = |k: usize| b.get(k).copied();
    match at(i + 1) {
        Some(c) if c.is_ascii_alphabetic() => {
            let Some(tag) = parse_tag(s, i + 1) else {
                return b.len(); // EOF inside a tag: the tag is dropped
            };
            let end = tag.end;
            let name = tag.name;
            // As in HTML, a self-closing flag does not stop raw-text parsing.
            let raw = raw_text_kind(&name);
            sink.token(Token::Start {
                name: name.clone(),
                href: tag.href,
                self_closing: tag.self_closing,
            });
            match raw {
                None => end,
                Some(RawKind::PlainText) => {
                    sink.token(Token::Text(slice(s, end, b.len()).to_owned()));
                    b.len()
                }
                Some(kind) => {
                    let close = find_end_tag(b, end, name.as_bytes()).unwrap_or(b.len());
                    let text = slice(s, end, close);
                    let text = match kind {
                        RawKind::RcData => decode_refs(text, false),
                        _ => text.to_owned(),
                    };
                    if !text.is_empty() {
                        sink.token(Token::Text(text));
                    }
                    close // the end tag is then tokenized normally
                }
            }
        }
        Some(b'/') => match at(i + 2) {
            Some(c) if c.is_ascii_alphabetic() => match parse_tag(s, i + 2) {
                Some(tag) => {
                    sink.token(Token::End { name: tag.name });
                    tag.end
                }
                None => b.len(),
            },
            Some(b'>') => i + 3,
            None => {
                sink.token(Token::Text("</".to_owned()));
                b.len()
            }
            Some(_) => skip_past_gt(b, i + 2),
        },
        Some(b'!') => {
            if b.get(i + 2..i + 4) == Some(b"--") {
                skip_comment(b, i + 4)
            } else {
                skip_past_gt(b, i + 2) // doctype, CDATA section, other declarations
            }
        }
        Some(b'?') => skip_past_gt(b, i + 2), // processing instruction (a bogus comment)
        _ => {
            sink.token(Token::Text("<".to_owned()));
            i + 1
        }
    }
}

/// `s[a..b]`, or `""` when out of range (never happens for ASCII-delimited positions).
fn slice(s: &str, a: usize, b: usize) -> &str {
    s.get(a..b).unwrap_or_default()
}

fn find_byte(b: &[u8], from: usize, x: u8) -> Option<usize> {
    b.get(from..)?.iter().position(|c| *c == x).map(|p| p + from)
}

/// Position after the next `>`, or the end (bogus comments and doctypes).
fn skip_past_gt(b: &[u8], from: usize) -> usize {
    find_byte(b, from, b'>').map_or(b.len(), |p| p + 1)
}

/// After `<!--` at `from`: the position after the comment (`-->`, `--!>`, or the abrupt `<!-->`
/// and `<!--->`), or the end of the input.
fn skip_comment(b: &[u8], from: usize) -> usize {
    if b.get(from) == Some(&b'>') {
        return from + 1;
    }
    if b.get(from..from + 2) == Some(b"->") {
        return from + 2;
    }
    let mut k = from;
    while let Some(p) = find_byte(b, k, b'-') {
        if b.get(p + 1) == Some(&b'-') {
            if b.get(p + 2) == Some(&b'>') {
                return p + 3;
            }
            if b.get(p + 2..p + 4) == Some(b"!>") {
                return p + 4;
            }
        }
        k = p + 1;
    }
    b.len()
}

/// The start of `</name` followed by space, `/` or `>` (case-insensitive), from `from`.
fn find_end_tag(b: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut k = from;
    while let Some(p) = find_byte(b, k, b'<') {
        let n = name.len();
        if b.get(p + 1) == Some(&b'/')
            && b.get(p + 2..p + 2 + n).is_some_and(|x| x.eq_ignore_ascii_case(name))
            && b.get(p + 2 + n).is_some_and(|c| is_html_space(*c) || *c == b'/' || *c == b'>')
        {
            return Some(p);
        }
        k = p + 1;
    }
    None
}

struct ParsedTag {
    name: String,
    /// The first `href` attribute's decoded value (duplicates: the first wins, as in HTML).
    href: Option<String>,
    self_closing: bool,
    /// Position after the closing `>`.
    end: usize,
}

/// Parses a tag name and its attributes from `from` (the first name character). `None` at EOF
/// before `>` (HTML drops such a tag).
fn parse_tag(s: &str, from: usize) -> Option<ParsedTag> {
    let b = s.as_bytes();
    let mut k = from;
    while b.get(k).is_some_and(|c| !is_html_space(*c) && *c != b'/' && *c != b'>') {
        k += 1;
    }
    let name = slice(s, from, k).to_ascii_lowercase().replace('\0', "\u{FFFD}");
    let mut href = None;
    let mut self_closing = false;
    loop {
        while b.get(k).is_some_and(|c| is_html_space(*c)) {
            k += 1;
        }
        match b.get(k)? {
            b'>' => return Some(ParsedTag { name, href, self_closing, end: k + 1 }),
            b'/' => {
                k += 1;
                if b.get(k) == Some(&b'>') {
                    self_closing = true;
                }
                continue;
            }
            _ => {}
        }
        self_closing = false;
        // Attribute name: the first character may be '='.
        let name_start = k;
        k += 1;
        while b.get(k).is_some_and(|c| !is_html_space(*c) && !matches!(*c, b'/' | b'>' | b'=')) {
            k += 1;
        }
        let attr_name = slice(s, name_start, k);
        while b.get(k).is_some_and(|c| is_html_space(*c)) {
            k += 1;
        }
        let mut value: Option<&str> = None;
        if b.get(k) == Some(&b'=') {
            k += 1;
            while b.get(k).is_some_and(|c| is_html_space(*c)) {
                k += 1;
            }
            match b.get(k) {
                Some(q @ (b'"' | b'\'')) => {
                    let close = find_byte(b, k + 1, *q)?;
                    value = Some(slice(s, k + 1, close));
                    k = close + 1;
                }
                Some(b'>') | None => value = Some(""),
                Some(_) => {
                    let v0 = k;
                    while b.get(k).is_some_and(|c| !is_html_space(*c) && *c != b'>') {
                        k += 1;
                    }
                    value = Some(slice(s, v0, k));
                }
            }
        }
        if href.is_none() && attr_name.eq_ignore_ascii_case("href") {
            href = Some(decode_refs(value.unwrap_or_default(), true).replace('\0', "\u{FFFD}"));
        }
    }
}

// ----- character references -----

/// Named character references: (name without `&`/`;`, value, also valid without `;`). Sorted by
/// name (byte order) for binary search.
const NAMED_REFS: &[(&str, &str, bool)] = &[
    ("AElig", "\u{C6}", true),
    ("AMP", "&", true),
    ("Aacute", "\u{C1}", true),
    ("Acirc", "\u{C2}", true),
    ("Agrave", "\u{C0}", true),
    ("Aring", "\u{C5}", true),
    ("Atilde", "\u{C3}", true),
    ("Auml", "\u{C4}", true),
    ("COPY", "\u{A9}", true),
    ("Ccedil", "\u{C7}", true),
    ("Dagger", "\u{2021}", false),
    ("ETH", "\u{D0}", true),
    ("Eacute", "\u{C9}", true),
    ("Ecirc", "\u{CA}", true),
    ("Egrave", "\u{C8}", true),
    ("Euml", "\u{CB}", true),
    ("GT", ">", true),
    ("Iacute", "\u{CD}", true),
    ("Icirc", "\u{CE}", true),
    ("Igrave", "\u{CC}", true),
    ("Iuml", "\u{CF}", true),
    ("LT", "<", true),
    ("NewLine", "\n", false),
    ("Ntilde", "\u{D1}", true),
    ("OElig", "\u{152}", false),
    ("Oacute", "\u{D3}", true),
    ("Ocirc", "\u{D4}", true),
    ("Ograve", "\u{D2}", true),
    ("Oslash", "\u{D8}", true),
    ("Otilde", "\u{D5}", true),
    ("Ouml", "\u{D6}", true),
    ("Prime", "\u{2033}", false),
    ("QUOT", "\"", true),
    ("REG", "\u{AE}", true),
    ("Scaron", "\u{160}", false),
    ("THORN", "\u{DE}", true),
    ("Tab", "\t", false),
    ("Uacute", "\u{DA}", true),
    ("Ucirc", "\u{DB}", true),
    ("Ugrave", "\u{D9}", true),
    ("Uuml", "\u{DC}", true),
    ("Yacute", "\u{DD}", true),
    ("Yuml", "\u{178}", false),
    ("aacute", "\u{E1}", true),
    ("acirc", "\u{E2}", true),
    ("acute", "\u{B4}", true),
    ("aelig", "\u{E6}", true),
    ("agrave", "\u{E0}", true),
    ("amp", "&", true),
    ("apos", "'", false),
    ("aring", "\u{E5}", true),
    ("ast", "*", false),
    ("atilde", "\u{E3}", true),
    ("auml", "\u{E4}", true),
    ("bdquo", "\u{201E}", false),
    ("brvbar", "\u{A6}", true),
    ("bsol", "\\", false),
    ("bull", "\u{2022}", false),
    ("ccedil", "\u{E7}", true),
    ("cedil", "\u{B8}", true),
    ("cent", "\u{A2}", true),
    ("circ", "\u{2C6}", false),
    ("colon", ":", false),
    ("comma", ",", false),
    ("commat", "@", false),
    ("copy", "\u{A9}", true),
    ("curren", "\u{A4}", true),
    ("dagger", "\u{2020}", false),
    ("darr", "\u{2193}", false),
    ("deg", "\u{B0}", true),
    ("divide", "\u{F7}", true),
    ("dollar", "$", false),
    ("eacute", "\u{E9}", true),
    ("ecirc", "\u{EA}", true),
    ("egrave", "\u{E8}", true),
    ("emsp", "\u{2003}", false),
    ("ensp", "\u{2002}", false),
    ("equals", "=", false),
    ("eth", "\u{F0}", true),
    ("euml", "\u{EB}", true),
    ("euro", "\u{20AC}", false),
    ("excl", "!", false),
    ("fnof", "\u{192}", false),
    ("frac12", "\u{BD}", true),
    ("frac14", "\u{BC}", true),
    ("frac34", "\u{BE}", true),
    ("grave", "`", false),
    ("gt", ">", true),
    ("harr", "\u{2194}", false),
    ("hellip", "\u{2026}", false),
    ("iacute", "\u{ED}", true),
    ("icirc", "\u{EE}", true),
    ("iexcl", "\u{A1}", true),
    ("igrave", "\u{EC}", true),
    ("iquest", "\u{BF}", true),
    ("iuml", "\u{EF}", true),
    ("laquo", "\u{AB}", true),
    ("larr", "\u{2190}", false),
    ("lcub", "{", false),
    ("ldquo", "\u{201C}", false),
    ("lowbar", "_", false),
    ("lpar", "(", false),
    ("lrm", "\u{200E}", false),
    ("lsaquo", "\u{2039}", false),
    ("lsqb", "[", false),
    ("lsquo", "\u{2018}", false),
    ("lt", "<", true),
    ("macr", "\u{AF}", true),
    ("mdash", "\u{2014}", false),
    ("micro", "\u{B5}", true),
    ("middot", "\u{B7}", true),
    ("minus", "\u{2212}", false),
    ("nbsp", "\u{A0}", true),
    ("ndash", "\u{2013}", false),
    ("not", "\u{AC}", true),
    ("ntilde", "\u{F1}", true),
    ("num", "#", false),
    ("oacute", "\u{F3}", true),
    ("ocirc", "\u{F4}", true),
    ("oelig", "\u{153}", false),
    ("ograve", "\u{F2}", true),
    ("ordf", "\u{AA}", true),
    ("ordm", "\u{BA}", true),
    ("oslash", "\u{F8}", true),
    ("otilde", "\u{F5}", true),
    ("ouml", "\u{F6}", true),
    ("para", "\u{B6}", true),
    ("percnt", "%", false),
    ("period", ".", false),
    ("permil", "\u{2030}", false),
    ("plus", "+", false),
    ("plusmn", "\u{B1}", true),
    ("pound", "\u{A3}", true),
    ("prime", "\u{2032}", false),
    ("quest", "?", false),
    ("quot", "\"", true),
    ("raquo", "\u{BB}", true),
    ("rarr", "\u{2192}", false),
    ("rcub", "}", false),
    ("rdquo", "\u{201D}", false),
    ("reg", "\u{AE}", true),
    ("rlm", "\u{200F}", false),
    ("rpar", ")", false),
    ("rsaquo", "\u{203A}", false),
    ("rsqb", "]", false),
    ("rsquo", "\u{2019}", false),
    ("sbquo", "\u{201A}", false),
    ("scaron", "\u{161}", false),
    ("sect", "\u{A7}", true),
    ("semi", ";", false),
    ("shy", "\u{AD}", true),
    ("sol", "/", false),
    ("sup1", "\u{B9}", true),
    ("sup2", "\u{B2}", true),
    ("sup3", "\u{B3}", true),
    ("szlig", "\u{DF}", true),
    ("thinsp", "\u{2009}", false),
    ("thorn", "\u{FE}", true),
    ("tilde", "\u{2DC}", false),
    ("times", "\u{D7}", true),
    ("trade", "\u{2122}", false),
    ("uacute", "\u{FA}", true),
    ("uarr", "\u{2191}", false),
    ("ucirc", "\u{FB}", true),
    ("ugrave", "\u{F9}", true),
    ("uml", "\u{A8}", true),
    ("uuml", "\u{FC}", true),
    ("verbar", "|", false),
    ("yacute", "\u{FD}", true),
    ("yen", "\u{A5}", true),
    ("yuml", "\u{FF}", true),
    ("zwj", "\u{200D}", false),
    ("zwnj", "\u{200C}", false),
];

/// The longest name in [`NAMED_REFS`].
const MAX_REF_NAME: usize = 8;

fn named_ref(name: &str) -> Option<(&'static str, bool)> {
    NAMED_REFS
        .binary_search_by(|(n, _, _)| (*n).cmp(name))
        .ok()
        .and_then(|i| NAMED_REFS.get(i))
        .map(|(_, v, legacy)| (*v, *legacy))
}

/// The replacements of numeric references 0x80–0x9F (Windows-1252), per HTML.
fn c1_replacement(n: u32) -> Option<char> {
    let c = match n {
        0x80 => '\u{20AC}',
        0x82 => '\u{201A}',
        0x83 => '\u{0192}',
        0x84 => '\u{201E}',
        0x85 => '\u{2026}',
        0x86 => '\u{2020}',
        0x87 => '\u{2021}',
        0x88 => '\u{02C6}',
        0x89 => '\u{2030}',
        0x8A => '\u{0160}',
        0x8B => '\u{2039}',
        0x8C => '\u{0152}',
        0x8E => '\u{017D}',
        0x91 => '\u{2018}',
        0x92 => '\u{2019}',
        0x93 => '\u{201C}',
        0x94 => '\u{201D}',
        0x95 => '\u{2022}',
        0x96 => '\u{2013}',
        0x97 => '\u{2014}',
        0x98 => '\u{02DC}',
        0x99 => '\u{2122}',
        0x9A => '\u{0161}',
        0x9B => '\u{203A}',
        0x9C => '\u{0153}',
        0x9E => '\u{017E}',
        0x9F => '\u{0178}',
        _ => return None,
    };
    Some(c)
}

/// The character a numeric reference stands for, per HTML: 0, surrogates and values above
/// U+10FFFF become U+FFFD; 0x80–0x9F map through Windows-1252; anything else is kept.
fn numeric_char(n: u32) -> char {
    if let Some(c) = c1_replacement(n) {
        return c;
    }
    if n == 0 {
        return '\u{FFFD}';
    }
    char::from_u32(n).unwrap_or('\u{FFFD}')
}

/// Decodes the character references of a text run (`in_attr = false`) or an attribute value
/// (`in_attr = true`: a legacy name without `;` followed by `=` or an alphanumeric is left as
/// is). NUL characters in text are dropped, as the HTML tree builder ignores them.
pub fn decode_refs(s: &str, in_attr: bool) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while pos < b.len() {
        let amp = find_byte(b, pos, b'&').unwrap_or(b.len());
        push_text(&mut out, slice(s, pos, amp), in_attr);
        if amp >= b.len() {
            break;
        }
        let (decoded, next) = char_ref(s, amp + 1, in_attr);
        match decoded {
            Some(d) => out.push_str(&d),
            None => out.push('&'),
        }
        pos = next;
    }
    out
}

fn push_text(out: &mut String, t: &str, in_attr: bool) {
    if t.contains('\0') {
        if in_attr {
            out.push_str(&t.replace('\0', "\u{FFFD}"));
        } else {
            out.extend(t.chars().filter(|c| *c != '\0'));
        }
    } else {
        out.push_str(t);
    }
}

/// A character reference after the `&` at `from - 1`: the decoded text (or `None`: emit the `&`
/// literally) and where to continue.
fn char_ref(s: &str, from: usize, in_attr: bool) -> (Option<String>, usize) {
    let b = s.as_bytes();
    if b.get(from) == Some(&b'#') {
        let hex = matches!(b.get(from + 1), Some(b'x' | b'X'));
        let digits_start = if hex { from + 2 } else { from + 1 };
        let mut k = digits_start;
        let mut n: u32 = 0;
        while let Some(c) = b.get(k) {
            let d = if hex { (*c as char).to_digit(16) } else { (*c as char).to_digit(10) };
            let Some(d) = d else { break };
            n = n.saturating_mul(if hex { 16 } else { 10 }).saturating_add(d).min(0x11_0000);
            k += 1;
        }
        if k == digits_start {
            return (None, from); // "&#" or "&#x" without digits: literal
        }
        if b.get(k) == Some(&b';') {
            k += 1;
        }
        return (Some(numeric_char(n).to_string()), k);
    }
    // Named: the longest table name that prefixes the alphanumeric run.
    let mut run = from;
    while run < from + MAX_REF_NAME + 1 && b.get(run).is_some_and(u8::is_ascii_alphanumeric) {
        run += 1;
    }
    for end in (from + 1..=run).rev() {
        let name = slice(s, from, end);
        let Some((value, legacy)) = named_ref(name) else {
            continue;
        };
        if b.get(end) == Some(&b';') {
            return (Some(value.to_owned()), end + 1);
        }
        if !legacy {
            continue;
        }
        let next = b.get(end).copied();
        if in_attr && next.is_some_and(|c| c == b'=' || c.is_ascii_alphanumeric()) {
            return (None, from);
        }
        return (Some(value.to_owned()), end);
    }
    (None, from)
}

// ----- tree builder -----

struct Frame {
    tag: &'static str,
    href: Option<String>,
    children: Vec<Node>,
}

/// A dropped element whose content is being skipped: its name and the nesting count of
/// same-named elements inside it.
struct Dropping {
    name: &'static str,
    depth: usize,
}

struct TreeBuilder<'a> {
    base_url: &'a str,
    urls: &'a dyn UrlParser,
    root: Vec<Node>,
    stack: Vec<Frame>,
    /// Per kept tag: open elements of that name that were unwrapped (too deep, or an `a`
    /// without an acceptable link), so that their end tags close nothing.
    phantom: [usize; 8],
    dropping: Option<Dropping>,
}

fn kept_tag(name: &str) -> Option<(usize, &'static str)> {
    KEPT_ELEMENTS.iter().position(|t| *t == name).and_then(|i| Some((i, *KEPT_ELEMENTS.get(i)?)))
}

fn dropped_tag(name: &str) -> Option<&'static str> {
    DROPPED_ELEMENTS.iter().copied().find(|t| *t == name)
}

/// Dropped elements that are void (they have no content to skip).
fn is_void_dropped(name: &str) -> bool {
    matches!(name, "embed" | "link" | "meta" | "base" | "frame")
}

impl<'a> TreeBuilder<'a> {
    fn new(base_url: &'a str, urls: &'a dyn UrlParser) -> Self {
        TreeBuilder {
            base_url,
            urls,
            root: Vec::new(),
            stack: Vec::new(),
            phantom: [0; 8],
            dropping: None,
        }
    }

    fn children(&mut self) -> &mut Vec<Node> {
        match self.stack.last_mut() {
            Some(f) => &mut f.children,
            None => &mut self.root,
        }
    }

    fn append_text(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let children = self.children();
        if let Some(Node::Text(last)) = children.last_mut() {
            last.push_str(t);
        } else {
            children.push(Node::Text(t.to_owned()));
        }
    }

    /// Pops the innermost open element into its parent.
    fn pop(&mut self) {
        if let Some(f) = self.stack.pop() {
            let node = Node::Element { tag: f.tag, href: f.href, children: f.children };
            self.children().push(node);
        }
    }

    /// Closes up to and including the innermost open `tag`, if one is open.
    fn close(&mut self, tag: &str) -> bool {
        match self.stack.iter().rposition(|f| f.tag == tag) {
            Some(i) => {
                while self.stack.len() > i {
                    self.pop();
                }
                true
            }
            None => false,
        }
    }

    fn token(&mut self, token: Token) {
        if let Some(d) = &mut self.dropping {
            match token {
                Token::Start { name, self_closing, .. }
                    if name == d.name
                        && !is_void_dropped(&name)
                        && !(self_closing && matches!(d.name, "svg" | "math")) =>
                {
                    d.depth += 1;
                }
                Token::End { name } if name == d.name => {
                    d.depth = d.depth.saturating_sub(1);
                    if d.depth == 0 {
                        self.dropping = None;
                    }
                }
                _ => {}
            }
            return;
        }
        match token {
            Token::Text(t) => self.append_text(&t),
            Token::Start { name, href, self_closing } => self.start(&name, href, self_closing),
            Token::End { name } => self.end(&name),
        }
    }

    fn start(&mut self, name: &str, href: Option<String>, self_closing: bool) {
        if let Some(d) = dropped_tag(name) {
            let empty = is_void_dropped(d) || (self_closing && matches!(d, "svg" | "math"));
            if !empty {
                self.dropping = Some(Dropping { name: d, depth: 1 });
            }
            return;
        }
        let Some((idx, tag)) = kept_tag(name) else {
            return; // unwrapped
        };
        if tag == "br" {
            self.children().push(Node::Element { tag: "br", href: None, children: Vec::new() });
            return;
        }
        if tag == "p" || tag == "a" {
            self.close(tag);
        }
        let href = if tag == "a" { href.and_then(|h| self.link(&h)) } else { None };
        if self.stack.len() >= MAX_DEPTH || (tag == "a" && href.is_none()) {
            if let Some(n) = self.phantom.get_mut(idx) {
                *n += 1;
            }
            return;
        }
        self.stack.push(Frame { tag, href, children: Vec::new() });
    }

    fn end(&mut self, name: &str) {
        if name == "br" {
            self.start("br", None, false);
            return;
        }
        let Some((idx, tag)) = kept_tag(name) else {
            return;
        };
        if let Some(n) = self.phantom.get_mut(idx).filter(|n| **n > 0) {
            *n -= 1;
            return;
        }
        self.close(tag);
    }

    /// The `href` to keep on an `a`, or `None` to unwrap it.
    fn link(&self, href: &str) -> Option<String> {
        let (text, parts) = resolve_url(href, self.base_url, self.urls)?;
        let ok = parts.scheme == "https"
            || parts.scheme == "mailto"
            || (parts.scheme == "http" && is_loopback_host(&parts.host));
        ok.then_some(text)
    }

    fn finish(mut self) -> Vec<Node> {
        while !self.stack.is_empty() {
            self.pop();
        }
        self.root
    }
}

// ----- URL resolution -----

/// The WHATWG special schemes.
fn is_special_scheme(s: &str) -> bool {
    matches!(s, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

/// The scheme of `s` (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") ":") and the rest after the colon.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let colon = s.find(':')?;
    let scheme = s.get(..colon)?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| (scheme, s.get(colon + 1..).unwrap_or_default()))
}

/// Resolves a URL reference against an absolute base URL the way `new URL(href, base)` does, and
/// parses the result with `urls`. Returns the absolute URL text and its parts.
///
/// The reference is cleaned as the WHATWG parser does (leading/trailing C0 controls and spaces
/// trimmed; tabs and newlines removed). A reference with a scheme is parsed on its own (except a
/// special-scheme reference without slashes whose scheme is the base's, which is relative, e.g.
/// `http:foo`). A relative reference is joined to `base` (a serialised URL such as
/// `document.baseURI`) textually and the join parsed, so dot segments and percent-encoding are
/// the parser's. `None` when the result does not parse, the base is not absolute, or the base has
/// an opaque path and the reference is not a fragment.
pub fn resolve_url(href: &str, base: &str, urls: &dyn UrlParser) -> Option<(String, UrlParts)> {
    let cleaned: String = href
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let base_parts = urls.parse(base);
    let mut rel = cleaned.as_str();
    if let Some((scheme, rest)) = split_scheme(&cleaned) {
        let scheme = scheme.to_ascii_lowercase();
        let same_special = is_special_scheme(&scheme)
            && base_parts.as_ref().is_some_and(|b| b.scheme == scheme)
            && !rest.starts_with('/')
            && !rest.starts_with('\\');
        if !same_special {
            return urls.parse(&cleaned).map(|p| (cleaned.clone(), p));
        }
        rel = rest;
    }
    let b = base_parts?;
    let special = is_special_scheme(&b.scheme);
    let is_slash = |c: char| c == '/' || (special && c == '\\');
    // Split the serialised base into its pieces.
    let base = base.trim_matches(|c: char| c <= ' ');
    let without_fragment = base.split('#').next().unwrap_or_default();
    let without_query = without_fragment.split('?').next().unwrap_or_default();
    let after_scheme = without_query.get(b.scheme.len() + 1..).unwrap_or_default();
    let scheme_prefix = without_query.get(..b.scheme.len() + 1).unwrap_or_default();
    let (authority_end, has_authority) = match after_scheme.strip_prefix("//") {
        Some(a) => (scheme_prefix.len() + 2 + a.find(is_slash).unwrap_or(a.len()), true),
        None => (scheme_prefix.len(), false),
    };
    let origin_part = without_query.get(..authority_end).unwrap_or_default();
    let path = without_query.get(authority_end..).unwrap_or_default();

    let mut chars = rel.chars();
    let first = chars.next();
    let second = chars.next();
    let joined = if !has_authority && !path.starts_with('/') {
        // Opaque path (about:blank, data:, mailto:): only a fragment can be resolved.
        if !rel.starts_with('#') {
            return None;
        }
        format!("{without_fragment}{rel}")
    } else if first.is_some_and(is_slash) && second.is_some_and(is_slash) {
        format!("{scheme_prefix}{rel}")
    } else if first.is_some_and(is_slash) {
        format!("{origin_part}{rel}")
    } else if first == Some('?') {
        format!("{without_query}{rel}")
    } else if first == Some('#') || rel.is_empty() {
        format!("{without_fragment}{rel}")
    } else {
        let dir = match path.rfind(is_slash) {
            Some(i) => path.get(..=i).unwrap_or_default(),
            None => "/",
        };
        format!("{origin_part}{dir}{rel}")
    };
    urls.parse(&joined).map(|p| (joined, p))
}

#[cfg(all(test, feature = "native-url"))]
mod tests;
