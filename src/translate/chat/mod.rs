//! OpenAI Chat Completions as a [`FrontEnd`]: request → Converse
//! ([`request`]), Converse → `chat.completion` ([`response`]) and ConverseStream →
//! `chat.completion.chunk` SSE ([`stream`]).

pub mod request;
pub mod response;
pub mod stream;

use super::frontend::{AnswerMeta, Answered, FrontEnd, RequestContext, Translated};
use super::names::ToolNames;
use crate::error::GatewayError;
use crate::openai::{self, ChatRequest, RequestCaps};
use stream::{StreamContext, StreamTranslator};

/// The OpenAI Chat Completions API.
#[derive(Debug)]
pub struct Chat;

/// What a chat answer needs from its request.
#[derive(Debug, Default)]
pub struct ChatAnswer {
    /// Whether the stream ends with a usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// Tool names renamed for Bedrock, to map tool calls in the answer back.
    pub tool_names: ToolNames,
}

impl FrontEnd for Chat {
    const ID_PREFIX: &'static str = "chatcmpl-";
    type Request<'a> = ChatRequest<'a>;
    type Answer = ChatAnswer;
    type Stream = StreamTranslator;

    fn parse(body: &[u8], caps: RequestCaps) -> Result<ChatRequest<'_>, GatewayError> {
        openai::parse_chat_request_with(body, caps)
    }

    fn model<'r>(req: &'r ChatRequest<'_>) -> Option<&'r str> {
        req.model.as_deref()
    }

    fn translate<'a>(
        req: &'a ChatRequest<'_>,
        ctx: &RequestContext<'_>,
    ) -> Result<Translated<'a, ChatAnswer>, GatewayError> {
        request::translate(req, ctx)
    }

    fn answer(
        body: &[u8],
        answer: &ChatAnswer,
        meta: &AnswerMeta<'_>,
    ) -> Result<Answered, GatewayError> {
        let rctx = response::ResponseContext {
            id: meta.id,
            created: meta.created,
            model: meta.model,
            tool_names: &answer.tool_names,
        };
        response::translate(body, &rctx)
    }

    fn stream(answer: &ChatAnswer, meta: &AnswerMeta<'_>) -> StreamTranslator {
        StreamTranslator::new(StreamContext {
            id: meta.id.to_owned(),
            created: meta.created,
            model: meta.model.to_owned(),
            include_usage: answer.include_usage,
            tool_names: answer.tool_names.clone(),
        })
    }
}
