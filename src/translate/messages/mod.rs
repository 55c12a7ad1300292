//! Anthropic Messages as a [`FrontEnd`]: request → Converse
//! ([`request`], with `blocks`, `input`, `tools` and `thinking`), Converse → `message`
//! ([`response`]), ConverseStream → Anthropic SSE events ([`stream`]), and count_tokens →
//! Bedrock CountTokens ([`count_tokens`]).

mod blocks;
pub mod count_tokens;
mod input;
pub mod request;
pub mod response;
pub mod stream;
mod thinking;
mod tools;

use super::frontend::{AnswerMeta, Answered, FrontEnd, RequestContext, Translated};
use super::names::ToolNames;
use crate::anthropic::{self as am, MessagesRequest};
use crate::error::GatewayError;
use crate::openai::RequestCaps;
use stream::{MessagesStream, StreamContext};

/// The Anthropic Messages API.
#[derive(Debug)]
pub struct Messages;

/// What a Messages answer needs from its request.
#[derive(Debug, Default, Clone)]
pub struct MessagesAnswer {
    /// Tool names renamed for Bedrock, to map tool calls in the answer back.
    pub tool_names: ToolNames,
    /// The client's stop sequences (the matched one is reported as `stop_sequence`).
    pub stop_sequences: Vec<String>,
}

impl MessagesAnswer {
    /// The stop sequence to report: Bedrock's (asked with `/stop_sequence`), else the only one
    /// the client sent.
    pub(crate) fn stop_sequence<'s>(&'s self, reported: Option<&'s str>) -> Option<&'s str> {
        reported.or(match self.stop_sequences.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        })
    }
}

impl FrontEnd for Messages {
    const ID_PREFIX: &'static str = "msg_";
    type Request<'a> = MessagesRequest<'a>;
    type Answer = MessagesAnswer;
    type Stream = MessagesStream;

    fn parse(body: &[u8], caps: RequestCaps) -> Result<MessagesRequest<'_>, GatewayError> {
        am::parse_request(body, caps)
    }

    fn model<'r>(req: &'r MessagesRequest<'_>) -> Option<&'r str> {
        req.model.as_deref()
    }

    fn translate<'a>(
        req: &'a MessagesRequest<'_>,
        ctx: &RequestContext<'_>,
    ) -> Result<Translated<'a, MessagesAnswer>, GatewayError> {
        request::translate(req, ctx)
    }

    fn answer(
        body: &[u8],
        answer: &MessagesAnswer,
        meta: &AnswerMeta<'_>,
    ) -> Result<Answered, GatewayError> {
        response::translate(body, answer, meta)
    }

    fn stream(answer: &MessagesAnswer, meta: &AnswerMeta<'_>) -> MessagesStream {
        MessagesStream::new(StreamContext {
            id: meta.id.to_owned(),
            model: meta.model.to_owned(),
            answer: answer.clone(),
        })
    }
}
