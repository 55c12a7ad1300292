//! The config file exactly as written (serde mirror of the YAML). Unknown keys are rejected;
//! nothing here is used at runtime — `model.rs` is.

// Serde mirrors of a wire format: every field is named as on the wire, and the mapping of
// each one is documented in docs/mapping.md (or, for config, ../shared/contract.md).
#![allow(missing_docs)]

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct File {
    #[serde(default)]
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub admin: Option<Address>,
    #[serde(default)]
    pub metrics: Option<Address>,
    #[serde(default)]
    pub secrets: Vec<Secret>,
    #[serde(default)]
    pub backends: Vec<Backend>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(default)]
    pub server: Option<Server>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub address: String,
    #[serde(default)]
    pub tls: Option<Tls>,
    #[serde(default)]
    pub auth: Option<ListenerAuth>,
    #[serde(default)]
    pub limits: Option<Limits>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tls {
    pub cert_file: String,
    pub key_file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenerAuth {
    pub api_keys: SecretRefHolder,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRefHolder {
    pub secret_ref: SecretRef,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
    #[serde(default)]
    pub max_concurrent_requests: Option<u64>,
    #[serde(default)]
    pub max_messages: Option<u64>,
    #[serde(default)]
    pub max_content_parts: Option<u64>,
    #[serde(default)]
    pub max_tools: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Address {
    pub address: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secret {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub string_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Backend {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub ai: BackendAi,
    #[serde(default)]
    pub policies: Option<BackendPolicies>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendAi {
    pub provider: Provider,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provider {
    pub bedrock: Bedrock,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bedrock {
    #[serde(default)]
    pub model: Option<String>,
    pub region: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Optional model family for opaque ARNs (`anthropic`, `nova`, `gpt-oss`, ...).
    #[serde(default)]
    pub model_family: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendPolicies {
    #[serde(default)]
    pub auth: Option<Auth>,
    #[serde(default)]
    pub tls: Option<BackendTls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendTls {
    /// PEM bundle of CAs that replaces the system roots for this backend (tests, private CAs).
    #[serde(default)]
    pub ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Auth {
    #[serde(default)]
    pub aws: Option<AwsAuth>,
    #[serde(default)]
    pub api_key: Option<SecretRefHolder>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsAuth {
    #[serde(default)]
    pub secret_ref: Option<SecretRef>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub session_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Route {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub matches: Vec<RouteMatch>,
    pub backend_refs: Vec<BackendRef>,
    #[serde(default)]
    pub retry: Option<Retry>,
    #[serde(default)]
    pub failover: Option<Failover>,
    #[serde(default)]
    pub timeouts: Option<Timeouts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteMatch {
    pub path: PathMatch,
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendRef {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub priority: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Retry {
    pub attempts: u32,
    #[serde(default)]
    pub backoff: Option<String>,
    #[serde(default)]
    pub max_backoff: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Failover {
    pub consecutive_failures: u32,
    pub eject_for: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Timeouts {
    #[serde(default)]
    pub connect: Option<String>,
    #[serde(default)]
    pub first_byte: Option<String>,
    #[serde(default)]
    pub stream_idle: Option<String>,
    #[serde(default)]
    pub total: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub target_refs: Vec<TargetRef>,
    pub backend: PolicyBackend,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetRef {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyBackend {
    pub ai: PolicyAi,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyAi {
    #[serde(default)]
    pub prompt_caching: Option<PromptCaching>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PromptCaching {
    #[serde(default)]
    pub cache_system: Option<bool>,
    #[serde(default)]
    pub cache_messages: Option<bool>,
    #[serde(default)]
    pub cache_tools: Option<bool>,
    #[serde(default)]
    pub min_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Server {
    #[serde(default)]
    pub threads: Option<usize>,
    #[serde(default)]
    pub grace_period: Option<String>,
    #[serde(default)]
    pub max_in_flight_body_bytes: Option<u64>,
}
