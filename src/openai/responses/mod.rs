//! The OpenAI Responses API's wire types (downstream side): the request as clients send it
//! ([`request`]) and the `response` object and stream events sent back ([`response`]). Errors use
//! the OpenAI error body (`openai::error_body`). No translation logic lives here.

pub mod request;
pub mod response;

pub use request::ResponsesRequest;
pub use response::Echo;

use super::{limits, RequestCaps};
use crate::error::GatewayError;

/// Parse a `POST /v1/responses` body, borrowing strings from it, with the listener's caps on
/// input items (`maxMessages`), content parts and tools checked before it is parsed. Errors name
/// the JSON path at fault.
pub fn parse(body: &[u8], caps: RequestCaps) -> Result<ResponsesRequest<'_>, GatewayError> {
    if let Some((what, cap)) = limits::exceeded(body, caps) {
        let (noun, param) = match what {
            limits::Counted::Messages => ("input items", "input"),
            limits::Counted::ContentParts => ("content parts", "input"),
            limits::Counted::Tools => ("tools", "tools"),
        };
        return Err(GatewayError::invalid(
            format!(
                "the request has more than {cap} {noun} (the listener's limits.{})",
                what.key()
            ),
            Some(param),
        ));
    }
    super::parse_json(body)
}
