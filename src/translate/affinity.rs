//! The cache-affinity key of a Converse request: a hash of what Bedrock's prompt cache keys on
//! first (system prompt, tool definitions, the first message). Requests that share it go to the
//! same backend of a priority group, because prompt caches are per region.

use super::names::{fnv1a_from, FNV_BASIS};
use crate::bedrock::types as cv;

/// FNV-1a over the cacheable prefix. Equal prefixes give equal keys; the key is stable across
/// processes (no random seed), so every replica sends a prefix to the same backend.
pub(crate) fn prefix_key(req: &cv::ConverseRequest<'_>) -> u64 {
    let mut h = Fnv(FNV_BASIS);
    for b in &req.system {
        if let cv::SystemBlock::Text(t) = b {
            h.write(t.as_bytes());
        }
    }
    for t in req.tool_config.iter().flat_map(|c| &c.tools) {
        if let cv::Tool::ToolSpec(spec) = t {
            h.write(spec.name.as_bytes());
            h.write(spec.input_schema.json.get().as_bytes());
        }
    }
    for b in req.messages.first().map_or(&[][..], |m| &m.content[..]) {
        if let cv::ContentBlock::Text(t) = b {
            h.write(t.as_bytes());
        }
    }
    h.0
}

struct Fnv(u64);

impl Fnv {
    /// Hash one field, then a separator, so that ("ab", "c") and ("a", "bc") differ.
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a_from(fnv1a_from(self.0, bytes), &[0xff]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn req<'a>(system: &'a str, first: &'a str, later: &'a str) -> cv::ConverseRequest<'a> {
        let msg = |role, text: &'a str| cv::Message {
            role,
            content: vec![cv::ContentBlock::Text(Cow::Borrowed(text))],
        };
        cv::ConverseRequest {
            messages: vec![msg(cv::Role::User, first), msg(cv::Role::Assistant, later)],
            system: vec![cv::SystemBlock::Text(Cow::Borrowed(system))],
            inference_config: Default::default(),
            tool_config: None,
            additional_model_request_fields: None,
            output_config: None,
            request_metadata: None,
            service_tier: None,
            additional_model_response_field_paths: Vec::new(),
        }
    }

    #[test]
    fn the_key_follows_the_prefix_only() {
        let a = prefix_key(&req("be brief", "hello", "one"));
        assert_eq!(a, prefix_key(&req("be brief", "hello", "two")));
        assert_ne!(a, prefix_key(&req("be brief", "hello!", "one")));
        assert_ne!(a, prefix_key(&req("be brie", "fhello", "one")));
    }
}
