//! ConverseStream events → OpenAI `chat.completion.chunk` SSE, as an explicit synchronous state
//! machine: feed decoded frames with [`StreamTranslator::on_frame`], collect the SSE bytes it
//! appends, call [`StreamTranslator::finish`] at the end. Pure; memory per stream is the state
//! below (no accumulation of the answer).

use super::response::{finish_reason, usage as map_usage};
use crate::bedrock::error::{from_error_frame, from_exception};
use crate::bedrock::eventstream::Frame;
use crate::bedrock::types::{BlockDelta, BlockStart, DeltaReasoning, MessageStop, Metadata};
use crate::error::GatewayError;
use crate::openai::{
    error_body, Chunk, ChunkChoice, Delta, EncryptedDetail, FunctionDelta, ToolCallDelta, Usage,
};
use crate::translate::frontend::{StreamFacts, StreamOut};
use crate::translate::names::ToolNames;

/// Per-stream constants.
#[derive(Debug, Clone)]
pub struct StreamContext {
    /// The completion id every chunk carries (`chatcmpl-...`).
    pub id: String,
    /// The `created` timestamp every chunk carries, in Unix seconds.
    pub created: u64,
    /// The Bedrock model id that answers (reported as `model`).
    pub model: String,
    /// Whether to end with a usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// Tool names renamed in the request, to restore the client's names in tool calls.
    pub tool_names: ToolNames,
}

/// The state of one streamed answer between ConverseStream frames and OpenAI SSE chunks.
pub struct StreamTranslator {
    ctx: StreamContext,
    /// What the relay reads of this stream (usage, started, errors).
    facts: StreamFacts,
    /// Bedrock contentBlockIndex → OpenAI tool_calls index.
    tool_blocks: Vec<(u64, usize)>,
    next_tool: usize,
    finish: Option<&'static str>,
}

fn bad(what: &str, e: serde_json::Error) -> GatewayError {
    GatewayError::UpstreamBadResponse {
        message: format!("unreadable {what} event: {e}"),
    }
}

/// Parse the payload of a `what` event; an unreadable one is an upstream bad response.
fn parse<'p, T: serde::Deserialize<'p>>(what: &str, payload: &'p [u8]) -> Result<T, GatewayError> {
    serde_json::from_slice(payload).map_err(|e| bad(what, e))
}

impl StreamTranslator {
    /// A translator for a stream that has not started (no chunk written yet).
    pub fn new(ctx: StreamContext) -> Self {
        StreamTranslator {
            ctx,
            facts: StreamFacts::default(),
            tool_blocks: Vec::new(),
            next_tool: 0,
            finish: None,
        }
    }

    fn write(&self, out: &mut Vec<u8>, choices: &[ChunkChoice<'_>], usage: Option<Option<Usage>>) {
        let chunk = Chunk {
            id: &self.ctx.id,
            object: "chat.completion.chunk",
            created: self.ctx.created,
            model: &self.ctx.model,
            system_fingerprint: None,
            choices,
            usage,
        };
        out.extend_from_slice(b"data: ");
        // Serializing these plain structs into a Vec cannot fail.
        let _ = crate::json::to_writer(out, &chunk);
        out.extend_from_slice(b"\n\n");
    }

    fn delta(&mut self, out: &mut Vec<u8>, mut delta: Delta<'_>) {
        self.facts.output_sent |= delta.content.is_some_and(|c| !c.is_empty())
            || delta.reasoning_content.is_some()
            || delta.tool_calls.is_some();
        if !self.facts.started {
            self.facts.started = true;
            delta.role = Some("assistant");
        }
        let usage = self.ctx.include_usage.then_some(None);
        let choice = ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: None,
            native_finish_reason: None,
        };
        self.write(out, std::slice::from_ref(&choice), usage);
    }

    fn tool_index(&mut self, block: u64) -> (usize, bool) {
        if let Some((_, i)) = self.tool_blocks.iter().find(|(b, _)| *b == block) {
            return (*i, false);
        }
        let i = self.next_tool;
        self.next_tool += 1;
        self.tool_blocks.push((block, i));
        (i, true)
    }

    /// Translate one frame, appending SSE to `out`. An exception frame becomes the error event.
    pub fn on_frame(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        if self.facts.error.is_some() {
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

    /// Dispatch one ConverseStream event to its handler; an unreadable payload is an error.
    fn on_event(
        &mut self,
        kind: &str,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), GatewayError> {
        match kind {
            "messageStart" if !self.facts.started => self.on_message_start(out),
            "contentBlockStart" => self.on_block_start(parse::<BlockStart>(kind, payload)?, out),
            "contentBlockDelta" => self.on_block_delta(parse::<BlockDelta>(kind, payload)?, out),
            "messageStop" => self.on_message_stop(parse::<MessageStop>(kind, payload)?, out),
            "metadata" => self.on_metadata(parse::<Metadata>(kind, payload)?, out),
            // contentBlockStop and unknown events carry nothing for the client.
            _ => {}
        }
        Ok(())
    }

    /// `messageStart`: the first chunk, carrying the role and empty content.
    fn on_message_start(&mut self, out: &mut Vec<u8>) {
        self.delta(
            out,
            Delta {
                content: Some(""),
                ..Delta::default()
            },
        );
    }

    /// `contentBlockStart`: a tool-use block opens a tool call (id, client name, no arguments).
    fn on_block_start(&mut self, e: BlockStart<'_>, out: &mut Vec<u8>) {
        if let Some(tu) = e.start.and_then(|s| s.tool_use) {
            let (index, _) = self.tool_index(e.content_block_index);
            let name = self.ctx.tool_names.restore(&tu.name).to_owned();
            self.delta(
                out,
                Delta {
                    tool_calls: Some([ToolCallDelta {
                        index,
                        id: Some(&tu.tool_use_id),
                        kind: Some("function"),
                        function: FunctionDelta {
                            name: Some(&name),
                            arguments: "",
                        },
                    }]),
                    ..Delta::default()
                },
            );
        }
    }

    /// `contentBlockDelta`: text, a fragment of a tool call's arguments, or reasoning.
    fn on_block_delta(&mut self, e: BlockDelta<'_>, out: &mut Vec<u8>) {
        let Some(d) = e.delta else { return };
        self.facts.produced += d.produced_chars();
        if let Some(t) = &d.text {
            self.delta(
                out,
                Delta {
                    content: Some(t),
                    ..Delta::default()
                },
            );
        } else if let Some(tu) = &d.tool_use {
            self.on_tool_input(e.content_block_index, &tu.input, out);
        } else if let Some(r) = &d.reasoning_content {
            self.on_reasoning_delta(r, out);
        }
    }

    /// A fragment of a tool call's arguments (the call's type too if no start announced it).
    fn on_tool_input(&mut self, block: u64, input: &str, out: &mut Vec<u8>) {
        let (index, new) = self.tool_index(block);
        self.delta(
            out,
            Delta {
                tool_calls: Some([ToolCallDelta {
                    index,
                    id: None,
                    kind: new.then_some("function"),
                    function: FunctionDelta {
                        name: None,
                        arguments: input,
                    },
                }]),
                ..Delta::default()
            },
        );
    }

    /// A reasoning delta: text, its signature, or redacted (encrypted) reasoning.
    fn on_reasoning_delta(&mut self, r: &DeltaReasoning<'_>, out: &mut Vec<u8>) {
        if let Some(t) = &r.text {
            self.delta(
                out,
                Delta {
                    reasoning_content: Some(t),
                    ..Delta::default()
                },
            );
        } else if let Some(s) = &r.signature {
            self.delta(
                out,
                Delta {
                    reasoning_signature: Some(s),
                    ..Delta::default()
                },
            );
        } else if let Some(data) = &r.redacted_content {
            self.delta(
                out,
                Delta {
                    reasoning_details: Some([EncryptedDetail {
                        kind: "reasoning.encrypted",
                        data,
                    }]),
                    ..Delta::default()
                },
            );
        }
    }

    /// `messageStop`: the finish chunk, with the mapped and the native stop reason.
    fn on_message_stop(&mut self, e: MessageStop<'_>, out: &mut Vec<u8>) {
        let native = e.stop_reason.as_deref().unwrap_or("end_turn");
        let reason = finish_reason(native, self.next_tool > 0);
        self.finish = Some(reason);
        let usage = self.ctx.include_usage.then_some(None);
        let choice = ChunkChoice {
            index: 0,
            delta: Delta::default(),
            logprobs: None,
            finish_reason: Some(reason),
            native_finish_reason: Some(native),
        };
        self.write(out, std::slice::from_ref(&choice), usage);
    }

    /// `metadata`: keep the usage, and send it as the usage chunk if the client asked.
    fn on_metadata(&mut self, e: Metadata, out: &mut Vec<u8>) {
        if let Some(tokens) = e.usage {
            self.facts.tokens = Some(tokens);
            if self.ctx.include_usage {
                self.write(out, &[], Some(Some(map_usage(&tokens))));
            }
        }
    }

    /// Send one OpenAI error event; the stream then ends without `[DONE]`.
    pub(crate) fn error(&mut self, e: &GatewayError, out: &mut Vec<u8>) {
        if self.facts.error.is_some() {
            return;
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&error_body(e));
        out.extend_from_slice(b"\n\n");
        self.facts.error = Some(e.clone());
    }

    /// End of the upstream stream: `[DONE]`, unless an error was sent — or the stream ended
    /// before `messageStop`, which is reported as an error (a truncated answer is not a
    /// successful one).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.facts.error.is_none() && self.finish.is_none() {
            let e = GatewayError::UpstreamBadResponse {
                message: "the Bedrock stream ended before messageStop".into(),
            };
            self.error(&e, out);
        }
        if self.facts.error.is_none() {
            out.extend_from_slice(b"data: [DONE]\n\n");
        }
    }
}

impl StreamOut for StreamTranslator {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        StreamTranslator::on_frame(self, frame, out);
    }
    fn error(&mut self, e: &GatewayError, out: &mut Vec<u8>) {
        StreamTranslator::error(self, e, out);
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        StreamTranslator::finish(self, out);
    }
    fn facts(&self) -> &StreamFacts {
        &self.facts
    }
}
