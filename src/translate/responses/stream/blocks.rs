//! The events of one output item: `output_item.added` when a Converse block starts, its
//! deltas, and its closing events when the block stops.

use super::StreamTranslator;
use crate::bedrock::types::DeltaUnion;
use crate::openai::responses::response::{Event, OutputPart};
use crate::translate::responses::items::{Item, Kind};

impl StreamTranslator {
    /// Start an item for a block: `output_item.added` (and its empty part for a message).
    pub(super) fn push_item(&mut self, block: u64, item: Item, out: &mut Vec<u8>) -> usize {
        let i = self.items.len();
        self.items.push(item);
        self.open.push((block, i));
        self.facts.output_sent = true;
        let wire = self.items[i].wire(false, "in_progress");
        let mut ev = Event::new("response.output_item.added", 0);
        ev.output_index = Some(i);
        ev.item = Some(&wire);
        let mut buf = Vec::new();
        self.emit(&mut buf, ev);
        if self.items[i].kind == Kind::Message {
            let part = OutputPart::output_text("");
            let mut ev = self.item_event("response.content_part.added", i);
            ev.content_index = Some(0);
            ev.part = Some(&part);
            self.emit(&mut buf, ev);
        }
        out.extend_from_slice(&buf);
        i
    }

    /// An event about item `i` (`output_index` and `item_id` set).
    fn item_event(&self, kind: &'static str, i: usize) -> Event<'_> {
        let mut ev = Event::new(kind, 0);
        ev.output_index = Some(i);
        ev.item_id = Some(&self.items[i].id);
        ev
    }

    /// The open item of `block`, started as `kind` if there is none; None if the block is of
    /// another kind (a malformed stream: the delta is skipped).
    fn item_for(&mut self, block: u64, kind: Kind, out: &mut Vec<u8>) -> Option<usize> {
        if let Some(&(_, i)) = self.open.iter().find(|(b, _)| *b == block) {
            return (self.items[i].kind == kind).then_some(i);
        }
        let item = Item::new(kind, &self.id, self.items.len());
        Some(self.push_item(block, item, out))
    }

    /// A `contentBlockDelta`: text, tool-call arguments or reasoning.
    pub(super) fn on_delta(&mut self, block: u64, d: DeltaUnion<'_>, out: &mut Vec<u8>) {
        let mut buf = Vec::new();
        if let Some(t) = d.text.as_deref() {
            let Some(i) = self.item_for(block, Kind::Message, out) else {
                return;
            };
            self.items[i].text.push_str(t);
            let mut ev = self.item_event("response.output_text.delta", i);
            ev.content_index = Some(0);
            ev.delta = Some(t);
            ev.logprobs = Some([]);
            self.emit(&mut buf, ev);
        } else if let Some(tu) = &d.tool_use {
            let Some(i) = self.item_for(block, Kind::FunctionCall, out) else {
                return;
            };
            self.items[i].text.push_str(&tu.input);
            let mut ev = self.item_event("response.function_call_arguments.delta", i);
            ev.delta = Some(&tu.input);
            self.emit(&mut buf, ev);
        } else if let Some(r) = &d.reasoning_content {
            let Some(i) = self.item_for(block, Kind::Reasoning, out) else {
                return;
            };
            if let Some(t) = r.text.as_deref().filter(|t| !t.is_empty()) {
                if self.items[i].text.is_empty() {
                    let part = OutputPart::SummaryText { text: "" };
                    let mut ev = self.item_event("response.reasoning_summary_part.added", i);
                    ev.summary_index = Some(0);
                    ev.part = Some(&part);
                    self.emit(&mut buf, ev);
                }
                self.items[i].text.push_str(t);
                let mut ev = self.item_event("response.reasoning_summary_text.delta", i);
                ev.summary_index = Some(0);
                ev.delta = Some(t);
                self.emit(&mut buf, ev);
            } else if let Some(sig) = r.signature.as_deref() {
                self.items[i]
                    .signature
                    .get_or_insert_with(String::new)
                    .push_str(sig);
            } else if let Some(data) = r.redacted_content.as_deref() {
                self.items[i]
                    .redacted
                    .get_or_insert_with(String::new)
                    .push_str(data);
            }
        }
        out.extend_from_slice(&buf);
    }

    /// A `contentBlockStop` (or `messageStop` for blocks left open): the item's closing events.
    pub(super) fn close(&mut self, block: u64, out: &mut Vec<u8>) {
        let Some(pos) = self.open.iter().position(|(b, _)| *b == block) else {
            return;
        };
        let (_, i) = self.open.remove(pos);
        let mut buf = Vec::new();
        let item = &self.items[i];
        match item.kind {
            Kind::Message => {
                let mut ev = self.item_event("response.output_text.done", i);
                ev.content_index = Some(0);
                ev.text = Some(&item.text);
                ev.logprobs = Some([]);
                self.emit(&mut buf, ev);
                let part = OutputPart::output_text(&item.text);
                let mut ev = self.item_event("response.content_part.done", i);
                ev.content_index = Some(0);
                ev.part = Some(&part);
                self.emit(&mut buf, ev);
            }
            Kind::FunctionCall => {
                let args = if item.text.is_empty() {
                    "{}"
                } else {
                    &item.text
                };
                let mut ev = self.item_event("response.function_call_arguments.done", i);
                ev.arguments = Some(args);
                self.emit(&mut buf, ev);
            }
            Kind::Reasoning if !item.text.is_empty() => {
                let mut ev = self.item_event("response.reasoning_summary_text.done", i);
                ev.summary_index = Some(0);
                ev.text = Some(&item.text);
                self.emit(&mut buf, ev);
                let part = OutputPart::SummaryText { text: &item.text };
                let mut ev = self.item_event("response.reasoning_summary_part.done", i);
                ev.summary_index = Some(0);
                ev.part = Some(&part);
                self.emit(&mut buf, ev);
            }
            Kind::Reasoning => {}
        }
        let wire = item.wire(self.answer.include_encrypted, "completed");
        let mut ev = Event::new("response.output_item.done", 0);
        ev.output_index = Some(i);
        ev.item = Some(&wire);
        self.emit(&mut buf, ev);
        out.extend_from_slice(&buf);
    }
}
