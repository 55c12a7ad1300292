//! Pure translation between the client APIs and Bedrock Converse: no I/O, no clock, no
//! environment, no Pingora. Each client API is a front-end ([`frontend::FrontEnd`]) with its own
//! translators ([`chat`], [`messages`]); the policies ([`caching`], `reasoning`, `family`,
//! [`names`]) act on Converse once, for all of them. The golden tests in `tests/fixtures/`
//! point here.

pub(crate) mod affinity;
pub(crate) mod blocks;
pub mod caching;
pub mod chat;
pub mod embeddings;
pub(crate) mod family;
pub mod frontend;
pub(crate) mod media;
pub mod messages;
pub mod names;
pub(crate) mod params;
pub(crate) mod reasoning;
pub mod responses;
