//! Which client API a request speaks, decided by the ending of its path (contract: "APIs
//! served"), before anything else — so that even an authentication or routing error is
//! answered in that API's error shape.

/// A client API the gateway serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Api {
    /// OpenAI Chat Completions: `.../chat/completions` and any other path a route matches.
    #[default]
    Chat,
    /// Anthropic Messages: `.../messages`.
    Messages,
    /// Anthropic token counting: `.../messages/count_tokens`.
    CountTokens,
    /// OpenAI Responses (stateless): `.../responses`.
    Responses,
    /// OpenAI embeddings: `.../embeddings`.
    Embeddings,
    /// OpenAI model list and lookup: `/v1/models`, `/v1/models/{id}`.
    Models,
}

/// The error body shape an API's clients understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    /// `{"error":{"message","type","param","code"}}`.
    OpenAi,
    /// `{"type":"error","error":{"type","message"}}`.
    Anthropic,
}

impl Api {
    /// The API a request path names. A trailing `/` is ignored.
    pub(crate) fn of(path: &str) -> Api {
        let p = path.strip_suffix('/').unwrap_or(path);
        if p == "/v1/models" || p.starts_with("/v1/models/") {
            Api::Models
        } else if p.ends_with("/messages/count_tokens") {
            Api::CountTokens
        } else if p.ends_with("/messages") {
            Api::Messages
        } else if p.ends_with("/responses") {
            Api::Responses
        } else if p.ends_with("/embeddings") {
            Api::Embeddings
        } else {
            Api::Chat
        }
    }

    /// How this API's errors are written.
    pub(crate) fn error_shape(self) -> ErrorShape {
        match self {
            Api::Messages | Api::CountTokens => ErrorShape::Anthropic,
            Api::Chat | Api::Responses | Api::Embeddings | Api::Models => ErrorShape::OpenAi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_ending_names_the_api() {
        for (path, api) in [
            ("/v1/chat/completions", Api::Chat),
            ("/openai/v1/chat/completions", Api::Chat),
            ("/anything/the/route/matches", Api::Chat),
            ("/v1/messages", Api::Messages),
            ("/v1/messages/", Api::Messages),
            ("/anthropic/v1/messages", Api::Messages),
            ("/v1/messages/count_tokens", Api::CountTokens),
            ("/v1/responses", Api::Responses),
            ("/v1/embeddings", Api::Embeddings),
            ("/v1/models", Api::Models),
            ("/v1/models/amazon.nova-micro-v1:0", Api::Models),
            ("/v1/modelsx", Api::Chat),
            ("/v1/messages/batches", Api::Chat),
        ] {
            assert_eq!(Api::of(path), api, "{path}");
        }
        assert_eq!(Api::Messages.error_shape(), ErrorShape::Anthropic);
        assert_eq!(Api::CountTokens.error_shape(), ErrorShape::Anthropic);
        assert_eq!(Api::Responses.error_shape(), ErrorShape::OpenAi);
    }
}
