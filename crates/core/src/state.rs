//! The state and error tree of §5.2 and §5.3, and the promotion rule of §5.4.
//!
//! The shell builds one JS constructor per [`Class`] with the parent given by [`Class::parent`],
//! so `instanceof` in JS and [`Class::is_a`] here always agree.

/// Every state and error class. States first (§5.2), then errors (§5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    // States (§5.2)
    VerificationIncomplete,
    NeedsInstall,
    NotInstalled,
    NoReceipts,
    MozAppsNotSupported,
    NetworkError,
    ServerError,
    NoValidReceipts,
    Ok,
    OkCache,
    OkStaleCache,
    InternalError,
    MozAppsError,
    VerifierError,
    // Errors (§5.3)
    ReceiptFormatError,
    ReceiptParseError,
    ReceiptSignatureError,
    AlgorithmNotAllowed,
    UnsupportedHeader,
    UnknownSigningKey,
    InvalidSignature,
    CertificateError,
    ReceiptNotYetValid,
    ReceiptExpired,
    WrongType,
    ProductUrlError,
    InvalidReceiptIssuer,
    VerifyDomainMismatch,
    InvalidFromStore,
    Refunded,
    ConnectionError,
    RequestTimeout,
    ServerStatusError,
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
