//! Pure translation between OpenAI chat completions and Bedrock Converse: no I/O, no clock, no
//! environment, no Pingora. Inputs and context in, result out — this is where correctness
//! lives and where the golden tests in `tests/fixtures/` point.

pub(crate) mod affinity;
pub mod caching;
pub(crate) mod family;
pub mod names;
pub(crate) mod reasoning;
pub mod request;
pub mod response;
pub mod stream;
