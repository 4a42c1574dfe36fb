//! Arbitrary receipt strings through the strict pipeline with a fixed policy anchored in a real
//! P-256 root key (and, when asked, a second pass with a root document), plus JWK and root
//! document parsing of arbitrary JSON. Nothing may panic; a receipt that is not exactly one of
//! the signed seeds must never pass with a key the fixture did not sign with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozmarket_core::jwk::{self, KeySource};
use mozmarket_core::url::{NativeUrlParser, UrlParser as _};
use mozmarket_core::verify::{self, Local};
use mozmarket_core::json;
use mozmarket_core_fuzz::{root_document_keys, strict_policy, NOW_MS};
use std::sync::OnceLock;

struct Fixture {
    policy: verify::Policy,
    root_doc: Vec<jwk::PublicKey>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture { policy: strict_policy(), root_doc: root_document_keys() })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let urls = NativeUrlParser;

    if let Ok(receipt) = std::str::from_utf8(data) {
        match verify::strict_local(receipt, &f.policy, None, NOW_MS, &urls) {
            Local::NeedsRootDocument { url } => {
                // The URL is certs[0].iss exactly as written (spec §2.3.3); its origin, once
                // normalised (case, default port), must be the one allowed origin.
                let origin = urls.parse(&url).map(|u| mozmarket_core::url::origin(&u));
                assert_eq!(
                    origin.as_deref(),
                    Some("https://keys.store.example"),
                    "fetch only allowed origins: {url}"
                );
                let _ = verify::strict_local(receipt, &f.policy, Some(&f.root_doc), NOW_MS, &urls);
            }
            Local::Passed(_) | Local::Failed(_) => {}
        }
        let _ = verify::compat_local(receipt, &f.policy, &urls);
        let _ = jwk::parse_root_document(receipt, &urls);
    }

    if let Ok(value) = json::parse(data) {
        for source in [KeySource::Configured, KeySource::Certificate, KeySource::RootDocument] {
            let _ = jwk::parse_jwk(&value, source, &urls);
        }
        let _ = jwk::parse_trusted_keys(&value, &urls);
    }
});
