//! The one error type every request path returns, and the gateway's error policy: its
//! exhaustive mapping to an HTTP status, an error code and type, a bounded metric label and
//! retryability. Each client API renders it in its own wire shape (`openai::error_body`).

use crate::bedrock::exceptions::BedrockError;
pub(crate) use crate::bedrock::exceptions::BedrockErrorKind;
use std::fmt;

/// Every failure a client can see. Each variant maps to exactly one status, OpenAI error type,
/// OpenAI code and metric label (see the `match`es below: no wildcard arms on purpose).
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayError {
    /// The request body is not valid JSON, or a field has the wrong type.
    InvalidJson {
        /// The parser's complaint, shown after "invalid JSON body: ".
        message: String,
    },
    /// A valid JSON request that breaks a rule (missing `messages`, bad value ...).
    InvalidRequest {
        /// The rule broken, shown to the client as the whole error message.
        message: String,
        /// The request field at fault (OpenAI `error.param`), when one can be named.
        param: Option<String>,
    },
    /// A field Bedrock cannot honour; `param` names it.
    Unsupported {
        /// The request field Bedrock cannot honour (OpenAI `error.param`).
        param: String,
        /// Why it cannot be honoured, shown to the client as the whole error message.
        message: String,
    },
    /// The body exceeds `limits.maxBodyBytes`.
    BodyTooLarge {
        /// The listener's limit in bytes, quoted in the message.
        limit: usize,
    },
    /// A request body in a `Content-Encoding` the gateway does not decode.
    UnsupportedEncoding {
        /// The encoding the client named (at most 32 characters).
        encoding: String,
    },
    /// Known path, wrong method.
    MethodNotAllowed {
        /// The HTTP method the client used.
        method: String,
        /// The request path, as the client sent it.
        path: String,
    },
    /// No route for this path.
    NotFound {
        /// The HTTP method the client used.
        method: String,
        /// The request path that no route serves.
        path: String,
    },
    /// A route exists for the path, but none accepts this `model`.
    ModelNotFound {
        /// The client's `model`, quoted back in the message.
        model: String,
    },
    /// Bedrock answered with an error (before or during the stream).
    Bedrock {
        /// Bedrock's exception, which decides the client's status, code and retryability.
        kind: BedrockErrorKind,
        /// The HTTP status Bedrock sent (or would have, for an in-stream exception); passed
        /// through to the client only for a 4xx of an unknown kind.
        status: u16,
        /// Bedrock's own message, shown after "Bedrock: ".
        message: String,
    },
    /// Could not connect to / talk to Bedrock at all.
    UpstreamUnreachable {
        /// The DNS, connect or I/O failure, shown after "could not reach Bedrock: ".
        message: String,
    },
    /// Bedrock did not answer in time.
    UpstreamTimeout {
        /// Which timeout expired, shown after "Bedrock timed out: ".
        message: String,
    },
    /// Bedrock answered something we cannot read.
    UpstreamBadResponse {
        /// What could not be read, shown after "unreadable answer from Bedrock: ".
        message: String,
    },
    /// No valid credentials could be obtained for signing.
    CredentialsUnavailable {
        /// Why the credential source failed, shown after "AWS credentials are unavailable: ".
        message: String,
    },
    /// The listener requires a client API key and none (or a wrong one) was presented.
    Unauthenticated,
    /// `limits.maxConcurrentRequests` reached.
    Overloaded {
        /// The listener's concurrent-request limit, quoted in the message.
        limit: usize,
    },
    /// `server.maxInFlightBodyBytes` stayed exhausted while the request waited for room.
    BodyBudget {
        /// The process-wide budget in bytes, quoted in the message.
        budget: usize,
    },
    /// A `rateLimit` policy refused the request before any Bedrock call.
    RateLimited {
        /// What ran out: `requests` or `tokens` (OpenAI's `error.type` for a rate limit).
        kind: &'static str,
        /// The limit, e.g. `600 requests per 1m0s`, quoted in the message.
        limit: String,
        /// Whole seconds until the limit has room again (`Retry-After`), at least 1.
        retry_after_secs: u64,
    },
    /// The Redis store of a `rateLimit` policy with `failMode: closed` cannot be reached.
    RateLimitStoreUnavailable,
    /// The client went away (a write to it failed); nothing more can be sent.
    ClientGone {
        /// What failed when writing to the client (never sent: the client is gone).
        message: String,
    },
    /// A bug or an impossible state; never caused by client input.
    Internal {
        /// What went wrong, shown after "internal gateway error: ".
        message: String,
    },
}

impl GatewayError {
    /// An [`InvalidRequest`](Self::InvalidRequest), naming the field at fault when there is one.
    pub(crate) fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// An [`Unsupported`](Self::Unsupported) error for the request field `param`.
    pub(crate) fn unsupported(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unsupported {
            param: param.into(),
            message: message.into(),
        }
    }

    /// The HTTP status the client receives.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidJson { .. } | Self::InvalidRequest { .. } | Self::Unsupported { .. } => {
                400
            }
            Self::BodyTooLarge { .. } => 413,
            Self::UnsupportedEncoding { .. } => 415,
            Self::MethodNotAllowed { .. } => 405,
            Self::NotFound { .. } | Self::ModelNotFound { .. } => 404,
            Self::Bedrock { kind, status, .. } => bedrock_status(*kind, *status),
            Self::UpstreamUnreachable { .. } | Self::UpstreamBadResponse { .. } => 502,
            Self::UpstreamTimeout { .. } => 504,
            Self::CredentialsUnavailable { .. } => 503,
            Self::Unauthenticated => 401,
            Self::Overloaded { .. } | Self::BodyBudget { .. } => 503,
            Self::RateLimited { .. } => 429,
            Self::RateLimitStoreUnavailable => 503,
            Self::ClientGone { .. } => 499,
            Self::Internal { .. } => 500,
        }
    }

    /// OpenAI `error.type`.
    pub(crate) fn openai_type(&self) -> &'static str {
        if let Self::RateLimited { kind, .. } = self {
            // OpenAI names what ran out: `requests` or `tokens`.
            return kind;
        }
        match self.status() {
            401 => "authentication_error",
            403 => "permission_error",
            429 => "rate_limit_error",
            400..=499 => "invalid_request_error",
            _ => "server_error",
        }
    }

    /// Anthropic `error.type`: `invalid_request_error`, `authentication_error`,
    /// `permission_error`, `not_found_error`, `request_too_large`, `rate_limit_error`,
    /// `api_error` or `overloaded_error`.
    pub(crate) fn anthropic_type(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. }
            | Self::InvalidRequest { .. }
            | Self::Unsupported { .. }
            | Self::UnsupportedEncoding { .. }
            | Self::MethodNotAllowed { .. } => "invalid_request_error",
            Self::BodyTooLarge { .. } => "request_too_large",
            Self::NotFound { .. } | Self::ModelNotFound { .. } => "not_found_error",
            Self::Unauthenticated => "authentication_error",
            Self::Overloaded { .. } | Self::BodyBudget { .. } => "overloaded_error",
            Self::RateLimited { .. } => "rate_limit_error",
            Self::RateLimitStoreUnavailable => "api_error",
            Self::Bedrock { kind, .. } => match kind {
                BedrockErrorKind::ServiceUnavailable => "overloaded_error",
                BedrockErrorKind::ResourceNotFound => "not_found_error",
                _ => match self.status() {
                    401 => "authentication_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    413 => "request_too_large",
                    429 => "rate_limit_error",
                    400..=499 => "invalid_request_error",
                    _ => "api_error",
                },
            },
            Self::UpstreamUnreachable { .. }
            | Self::UpstreamTimeout { .. }
            | Self::UpstreamBadResponse { .. }
            | Self::CredentialsUnavailable { .. }
            | Self::ClientGone { .. }
            | Self::Internal { .. } => "api_error",
        }
    }

    /// The HTTP status on the Anthropic API: as [`Self::status`], except that an
    /// `overloaded_error` is Anthropic's 529.
    pub fn anthropic_status(&self) -> u16 {
        if self.anthropic_type() == "overloaded_error" {
            529
        } else {
            self.status()
        }
    }

    /// OpenAI `error.code`.
    pub(crate) fn code(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::Unsupported { .. } => "unsupported_parameter",
            Self::BodyTooLarge { .. } => "request_too_large",
            Self::UnsupportedEncoding { .. } => "unsupported_content_encoding",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::NotFound { .. } => "not_found",
            Self::ModelNotFound { .. } => "model_not_found",
            Self::Bedrock { kind, .. } => bedrock_code(*kind),
            Self::UpstreamUnreachable { .. } => "upstream_unreachable",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::UpstreamBadResponse { .. } => "upstream_bad_response",
            Self::CredentialsUnavailable { .. } => "credentials_unavailable",
            Self::Unauthenticated => "invalid_api_key",
            Self::Overloaded { .. } | Self::BodyBudget { .. } => "overloaded",
            Self::RateLimited { .. } => "rate_limit_exceeded",
            Self::RateLimitStoreUnavailable => "rate_limit_store_unavailable",
            Self::ClientGone { .. } => "client_closed_request",
            Self::Internal { .. } => "internal_error",
        })
    }

    /// `error.param`: the request field at fault, when there is one.
    pub fn param(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { param, .. } => param.as_deref(),
            Self::Unsupported { param, .. } => Some(param),
            Self::ModelNotFound { .. } => Some("model"),
            Self::InvalidJson { .. }
            | Self::BodyTooLarge { .. }
            | Self::UnsupportedEncoding { .. }
            | Self::MethodNotAllowed { .. }
            | Self::NotFound { .. }
            | Self::Bedrock { .. }
            | Self::UpstreamUnreachable { .. }
            | Self::UpstreamTimeout { .. }
            | Self::UpstreamBadResponse { .. }
            | Self::CredentialsUnavailable { .. }
            | Self::Unauthenticated
            | Self::Overloaded { .. }
            | Self::BodyBudget { .. }
            | Self::RateLimited { .. }
            | Self::RateLimitStoreUnavailable
            | Self::ClientGone { .. }
            | Self::Internal { .. } => None,
        }
    }

    /// Bounded label for metrics and access logs (`error_type`).
    pub(crate) fn metric_label(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::Unsupported { .. } => "unsupported_parameter",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::UnsupportedEncoding { .. } => "unsupported_encoding",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::NotFound { .. } => "not_found",
            Self::ModelNotFound { .. } => "model_not_found",
            Self::Bedrock { kind, .. } => bedrock_label(*kind),
            Self::UpstreamUnreachable { .. } => "upstream_unreachable",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::UpstreamBadResponse { .. } => "upstream_bad_response",
            Self::CredentialsUnavailable { .. } => "credentials_unavailable",
            Self::Unauthenticated => "unauthenticated",
            Self::Overloaded { .. } => "overloaded",
            Self::BodyBudget { .. } => "body_budget",
            Self::RateLimited { .. } => "rate_limited",
            Self::RateLimitStoreUnavailable => "rate_limit_store_unavailable",
            Self::ClientGone { .. } => "client_gone",
            Self::Internal { .. } => "internal",
        }
    }

    /// Whether an OpenAI SDK should retry (sent as `x-should-retry`).
    pub(crate) fn retryable(&self) -> bool {
        matches!(self.status(), 429 | 500..=599) && !matches!(self, Self::Internal { .. })
    }

    /// The human-readable message.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl From<BedrockError> for GatewayError {
    fn from(e: BedrockError) -> Self {
        GatewayError::Bedrock {
            kind: e.kind,
            status: e.status,
            message: e.message,
        }
    }
}

fn bedrock_status(kind: BedrockErrorKind, upstream_status: u16) -> u16 {
    match kind {
        BedrockErrorKind::Validation => 400,
        BedrockErrorKind::AccessDenied => 403,
        BedrockErrorKind::UnrecognizedClient
        | BedrockErrorKind::InvalidSignature
        | BedrockErrorKind::ExpiredToken => 401,
        BedrockErrorKind::ResourceNotFound => 404,
        BedrockErrorKind::Throttling
        | BedrockErrorKind::ModelNotReady
        | BedrockErrorKind::ServiceQuotaExceeded => 429,
        BedrockErrorKind::ModelTimeout => 504,
        BedrockErrorKind::ModelError | BedrockErrorKind::ModelStreamError => 502,
        BedrockErrorKind::InternalServer => 502,
        BedrockErrorKind::ServiceUnavailable => 503,
        BedrockErrorKind::Unknown => match upstream_status {
            400..=499 => upstream_status,
            _ => 502,
        },
    }
}

fn bedrock_code(kind: BedrockErrorKind) -> &'static str {
    match kind {
        BedrockErrorKind::Validation => "invalid_request",
        BedrockErrorKind::AccessDenied => "access_denied",
        BedrockErrorKind::UnrecognizedClient => "invalid_credentials",
        BedrockErrorKind::InvalidSignature => "invalid_signature",
        BedrockErrorKind::ExpiredToken => "expired_credentials",
        BedrockErrorKind::ResourceNotFound => "model_not_found",
        BedrockErrorKind::Throttling
        | BedrockErrorKind::ModelNotReady
        | BedrockErrorKind::ServiceQuotaExceeded => "rate_limit_exceeded",
        BedrockErrorKind::ModelTimeout => "model_timeout",
        BedrockErrorKind::ModelError => "model_error",
        BedrockErrorKind::ModelStreamError => "model_stream_error",
        BedrockErrorKind::InternalServer => "upstream_internal_error",
        BedrockErrorKind::ServiceUnavailable => "service_unavailable",
        BedrockErrorKind::Unknown => "upstream_error",
    }
}

fn bedrock_label(kind: BedrockErrorKind) -> &'static str {
    match kind {
        BedrockErrorKind::Validation => "bedrock_validation",
        BedrockErrorKind::AccessDenied => "bedrock_access_denied",
        BedrockErrorKind::UnrecognizedClient => "bedrock_unrecognized_client",
        BedrockErrorKind::InvalidSignature => "bedrock_invalid_signature",
        BedrockErrorKind::ExpiredToken => "bedrock_expired_token",
        BedrockErrorKind::ResourceNotFound => "bedrock_not_found",
        BedrockErrorKind::Throttling => "bedrock_throttling",
        BedrockErrorKind::ModelNotReady => "bedrock_model_not_ready",
        BedrockErrorKind::ServiceQuotaExceeded => "bedrock_quota_exceeded",
        BedrockErrorKind::ModelTimeout => "bedrock_model_timeout",
        BedrockErrorKind::ModelError => "bedrock_model_error",
        BedrockErrorKind::ModelStreamError => "bedrock_model_stream_error",
        BedrockErrorKind::InternalServer => "bedrock_internal",
        BedrockErrorKind::ServiceUnavailable => "bedrock_unavailable",
        BedrockErrorKind::Unknown => "bedrock_other",
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson { message } => write!(f, "invalid JSON body: {message}"),
            Self::InvalidRequest { message, .. } => f.write_str(message),
            Self::Unsupported { message, .. } => f.write_str(message),
            Self::BodyTooLarge { limit } => {
                write!(f, "request body exceeds the limit of {limit} bytes")
            }
            Self::UnsupportedEncoding { encoding } => write!(
                f,
                "request bodies in Content-Encoding `{encoding}` are not accepted; send identity or gzip"
            ),
            Self::MethodNotAllowed { method, path } => {
                write!(f, "method {method} is not allowed on {path}")
            }
            Self::NotFound { method, path } => write!(f, "no route for {method} {path}"),
            Self::ModelNotFound { model } => {
                write!(f, "the model `{model}` does not exist or is not served by this gateway")
            }
            Self::Bedrock { message, .. } => write!(f, "Bedrock: {message}"),
            Self::UpstreamUnreachable { message } => {
                write!(f, "could not reach Bedrock: {message}")
            }
            Self::UpstreamTimeout { message } => write!(f, "Bedrock timed out: {message}"),
            Self::UpstreamBadResponse { message } => {
                write!(f, "unreadable answer from Bedrock: {message}")
            }
            Self::CredentialsUnavailable { message } => {
                write!(f, "AWS credentials are unavailable: {message}")
            }
            Self::Unauthenticated => f.write_str(
                "missing or invalid API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
            ),
            Self::Overloaded { limit } => write!(
                f,
                "the gateway is at its limit of {limit} concurrent requests; retry shortly"
            ),
            Self::BodyBudget { budget } => write!(
                f,
                "the gateway is holding its limit of {budget} bytes of request bodies; retry shortly"
            ),
            Self::RateLimited {
                kind,
                limit,
                retry_after_secs,
            } => write!(
                f,
                "rate limit reached for {kind} ({limit}); try again in {retry_after_secs}s"
            ),
            Self::RateLimitStoreUnavailable => f.write_str(
                "the rate-limit store is unavailable and this route's policy admits no request                  without it; retry shortly",
            ),
            Self::ClientGone { message } => write!(f, "client went away: {message}"),
            Self::Internal { message } => write!(f, "internal gateway error: {message}"),
        }
    }
}

impl std::error::Error for GatewayError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_status_table() {
        let b = |kind, status| GatewayError::Bedrock {
            kind,
            status,
            message: "m".into(),
        };
        use BedrockErrorKind as K;
        let table = [
            (K::Validation, 400, 400, "invalid_request_error"),
            (K::AccessDenied, 403, 403, "permission_error"),
            (K::UnrecognizedClient, 403, 401, "authentication_error"),
            (K::InvalidSignature, 403, 401, "authentication_error"),
            (K::ResourceNotFound, 404, 404, "invalid_request_error"),
            (K::Throttling, 429, 429, "rate_limit_error"),
            (K::ModelNotReady, 429, 429, "rate_limit_error"),
            (K::ModelTimeout, 408, 504, "server_error"),
            (K::ModelError, 424, 502, "server_error"),
            (K::InternalServer, 500, 502, "server_error"),
            (K::ServiceUnavailable, 503, 503, "server_error"),
            (K::Unknown, 418, 418, "invalid_request_error"),
            (K::Unknown, 599, 502, "server_error"),
        ];
        for (kind, up, want, ty) in table {
            let e = b(kind, up);
            assert_eq!(e.status(), want, "{kind:?}");
            assert_eq!(e.openai_type(), ty, "{kind:?}");
        }
        assert_eq!(
            b(K::Throttling, 429).code(),
            Some("rate_limit_exceeded"),
            "issue 2 asks for code rate_limit_exceeded"
        );
    }

    #[test]
    fn rate_limit_errors() {
        let e = GatewayError::RateLimited {
            kind: "tokens",
            limit: "1000 tokens per 1m0s".into(),
            retry_after_secs: 7,
        };
        assert_eq!(
            (e.status(), e.openai_type(), e.code(), e.metric_label()),
            (429, "tokens", Some("rate_limit_exceeded"), "rate_limited")
        );
        assert!(e.retryable());
        assert_eq!(
            e.message(),
            "rate limit reached for tokens (1000 tokens per 1m0s); try again in 7s"
        );
        let e = GatewayError::RateLimitStoreUnavailable;
        assert_eq!(
            (e.status(), e.openai_type(), e.code(), e.metric_label()),
            (
                503,
                "server_error",
                Some("rate_limit_store_unavailable"),
                "rate_limit_store_unavailable"
            )
        );
        assert!(e.retryable());
    }
}
