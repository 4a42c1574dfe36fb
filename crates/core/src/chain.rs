//! Trust anchors, key selection and certificate chains (§2.3.3, §2.3.4).
//!
//! HELPER-B implements.

use crate::compact::{Alg, Parsed};
use crate::error::Failure;
use crate::jwk::PublicKey;
use crate::url::UrlParser;

/// Inputs to chain verification.
pub struct ChainInput<'a> {
    pub parsed: &'a Parsed,
    /// The header `alg` of each part, from [`crate::compact::check_header`].
    pub algs: &'a [Alg],
    /// The configured roots (`trustedKeys`).
    pub trusted: &'a [PublicKey],
    /// `rootKeyOrigins`: exact `https:` origins (normalised).
    pub root_key_origins: &'a [String],
    /// The keys of the root document named by `certs[0].iss`, once the shell has fetched it.
    pub root_document: Option<&'a [PublicKey]>,
    pub now_ms: f64,
    pub leeway_ms: f64,
}

/// What chain verification decided.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainOutcome {
    /// Every signature and certificate check passed.
    Verified {
        /// The `iss` binding of the configured key that anchored the chain, if it has one
        /// (`None` also when a root-document key anchored it).
        anchor_iss: Option<String>,
        /// The `exp` (seconds) of the last certificate, for S9; `None` for a bare JWT.
        last_cert_exp: Option<f64>,
    },
    /// Part 0 did not verify with a configured key and source (b) applies: fetch this URL
    /// (exactly `certs[0].iss`), parse it with [`crate::jwk::parse_root_document`], and call
    /// again with `root_document` set.
    NeedsRootDocument { url: String },
    /// A signature, key-selection or certificate failure.
    Failed(Failure),
}

/// §2.3.3–§2.3.4 for a strictly parsed receipt whose headers have passed §2.3.2.
pub fn verify_chain(input: &ChainInput<'_>, urls: &dyn UrlParser) -> ChainOutcome {
    let _ = (input, urls);
    todo!("HELPER-B")
}
