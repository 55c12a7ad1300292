//! The OpenAI Responses API (stateless) as a [`FrontEnd`]: request →
//! Converse ([`request`], with `input` items and `tools`), Converse → `response`
//! ([`response`]) and ConverseStream → Responses events ([`stream`]); output items are built
//! alike on both paths (`items`); reasoning replays through `encrypted_content` (`replay`).

pub(crate) mod input;
pub(crate) mod items;
pub(crate) mod replay;
pub mod request;
pub mod response;
pub mod stream;
pub(crate) mod tools;

use super::frontend::{AnswerMeta, Answered, FrontEnd, RequestContext, Translated};
use super::names::ToolNames;
use crate::error::GatewayError;
use crate::openai::responses::{self as wire, Echo, ResponsesRequest};
use crate::openai::RequestCaps;
use stream::StreamTranslator;

/// The OpenAI Responses API.
#[derive(Debug)]
pub struct Responses;

/// What a Responses answer needs from its request.
#[derive(Debug, Clone)]
pub struct ResponsesAnswer {
    /// Tool names renamed for Bedrock, to map tool calls in the answer back.
    pub tool_names: ToolNames,
    /// `include: ["reasoning.encrypted_content"]`: reasoning items carry `encrypted_content`.
    pub include_encrypted: bool,
    /// The request fields the response object echoes.
    pub echo: Echo,
}

impl FrontEnd for Responses {
    const ID_PREFIX: &'static str = "resp_";
    type Request<'a> = ResponsesRequest<'a>;
    type Answer = ResponsesAnswer;
    type Stream = StreamTranslator;

    fn parse(body: &[u8], caps: RequestCaps) -> Result<ResponsesRequest<'_>, GatewayError> {
        wire::parse(body, caps)
    }

    fn model<'r>(req: &'r ResponsesRequest<'_>) -> Option<&'r str> {
        req.model.as_deref()
    }

    fn translate<'a>(
        req: &'a ResponsesRequest<'_>,
        ctx: &RequestContext<'_>,
    ) -> Result<Translated<'a, ResponsesAnswer>, GatewayError> {
        request::translate(req, ctx)
    }

    fn answer(
        body: &[u8],
        answer: &ResponsesAnswer,
        meta: &AnswerMeta<'_>,
    ) -> Result<Answered, GatewayError> {
        response::translate(body, answer, meta)
    }

    fn stream(answer: &ResponsesAnswer, meta: &AnswerMeta<'_>) -> StreamTranslator {
        StreamTranslator::new(
            meta.id.to_owned(),
            meta.created,
            meta.model.to_owned(),
            answer.clone(),
        )
    }
}
