//! Reversible mapping of OpenAI tool names and tool-call ids onto Bedrock's patterns
//! (names `[a-zA-Z0-9_-]{1,64}`, ids `[a-zA-Z0-9_.:-]{1,64}`). Valid values pass unchanged;
//! others become `<sanitized prefix ≤57>_<6 hex of a hash of the original>`, deterministically,
//! so a `toolUse` and its `toolResult` always agree and responses can be mapped back.

use std::borrow::Cow;

const MAX: usize = 64;
const PREFIX: usize = 57;

/// FNV-1a's offset basis: the hash of nothing.
pub(crate) const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a of `bytes`, continuing from `h` (start from [`FNV_BASIS`]).
pub(crate) fn fnv1a_from(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn fnv1a(s: &str) -> u64 {
    fnv1a_from(FNV_BASIS, s.as_bytes())
}

fn map(s: &str, allowed: fn(u8) -> bool) -> Cow<'_, str> {
    if !s.is_empty() && s.len() <= MAX && s.bytes().all(allowed) {
        return Cow::Borrowed(s);
    }
    let mut out: String = s
        .bytes()
        .map(|b| if allowed(b) { b as char } else { '_' })
        .take(PREFIX)
        .collect();
    if out.is_empty() {
        out.push('t');
    }
    out.push('_');
    let h = fnv1a(s) & 0xff_ffff;
    out.push_str(&format!("{h:06x}"));
    Cow::Owned(out)
}

fn name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn id_char(b: u8) -> bool {
    name_char(b) || b == b'.' || b == b':'
}

/// The Bedrock form of an OpenAI tool name.
pub(crate) fn tool_name(name: &str) -> Cow<'_, str> {
    map(name, name_char)
}

/// The Bedrock form of an OpenAI tool-call id.
pub(crate) fn tool_id(id: &str) -> Cow<'_, str> {
    map(id, id_char)
}

/// Bedrock name → client name, for the names that had to change in this request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ToolNames {
    renamed: Vec<(String, String)>,
}

impl ToolNames {
    /// Register a client name; returns the Bedrock name.
    pub(crate) fn register<'a>(&mut self, client: &'a str) -> Cow<'a, str> {
        let mapped = tool_name(client);
        if let Cow::Owned(m) = &mapped {
            if !self.renamed.iter().any(|(b, _)| b == m) {
                self.renamed.push((m.clone(), client.to_owned()));
            }
        }
        mapped
    }

    /// The client's name for a name Bedrock returned.
    pub(crate) fn restore<'a>(&'a self, bedrock: &'a str) -> &'a str {
        self.renamed
            .iter()
            .find(|(b, _)| b == bedrock)
            .map(|(_, c)| c.as_str())
            .unwrap_or(bedrock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_pass_through() {
        assert!(matches!(
            tool_name("get_weather-2"),
            Cow::Borrowed("get_weather-2")
        ));
        assert!(matches!(tool_id("call_abc.1:2"), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_and_long_names_map_reversibly() {
        let mut names = ToolNames::default();
        let long = "mcp__server.with.dots__".repeat(5);
        let b1 = names.register("weather.get").into_owned();
        let b2 = names.register(&long).into_owned();
        assert!(b1.starts_with("weather_get_") && b1.len() <= 64, "{b1}");
        assert!(b2.len() <= 64 && b2.bytes().all(name_char), "{b2}");
        assert_eq!(names.restore(&b1), "weather.get");
        assert_eq!(names.restore(&b2), long);
        assert_eq!(names.restore("untouched"), "untouched");
        // Two names that sanitize alike still differ.
        assert_ne!(tool_name("a.b"), tool_name("a:b"));
        // Deterministic: ids map the same on the toolUse and the toolResult side.
        assert_eq!(tool_id("call/1"), tool_id("call/1"));
        assert_eq!(tool_id("").len(), 8);
    }
}
