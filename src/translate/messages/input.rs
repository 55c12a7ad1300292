//! What a Messages request and its count_tokens share once translated: system, messages and
//! tools (with the client's tool names).

use crate::bedrock::types as cv;
use crate::translate::names::ToolNames;

/// The parts of a Converse request that count_tokens also sends: system, messages, tools.
pub(super) struct Input<'a> {
    pub(super) system: Vec<cv::SystemBlock<'a>>,
    pub(super) messages: Vec<cv::Message<'a>>,
    pub(super) tool_config: Option<cv::ToolConfig<'a>>,
    pub(super) tool_names: ToolNames,
}
