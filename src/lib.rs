//! basalt — an OpenAI-compatible gateway for Amazon Bedrock, built on Pingora.
//!
//! Data flows one way, and the modules are listed in that order:
//! downstream request → [`openai`] (parse) → [`translate::request`] (to Converse) →
//! [`bedrock::sigv4`] (sign) → upstream → [`bedrock::error`] / [`translate::response`]
//! (back to OpenAI) → metrics and logs. [`proxy`] is the only module that knows Pingora phases;
//! [`config`] turns the YAML file into a model that cannot be invalid; [`sim`] is the built-in
//! Bedrock simulator used out of the box and by the tests.

pub mod admin;
pub mod auth;
pub mod bedrock;
pub mod config;
pub mod credentials;
pub mod error;
pub mod json;
pub mod logging;
pub mod metrics;
pub mod openai;
pub mod proxy;
pub mod secret;
pub mod server;
pub mod sim;
pub mod translate;
