//! Which model family a Bedrock model id belongs to, and so which reasoning and prompt-caching
//! fields it accepts. Pure inspection of the id (ARNs and inference-profile prefixes such as
//! `us.`, `eu.`, `global.` included); opaque ARNs take the backend's `modelFamily` override.

use serde::Serialize;

/// A family of models that share request rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ModelFamily {
    /// Claude 3.5: prompt caching, no extended thinking.
    Claude,
    /// Claude with budget thinking (`thinking: {type: enabled, budget_tokens}`): 3.7, 4, 4.1, 4.5.
    ClaudeThinking,
    /// Claude with adaptive thinking (`thinking: {type: adaptive}` + `outputConfig.effort`):
    /// 4.6 (where budget thinking is deprecated), Opus 4.7 and later, the 5.x family.
    ClaudeAdaptive,
    /// Amazon Nova 1 (micro, lite, pro, premier): caches system and messages, not tools.
    Nova,
    /// Amazon Nova 2: as Nova, plus `reasoningConfig`.
    #[serde(rename = "nova-2")]
    Nova2,
    /// OpenAI gpt-oss: `reasoning_effort` in the additional fields.
    GptOss,
    /// Anything else (Llama, Mistral, DeepSeek, Claude 3.0 and older, ...): no cache points, no
    /// reasoning fields.
    Other,
}

impl ModelFamily {
    /// The names accepted by `backends[].ai.provider.bedrock.modelFamily`.
    pub(crate) const NAMES: &'static [(&'static str, ModelFamily)] = &[
        ("claude", ModelFamily::Claude),
        ("claude-thinking", ModelFamily::ClaudeThinking),
        ("claude-adaptive", ModelFamily::ClaudeAdaptive),
        ("nova", ModelFamily::Nova),
        ("nova-2", ModelFamily::Nova2),
        ("gpt-oss", ModelFamily::GptOss),
        ("other", ModelFamily::Other),
    ];

    /// Parse an override name (see [`Self::NAMES`]).
    pub(crate) fn from_name(name: &str) -> Option<ModelFamily> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// Whether Bedrock accepts `cachePoint` blocks in system and messages for this family.
    pub(crate) fn caches(self) -> bool {
        matches!(
            self,
            Self::Claude | Self::ClaudeThinking | Self::ClaudeAdaptive | Self::Nova | Self::Nova2
        )
    }

    /// Whether the family is Anthropic Claude (any version with Converse support).
    pub(crate) fn is_claude(self) -> bool {
        matches!(
            self,
            Self::Claude | Self::ClaudeThinking | Self::ClaudeAdaptive
        )
    }

    /// Whether Bedrock accepts a `cachePoint` among the tool definitions (Claude only).
    pub(crate) fn caches_tools(self) -> bool {
        matches!(
            self,
            Self::Claude | Self::ClaudeThinking | Self::ClaudeAdaptive
        )
    }

    /// The family of a model id, a foundation-model / inference-profile ARN, or an
    /// inference-profile id. Application inference profiles are opaque: [`Self::Other`].
    pub(crate) fn detect(model_id: &str) -> ModelFamily {
        let id = match model_id.rsplit_once('/') {
            Some((head, _)) if head.ends_with(":application-inference-profile") => {
                return Self::Other
            }
            Some((_, tail)) => tail,
            None => model_id,
        };
        if let Some(p) = id.find("anthropic.claude-") {
            return claude(&id[p + "anthropic.claude-".len()..]);
        }
        if id.contains("amazon.nova-2") {
            return Self::Nova2;
        }
        if id.contains("amazon.nova-") {
            return Self::Nova;
        }
        if id.contains("openai.gpt-oss") {
            return Self::GptOss;
        }
        Self::Other
    }
}

/// `3-5-sonnet-20241022-v2:0`, `sonnet-4-5-20250929-v1:0`, `opus-4-7`, `haiku-4-5-…`: the first
/// one or two small numbers are the version, in either naming style.
fn claude(rest: &str) -> ModelFamily {
    let mut version = [0u32; 2];
    let mut n = 0;
    for token in rest.split(['-', ':']) {
        if matches!(token, "sonnet" | "opus" | "haiku") {
            continue;
        }
        match token.parse::<u32>() {
            Ok(v) if token.len() <= 2 && n < 2 => {
                version[n] = v;
                n += 1;
            }
            _ => break,
        }
    }
    if n == 0 {
        return ModelFamily::Other; // claude-instant, claude-v2: no caching, no thinking
    }
    match (version[0], version[1]) {
        (0..=2, _) | (3, 0..=4) => ModelFamily::Other,
        (3, 5..=6) => ModelFamily::Claude,
        (3, _) | (4, 0..=5) => ModelFamily::ClaudeThinking,
        _ => ModelFamily::ClaudeAdaptive,
    }
}

#[cfg(test)]
mod tests {
    use super::ModelFamily::{self, *};

    #[test]
    fn detects_families_from_ids_profiles_and_arns() {
        let cases: &[(&str, ModelFamily)] = &[
            ("anthropic.claude-3-haiku-20240307-v1:0", Other),
            ("anthropic.claude-v2:1", Other),
            ("anthropic.claude-instant-v1", Other),
            ("anthropic.claude-3-5-haiku-20241022-v1:0", Claude),
            ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", Claude),
            ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", ClaudeThinking),
            ("anthropic.claude-sonnet-4-20250514-v1:0", ClaudeThinking),
            ("eu.anthropic.claude-opus-4-1-20250805-v1:0", ClaudeThinking),
            ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", ClaudeThinking),
            ("anthropic.claude-haiku-4-5-20251001-v1:0", ClaudeThinking),
            ("apac.anthropic.claude-opus-4-5-20251101-v1:0", ClaudeThinking),
            ("anthropic.claude-sonnet-4-6", ClaudeAdaptive),
            ("global.anthropic.claude-opus-4-6-v1", ClaudeAdaptive),
            ("us.anthropic.claude-opus-4-7", ClaudeAdaptive),
            ("anthropic.claude-sonnet-5-20260301-v1:0", ClaudeAdaptive),
            ("anthropic.claude-opus-5", ClaudeAdaptive),
            ("amazon.nova-micro-v1:0", Nova),
            ("us.amazon.nova-pro-v1:0", Nova),
            ("us.amazon.nova-2-lite-v1:0", Nova2),
            ("openai.gpt-oss-120b-1:0", GptOss),
            ("meta.llama3-70b-instruct-v1:0", Other),
            ("us.deepseek.r1-v1:0", Other),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0",
                ClaudeThinking,
            ),
            (
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0",
                Nova,
            ),
            (
                "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
                Other,
            ),
        ];
        for (id, want) in cases {
            assert_eq!(ModelFamily::detect(id), *want, "{id}");
        }
    }

    #[test]
    fn override_names_round_trip() {
        for (name, family) in ModelFamily::NAMES {
            assert_eq!(ModelFamily::from_name(name), Some(*family));
            assert_eq!(
                serde_json::to_value(family).unwrap(),
                serde_json::json!(name)
            );
        }
        assert_eq!(ModelFamily::from_name("anthropic"), None);
    }
}
