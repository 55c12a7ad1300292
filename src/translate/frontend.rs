//! The seam every client API plugs into. A front-end parses its own wire request, translates it
//! to Converse for one Bedrock model, and translates Converse answers (JSON, or stream frames)
//! back to its own wire shape. The request path (`proxy`) is generic over [`FrontEnd`]: retries,
//! failover, signing, limits and metrics are written once for every API.

use super::caching::CachePolicy;
use super::family::ModelFamily;
use crate::bedrock::eventstream::Frame;
use crate::bedrock::types as cv;
use crate::error::GatewayError;
use crate::openai::RequestCaps;

/// What translating a request needs besides the request itself.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'c> {
    /// The model's family (detected from the model id, or the backend's override).
    pub(crate) family: ModelFamily,
    /// The route's prompt-caching policy.
    pub caching: Option<CachePolicy>,
    /// The `anthropic-beta` values Bedrock accepts (Anthropic Messages only; others ignore it).
    pub betas: &'c [String],
    /// The client's `anthropic-beta` header values, in order (Anthropic Messages only).
    pub client_betas: &'c [&'c str],
}

impl RequestContext<'static> {
    /// Context for a model id with its detected family and no caching policy.
    pub fn for_model(model_id: &str) -> Self {
        RequestContext {
            family: ModelFamily::detect(model_id),
            caching: None,
            betas: &[],
            client_betas: &[],
        }
    }
}

/// A request translated for one model: the Converse body, and what the answer leg needs.
#[derive(Debug)]
pub struct Translated<'a, A> {
    /// The body to send to Converse / ConverseStream.
    pub converse: cv::ConverseRequest<'a>,
    /// Whether the client asked for a stream (call ConverseStream).
    pub stream: bool,
    /// Client parameters changed or dropped so that Bedrock accepts the request; reported in
    /// the `x-basalt-adjusted` header.
    pub adjusted: Vec<&'static str>,
    /// What the front-end needs to translate the answer back (tool names, options).
    pub answer: A,
}

/// Per-answer constants chosen by the request path.
#[derive(Debug, Clone, Copy)]
pub struct AnswerMeta<'m> {
    /// The id the client sees (the front-end's prefix and a random suffix).
    pub id: &'m str,
    /// The creation time, in Unix seconds.
    pub created: u64,
    /// The Bedrock model id that answered.
    pub model: &'m str,
}

/// A translated JSON answer.
#[derive(Debug)]
pub struct Answered {
    /// The body to send to the client.
    pub body: Vec<u8>,
    /// Bedrock's usage (for metrics, logs and limits), as Bedrock reported it.
    pub(crate) tokens: cv::TokenUsage,
}

/// A streamed answer's translator: ConverseStream frames in, the client API's SSE out. An
/// explicit synchronous state machine; it never holds the whole answer.
pub trait StreamOut: Send {
    /// Translate one decoded frame, appending SSE bytes to `out`; an exception frame becomes
    /// the error event.
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<u8>);
    /// Send one error event (once); nothing more is emitted after it.
    fn error(&mut self, e: &GatewayError, out: &mut Vec<u8>);
    /// The upstream stream ended: the closing events (or an error if it ended early).
    fn finish(&mut self, out: &mut Vec<u8>);
    /// What the translator has recorded of the stream.
    fn facts(&self) -> &StreamFacts;
    /// Bedrock's usage, once its `metadata` event arrived.
    fn tokens(&self) -> Option<cv::TokenUsage> {
        self.facts().tokens
    }
    /// Characters of output (text, tool arguments, reasoning) translated so far: the measure of
    /// a stream the client abandoned before Bedrock's usage arrived.
    fn produced_chars(&self) -> u64 {
        self.facts().produced
    }
    /// Whether anything was emitted before an error: a stream that failed before it started
    /// can still be retried or answered as an HTTP error.
    fn started(&self) -> bool {
        self.facts().started
    }
    /// Whether output (text, reasoning or a tool call) was emitted (time to first token).
    fn output_sent(&self) -> bool {
        self.facts().output_sent
    }
    /// The error event sent, if any.
    fn error_sent(&self) -> Option<&GatewayError> {
        self.facts().error.as_ref()
    }
}

/// What every stream translator records of its stream, whatever its client API: the relay
/// reads it through [`StreamOut`] (usage for limits and metrics, whether it started, the
/// error it ended with).
#[derive(Debug, Default)]
pub struct StreamFacts {
    /// Bedrock's usage, once its `metadata` event arrived.
    pub(crate) tokens: Option<cv::TokenUsage>,
    /// Characters of output translated so far.
    pub(crate) produced: u64,
    /// Whether anything was emitted.
    pub(crate) started: bool,
    /// Whether output (text, reasoning or a tool call) was emitted.
    pub(crate) output_sent: bool,
    /// The error event sent, if any.
    pub(crate) error: Option<GatewayError>,
}

/// One client API served over Converse.
pub trait FrontEnd {
    /// The prefix of the ids this API's answers carry (`chatcmpl-`, `msg_`, `resp_`).
    const ID_PREFIX: &'static str;
    /// The parsed request, borrowing from the body.
    type Request<'a>;
    /// What the answer leg needs from the request leg (owned).
    type Answer: Send + Sync;
    /// The streaming translator.
    type Stream: StreamOut;

    /// Parse a request body (caps checked before the whole body is built).
    fn parse(body: &[u8], caps: RequestCaps) -> Result<Self::Request<'_>, GatewayError>;
    /// The client's `model`, if it sent one.
    fn model<'r>(req: &'r Self::Request<'_>) -> Option<&'r str>;
    /// Translate for one model.
    fn translate<'a>(
        req: &'a Self::Request<'_>,
        ctx: &RequestContext<'_>,
    ) -> Result<Translated<'a, Self::Answer>, GatewayError>;
    /// Translate a Converse JSON answer.
    fn answer(
        body: &[u8],
        answer: &Self::Answer,
        meta: &AnswerMeta<'_>,
    ) -> Result<Answered, GatewayError>;
    /// A translator for a ConverseStream answer that has not started.
    fn stream(answer: &Self::Answer, meta: &AnswerMeta<'_>) -> Self::Stream;
}
