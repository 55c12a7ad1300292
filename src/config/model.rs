//! The validated configuration the gateway runs on. Built only by `config::load`; every value
//! here has been checked (addresses parse, references resolve, secrets hold their keys).

use crate::bedrock::sigv4::AwsCredentials;
use crate::secret::Secret;
use crate::translate::caching::CachePolicy;
use crate::translate::family::ModelFamily;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The namespace of a resource that sets no `namespace:`.
pub(crate) const DEFAULT_NAMESPACE: &str = "default";
/// `listeners[].limits.maxBodyBytes` when not set (32 MiB).
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// `listeners[].limits.maxConcurrentRequests` when not set.
pub(crate) const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 4096;
/// `listeners[].limits.maxMessages` when not set.
pub(crate) const DEFAULT_MAX_MESSAGES: usize = 10_000;
/// `listeners[].limits.maxContentParts` when not set.
pub(crate) const DEFAULT_MAX_CONTENT_PARTS: usize = 100_000;
/// `listeners[].limits.maxTools` when not set.
pub(crate) const DEFAULT_MAX_TOOLS: usize = 1024;
/// `listeners[].limits.headerTimeout` when not set: the whole request head must arrive within it.
pub(crate) const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// `listeners[].limits.idleTimeout` when not set: a kept-alive connection with no request is
/// closed after it.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// `listeners[].limits.maxConnections` when not set.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// `listeners[].limits.maxHeaderBytes` when not set (64 KiB).
pub(crate) const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// `server.maxInFlightBodyBytes` when not set (256 MiB).
pub(crate) const DEFAULT_MAX_IN_FLIGHT_BODY_BYTES: usize = 256 * 1024 * 1024;
/// The longest duration any config key accepts (one year); longer ones are refused so that
/// `Instant + duration` can never overflow at runtime.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The whole gateway configuration, as the process runs it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The OpenAI-compatible API listeners (`listeners`); at least one.
    pub(crate) listeners: Vec<Listener>,
    /// Where `/config_dump` and `/healthz/*` are served (`admin.address`); default
    /// `127.0.0.1:15000`.
    pub(crate) admin: SocketAddr,
    /// Where `GET /metrics` is served (`metrics.address`); default `0.0.0.0:15020`.
    pub(crate) metrics: SocketAddr,
    /// The backends (`backends`), each shared with the routes that name it.
    pub(crate) backends: Vec<Arc<Backend>>,
    /// The routes (`routes`) in file order; the first that accepts a request serves it.
    pub(crate) routes: Vec<Route>,
    /// The policies (`policies`), for `/config_dump`; their prompt caching is already copied
    /// onto the routes they target.
    pub(crate) policies: Vec<Policy>,
    /// Process-wide settings (`server`); defaults when the section is absent.
    pub(crate) server: ServerSettings,
    /// The format it was read from: `/config_dump` names resources as that format does.
    pub(crate) source: Source,
}

/// The format a configuration was read from (one model, two front-ends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Source {
    /// basalt's own YAML format.
    #[default]
    Native,
    /// Kubernetes manifests (`Secret`, `AgentgatewayBackend`, `HTTPRoute`,
    /// `AgentgatewayPolicy`, `Gateway`).
    Manifests {
        /// Documents of kinds basalt does not serve, ignored.
        warnings: Vec<String>,
    },
}

/// One address serving the OpenAI-compatible API (`listeners[]`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Listener {
    /// Names the listener in logs and start-up errors (`name`); unique within its namespace.
    pub(crate) name: String,
    /// `namespace`; default `default`.
    pub(crate) namespace: String,
    /// The address to bind (`address`, e.g. `0.0.0.0:8080`); its port may not be taken by
    /// another listener, admin or metrics on an overlapping IP.
    pub(crate) address: SocketAddr,
    /// Downstream TLS (`tls`); `None` serves plain HTTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tls: Option<ListenerTls>,
    /// Client API keys: (client name, key). The key never leaves this struct.
    #[serde(skip)]
    pub(crate) api_keys: Option<Vec<(String, Secret)>>,
    /// Largest request body accepted, in bytes (`limits.maxBodyBytes`); past it 413. Default
    /// 32 MiB.
    pub(crate) max_body_bytes: usize,
    /// Requests this listener serves at once (`limits.maxConcurrentRequests`); past it 503
    /// `overloaded`. Default 4096.
    pub(crate) max_concurrent_requests: usize,
    /// Limits on the shape of one request body (`/config_dump` shows them beside
    /// `maxBodyBytes`).
    #[serde(flatten)]
    pub(crate) limits: RequestLimits,
    /// Limits on the connection and the request head (`/config_dump` shows them beside
    /// `maxBodyBytes`).
    #[serde(flatten)]
    pub(crate) conn: ConnLimits,
}

/// Per-connection limits from `listeners[].limits`: what a slow or hostile client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnLimits {
    /// The whole request head (request line and headers) must arrive within this, counted
    /// from its first byte (from the accept for a new connection) (`headerTimeout`); past it
    /// 408 and close. Default 10s.
    #[serde(with = "duration_ms")]
    pub(crate) header_timeout: Duration,
    /// A kept-alive connection with no request is closed after this (`idleTimeout`). Default
    /// 60s.
    #[serde(with = "duration_ms")]
    pub(crate) idle_timeout: Duration,
    /// Open downstream connections at once (`maxConnections`); past it a new connection is
    /// answered 503 and closed. Default 10000.
    pub(crate) max_connections: usize,
    /// Largest request head in bytes (`maxHeaderBytes`); past it 431 and close. Default 64 KiB.
    pub(crate) max_header_bytes: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

/// Per-request limits on the parsed body, from `listeners[].limits`; each is at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestLimits {
    /// Most `messages` entries one request may carry (`maxMessages`).
    pub(crate) max_messages: usize,
    /// Most content parts (text/image/file parts across all messages, plus system parts) in
    /// one request (`maxContentParts`).
    pub(crate) max_content_parts: usize,
    /// Most `tools` entries one request may carry (`maxTools`).
    pub(crate) max_tools: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_content_parts: DEFAULT_MAX_CONTENT_PARTS,
            max_tools: DEFAULT_MAX_TOOLS,
        }
    }
}

/// A listener's certificate and key (`listeners[].tls`), checked to load at start-up.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListenerTls {
    /// PEM certificate chain presented to clients (`certFile`; relative to the config file).
    pub(crate) cert_file: PathBuf,
    /// PEM private key of that certificate (`keyFile`; relative to the config file).
    pub(crate) key_file: PathBuf,
}

/// One Bedrock backend (`backends[]`): where requests go, as which model, signed as whom.
#[derive(Debug, Clone)]
pub(crate) struct Backend {
    /// What routes' `backendRefs` name (`name`), and the `backend` in logs and metrics; unique
    /// within its namespace.
    pub(crate) name: String,
    /// `namespace`; default `default`.
    pub(crate) namespace: String,
    /// When set, replaces the client's `model`.
    pub(crate) model: Option<String>,
    /// Overrides the family detected from the model id (for opaque ARNs).
    pub(crate) model_family: Option<ModelFamily>,
    /// The `anthropic-beta` values passed on to Claude (`ai.provider.bedrock.anthropicBetas`);
    /// default: the betas Bedrock documents. Others are dropped.
    pub(crate) anthropic_betas: Vec<String>,
    /// The AWS region signed for (`ai.provider.bedrock.region`, e.g. `us-east-1`); required.
    pub(crate) region: String,
    /// Where requests go (`ai.provider.bedrock.endpoint`); default
    /// `https://bedrock-runtime.<region>.amazonaws.com`.
    pub(crate) endpoint: Endpoint,
    /// Who requests are signed as (`policies.auth`); default the AWS default chain.
    pub(crate) auth: BackendAuth,
    /// PEM bundle of CAs that replaces the system roots for this backend
    /// (`policies.tls.caFile`; relative to the config file), for private CAs and tests.
    pub(crate) ca_file: Option<PathBuf>,
    /// The certificates of `ca_file` as DER, in file order, checked at load (each parses as
    /// X.509 and is accepted as a trust anchor); `Some` exactly when `ca_file` is.
    pub(crate) ca_certs: Option<Arc<Vec<Vec<u8>>>>,
}

/// A backend's endpoint URL, taken apart: `http(s)://host[:port]` with no path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Endpoint {
    /// Whether the scheme is `https` (the certificate and host name are then verified).
    pub(crate) tls: bool,
    /// The host name or IP address (IPv6 without brackets): what is resolved, and what the
    /// certificate must name.
    pub(crate) host: String,
    /// The TCP port; 443 or 80 when the URL gives none.
    pub(crate) port: u16,
    /// `host` header value: host, plus `:port` when not the scheme's default.
    pub(crate) authority: String,
    /// `scheme://authority`, used to build the URL that is signed.
    pub(crate) base_url: String,
}

/// How a backend's requests are authenticated (`backends[].policies.auth`).
#[derive(Debug, Clone)]
pub(crate) enum BackendAuth {
    /// Static keys from a secret (re-read from `dir` when it is a mounted directory), with an
    /// optional role assumed on top.
    Static {
        /// Name of the secret holding the keys (`aws.secretRef.name`), for logs and
        /// `/config_dump`.
        secret: String,
        /// The keys as loaded: `accessKey`, `secretKey` and the optional `sessionToken`.
        credentials: AwsCredentials,
        /// The secret's mounted directory (a `path` secret); `None` for inline values.
        dir: Option<PathBuf>,
        /// Role to assume with these keys (`aws.roleArn`).
        role: Option<AssumeRole>,
    },
    /// The AWS default chain (environment, profile, web identity, container, IMDS), with an
    /// optional role assumed on top.
    Implicit {
        /// Role to assume with the chain's credentials (`aws.roleArn`).
        role: Option<AssumeRole>,
    },
    /// Bedrock API key, sent as `Authorization: Bearer` (re-read from `dir` when mounted).
    ApiKey {
        /// Name of the secret holding `apiKey` (`apiKey.secretRef.name`), for logs and
        /// `/config_dump`.
        secret: String,
        /// The API key as loaded.
        key: Secret,
        /// The secret's mounted directory (a `path` secret); `None` for inline values.
        dir: Option<PathBuf>,
    },
}

/// A role assumed through STS on top of a backend's base credentials (`policies.auth.aws`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssumeRole {
    /// ARN of the role to assume (`roleArn`).
    pub(crate) role_arn: String,
    /// The external id the role's trust policy requires (`externalId`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) external_id: Option<String>,
    /// The STS session name, visible in CloudTrail (`sessionName`); default `basalt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_name: Option<String>,
}

/// One route (`routes[]`): the requests it takes and the backends that serve them.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// The `route` label in metrics and logs, and what policies target (`name`); unique within
    /// its namespace.
    pub(crate) name: String,
    /// `namespace`; default `default`.
    pub(crate) namespace: String,
    /// `matches`: the route takes a request when any one accepts its path and model; at least
    /// one.
    pub(crate) matches: Vec<RouteMatch>,
    /// Backends in preference order (lowest `priority` first, then file order).
    pub(crate) backends: Vec<(u32, Arc<Backend>)>,
    /// `retry`; `None` means one upstream call per request.
    pub(crate) retry: Option<Retry>,
    /// `failover`; `None` means a backend is never ejected.
    pub(crate) failover: Option<Failover>,
    /// `timeouts`; each key not set takes its default.
    pub(crate) timeouts: Timeouts,
    /// Prompt caching of the first policy that targets this route and sets it, if any.
    pub(crate) prompt_caching: Option<PromptCaching>,
    /// The rate limit of the first policy that targets this route and sets one, if any; shared
    /// (one set of counters) by every route that policy targets.
    pub(crate) rate_limit: Option<Arc<RateLimit>>,
}

impl Route {
    /// Whether any of this route's matches accepts the path (whatever the model).
    pub(crate) fn serves_path(&self, path: &str) -> bool {
        self.matches.iter().any(|m| m.matches_path(path))
    }
}

/// One entry of `routes[].matches`: a path and, optionally, a model.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RouteMatch {
    /// `path.value` (starts with `/`): with `PathPrefix` the request path must equal it or
    /// continue it after a `/`; with `Exact` it must equal it.
    pub(crate) path_prefix: String,
    /// `path.type: Exact`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) exact: bool,
    /// `model`: the client's whole `model` must match it, `*` standing for any run of
    /// characters; `None` accepts any model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
}

impl RouteMatch {
    /// Whether a request path falls under `path_prefix` (whole path segments only).
    pub(crate) fn matches_path(&self, path: &str) -> bool {
        if self.exact {
            return path == self.path_prefix;
        }
        path.starts_with(&self.path_prefix)
            && (path.len() == self.path_prefix.len()
                || self.path_prefix.ends_with('/')
                || path.as_bytes()[self.path_prefix.len()] == b'/')
    }

    /// Whether a client `model` matches `model` (always, when it is unset).
    pub(crate) fn matches_model(&self, model: &str) -> bool {
        match &self.model {
            None => true,
            Some(pattern) => glob_match(pattern, model),
        }
    }
}

/// Whole-string match where `*` stands for any run of characters.
pub(crate) fn glob_match(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `routes[].retry`: how a failed upstream call (throttling, unavailable, connect error) is
/// tried again, only before any byte reached the client.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Retry {
    /// Upstream calls in all, the first included (`attempts: 3` = at most 3); required, at
    /// least 1.
    pub(crate) attempts: u32,
    /// Pause before the first retry (`backoff`), growing up to `max_backoff`; default 100ms.
    #[serde(with = "duration_ms")]
    pub(crate) backoff: Duration,
    /// Longest pause between two calls (`maxBackoff`); default 2s.
    #[serde(with = "duration_ms")]
    pub(crate) max_backoff: Duration,
}

/// `routes[].failover`: when a failing backend is taken out of rotation, and for how long.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Failover {
    /// Failures in a row (5xx, 429/throttling, connect error, timeout) that eject a backend
    /// (`consecutiveFailures`); required, at least 1.
    pub(crate) consecutive_failures: u32,
    /// How long an ejected backend receives no traffic (`ejectFor`); required, above 0.
    #[serde(with = "duration_ms")]
    pub(crate) eject_for: Duration,
}

/// `routes[].timeouts`: limits on one upstream exchange, each above 0.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Timeouts {
    /// To open the connection to Bedrock, TLS included (`connect`); default 5s.
    #[serde(with = "duration_ms")]
    pub(crate) connect: Duration,
    /// Added to `connect`: how long Bedrock's response header may take (`firstByte`); default
    /// 60s.
    #[serde(with = "duration_ms")]
    pub(crate) first_byte: Duration,
    /// Longest gap between two stream events before the stream is ended (`streamIdle`);
    /// default 60s.
    #[serde(with = "duration_ms")]
    pub(crate) stream_idle: Duration,
    /// The whole exchange, streaming included (`total`); default 600s.
    #[serde(with = "duration_ms")]
    pub(crate) total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(60),
            stream_idle: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

/// A policy's `backend.ai.promptCaching`: where Bedrock cache points are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptCaching {
    /// Cache the prompt up to the end of the system prompt (`cacheSystem`); default true.
    pub(crate) cache_system: bool,
    /// Cache the conversation up to the last and previous user turns (`cacheMessages`);
    /// default true.
    pub(crate) cache_messages: bool,
    /// Cache the tool definitions, for model families that support it (`cacheTools`); default
    /// false.
    pub(crate) cache_tools: bool,
    /// Smallest estimated prefix, in tokens, worth a cache point (`minTokens`); default 1024.
    pub(crate) min_tokens: u64,
}

impl PromptCaching {
    /// The policy as the translation applies it.
    pub(crate) fn policy(&self) -> CachePolicy {
        CachePolicy {
            system: self.cache_system,
            messages: self.cache_messages,
            tools: self.cache_tools,
            min_tokens: self.min_tokens,
        }
    }
}

impl Backend {
    /// The family of a model called through this backend: the override, else detected.
    pub(crate) fn family(&self, model_id: &str) -> ModelFamily {
        self.model_family
            .unwrap_or_else(|| ModelFamily::detect(model_id))
    }
}

/// One policy (`policies[]`): settings attached to the routes it targets.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// `name`, unique within its namespace; shown in `/config_dump`.
    pub(crate) name: String,
    /// `namespace`; default `default`.
    pub(crate) namespace: String,
    /// The routes it applies to (`targetRefs`); each must name an existing route.
    pub(crate) targets: Vec<PolicyTarget>,
    /// `backend.ai.promptCaching`; `None` when the policy sets none.
    pub(crate) prompt_caching: Option<PromptCaching>,
    /// `rateLimit`; `None` when the policy sets none.
    pub(crate) rate_limit: Option<Arc<RateLimit>>,
}

/// A policy's `rateLimit`: who is counted, the limits, and where the counts live.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RateLimit {
    /// `namespace/name` of the policy: names its counters (in Redis too) and `/usage`.
    #[serde(skip)]
    pub(crate) policy: String,
    /// `key`: what a count belongs to.
    pub(crate) key: RateLimitKey,
    /// `limits`: at least one; no two of the same kind and window.
    pub(crate) limits: Vec<Limit>,
    /// `overrides`: per key name (a client key's entry name, or an IP address), limits that
    /// replace `limits`; each list as checked as `limits`.
    pub(crate) overrides: std::collections::BTreeMap<String, Vec<Limit>>,
    /// `store.redis`; `None` counts in this process only.
    pub(crate) redis: Option<RedisStore>,
}

/// `rateLimit.key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum RateLimitKey {
    /// The name of the client API key's entry (every listener has `auth.apiKeys`).
    Client,
    /// The client's IP address as the TCP connection shows it (`X-Forwarded-For` is not
    /// trusted).
    Ip,
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum LimitKind {
    /// Requests admitted.
    Requests,
    /// Tokens charged: input (cache reads and writes included) plus output, as Bedrock reports.
    Tokens,
}

/// One `limits[]` entry: at most `amount` of `kind` per `window`. Shown as written:
/// `{"requests": 600, "window": "60000ms"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    /// `requests` or `tokens`.
    pub(crate) kind: LimitKind,
    /// The number (at least 1).
    pub(crate) amount: u64,
    /// `window`: from 1s to 30d, whole milliseconds.
    pub(crate) window: Duration,
}

impl Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        let kind = match self.kind {
            LimitKind::Requests => "requests",
            LimitKind::Tokens => "tokens",
        };
        m.serialize_entry(kind, &self.amount)?;
        m.serialize_entry("window", &format!("{}ms", self.window.as_millis()))?;
        m.end()
    }
}

/// `rateLimit.store.redis`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RedisStore {
    /// The URL as configured (it may carry a password); used only to connect.
    #[serde(skip)]
    pub(crate) url: Secret,
    /// The URL with any user and password replaced by `***`, for `/config_dump` and logs.
    #[serde(rename = "url")]
    pub(crate) shown_url: String,
    /// `failMode`: what a request meets while Redis cannot be reached; default `open`.
    pub(crate) fail_mode: FailMode,
    /// `timeout`: the longest a request waits on Redis; default 50ms.
    #[serde(with = "duration_ms")]
    pub(crate) timeout: Duration,
}

/// `store.redis.failMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum FailMode {
    /// Admit the request (counted in `basalt_ratelimit_store_errors_total`).
    Open,
    /// Answer 503 `rate_limit_store_unavailable`.
    Closed,
}

/// One `policies[].targetRefs[]` entry: the route a policy applies to.
#[derive(Debug, Clone)]
pub(crate) struct PolicyTarget {
    /// `kind`; only `HTTPRoute` is accepted.
    pub(crate) kind: String,
    /// The targeted route's name.
    pub(crate) name: String,
    /// The targeted route's namespace (`namespace`); default the policy's.
    pub(crate) namespace: String,
}

/// Process-wide settings (`server`).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerSettings {
    /// Worker threads serving the API listeners (`threads`); default the number of cores.
    pub(crate) threads: usize,
    /// On SIGTERM, how long in-flight requests and streams may finish once accepting stops
    /// (`gracePeriod`); default 10s.
    #[serde(with = "duration_ms")]
    pub(crate) grace_period: Duration,
    /// Process-wide budget of request-body bytes held in memory at once; at least the
    /// largest listener `max_body_bytes`.
    pub(crate) max_in_flight_body_bytes: usize,
}

impl Config {
    /// Things that are valid but probably not meant, for the log at start-up: the admin
    /// endpoint on a non-loopback address (metrics on `0.0.0.0` is the documented default).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Source::Manifests { warnings } = &self.source {
            out.extend(warnings.iter().cloned());
        }
        if !self.admin.ip().to_canonical().is_loopback() {
            out.push(format!(
                "admin.address: {} is not a loopback address; /config_dump (routes, backends, \
                 secret names) and the health endpoints are reachable from the network",
                self.admin
            ));
        }
        out
    }
}

/// Durations appear in `/config_dump` as strings like `"1500ms"`.
mod duration_ms {
    use serde::Serializer;
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", d.as_millis()))
    }
}

/// Why a duration string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DurationError {
    /// Not a number followed by `ms`, `s`, `m` or `h`.
    Syntax,
    /// Too large for a `Duration`.
    Overflow,
}

/// Parse `100ms`, `5s`, `2m`, `1h` (also `1.5s`; a bare number is seconds) without panicking.
/// `humantime` is not used: it refuses `1.5s` and bare numbers, and accepts forms (`1h 30m`,
/// `2days`) this format never had.
pub(crate) fn try_parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = num.trim().parse().map_err(|_| DurationError::Syntax)?;
    if value.is_nan() || value < 0.0 {
        return Err(DurationError::Syntax);
    }
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(DurationError::Syntax),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| DurationError::Overflow)
}

/// `try_parse_duration`, for callers that only need to know whether it parsed.
pub fn parse_duration(s: &str) -> Option<Duration> {
    try_parse_duration(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("claude-*", "claude-sonnet"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXcYYb"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("10x"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("1e3s"), None);
        assert_eq!(parse_duration(".s"), None);
    }

    #[test]
    fn overflowing_duration_is_an_error_not_a_panic() {
        assert_eq!(
            try_parse_duration("99999999999999999999h"),
            Err(DurationError::Overflow)
        );
        assert_eq!(
            try_parse_duration("1e400"),
            Err(DurationError::Syntax),
            "exponents are not part of the syntax"
        );
        assert_eq!(
            try_parse_duration(&"9".repeat(400)),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn admin_off_loopback_is_warned_about() {
        let mut c = crate::config::load_str(
            "listeners: [{name: l, address: 127.0.0.1:8080}]",
            std::path::Path::new("."),
            &|_| None,
        )
        .unwrap();
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        c.metrics = "0.0.0.0:15020".parse().unwrap();
        assert!(c.warnings().is_empty(), "metrics on 0.0.0.0 is the default");
        c.admin = "0.0.0.0:15000".parse().unwrap();
        let w = c.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("admin.address: 0.0.0.0:15000 is not a loopback address")
                && w[0].contains("/config_dump"),
            "{w:?}"
        );
        c.admin = "[::ffff:127.0.0.1]:15000".parse().unwrap();
        assert!(c.warnings().is_empty(), "IPv4-mapped loopback is loopback");
    }

    #[test]
    fn path_prefix_respects_segments() {
        let mut m = RouteMatch {
            path_prefix: "/v1/chat/completions".into(),
            exact: false,
            model: None,
        };
        assert!(m.matches_path("/v1/chat/completions"));
        assert!(m.matches_path("/v1/chat/completions/"));
        assert!(!m.matches_path("/v1/chat/completionsX"));
        assert!(!m.matches_path("/v1/chat"));
        m.exact = true;
        assert!(m.matches_path("/v1/chat/completions"));
        assert!(
            !m.matches_path("/v1/chat/completions/"),
            "Exact is the whole path"
        );
    }
}
