//! The cache-affinity key of a Converse request: a hash of what Bedrock's prompt cache keys on
//! first (system prompt, tool definitions, the first message). Requests that share it go to the
//! same backend of a priority group, because prompt caches are per region.

use crate::bedrock::types as cv;

/// FNV-1a over the cacheable prefix. Equal prefixes give equal keys; the key is stable across
/// processes (no random seed), so every replica sends a prefix to the same backend.
pub(crate) fn prefix_key(req: &cv::ConverseRequest<'_>) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
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
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
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
