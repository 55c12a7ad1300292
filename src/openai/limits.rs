//! Caps on what one request may make the gateway hold: messages, content parts and tools are
//! counted by a scan of the raw body *before* it is parsed (`listeners[].limits.maxMessages`,
//! `maxContentParts`, `maxTools`), so a body of a million tiny parts is refused before it costs
//! memory (serde buffers an internally tagged message whole before its parts are visited).

/// The caps for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCaps {
    /// Most `messages` entries.
    pub(crate) max_messages: usize,
    /// Most entries of one message's `content` array, summed over all messages.
    pub(crate) max_content_parts: usize,
    /// Most `tools` (and legacy `functions`) entries.
    pub(crate) max_tools: usize,
}

impl Default for RequestCaps {
    fn default() -> Self {
        RequestCaps {
            max_messages: 10_000,
            max_content_parts: 100_000,
            max_tools: 1_024,
        }
    }
}

/// What a cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// `messages` entries.
    Messages = 0,
    /// Content parts.
    ContentParts = 1,
    /// `tools` / `functions` entries.
    Tools = 2,
}

impl Counted {
    /// The config key of the cap, as written in the YAML.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Counted::Messages => "maxMessages",
            Counted::ContentParts => "maxContentParts",
            Counted::Tools => "maxTools",
        }
    }

    /// The request field the cap is about.
    pub(crate) fn param(self) -> &'static str {
        match self {
            Counted::Messages | Counted::ContentParts => "messages",
            Counted::Tools => "tools",
        }
    }

    /// What is counted, in words.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Counted::Messages => "messages",
            Counted::ContentParts => "content parts",
            Counted::Tools => "tools",
        }
    }
}

/// The member name last read in an object, as far as the caps care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Other,
    Messages,
    Tools,
    Content,
    /// Written with escapes: could be any name, so treated as whichever is counted there.
    Escaped,
}

struct Frame {
    object: bool,
    key: Key,
    counted: Option<Counted>,
}

/// Deeper than serde_json's recursion limit: serde refuses such bodies itself.
const MAX_DEPTH: usize = 128;

/// Scan a JSON body and return the first cap it exceeds, with the cap's value. Malformed
/// JSON is left to the parser (`None`).
pub fn exceeded(body: &[u8], caps: RequestCaps) -> Option<(Counted, usize)> {
    let limit = |c: Counted| match c {
        Counted::Messages => caps.max_messages,
        Counted::ContentParts => caps.max_content_parts,
        Counted::Tools => caps.max_tools,
    };
    // Every counted value takes at least two bytes (`1,`): a shorter body cannot pass a cap.
    let smallest = caps
        .max_messages
        .min(caps.max_content_parts)
        .min(caps.max_tools);
    if body.len() <= smallest.saturating_mul(2) {
        return None;
    }
    let mut stack: Vec<Frame> = Vec::with_capacity(8);
    let mut counts = [0usize; 3];
    let mut expect_key = false;
    let mut i = 0;
    // Counts a value starting inside the innermost container.
    let mut value = |stack: &[Frame]| -> Option<(Counted, usize)> {
        let c = stack.last().and_then(|f| f.counted)?;
        counts[c as usize] += 1;
        (counts[c as usize] > limit(c)).then(|| (c, limit(c)))
    };
    while i < body.len() {
        match body[i] {
            b'"' => {
                let end = string_end(body, i + 1)?;
                if expect_key {
                    if let Some(top) = stack.last_mut() {
                        top.key = key(&body[i + 1..end]);
                    }
                    expect_key = false;
                } else if let Some(hit) = value(&stack) {
                    return Some(hit);
                }
                i = end + 1;
                continue;
            }
            b @ (b'{' | b'[') => {
                if let Some(hit) = value(&stack) {
                    return Some(hit);
                }
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                let counted = if b == b'[' {
                    counted_here(&stack)
                } else {
                    None
                };
                stack.push(Frame {
                    object: b == b'{',
                    key: Key::Other,
                    counted,
                });
                expect_key = b == b'{';
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last().is_some_and(|f| f.object),
            b':' | b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                // A number or literal: one value, then skip to its end.
                if let Some(hit) = value(&stack) {
                    return Some(hit);
                }
                while i + 1 < body.len() && !b",}] \t\n\r".contains(&body[i + 1]) {
                    i += 1;
                }
            }
        }
        i += 1;
    }
    None
}

/// What the elements of an array opened now count as: `messages` / `tools` / `functions` of
/// the top-level object, `content` of an object directly inside `messages`.
fn counted_here(stack: &[Frame]) -> Option<Counted> {
    let top = stack.last()?;
    if !top.object {
        return None;
    }
    match (stack.len(), top.key) {
        (1, Key::Messages | Key::Escaped) => Some(Counted::Messages),
        (1, Key::Tools) => Some(Counted::Tools),
        (3, Key::Content | Key::Escaped) if stack[1].counted == Some(Counted::Messages) => {
            Some(Counted::ContentParts)
        }
        _ => None,
    }
}

fn key(raw: &[u8]) -> Key {
    match raw {
        // `input`: the Responses API's items, capped as messages.
        b"messages" | b"input" => Key::Messages,
        b"tools" | b"functions" => Key::Tools,
        b"content" => Key::Content,
        _ if raw.contains(&b'\\') => Key::Escaped,
        _ => Key::Other,
    }
}

/// The index of the quote closing a string whose contents start at `from`.
fn string_end(body: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let n = memchr::memchr2(b'"', b'\\', body.get(from..)?)?;
        if body[from + n] == b'"' {
            return Some(from + n);
        }
        from += n + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: RequestCaps = RequestCaps {
        max_messages: 2,
        max_content_parts: 3,
        max_tools: 1,
    };

    #[test]
    fn counts_messages_parts_and_tools_where_they_are() {
        let ok = br#"{"messages":[{"role":"user","content":[{"type":"text","text":"a\"]"},"x",1]},
            {"role":"assistant","content":"[1,2,3,4]","tool_calls":[1,2,3,4]}],
            "tools":[{"type":"function","function":{"parameters":{"a":[1,2,3,4,5]}}}],
            "stop":[1,2,3,4],"metadata":{"content":[1,2,3,4]}}"#;
        assert_eq!(exceeded(ok, CAPS), None);
        let three_msgs = br#"{"messages":[{},{},{}]}"#;
        assert_eq!(exceeded(three_msgs, CAPS), Some((Counted::Messages, 2)));
        let parts = br#"{"messages":[{"content":[1,2]},{"content":["a","b"]}]}"#;
        assert_eq!(exceeded(parts, CAPS), Some((Counted::ContentParts, 3)));
        let tools = br#"{"functions":[{},{}]}"#;
        assert_eq!(exceeded(tools, CAPS), Some((Counted::Tools, 1)));
    }

    #[test]
    fn escaped_keys_are_counted_too_and_garbage_is_left_to_the_parser() {
        let sneaky = br#"{"mess\u0061ges":[{},{},{}]}"#;
        assert_eq!(exceeded(sneaky, CAPS), Some((Counted::Messages, 2)));
        assert_eq!(exceeded(br#"{"messages":[{"content":"#, CAPS), None);
        assert_eq!(exceeded(br#"{"a":"unterminated"#, CAPS), None);
        assert_eq!(exceeded(&[b'['; 10_000], CAPS), None);
    }
}
