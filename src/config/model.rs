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

pub const DEFAULT_NAMESPACE: &str = "default";
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// `listeners[].limits.maxConcurrentRequests` when not set.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 4096;
/// `listeners[].limits.maxMessages` when not set.
pub const DEFAULT_MAX_MESSAGES: usize = 10_000;
/// `listeners[].limits.maxContentParts` when not set.
pub const DEFAULT_MAX_CONTENT_PARTS: usize = 100_000;
/// `listeners[].limits.maxTools` when not set.
pub const DEFAULT_MAX_TOOLS: usize = 1024;
/// `server.maxInFlightBodyBytes` when not set (256 MiB).
pub const DEFAULT_MAX_IN_FLIGHT_BODY_BYTES: usize = 256 * 1024 * 1024;
/// The longest duration any config key accepts (one year); longer ones are refused so that
/// `Instant + duration` can never overflow at runtime.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

#[derive(Debug, Clone)]
pub struct Config {
    pub listeners: Vec<Listener>,
    pub admin: SocketAddr,
    pub metrics: SocketAddr,
    pub backends: Vec<Arc<Backend>>,
    pub routes: Vec<Route>,
    pub policies: Vec<Policy>,
    pub server: ServerSettings,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    pub namespace: String,
    pub address: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
    /// Client API keys: (client name, key). The key never leaves this struct.
    #[serde(skip)]
    pub api_keys: Option<Vec<(String, Secret)>>,
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
    /// Limits on the shape of one request body (`/config_dump` shows them beside
    /// `maxBodyBytes`).
    #[serde(flatten)]
    pub limits: RequestLimits,
}

/// Per-request limits on the parsed body, from `listeners[].limits`; each is at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLimits {
    /// Most `messages` entries one request may carry (`maxMessages`).
    pub max_messages: usize,
    /// Most content parts (text/image/file parts across all messages, plus system parts) in
    /// one request (`maxContentParts`).
    pub max_content_parts: usize,
    /// Most `tools` entries one request may carry (`maxTools`).
    pub max_tools: usize,
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Backend {
    pub name: String,
    pub namespace: String,
    /// When set, replaces the client's `model`.
    pub model: Option<String>,
    /// Overrides the family detected from the model id (for opaque ARNs).
    pub model_family: Option<ModelFamily>,
    pub region: String,
    pub endpoint: Endpoint,
    pub auth: BackendAuth,
    pub ca_file: Option<PathBuf>,
    /// The certificates of `ca_file` as DER, in file order, checked at load (each parses as
    /// X.509 and is accepted as a trust anchor); `Some` exactly when `ca_file` is.
    pub ca_certs: Option<Arc<Vec<Vec<u8>>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// `host` header value: host, plus `:port` when not the scheme's default.
    pub authority: String,
    /// `scheme://authority`, used to build the URL that is signed.
    pub base_url: String,
}

#[derive(Debug, Clone)]
pub enum BackendAuth {
    /// Static keys from a secret (re-read from `dir` when it is a mounted directory), with an
    /// optional role assumed on top.
    Static {
        secret: String,
        credentials: AwsCredentials,
        dir: Option<PathBuf>,
        role: Option<AssumeRole>,
    },
    /// The AWS default chain (environment, profile, web identity, container, IMDS), with an
    /// optional role assumed on top.
    Implicit { role: Option<AssumeRole> },
    /// Bedrock API key, sent as `Authorization: Bearer` (re-read from `dir` when mounted).
    ApiKey {
        secret: String,
        key: Secret,
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssumeRole {
    pub role_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub namespace: String,
    pub matches: Vec<RouteMatch>,
    /// Backends in preference order (lowest `priority` first, then file order).
    pub backends: Vec<(u32, Arc<Backend>)>,
    pub retry: Option<Retry>,
    pub failover: Option<Failover>,
    pub timeouts: Timeouts,
    pub prompt_caching: Option<PromptCaching>,
}

impl Route {
    /// Whether any of this route's matches accepts the path (whatever the model).
    pub fn serves_path(&self, path: &str) -> bool {
        self.matches.iter().any(|m| m.matches_path(path))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteMatch {
    pub path_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl RouteMatch {
    pub fn matches_path(&self, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && (path.len() == self.path_prefix.len()
                || self.path_prefix.ends_with('/')
                || path.as_bytes()[self.path_prefix.len()] == b'/')
    }

    pub fn matches_model(&self, model: &str) -> bool {
        match &self.model {
            None => true,
            Some(pattern) => glob_match(pattern, model),
        }
    }
}

/// Whole-string match where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, s: &str) -> bool {
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

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    pub attempts: u32,
    #[serde(with = "duration_ms")]
    pub backoff: Duration,
    #[serde(with = "duration_ms")]
    pub max_backoff: Duration,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failover {
    pub consecutive_failures: u32,
    #[serde(with = "duration_ms")]
    pub eject_for: Duration,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    #[serde(with = "duration_ms")]
    pub connect: Duration,
    #[serde(with = "duration_ms")]
    pub first_byte: Duration,
    #[serde(with = "duration_ms")]
    pub stream_idle: Duration,
    #[serde(with = "duration_ms")]
    pub total: Duration,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptCaching {
    pub cache_system: bool,
    pub cache_messages: bool,
    pub cache_tools: bool,
    pub min_tokens: u64,
}

impl PromptCaching {
    /// The policy as the translation applies it.
    pub fn policy(&self) -> CachePolicy {
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
    pub fn family(&self, model_id: &str) -> ModelFamily {
        self.model_family
            .unwrap_or_else(|| ModelFamily::detect(model_id))
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub namespace: String,
    pub targets: Vec<PolicyTarget>,
    pub prompt_caching: Option<PromptCaching>,
}

#[derive(Debug, Clone)]
pub struct PolicyTarget {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSettings {
    pub threads: usize,
    #[serde(with = "duration_ms")]
    pub grace_period: Duration,
    /// Process-wide budget of request-body bytes held in memory at once; at least the
    /// largest listener `max_body_bytes`.
    pub max_in_flight_body_bytes: usize,
}

impl Config {
    /// Things that are valid but probably not meant, for the log at start-up: the admin
    /// endpoint on a non-loopback address (metrics on `0.0.0.0` is the documented default).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
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

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", d.as_millis()))
    }
}

/// Why a duration string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Not a number followed by `ms`, `s`, `m` or `h`.
    Syntax,
    /// Too large for a `Duration`.
    Overflow,
}

/// Parse `100ms`, `5s`, `2m`, `1h` (also `1.5s`; a bare number is seconds) without panicking.
/// `humantime` is not used: it refuses `1.5s` and bare numbers, and accepts forms (`1h 30m`,
/// `2days`) this format never had.
pub fn try_parse_duration(s: &str) -> Result<Duration, DurationError> {
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

/// [`try_parse_duration`], for callers that only need to know whether it parsed.
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
        let m = RouteMatch {
            path_prefix: "/v1/chat/completions".into(),
            model: None,
        };
        assert!(m.matches_path("/v1/chat/completions"));
        assert!(m.matches_path("/v1/chat/completions/"));
        assert!(!m.matches_path("/v1/chat/completionsX"));
        assert!(!m.matches_path("/v1/chat"));
    }
}
