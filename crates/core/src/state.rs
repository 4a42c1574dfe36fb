//! The state and error tree of §5.2 and §5.3, and the promotion rule of §5.4.
//!
//! The shell builds one JS constructor per [`Class`] with the parent given by [`Class::parent`],
//! so `instanceof` in JS and [`Class::is_a`] here always agree.

/// Every state and error class. States first (§5.2), then errors (§5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    // States (§5.2)
    /// The run has not finished (the initial state).
    VerificationIncomplete,
    /// Abstract: the user must install or buy.
    NeedsInstall,
    /// A `NeedsInstall`: `getSelf()` answered `null` and no other source has receipts.
    NotInstalled,
    /// A `NeedsInstall`: no receipts were found or installed.
    NoReceipts,
    /// No mozApps, no `receipts` option and an empty local store.
    MozAppsNotSupported,
    /// Abstract: verification could not be completed, not the user's fault.
    NetworkError,
    /// Abstract, a `NetworkError`: the server misbehaved.
    ServerError,
    /// Receipts exist, none verified, no network error was promoted.
    NoValidReceipts,
    /// At least one receipt verified (`OK` in JS).
    Ok,
    /// An `OK`: a fresh cached `ok` was used (`OKCache` in JS).
    OkCache,
    /// An `OKCache`: a network error was covered by a stale cached `ok` (`OKStaleCache` in JS).
    OkStaleCache,
    /// Abstract: a library or platform failure.
    InternalError,
    /// An `InternalError`: `getSelf()` failed, threw or did not answer.
    MozAppsError,
    /// An `InternalError`: an exception in mozmarket, or configuration that fails at run time.
    VerifierError,
    // Errors (§5.3)
    /// Missing or mistyped claims (§2.3.6, S12a, C4, C6).
    ReceiptFormatError,
    /// A `ReceiptFormatError`: not a valid compact JWS or strict JSON (§2.3.1).
    ReceiptParseError,
    /// Abstract parent of the five signature errors.
    ReceiptSignatureError,
    /// `alg` is not exactly `RS256` or `ES256` (H2).
    AlgorithmNotAllowed,
    /// A forbidden header parameter (H3, H4).
    UnsupportedHeader,
    /// No trusted key fits (§2.3.3).
    UnknownSigningKey,
    /// A signature does not verify (§2.3.3, §2.3.5).
    InvalidSignature,
    /// A certificate rule failed (§2.3.4, S9).
    CertificateError,
    /// `nbf` or `iat` is in the future (S8b, S8c).
    ReceiptNotYetValid,
    /// `exp` has passed (S8a), or the store answered `expired`.
    ReceiptExpired,
    /// `typ` is not allowed (S10, C2).
    WrongType,
    /// `product.url` is missing or does not match (S11, C3; `ProductURLError` in JS).
    ProductUrlError,
    /// The issuer is not allowed, or not the one bound to the key (S12b, S12c, C5).
    InvalidReceiptIssuer,
    /// The verify URL is not on the issuer's host or downgrades the scheme (S13, C7).
    VerifyDomainMismatch,
    /// The store answered `invalid`.
    InvalidFromStore,
    /// The store answered `refunded`.
    Refunded,
    /// A `NetworkError` (not a `ServerError`): status 0.
    ConnectionError,
    /// A `ServerError`: the request timed out.
    RequestTimeout,
    /// A `ServerError`: a status other than 200.
    ServerStatusError,
    /// A `ServerError`: a bad body, unknown status, bad root document or unexpected URL.
    InvalidServerResponse,
}

impl Class {
    /// All classes, parents before children (the order the shell creates constructors in).
    pub const ALL: [Class; 34] = [
        Class::VerificationIncomplete,
        Class::NeedsInstall,
        Class::NotInstalled,
        Class::NoReceipts,
        Class::MozAppsNotSupported,
        Class::NetworkError,
        Class::ServerError,
        Class::NoValidReceipts,
        Class::Ok,
        Class::OkCache,
        Class::OkStaleCache,
        Class::InternalError,
        Class::MozAppsError,
        Class::VerifierError,
        Class::ReceiptFormatError,
        Class::ReceiptParseError,
        Class::ReceiptSignatureError,
        Class::AlgorithmNotAllowed,
        Class::UnsupportedHeader,
        Class::UnknownSigningKey,
        Class::InvalidSignature,
        Class::CertificateError,
        Class::ReceiptNotYetValid,
        Class::ReceiptExpired,
        Class::WrongType,
        Class::ProductUrlError,
        Class::InvalidReceiptIssuer,
        Class::VerifyDomainMismatch,
        Class::InvalidFromStore,
        Class::Refunded,
        Class::ConnectionError,
        Class::RequestTimeout,
        Class::ServerStatusError,
        Class::InvalidServerResponse,
    ];

    /// The JS class name: stable, and used as the error's `code`.
    pub fn name(self) -> &'static str {
        match self {
            Class::VerificationIncomplete => "VerificationIncomplete",
            Class::NeedsInstall => "NeedsInstall",
            Class::NotInstalled => "NotInstalled",
            Class::NoReceipts => "NoReceipts",
            Class::MozAppsNotSupported => "MozAppsNotSupported",
            Class::NetworkError => "NetworkError",
            Class::ServerError => "ServerError",
            Class::NoValidReceipts => "NoValidReceipts",
            Class::Ok => "OK",
            Class::OkCache => "OKCache",
            Class::OkStaleCache => "OKStaleCache",
            Class::InternalError => "InternalError",
            Class::MozAppsError => "MozAppsError",
            Class::VerifierError => "VerifierError",
            Class::ReceiptFormatError => "ReceiptFormatError",
            Class::ReceiptParseError => "ReceiptParseError",
            Class::ReceiptSignatureError => "ReceiptSignatureError",
            Class::AlgorithmNotAllowed => "AlgorithmNotAllowed",
            Class::UnsupportedHeader => "UnsupportedHeader",
            Class::UnknownSigningKey => "UnknownSigningKey",
            Class::InvalidSignature => "InvalidSignature",
            Class::CertificateError => "CertificateError",
            Class::ReceiptNotYetValid => "ReceiptNotYetValid",
            Class::ReceiptExpired => "ReceiptExpired",
            Class::WrongType => "WrongType",
            Class::ProductUrlError => "ProductURLError",
            Class::InvalidReceiptIssuer => "InvalidReceiptIssuer",
            Class::VerifyDomainMismatch => "VerifyDomainMismatch",
            Class::InvalidFromStore => "InvalidFromStore",
            Class::Refunded => "Refunded",
            Class::ConnectionError => "ConnectionError",
            Class::RequestTimeout => "RequestTimeout",
            Class::ServerStatusError => "ServerStatusError",
            Class::InvalidServerResponse => "InvalidServerResponse",
        }
    }

    /// Looks a class up by its JS name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The parent class, or `None` for a root of the tree.
    pub fn parent(self) -> Option<Class> {
        use Class::*;
        match self {
            NotInstalled | NoReceipts => Some(NeedsInstall),
            ServerError => Some(NetworkError),
            OkCache => Some(Ok),
            OkStaleCache => Some(OkCache),
            MozAppsError | VerifierError => Some(InternalError),
            ReceiptParseError => Some(ReceiptFormatError),
            AlgorithmNotAllowed | UnsupportedHeader | UnknownSigningKey | InvalidSignature
            | CertificateError => Some(ReceiptSignatureError),
            ConnectionError => Some(NetworkError),
            RequestTimeout | ServerStatusError | InvalidServerResponse => Some(ServerError),
            _ => None,
        }
    }

    /// True for the classes of `Verifier.errors`; false for `Verifier.states`.
    pub fn is_error(self) -> bool {
        Class::ALL.iter().position(|c| *c == self).unwrap_or(0) >= 14
    }

    /// `instanceof`: this class is `other` or descends from it.
    pub fn is_a(self, other: Class) -> bool {
        let mut c = Some(self);
        while let Some(k) = c {
            if k == other {
                return true;
            }
            c = k.parent();
        }
        false
    }
}

/// §5.4: whether recording an outcome of class `incoming` replaces the run's `current` state.
/// (The stale-cache fallback is decided before this, by the shell with [`crate::cache`].)
pub fn promotes(current: Class, incoming: Class) -> bool {
    if incoming.is_a(Class::NetworkError) {
        current.is_a(Class::VerificationIncomplete)
    } else if incoming.is_a(Class::Ok) {
        current.is_a(Class::Ok) || current.is_a(Class::VerificationIncomplete)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_instanceof_facts() {
        assert!(Class::RequestTimeout.is_a(Class::ServerError));
        assert!(Class::RequestTimeout.is_a(Class::NetworkError));
        assert!(Class::ConnectionError.is_a(Class::NetworkError));
        assert!(!Class::ConnectionError.is_a(Class::ServerError));
        assert!(Class::OkStaleCache.is_a(Class::OkCache) && Class::OkStaleCache.is_a(Class::Ok));
        assert!(Class::NotInstalled.is_a(Class::NeedsInstall));
        assert!(Class::NoReceipts.is_a(Class::NeedsInstall));
        assert!(Class::MozAppsError.is_a(Class::InternalError));
        assert!(Class::VerifierError.is_a(Class::InternalError));
        assert!(Class::ReceiptParseError.is_a(Class::ReceiptFormatError));
        for c in [
            Class::AlgorithmNotAllowed,
            Class::UnsupportedHeader,
            Class::UnknownSigningKey,
            Class::InvalidSignature,
            Class::CertificateError,
        ] {
            assert!(c.is_a(Class::ReceiptSignatureError));
            assert!(!c.is_a(Class::ReceiptFormatError));
        }
    }

    #[test]
    fn parents_come_before_children_and_names_round_trip() {
        for (i, c) in Class::ALL.iter().enumerate() {
            if let Some(p) = c.parent() {
                let pi = Class::ALL.iter().position(|x| *x == p);
                assert!(pi.is_some_and(|pi| pi < i), "{c:?}");
            }
            assert_eq!(Class::from_name(c.name()), Some(*c));
        }
        assert_eq!(Class::ALL.iter().filter(|c| !c.is_error()).count(), 14);
        assert_eq!(Class::ALL.iter().filter(|c| c.is_error()).count(), 20);
    }

    #[test]
    fn promotion_rules() {
        use Class::*;
        assert!(promotes(VerificationIncomplete, ConnectionError));
        assert!(!promotes(ConnectionError, RequestTimeout), "first NetworkError wins");
        assert!(!promotes(OkCache, ConnectionError), "NetworkError never replaces OK family");
        assert!(promotes(Ok, OkCache));
        assert!(promotes(VerificationIncomplete, OkStaleCache));
        assert!(!promotes(ConnectionError, OkCache));
        assert!(!promotes(VerificationIncomplete, InvalidSignature));
        assert!(!promotes(VerificationIncomplete, Refunded));
    }
}
