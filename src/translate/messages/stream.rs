//! ConverseStream events → Anthropic Messages SSE (`message_start`, `content_block_start` /
//! `_delta` / `_stop`, `message_delta`, `message_stop`, `error`), as an explicit synchronous
//! state machine. Bedrock announces only tool-use blocks, so text and thinking blocks are opened
//! on their first delta and every block is closed before the next one opens. Bedrock's usage
//! arrives after `messageStop`: `message_delta` (stop reason and usage) waits for it.

use super::response::{stop_reason, usage as map_usage};
use super::MessagesAnswer;
use crate::anthropic::{self as am, error_body, Delta, Event, OutBlock, StopDelta};
use crate::bedrock::error::{from_error_frame, from_exception};
use crate::bedrock::eventstream::Frame;
use crate::bedrock::types::{BlockDelta, BlockStart, MessageStop, Metadata};
use crate::error::GatewayError;
use crate::translate::frontend::{StreamFacts, StreamOut};
use serde_json::value::RawValue;

/// Per-stream constants.
#[derive(Debug, Clone)]
pub struct StreamContext {
    /// The message id (`msg_...`).
    pub id: String,
    /// The Bedrock model id that answers (reported as `model`).
    pub model: String,
    /// What the request leg left for the answer (tool names, stop sequences).
    pub answer: MessagesAnswer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Redacted,
    ToolUse,
}

/// The client block being written: its Bedrock index, its client index and kind.
#[derive(Debug, Clone, Copy)]
struct Open {
    bedrock: u64,
    index: usize,
    kind: Kind,
}

/// The state of one streamed answer.
pub struct MessagesStream {
    ctx: StreamContext,
    /// What the relay reads of this stream (usage, started, errors).
    facts: StreamFacts,
    open: Option<Open>,
    next_index: usize,
    /// Stop reason and the stop sequence Bedrock reported, once `messageStop` arrived.
    stop: Option<(&'static str, Option<String>)>,
    /// `message_delta` and `message_stop` were sent.
    ended: bool,
}

fn parse<'p, T: serde::Deserialize<'p>>(what: &str, payload: &'p [u8]) -> Result<T, GatewayError> {
    serde_json::from_slice(payload).map_err(|e| GatewayError::UpstreamBadResponse {
        message: format!("unreadable {what} event: {e}"),
    })
}

fn empty_input() -> &'static RawValue {
    // A valid JSON constant; the fallback exists only so that this cannot panic.
    serde_json::from_str("{}").unwrap_or(RawValue::NULL)
}

fn write(out: &mut Vec<u8>, e: &Event<'_>) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(e.name().as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // Serializing these plain structs into a Vec cannot fail.
    let _ = crate::json::to_writer(out, e);
    out.extend_from_slice(b"\n\n");
}

impl MessagesStream {
    /// A translator for a stream that has not started.
    pub fn new(ctx: StreamContext) -> Self {
        MessagesStream {
            ctx,
            facts: StreamFacts::default(),
            open: None,
            next_index: 0,
            stop: None,
            ended: false,
        }
    }

    /// `message_start` (once), with empty content and usage still unknown.
    fn start(&mut self, out: &mut Vec<u8>) {
        if self.facts.started {
            return;
        }
        self.facts.started = true;
        let message = am::Message {
            id: &self.ctx.id,
            kind: "message",
            role: "assistant",
            content: Vec::new(),
            model: &self.ctx.model,
            stop_reason: None,
            stop_sequence: None,
            usage: am::Usage::default(),
        };
        write(out, &Event::MessageStart { message });
        write(out, &Event::Ping);
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if let Some(open) = self.open.take() {
            write(out, &Event::ContentBlockStop { index: open.index });
        }
    }

    /// Make sure a block of `kind` for Bedrock block `bedrock` is open; `block` is its
    /// `content_block_start` payload when a new one must be opened.
    fn open(&mut self, bedrock: u64, kind: Kind, block: OutBlock<'_>, out: &mut Vec<u8>) -> usize {
        if let Some(o) = self.open {
            if o.bedrock == bedrock && o.kind == kind {
                return o.index;
            }
        }
        self.start(out);
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some(Open {
            bedrock,
            index,
            kind,
        });
        write(
            out,
            &Event::ContentBlockStart {
                index,
                content_block: block,
            },
        );
        index
    }

    fn delta(&mut self, index: usize, delta: Delta<'_>, out: &mut Vec<u8>) {
        self.facts.output_sent = true;
        write(out, &Event::ContentBlockDelta { index, delta });
    }

    /// Translate one frame; an exception frame becomes the error event.
    pub fn on_frame(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        if self.facts.error.is_some() || self.ended {
            return;
        }
        let result = match frame {
            Frame::Event { kind, payload } => self.on_event(kind, payload, out),
            Frame::Exception { kind, payload } => Err(from_exception(kind, payload).into()),
            Frame::Error { code, message } => Err(from_error_frame(code, message).into()),
        };
        if let Err(e) = result {
            self.error(&e, out);
        }
    }

    fn on_event(
        &mut self,
        kind: &str,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), GatewayError> {
        match kind {
            "messageStart" => self.start(out),
            "contentBlockStart" => self.on_block_start(parse::<BlockStart>(kind, payload)?, out),
            "contentBlockDelta" => self.on_block_delta(parse::<BlockDelta>(kind, payload)?, out),
            "contentBlockStop" => {
                let stop: BlockDelta = parse(kind, payload)?;
                if self
                    .open
                    .is_some_and(|o| o.bedrock == stop.content_block_index)
                {
                    self.close(out);
                }
            }
            "messageStop" => self.on_message_stop(parse::<MessageStop>(kind, payload)?, out),
            "metadata" => {
                let m: Metadata = parse(kind, payload)?;
                if let Some(t) = m.usage {
                    self.facts.tokens = Some(t);
                }
                if self.stop.is_some() {
                    self.end(out);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A tool-use block opens: `content_block_start` with its id and the client's name.
    fn on_block_start(&mut self, e: BlockStart<'_>, out: &mut Vec<u8>) {
        if let Some(tu) = e.start.and_then(|s| s.tool_use) {
            let name = self.ctx.answer.tool_names.restore(&tu.name).to_owned();
            let block = OutBlock::ToolUse {
                id: &tu.tool_use_id,
                name: &name,
                input: empty_input(),
            };
            // A repeated start for the same block is not a new block.
            if self
                .open
                .is_some_and(|o| o.bedrock == e.content_block_index)
            {
                return;
            }
            self.open(e.content_block_index, Kind::ToolUse, block, out);
            self.facts.output_sent = true;
        }
    }

    fn on_block_delta(&mut self, e: BlockDelta<'_>, out: &mut Vec<u8>) {
        let Some(d) = e.delta else { return };
        self.facts.produced += d.produced_chars();
        let at = e.content_block_index;
        if let Some(t) = &d.text {
            let i = self.open(at, Kind::Text, OutBlock::Text { text: "" }, out);
            self.delta(i, Delta::Text { text: t }, out);
        } else if let Some(tu) = &d.tool_use {
            let start = OutBlock::ToolUse {
                id: "",
                name: "",
                input: empty_input(),
            };
            let i = self.open(at, Kind::ToolUse, start, out);
            self.delta(
                i,
                Delta::InputJson {
                    partial_json: &tu.input,
                },
                out,
            );
        } else if let Some(r) = &d.reasoning_content {
            let thinking = OutBlock::Thinking {
                thinking: "",
                signature: "",
            };
            if let Some(t) = &r.text {
                let i = self.open(at, Kind::Thinking, thinking, out);
                self.delta(i, Delta::Thinking { thinking: t }, out);
            } else if let Some(s) = &r.signature {
                let i = self.open(at, Kind::Thinking, thinking, out);
                self.delta(i, Delta::Signature { signature: s }, out);
            } else if let Some(data) = &r.redacted_content {
                // Redacted thinking arrives whole: a block of its own.
                self.open(at, Kind::Redacted, OutBlock::RedactedThinking { data }, out);
                self.facts.output_sent = true;
            }
        }
    }

    fn on_message_stop(&mut self, e: MessageStop<'_>, out: &mut Vec<u8>) {
        self.start(out);
        self.close(out);
        let reason = stop_reason(e.stop_reason.as_deref().unwrap_or("end_turn"));
        let reported = e
            .additional_model_response_fields
            .as_ref()
            .and_then(|f| f.stop_sequence.as_deref());
        let sequence = (reason == "stop_sequence")
            .then(|| self.ctx.answer.stop_sequence(reported).map(str::to_owned))
            .flatten();
        self.stop = Some((reason, sequence));
        if self.facts.tokens.is_some() {
            self.end(out);
        }
    }

    /// `message_delta` (stop reason, usage) and `message_stop`.
    fn end(&mut self, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        let Some((reason, sequence)) = &self.stop else {
            return;
        };
        self.ended = true;
        let usage = self
            .facts
            .tokens
            .as_ref()
            .map(map_usage)
            .unwrap_or_default();
        write(
            out,
            &Event::MessageDelta {
                delta: StopDelta {
                    stop_reason: Some(reason),
                    stop_sequence: sequence.as_deref(),
                },
                usage,
            },
        );
        write(out, &Event::MessageStop);
    }

    /// Send one `error` event; nothing is emitted after it.
    pub fn error(&mut self, e: &GatewayError, out: &mut Vec<u8>) {
        if self.facts.error.is_some() {
            return;
        }
        out.extend_from_slice(b"event: error\ndata: ");
        out.extend_from_slice(&error_body(e));
        out.extend_from_slice(b"\n\n");
        self.facts.error = Some(e.clone());
    }

    /// End of the upstream stream: the closing events, or an error if it ended before
    /// `messageStop` (a truncated answer is not a successful one).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.facts.error.is_some() || self.ended {
            return;
        }
        if self.stop.is_none() {
            let e = GatewayError::UpstreamBadResponse {
                message: "the Bedrock stream ended before messageStop".into(),
            };
            self.error(&e, out);
            return;
        }
        self.end(out);
    }
}

impl StreamOut for MessagesStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        MessagesStream::on_frame(self, frame, out);
    }
    fn error(&mut self, e: &GatewayError, out: &mut Vec<u8>) {
        MessagesStream::error(self, e, out);
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        MessagesStream::finish(self, out);
    }
    fn facts(&self) -> &StreamFacts {
        &self.facts
    }
}
