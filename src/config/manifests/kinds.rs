//! The Kubernetes resources basalt reads, as serde mirrors of their YAML. Unknown keys are
//! rejected (with their key path); keys Kubernetes adds that change nothing here
//! (`labels`, `status`, ...) are accepted and ignored.

// Serde mirrors of a wire format: every field is named as in the Kubernetes resource.
#![allow(missing_docs)]
// Some keys exist only so that `deny_unknown_fields` accepts them (they change nothing here).
#![allow(dead_code)]

use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;

/// `metadata`: only `name` and `namespace` matter; the rest of ObjectMeta is accepted.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Metadata {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) labels: Option<Value>,
    #[serde(default)]
    pub(crate) annotations: Option<Value>,
    #[serde(default)]
    pub(crate) creation_timestamp: Option<Value>,
    #[serde(default)]
    pub(crate) uid: Option<Value>,
    #[serde(default)]
    pub(crate) resource_version: Option<Value>,
    #[serde(default)]
    pub(crate) generation: Option<Value>,
    #[serde(default)]
    pub(crate) managed_fields: Option<Value>,
}

/// `v1 Secret`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Secret {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) metadata: Metadata,
    #[serde(default, rename = "type")]
    pub(crate) kind_of: Option<String>,
    #[serde(default)]
    pub(crate) data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) string_data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) immutable: Option<bool>,
}

/// A resource with a `spec` (every kind but Secret); `status` is ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Resource<S> {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) metadata: Metadata,
    pub(crate) spec: S,
    #[serde(default)]
    pub(crate) status: Option<Value>,
}

// ---- agentgateway.dev/v1alpha1 AgentgatewayBackend ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendSpec {
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendPolicies {
    #[serde(default)]
    pub(crate) auth: Option<BackendAuth>,
}

/// `policies.auth`: `aws: {secretRef}` (keys), `aws: {}` (implicit chain) or `secretRef` (a
/// Bedrock API key in the secret's `Authorization` or `apiKey` entry).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackendAuth {
    #[serde(default)]
    pub(crate) aws: Option<AwsAuth>,
    #[serde(default)]
    pub(crate) secret_ref: Option<LocalRef>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AwsAuth {
    #[serde(default)]
    pub(crate) secret_ref: Option<LocalRef>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LocalRef {
    pub(crate) name: String,
}

// ---- gateway.networking.k8s.io/v1 HTTPRoute ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RouteSpec {
    /// Accepted and not checked: every route is served on every listener.
    #[serde(default)]
    pub(crate) parent_refs: Vec<ObjectRef>,
    /// Accepted with a warning: every host is served.
    #[serde(default)]
    pub(crate) hostnames: Vec<String>,
    #[serde(default)]
    pub(crate) rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Rule {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) matches: Vec<Match>,
    #[serde(default)]
    pub(crate) backend_refs: Vec<ObjectRef>,
    #[serde(default)]
    pub(crate) timeouts: Option<RuleTimeouts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Match {
    #[serde(default)]
    pub(crate) path: Option<PathMatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PathMatch {
    /// Default `PathPrefix`, as in Gateway API.
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    /// Default `/`.
    #[serde(default)]
    pub(crate) value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RuleTimeouts {
    /// The whole request (→ `timeouts.total`).
    #[serde(default)]
    pub(crate) request: Option<String>,
}

/// A reference with Gateway API's optional group/kind/namespace (parentRefs, backendRefs,
/// certificateRefs).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ObjectRef {
    #[serde(default)]
    pub(crate) group: Option<String>,
    #[serde(default)]
    pub(crate) kind: Option<String>,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) section_name: Option<String>,
    #[serde(default)]
    pub(crate) port: Option<u16>,
    #[serde(default)]
    pub(crate) weight: Option<u32>,
}

// ---- agentgateway.dev/v1alpha1 AgentgatewayPolicy ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PolicySpec {
    pub(crate) target_refs: Vec<TargetRef>,
    pub(crate) backend: PolicyBackend,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TargetRef {
    #[serde(default)]
    pub(crate) group: Option<String>,
    pub(crate) kind: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) section_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PolicyBackend {
    pub(crate) ai: PolicyAi,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PolicyAi {
    /// Copied as is into the native policy, whose validation checks its keys.
    #[serde(default)]
    pub(crate) prompt_caching: Option<Value>,
}

// ---- gateway.networking.k8s.io/v1 Gateway ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GatewaySpec {
    #[serde(default)]
    pub(crate) gateway_class_name: Option<String>,
    /// `IPAddress` entries: the first is the address listeners bind (default 0.0.0.0).
    #[serde(default)]
    pub(crate) addresses: Vec<GatewayAddress>,
    pub(crate) listeners: Vec<GatewayListener>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GatewayAddress {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GatewayListener {
    pub(crate) name: String,
    pub(crate) port: u32,
    pub(crate) protocol: String,
    /// Accepted with a warning: every host is served.
    #[serde(default)]
    pub(crate) hostname: Option<String>,
    #[serde(default)]
    pub(crate) tls: Option<ListenerTls>,
    /// Accepted and not applied (every route is served on every listener).
    #[serde(default)]
    pub(crate) allowed_routes: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListenerTls {
    #[serde(default)]
    pub(crate) mode: Option<String>,
    #[serde(default)]
    pub(crate) certificate_refs: Vec<ObjectRef>,
}
