//! ConverseStream events → Responses SSE (`event: <type>\ndata: <json>\n\n`), as an explicit
//! synchronous state machine; every event carries `sequence_number` (0, 1, 2 ...).
//!
//! Order: `response.created`, `response.in_progress`; per Converse content block an item
//! (`response.output_item.added` … deltas … `response.output_item.done`): text →
//! `content_part.added`, `output_text.delta`s, `output_text.done`, `content_part.done`; a tool
//! call → `function_call_arguments.delta`s and `.done`; reasoning → `reasoning_summary_part.added`,
//! `reasoning_summary_text.delta`s, `.done`, `reasoning_summary_part.done`. Then
//! `response.completed` (or `response.incomplete`) with the whole response and usage; an
//! exception → `error` and `response.failed`.
//!
//! Memory: the final event must repeat every output item, so the items' text, arguments and
//! reasoning are kept (bounded by the model's output limit — Bedrock's largest `maxTokens`
//! is 128 Ki tokens, about 0.5 MiB of text); nothing else of the answer is.

mod blocks;

use super::items::{self, Item, Kind};
use super::ResponsesAnswer;
use crate::bedrock::error::{from_error_frame, from_exception};
use crate::bedrock::eventstream::Frame;
use crate::bedrock::types::{BlockDelta, BlockStart, MessageStop, Metadata};
use crate::error::GatewayError;
use crate::openai::responses::response::{Event, ResponseError, ResponseObject};
use crate::translate::frontend::{StreamFacts, StreamOut};

/// The state of one streamed answer.
pub struct StreamTranslator {
    id: String,
    created: u64,
    model: String,
    answer: ResponsesAnswer,
    /// The next `sequence_number` (a Cell: events are numbered while items are borrowed).
    seq: std::cell::Cell<u64>,
    /// What the relay reads of this stream (usage, started, errors).
    facts: StreamFacts,
    items: Vec<Item>,
    /// Open Converse blocks: (contentBlockIndex, index in `items`).
    open: Vec<(u64, usize)>,
    stop: Option<String>,
}

fn parse<'p, T: serde::Deserialize<'p>>(what: &str, payload: &'p [u8]) -> Result<T, GatewayError> {
    serde_json::from_slice(payload).map_err(|e| GatewayError::UpstreamBadResponse {
        message: format!("unreadable {what} event: {e}"),
    })
}

impl StreamTranslator {
    /// A translator for a stream that has not started.
    pub fn new(id: String, created: u64, model: String, answer: ResponsesAnswer) -> Self {
        StreamTranslator {
            id,
            created,
            model,
            answer,
            seq: std::cell::Cell::new(0),
            facts: StreamFacts::default(),
            items: Vec::new(),
            open: Vec::new(),
            stop: None,
        }
    }

    /// Write one event, numbering it.
    fn emit(&self, out: &mut Vec<u8>, mut event: Event<'_>) {
        event.sequence_number = self.seq.get();
        self.seq.set(event.sequence_number + 1);
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        // Serializing these plain structs into a Vec cannot fail.
        let _ = crate::json::to_writer(out, &event);
        out.extend_from_slice(b"\n\n");
    }

    /// An event about the whole response (`created`, `completed`, `failed` ...).
    fn emit_response(&mut self, out: &mut Vec<u8>, kind: &'static str, status: &'static str) {
        let mut obj = ResponseObject::new(&self.id, self.created, &self.model, &self.answer.echo);
        obj.status = status;
        if status != "in_progress" {
            let include = self.answer.include_encrypted;
            obj.output = self
                .items
                .iter()
                .map(|i| i.wire(include, "completed"))
                .collect();
            obj.usage = self.facts.tokens.as_ref().map(items::usage);
        }
        if let Some(stop) = self.stop.as_deref() {
            obj.incomplete_details = items::status(stop).1;
        }
        let message = self.facts.error.as_ref().map(|e| e.message());
        if let (Some(e), Some(m)) = (&self.facts.error, &message) {
            obj.error = Some(ResponseError {
                code: e.code().unwrap_or("server_error"),
                message: m,
            });
        }
        let mut event = Event::new(kind, 0);
        event.response = Some(&obj);
        self.emit(out, event);
    }

    fn ensure_started(&mut self, out: &mut Vec<u8>) {
        if !self.facts.started {
            self.facts.started = true;
            self.emit_response(out, "response.created", "in_progress");
            self.emit_response(out, "response.in_progress", "in_progress");
        }
    }

    /// Translate one frame. An exception frame becomes the error events.
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

    fn on_event(
        &mut self,
        kind: &str,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), GatewayError> {
        match kind {
            "messageStart" => self.ensure_started(out),
            "contentBlockStart" => {
                let e: BlockStart = parse(kind, payload)?;
                if let Some(tu) = e.start.and_then(|s| s.tool_use) {
                    self.ensure_started(out);
                    let mut item = Item::new(Kind::FunctionCall, &self.id, self.items.len());
                    item.call_id.push_str(&tu.tool_use_id);
                    item.name.push_str(self.answer.tool_names.restore(&tu.name));
                    self.push_item(e.content_block_index, item, out);
                }
            }
            "contentBlockDelta" => {
                let e: BlockDelta = parse(kind, payload)?;
                self.ensure_started(out);
                if let Some(d) = e.delta {
                    self.facts.produced += d.produced_chars();
                    self.on_delta(e.content_block_index, d, out);
                }
            }
            "contentBlockStop" => {
                let e: BlockStart = parse(kind, payload)?;
                self.close(e.content_block_index, out);
            }
            "messageStop" => {
                let e: MessageStop = parse(kind, payload)?;
                self.ensure_started(out);
                while let Some(&(block, _)) = self.open.first() {
                    self.close(block, out);
                }
                self.stop = Some(e.stop_reason.as_deref().unwrap_or("end_turn").to_owned());
            }
            "metadata" => {
                let e: Metadata = parse(kind, payload)?;
                if let Some(u) = e.usage {
                    self.facts.tokens = Some(u);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Send the error events once: `error`, then `response.failed` if the response was
    /// announced; nothing more is emitted after them.
    pub(crate) fn error(&mut self, e: &GatewayError, out: &mut Vec<u8>) {
        if self.facts.error.is_some() {
            return;
        }
        self.facts.error = Some(e.clone());
        let message = e.message();
        let mut ev = Event::new("error", 0);
        ev.code = Some(e.code().unwrap_or("server_error"));
        ev.message = Some(&message);
        ev.param = Some(e.param());
        let mut buf = Vec::new();
        self.emit(&mut buf, ev);
        out.extend_from_slice(&buf);
        if self.facts.started {
            self.emit_response(out, "response.failed", "failed");
        }
    }

    /// End of the upstream stream: `response.completed` or `response.incomplete`, unless an
    /// error was sent — or the stream ended before `messageStop`, which is an error (a
    /// truncated answer is not a successful one).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.facts.error.is_some() {
            return;
        }
        let Some(stop) = self.stop.as_deref() else {
            let e = GatewayError::UpstreamBadResponse {
                message: "the Bedrock stream ended before messageStop".into(),
            };
            self.error(&e, out);
            return;
        };
        let (status, _) = items::status(stop);
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit_response(out, kind, status);
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
