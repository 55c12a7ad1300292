//! Well-known Bedrock model ids (cross-region inference profiles and on-demand ids), listed by
//! `GET /v1/models` for routes that accept any model (no fixed backend model, no exact match):
//! a client that discovers models by listing them finds these. Any other id a route accepts can
//! still be sent; this list only makes discovery useful. Text, chat and embedding models.

/// Model ids, grouped by provider, newest first within a provider.
pub(crate) const KNOWN_MODELS: &[&str] = &[
    "us.anthropic.claude-opus-4-5-20251101-v1:0",
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "us.anthropic.claude-opus-4-1-20250805-v1:0",
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "us.amazon.nova-premier-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.nova-micro-v1:0",
    "us.meta.llama4-maverick-17b-instruct-v1:0",
    "us.meta.llama4-scout-17b-instruct-v1:0",
    "us.meta.llama3-3-70b-instruct-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "us.mistral.pixtral-large-2502-v1:0",
    "us.deepseek.r1-v1:0",
    "openai.gpt-oss-120b-1:0",
    "openai.gpt-oss-20b-1:0",
    "amazon.titan-embed-text-v2:0",
    "amazon.nova-2-multimodal-embeddings-v1:0",
    "cohere.embed-english-v3",
    "cohere.embed-multilingual-v3",
    "cohere.embed-v4:0",
];

/// Who provides a model, for the OpenAI `owned_by` field: the provider segment of the id
/// (`us.anthropic.claude-…` → `anthropic`), or `aws-bedrock` when the id has none (an ARN, a
/// name without `provider.`).
pub(crate) fn provider(model_id: &str) -> &str {
    if !model_id.contains('.') {
        return "aws-bedrock";
    }
    let mut parts = model_id.split('.');
    let first = parts.next().unwrap_or("");
    let provider = if matches!(first, "us" | "eu" | "apac" | "global" | "jp" | "au" | "ca") {
        parts.next().unwrap_or("")
    } else {
        first
    };
    if provider.is_empty() || provider.contains(':') || provider.contains('/') {
        "aws-bedrock"
    } else {
        provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_is_the_segment_after_a_region_prefix() {
        assert_eq!(
            provider("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "anthropic"
        );
        assert_eq!(provider("amazon.nova-micro-v1:0"), "amazon");
        assert_eq!(
            provider("global.anthropic.claude-haiku-4-5-20251001-v1:0"),
            "anthropic"
        );
        assert_eq!(provider("my-model"), "aws-bedrock");
        assert_eq!(
            provider("arn:aws:bedrock:us-east-1:1:inference-profile/x"),
            "aws-bedrock"
        );
        assert_eq!(provider(""), "aws-bedrock");
    }

    #[test]
    fn every_known_id_is_unique() {
        for (i, a) in KNOWN_MODELS.iter().enumerate() {
            assert!(!KNOWN_MODELS[i + 1..].contains(a), "{a}");
        }
    }
}
