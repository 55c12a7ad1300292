//! The one table of Bedrock exception facts (name ↔ HTTP status ↔ kind), read by the gateway to
//! classify errors and by the simulator to produce them.

/// An error Bedrock reported, by the exception name it carried (header `x-amzn-ErrorType`,
/// body `__type`/`code`, or an event-stream `:exception-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BedrockErrorKind {
    /// `ValidationException`.
    Validation,
    /// `AccessDeniedException`.
    AccessDenied,
    /// `UnrecognizedClientException` (bad or unknown credentials).
    UnrecognizedClient,
    /// `InvalidSignatureException` / `SignatureDoesNotMatch`.
    InvalidSignature,
    /// `ExpiredTokenException`.
    ExpiredToken,
    /// `ResourceNotFoundException`.
    ResourceNotFound,
    /// `ThrottlingException`.
    Throttling,
    /// `ModelNotReadyException`.
    ModelNotReady,
    /// `ServiceQuotaExceededException`.
    ServiceQuotaExceeded,
    /// `ModelTimeoutException`.
    ModelTimeout,
    /// `ModelErrorException`.
    ModelError,
    /// `ModelStreamErrorException`.
    ModelStreamError,
    /// `InternalServerException` / `InternalFailure`.
    InternalServer,
    /// `ServiceUnavailableException`.
    ServiceUnavailable,
    /// An exception name we do not know; classified by the HTTP status alone.
    Unknown,
}

/// One exception: its kind, the names it travels under (first = canonical), and the HTTP
/// status Bedrock answers it with.
pub(crate) struct Exception {
    /// The kind.
    pub(crate) kind: BedrockErrorKind,
    /// Canonical name first, then aliases.
    pub(crate) names: &'static [&'static str],
    /// Bedrock's HTTP status for it.
    pub(crate) status: u16,
}

/// Every exception Bedrock's runtime (Converse, ConverseStream, auth layer) is known to send.
pub(crate) const EXCEPTIONS: &[Exception] = &[
    ex(K::Validation, &["ValidationException"], 400),
    ex(K::AccessDenied, &["AccessDeniedException"], 403),
    ex(K::UnrecognizedClient, &["UnrecognizedClientException"], 403),
    ex(
        K::InvalidSignature,
        &["InvalidSignatureException", "SignatureDoesNotMatch"],
        403,
    ),
    ex(K::ExpiredToken, &["ExpiredTokenException"], 403),
    ex(K::ResourceNotFound, &["ResourceNotFoundException"], 404),
    ex(K::ModelTimeout, &["ModelTimeoutException"], 408),
    ex(K::Throttling, &["ThrottlingException"], 429),
    ex(K::ModelNotReady, &["ModelNotReadyException"], 429),
    ex(
        K::ServiceQuotaExceeded,
        &["ServiceQuotaExceededException"],
        400,
    ),
    ex(K::ModelError, &["ModelErrorException"], 424),
    ex(K::ModelStreamError, &["ModelStreamErrorException"], 424),
    ex(
        K::InternalServer,
        &["InternalServerException", "InternalFailure"],
        500,
    ),
    ex(K::ServiceUnavailable, &["ServiceUnavailableException"], 503),
];

use BedrockErrorKind as K;

const fn ex(kind: BedrockErrorKind, names: &'static [&'static str], status: u16) -> Exception {
    Exception {
        kind,
        names,
        status,
    }
}

impl BedrockErrorKind {
    /// Parse an AWS error code such as `ThrottlingException`,
    /// `ThrottlingException:http://internal.amazon.com/coral/...`, `com.amazon#ThrottlingException`
    /// or the camelCase event-stream form `throttlingException`.
    pub(crate) fn from_code(code: &str) -> Self {
        let code = code.split(':').next().unwrap_or(code);
        let code = code.rsplit('#').next().unwrap_or(code).trim();
        EXCEPTIONS
            .iter()
            .find(|e| e.names.iter().any(|n| n.eq_ignore_ascii_case(code)))
            .map_or(Self::Unknown, |e| e.kind)
    }

    /// The status-only classification used when no exception name was sent.
    pub(crate) fn from_status(status: u16) -> Self {
        match status {
            400 => Self::Validation,
            401 | 403 => Self::AccessDenied,
            404 => Self::ResourceNotFound,
            408 => Self::ModelTimeout,
            424 => Self::ModelError,
            429 => Self::Throttling,
            503 => Self::ServiceUnavailable,
            500..=599 => Self::InternalServer,
            _ => Self::Unknown,
        }
    }

    fn entry(self) -> Option<&'static Exception> {
        EXCEPTIONS.iter().find(|e| e.kind == self)
    }

    /// The canonical exception name (`Unknown` has none).
    #[cfg(test)]
    pub(crate) fn name(self) -> Option<&'static str> {
        self.entry().and_then(|e| e.names.first().copied())
    }

    /// The HTTP status Bedrock answers this exception with (`Unknown`: 500).
    pub(crate) fn http_status(self) -> u16 {
        self.entry().map_or(500, |e| e.status)
    }
}

/// The HTTP status Bedrock uses for an exception name (unknown names: 500).
#[cfg(any(test, feature = "simulator"))]
pub(crate) fn status_of(name: &str) -> u16 {
    BedrockErrorKind::from_code(name).http_status()
}

/// An error Bedrock answered, decoded: what the gateway maps to its own error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BedrockError {
    /// The exception's kind.
    pub(crate) kind: BedrockErrorKind,
    /// The HTTP status Bedrock sent (or would have sent, for an in-stream exception).
    pub(crate) status: u16,
    /// Bedrock's message, scrubbed of credentials and addresses and bounded in length.
    pub(crate) message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_all_spellings() {
        assert_eq!(
            BedrockErrorKind::from_code(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"
            ),
            K::Throttling
        );
        assert_eq!(
            BedrockErrorKind::from_code("com.amazon.coral#ValidationException"),
            K::Validation
        );
        assert_eq!(
            BedrockErrorKind::from_code("modelStreamErrorException"),
            K::ModelStreamError
        );
        assert_eq!(BedrockErrorKind::from_code("SomethingNew"), K::Unknown);
        assert_eq!(
            BedrockErrorKind::from_code("InternalFailure"),
            K::InternalServer
        );
    }

    #[test]
    fn every_kind_but_unknown_is_in_the_table_once_and_round_trips() {
        for e in EXCEPTIONS {
            assert_eq!(EXCEPTIONS.iter().filter(|o| o.kind == e.kind).count(), 1);
            for n in e.names {
                assert_eq!(BedrockErrorKind::from_code(n), e.kind, "{n}");
                assert_eq!(status_of(n), e.status, "{n}");
            }
            assert_eq!(e.kind.name(), e.names.first().copied());
        }
        assert_eq!(K::Unknown.name(), None);
        assert_eq!(status_of("NoSuchThing"), 500);
    }
}
