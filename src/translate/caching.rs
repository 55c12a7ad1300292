//! Prompt-caching policy: places Bedrock `cachePoint` blocks in a translated request (after the
//! tools, the system prompt, the last user turn and the previous user turn) where the cached
//! prefix is estimated at `minTokens` or more, keeps client-sent hints, never exceeds Bedrock's 4
//! points, and removes every point for model families that do not accept them.
//!
//! Token estimate (deliberately cheap: lengths only, no tokenizer): text and JSON bytes ÷ 4,
//! 1,600 tokens per image, decoded bytes ÷ 4 for documents and audio.

use super::family::ModelFamily;
use crate::bedrock::types as cv;

/// Bedrock's limit of cache points per request.
pub(crate) const MAX_POINTS: usize = 4;
const IMAGE_TOKENS: u64 = 1_600;

/// What the operator's `promptCaching` policy asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Place a cache point after the system prompt (`cacheSystem`).
    pub system: bool,
    /// Place cache points after the last and previous user turns (`cacheMessages`).
    pub messages: bool,
    /// Place a cache point after the tool definitions, for families that cache tools
    /// (`cacheTools`).
    pub tools: bool,
    /// Smallest estimated prefix, in tokens, worth a cache point (`minTokens`).
    pub min_tokens: u64,
}

fn text_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

fn block_tokens(b: &cv::ContentBlock<'_>) -> u64 {
    match b {
        cv::ContentBlock::Text(t) => text_tokens(t.len()),
        cv::ContentBlock::Image(_) => IMAGE_TOKENS,
        cv::ContentBlock::Document(d) => text_tokens(d.source.content_len()),
        cv::ContentBlock::Audio(a) => text_tokens(a.source.bytes.len() * 3 / 4),
        cv::ContentBlock::ToolUse(t) => text_tokens(t.name.len() + t.input.get().len()),
        cv::ContentBlock::ToolResult(r) => r
            .content
            .iter()
            .map(|c| match c {
                cv::ToolResultContent::Text(t) => text_tokens(t.len()),
                cv::ToolResultContent::Image(_) => IMAGE_TOKENS,
                cv::ToolResultContent::Document(d) => text_tokens(d.source.content_len()),
            })
            .sum(),
        cv::ContentBlock::ReasoningContent(cv::ReasoningContent::ReasoningText(r)) => {
            text_tokens(r.text.len())
        }
        cv::ContentBlock::ReasoningContent(cv::ReasoningContent::RedactedContent(d)) => {
            text_tokens(d.len())
        }
        cv::ContentBlock::CachePoint(_) => 0,
    }
}

fn tool_tokens(t: &cv::Tool<'_>) -> u64 {
    match t {
        cv::Tool::ToolSpec(s) => text_tokens(
            s.name.len() + s.description.map_or(0, str::len) + s.input_schema.json.get().len(),
        ),
        cv::Tool::CachePoint(_) => 0,
    }
}

fn system_tokens(b: &cv::SystemBlock<'_>) -> u64 {
    match b {
        cv::SystemBlock::Text(t) => text_tokens(t.len()),
        cv::SystemBlock::CachePoint(_) => 0,
    }
}

/// Apply the policy (if any) and the family's rules to a translated request.
pub(crate) fn apply(
    req: &mut cv::ConverseRequest<'_>,
    family: ModelFamily,
    policy: Option<CachePolicy>,
) {
    if !family.caches() {
        strip_all(req);
        return;
    }
    if !family.caches_tools() {
        if let Some(tc) = &mut req.tool_config {
            tc.tools.retain(|t| !matches!(t, cv::Tool::CachePoint(_)));
        }
    }
    // Client hints first, in prefix order (tools, system, messages), at most MAX_POINTS.
    let mut used = 0;
    if let Some(tc) = &mut req.tool_config {
        tc.tools
            .retain(|t| !matches!(t, cv::Tool::CachePoint(_)) || keep(&mut used));
    }
    req.system
        .retain(|b| !matches!(b, cv::SystemBlock::CachePoint(_)) || keep(&mut used));
    for m in &mut req.messages {
        m.content
            .retain(|b| !matches!(b, cv::ContentBlock::CachePoint(_)) || keep(&mut used));
    }

    if let Some(policy) = policy {
        place(req, family, policy, &mut used);
    }
    order_ttls(req);
}

fn keep(used: &mut usize) -> bool {
    *used += 1;
    *used <= MAX_POINTS
}

fn strip_all(req: &mut cv::ConverseRequest<'_>) {
    if let Some(tc) = &mut req.tool_config {
        tc.tools.retain(|t| !matches!(t, cv::Tool::CachePoint(_)));
    }
    req.system
        .retain(|b| !matches!(b, cv::SystemBlock::CachePoint(_)));
    for m in &mut req.messages {
        m.content
            .retain(|b| !matches!(b, cv::ContentBlock::CachePoint(_)));
    }
}

/// Policy points, by priority: system, tools, last user turn, previous user turn.
fn place(
    req: &mut cv::ConverseRequest<'_>,
    family: ModelFamily,
    policy: CachePolicy,
    used: &mut usize,
) {
    let min = policy.min_tokens;
    let tools: u64 = req
        .tool_config
        .as_ref()
        .map_or(0, |tc| tc.tools.iter().map(tool_tokens).sum());
    let system: u64 = req.system.iter().map(system_tokens).sum();
    // Bedrock's prefix order: tools, system, messages.
    let before_messages = tools + system;

    if policy.system
        && *used < MAX_POINTS
        && !req.system.is_empty()
        && before_messages >= min
        && !matches!(req.system.last(), Some(cv::SystemBlock::CachePoint(_)))
    {
        req.system
            .push(cv::SystemBlock::CachePoint(cv::CachePoint::DEFAULT));
        *used += 1;
    }
    if policy.tools && family.caches_tools() && *used < MAX_POINTS && tools >= min {
        if let Some(tc) = &mut req.tool_config {
            if !tc.tools.is_empty() && !matches!(tc.tools.last(), Some(cv::Tool::CachePoint(_))) {
                tc.tools.push(cv::Tool::CachePoint(cv::CachePoint::DEFAULT));
                *used += 1;
            }
        }
    }
    if !policy.messages {
        return;
    }
    // Cumulative prefix size at the end of each message.
    let mut prefix = before_messages;
    let ends: Vec<u64> = req
        .messages
        .iter()
        .map(|m| {
            prefix += m.content.iter().map(block_tokens).sum::<u64>();
            prefix
        })
        .collect();
    let mut users = req
        .messages
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, m)| m.role == cv::Role::User)
        .map(|(i, _)| i);
    // The last user turn (written now, read by the next request), then the previous one
    // (written by the previous request, read now).
    for i in [users.next(), users.next()].into_iter().flatten() {
        if *used >= MAX_POINTS {
            break;
        }
        let m = &mut req.messages[i];
        if ends[i] >= min && !matches!(m.content.last(), Some(cv::ContentBlock::CachePoint(_))) {
            m.content
                .push(cv::ContentBlock::CachePoint(cv::CachePoint::DEFAULT));
            *used += 1;
        }
    }
}

/// Bedrock requires longer TTLs before shorter ones: a `1h` point after a `5m` one becomes `5m`.
fn order_ttls(req: &mut cv::ConverseRequest<'_>) {
    let mut short_seen = false;
    let mut fix = |p: &mut cv::CachePoint| {
        if p.ttl.is_none() {
            short_seen = true;
        } else if short_seen {
            *p = cv::CachePoint::DEFAULT;
        }
    };
    if let Some(tc) = &mut req.tool_config {
        for t in &mut tc.tools {
            if let cv::Tool::CachePoint(p) = t {
                fix(p);
            }
        }
    }
    for b in &mut req.system {
        if let cv::SystemBlock::CachePoint(p) = b {
            fix(p);
        }
    }
    for m in &mut req.messages {
        for b in &mut m.content {
            if let cv::ContentBlock::CachePoint(p) = b {
                fix(p);
            }
        }
    }
}

/// Number of cache points in a request (tests, metrics).
pub fn count(req: &cv::ConverseRequest<'_>) -> usize {
    let tools = req.tool_config.as_ref().map_or(0, |tc| {
        tc.tools
            .iter()
            .filter(|t| matches!(t, cv::Tool::CachePoint(_)))
            .count()
    });
    let system = req
        .system
        .iter()
        .filter(|b| matches!(b, cv::SystemBlock::CachePoint(_)))
        .count();
    let messages: usize = req
        .messages
        .iter()
        .map(|m| {
            m.content
                .iter()
                .filter(|b| matches!(b, cv::ContentBlock::CachePoint(_)))
                .count()
        })
        .sum();
    tools + system + messages
}
