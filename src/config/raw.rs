//! The config file exactly as written (serde mirror of the YAML). Unknown keys are rejected;
//! nothing here is used at runtime — `model.rs` is.

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md (or, for config, ../shared/contract.md).
#![allow(missing_docs)]

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct File {
    #[serde(default)]
    pub(crate) listeners: Vec<Listener>,
    #[serde(default)]
    pub(crate) admin: Option<Address>,
    #[serde(default)]
    pub(crate) metrics: Option<Address>,
    #[serde(default)]
    pub(crate) secrets: Vec<Secret>,
    #[serde(default)]
    pub(crate) backends: Vec<Backend>,
    #[serde(default)]
    pub(crate) routes: Vec<Route>,
    #[serde(default)]
    pub(crate) policies: Vec<Policy>,
    #[serde(default)]
    pub(crate) server: Option<Server>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Listener {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) tls: Option<Tls>,
    #[serde(default)]
    pub(crate) auth: Option<ListenerAuth>,
    #[serde(default)]
    pub(crate) limits: Option<Limits>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Tls {
    pub(crate) cert_file: String,
    pub(crate) key_file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListenerAuth {
    pub(crate) api_keys: SecretRefHolder,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SecretRefHolder {
    pub(crate) secret_ref: SecretRef,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SecretRef {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Limits {
    #[serde(default)]
    pub(crate) max_body_bytes: Option<u64>,
    #[serde(default)]
    pub(crate) max_concurrent_requests: Option<u64>,
    #[serde(default)]
    pub(crate) max_messages: Option<u64>,
    #[serde(default)]
    pub(crate) max_content_parts: Option<u64>,
    #[serde(default)]
    pub(crate) max_tools: Option<u64>,
    #[serde(default)]
    pub(crate) header_timeout: Option<String>,
    #[serde(default)]
    pub(crate) idle_timeout: Option<String>,
    #[serde(default)]
    pub(crate) max_connections: Option<u64>,
    #[serde(default)]
    pub(crate) max_header_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Address {
    pub(crate) address: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Secret {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) string_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Backend {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    pub(crate) ai: BackendAi,
    #[serde(default)]
    pub(crate) policies: Option<BackendPolicies>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendAi {
    pub(crate) provider: Provider,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Provider {
    pub(crate) bedrock: Bedrock,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Bedrock {
    #[serde(default)]
    pub(crate) model: Option<String>,
    pub(crate) region: String,
    #[serde(default)]
    pub(crate) endpoint: Option<String>,
    /// Optional model family for opaque ARNs (`anthropic`, `nova`, `gpt-oss`, ...).
    #[serde(default)]
    pub(crate) model_family: Option<String>,
    /// The `anthropic-beta` values Claude may receive from Anthropic Messages clients; default:
    /// the betas Bedrock documents.
    #[serde(default)]
    pub(crate) anthropic_betas: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendPolicies {
    #[serde(default)]
    pub(crate) auth: Option<Auth>,
    #[serde(default)]
    pub(crate) tls: Option<BackendTls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendTls {
    /// PEM bundle of CAs that replaces the system roots for this backend (tests, private CAs).
    #[serde(default)]
    pub(crate) ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Auth {
    #[serde(default)]
    pub(crate) aws: Option<AwsAuth>,
    #[serde(default)]
    pub(crate) api_key: Option<SecretRefHolder>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AwsAuth {
    #[serde(default)]
    pub(crate) secret_ref: Option<SecretRef>,
    #[serde(default)]
    pub(crate) role_arn: Option<String>,
    #[serde(default)]
    pub(crate) external_id: Option<String>,
    #[serde(default)]
    pub(crate) session_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Route {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    pub(crate) matches: Vec<RouteMatch>,
    pub(crate) backend_refs: Vec<BackendRef>,
    #[serde(default)]
    pub(crate) retry: Option<Retry>,
    #[serde(default)]
    pub(crate) failover: Option<Failover>,
    #[serde(default)]
    pub(crate) timeouts: Option<Timeouts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RouteMatch {
    pub(crate) path: PathMatch,
    #[serde(default)]
    pub(crate) model: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PathMatch {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendRef {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) priority: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Retry {
    pub(crate) attempts: u32,
    #[serde(default)]
    pub(crate) backoff: Option<String>,
    #[serde(default)]
    pub(crate) max_backoff: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Failover {
    pub(crate) consecutive_failures: u32,
    pub(crate) eject_for: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Timeouts {
    #[serde(default)]
    pub(crate) connect: Option<String>,
    #[serde(default)]
    pub(crate) first_byte: Option<String>,
    #[serde(default)]
    pub(crate) stream_idle: Option<String>,
    #[serde(default)]
    pub(crate) total: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Policy {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    pub(crate) target_refs: Vec<TargetRef>,
    #[serde(default)]
    pub(crate) backend: Option<PolicyBackend>,
    #[serde(default)]
    pub(crate) rate_limit: Option<RateLimit>,
}

/// `policies[].rateLimit` (contract: "Rate limits and budgets").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RateLimit {
    pub(crate) key: String,
    pub(crate) limits: Vec<RateLimitEntry>,
    #[serde(default)]
    pub(crate) overrides: BTreeMap<String, Vec<RateLimitEntry>>,
    #[serde(default)]
    pub(crate) store: Option<RateLimitStore>,
}

/// One `{requests: N, window: D}` or `{tokens: N, window: D}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RateLimitEntry {
    #[serde(default)]
    pub(crate) requests: Option<u64>,
    #[serde(default)]
    pub(crate) tokens: Option<u64>,
    pub(crate) window: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RateLimitStore {
    #[serde(default)]
    pub(crate) redis: Option<RedisStore>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RedisStore {
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) fail_mode: Option<String>,
    #[serde(default)]
    pub(crate) timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TargetRef {
    pub(crate) kind: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PolicyBackend {
    pub(crate) ai: PolicyAi,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PolicyAi {
    #[serde(default)]
    pub(crate) prompt_caching: Option<PromptCaching>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PromptCaching {
    #[serde(default)]
    pub(crate) cache_system: Option<bool>,
    #[serde(default)]
    pub(crate) cache_messages: Option<bool>,
    #[serde(default)]
    pub(crate) cache_tools: Option<bool>,
    #[serde(default)]
    pub(crate) min_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Server {
    #[serde(default)]
    pub(crate) threads: Option<usize>,
    #[serde(default)]
    pub(crate) grace_period: Option<String>,
    #[serde(default)]
    pub(crate) max_in_flight_body_bytes: Option<u64>,
}
