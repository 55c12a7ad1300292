//! Bedrock runtime protocol mechanics: wire types, endpoint paths, request signing, the
//! exception table and error decoding. Knows AWS; knows nothing of OpenAI or of the gateway.

pub(crate) mod catalog;
pub(crate) mod error;
pub mod eventstream;
pub(crate) mod exceptions;
pub mod sigv4;
pub(crate) mod types;

pub use types::TokenUsage;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters the AWS SDKs leave unescaped in a URI label (botocore `SAFE_CHARS='-._~'`).
const LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Which Bedrock runtime operation to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `Converse`: the whole answer as one JSON body.
    Converse,
    /// `ConverseStream`: the answer as an event stream.
    ConverseStream,
    /// `InvokeModel`: the model's native JSON body in, its JSON answer out (embeddings).
    Invoke,
    /// `CountTokens`: the input tokens a Converse request would take.
    CountTokens,
}

/// `/model/{modelId}/converse[-stream]`, `/invoke` or `/count-tokens` with the model id percent-encoded as the SDKs do
/// (`:` → `%3A`, `/` → `%2F`).
pub(crate) fn model_path(model_id: &str, op: Operation) -> String {
    let suffix = match op {
        Operation::Converse => "/converse",
        Operation::ConverseStream => "/converse-stream",
        Operation::Invoke => "/invoke",
        Operation::CountTokens => "/count-tokens",
    };
    let mut path = String::with_capacity(model_id.len() + 24);
    path.push_str("/model/");
    path.extend(utf8_percent_encode(model_id, LABEL));
    path.push_str(suffix);
    path
}

/// The default endpoint of a region (`https://bedrock-runtime.<region>.amazonaws.com`).
pub(crate) fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://bedrock-runtime.{region}.{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_encoded_like_the_sdk() {
        assert_eq!(
            model_path(
                "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
                Operation::Converse
            ),
            "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"
        );
        assert_eq!(
            model_path(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
                Operation::ConverseStream
            ),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse-stream"
        );
        assert_eq!(
            model_path("amazon.titan-embed-text-v2:0", Operation::Invoke),
            "/model/amazon.titan-embed-text-v2%3A0/invoke"
        );
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            default_endpoint("us-east-1"),
            "https://bedrock-runtime.us-east-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("cn-north-1"),
            "https://bedrock-runtime.cn-north-1.amazonaws.com.cn"
        );
    }
}
