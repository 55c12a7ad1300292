//! basalt — an OpenAI- and Anthropic-compatible gateway for Amazon Bedrock, built on Pingora.
//!
//! Data flows one way, and the modules read in that order: downstream request → `proxy`
//! (dispatch, body) → [`openai`] or [`anthropic`] (that API's wire types) → [`translate`] (that
//! API's front-end, to Converse; policies)
//! → [`bedrock`] (sign, wire types) → `proxy` (upstream exchange, stream relay) →
//! [`translate`] (back) → `proxy::observe` ([`metrics`], access log).
//!
//! # The layering rule (checked by `tests/layering.rs`)
//! - **Pure core** — [`json`], [`secret`], `error`, [`bedrock`], [`openai`], [`anthropic`],
//!   [`translate`]:
//!   no I/O, no clock, no environment, no Pingora, no tokio; they import only each other.
//!   Correctness lives here, and the golden tests point here.
//! - **Services without Pingora** — [`config`] (YAML → a model that cannot be invalid),
//!   `credentials` and `auth` (AWS credentials, signing headers), [`metrics`],
//!   [`logging`], `ratelimit` (rate limits and token budgets, in process or through Redis),
//!   `sim` (the Bedrock simulator's logic, cargo feature `simulator`).
//! - **Pingora lives in `proxy` and [`server`] only**: `proxy` is the request path, one file
//!   per job; `server` assembles the process (listeners, admin, metrics, background services,
//!   the simulator's listener).
//!
//! A module may import from its own layer or the ones listed before it, never upward.

pub mod json;
pub(crate) mod redact;
pub mod secret;

pub mod anthropic;
pub mod bedrock;
pub(crate) mod error;
pub mod openai;
pub mod translate;
pub(crate) mod wire;

pub(crate) mod auth;
pub mod config;
pub(crate) mod credentials;
pub mod logging;
pub mod metrics;
pub(crate) mod ratelimit;
#[cfg(feature = "simulator")]
pub mod sim;

pub(crate) mod proxy;
pub mod server;
