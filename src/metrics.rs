//! Prometheus metrics: one registry, every metric defined here, named after the OpenTelemetry
//! GenAI semantic conventions; and the `GET /metrics` listener (default `0.0.0.0:15020`).
//!
//! Label values come from the configuration, the error enum and a bounded set of model ids that
//! Bedrock has served, i.e. answered with 2xx when called with that id (at most
//! `MAX_LEARNED_MODELS`, each at most `MAX_LABEL_BYTES`); anything else is `other`. A
//! client's `model` is never learned by itself: when the backend fixes the model, Bedrock serves
//! the fixed id, not the client's string, so no client input can create a series.

use crate::bedrock::types::TokenUsage;
use crate::config::model::Config;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

/// Distinct model ids learned from successful answers (beyond the configured ones).
pub(crate) const MAX_LEARNED_MODELS: usize = 256;
/// Longest model id learned as a label value (Bedrock ids and ARNs are shorter). Configured
/// models are labels whatever their length: the operator wrote them.
pub(crate) const MAX_LABEL_BYTES: usize = 128;
/// The label value for a model that is neither configured nor learned, and for "no route".
pub(crate) const OTHER: &str = "other";

const SYSTEM: &str = "aws.bedrock";

// OpenTelemetry GenAI semantic-convention bucket boundaries.
const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
const DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
const TTFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
const TPOT_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
];
const UPSTREAM_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

const MODEL_LABELS: &[&str] = &[
    "gen_ai_operation_name",
    "gen_ai_system",
    "gen_ai_request_model",
    "gen_ai_response_model",
    "route",
];

/// The GenAI operation a request performed (`gen_ai_operation_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operation {
    /// Chat completions, Messages, Responses: text generation.
    #[default]
    Chat,
    /// Embeddings: input tokens only, no output tokens.
    Embeddings,
}

impl Operation {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Operation::Chat => "chat",
            Operation::Embeddings => "embeddings",
        }
    }
}

/// What one finished request reports.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The `gen_ai_operation_name` label.
    pub operation: Operation,
    /// The matched route's name (the `route` label); `None` (labelled `other`) when none matched.
    pub route: Option<&'a str>,
    /// The backend called, for `basalt_upstream_duration_seconds`; `None` when none was.
    pub backend: Option<&'a str>,
    /// The client's `model`: a label value only when configured or already learned.
    pub request_model: Option<&'a str>,
    /// The Bedrock model id called. Learned as a label value when `status` is 2xx, so a 2xx
    /// `status` must mean that Bedrock answered 2xx for this id.
    pub response_model: Option<&'a str>,
    /// The HTTP status the client received (the `status` label).
    pub status: u16,
    /// `GatewayError::metric_label()`, or `None` for success.
    pub error_type: Option<&'static str>,
    /// Request received to response complete (`gen_ai_server_request_duration_seconds`).
    pub duration: Duration,
    /// Request received to the first output token (streams) or the whole answer; recorded only
    /// on success.
    pub ttft: Option<Duration>,
    /// Time spent on the Bedrock exchange; `None` when Bedrock was never called.
    pub upstream: Option<Duration>,
    /// Token counts Bedrock reported, for `gen_ai_client_token_usage`; `None` when it reported none.
    pub usage: Option<&'a TokenUsage>,
    /// Whether the answer was streamed (time per output token is measured only then).
    pub stream: bool,
}

/// Every metric the gateway exports, in one registry shared by all requests and rendered at
/// `GET /metrics`.
pub struct Metrics {
    registry: Registry,
    token_usage: HistogramVec,
    request_duration: HistogramVec,
    ttft: HistogramVec,
    tpot: HistogramVec,
    requests: IntCounterVec,
    upstream_duration: HistogramVec,
    credentials_refresh: IntCounterVec,
    /// Chat requests being served.
    pub(crate) in_flight: IntGauge,
    /// Streaming responses open.
    pub(crate) open_streams: IntGauge,
    configured_models: HashSet<String>,
    learned_models: RwLock<HashSet<String>>,
    resilience: ResilienceMetrics,
    /// Rate limits (`policies[].rateLimit`) and per-client token usage.
    pub(crate) limits: LimitMetrics,
}

/// Rate limits and per-client usage. Labels are bounded by the config: route, policy and
/// client key entry names, limit names like `requests_per_60s`; an IP key is labelled `ip`.
pub(crate) struct LimitMetrics {
    /// `basalt_ratelimit_rejected_total{route,key,limit}`.
    pub(crate) rejected: IntCounterVec,
    /// `basalt_ratelimit_store_errors_total{policy}`.
    pub(crate) store_errors: IntCounterVec,
    /// `basalt_client_tokens_total{client}`.
    pub(crate) client_tokens: IntCounterVec,
}

impl LimitMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
        };
        Ok(LimitMetrics {
            rejected: counter(
                "basalt_ratelimit_rejected_total",
                "Requests refused by a rate limit (429), by route, key (client key name, or `ip`) and limit.",
                &["route", "key", "limit"],
            )?,
            store_errors: counter(
                "basalt_ratelimit_store_errors_total",
                "Rate-limit store calls that failed or timed out (Redis unreachable), by policy.",
                &["policy"],
            )?,
            client_tokens: counter(
                "basalt_client_tokens_total",
                "Tokens used per client API key (input, cache reads and writes, and output, as Bedrock reports them).",
                &["client"],
            )?,
        })
    }

    fn register(&self, r: &Registry) -> Result<(), prometheus::Error> {
        r.register(Box::new(self.rejected.clone()))?;
        r.register(Box::new(self.store_errors.clone()))?;
        r.register(Box::new(self.client_tokens.clone()))
    }
}

/// Retries, failover and ejection (labels: backend and route names from the config, bounded
/// reasons and outcomes).
struct ResilienceMetrics {
    attempts: IntCounterVec,
    retries: IntCounterVec,
    ejected: IntGaugeVec,
    budget_exhausted: IntCounterVec,
}

impl ResilienceMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
        };
        Ok(ResilienceMetrics {
            attempts: counter(
                "basalt_upstream_attempts_total",
                "Upstream attempts, by backend and outcome (ok, throttled, server_error, client_error, unreachable, timeout, bad_response).",
                &["backend", "outcome"],
            )?,
            retries: counter(
                "basalt_retries_total",
                "Attempts made again after a retryable failure, by route and reason.",
                &["route", "reason"],
            )?,
            ejected: IntGaugeVec::new(
                Opts::new(
                    "basalt_backend_ejected",
                    "1 while a backend is ejected after consecutive failures.",
                ),
                &["backend"],
            )?,
            budget_exhausted: counter(
                "basalt_retry_budget_exhausted_total",
                "Retries not made because the backend's retry budget was spent.",
                &["backend"],
            )?,
        })
    }

    fn register(&self, r: &Registry) -> Result<(), prometheus::Error> {
        r.register(Box::new(self.attempts.clone()))?;
        r.register(Box::new(self.retries.clone()))?;
        r.register(Box::new(self.ejected.clone()))?;
        r.register(Box::new(self.budget_exhausted.clone()))
    }
}

fn histogram(
    name: &str,
    help: &str,
    buckets: &[f64],
    labels: &[&str],
) -> Result<HistogramVec, prometheus::Error> {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
}

impl Metrics {
    /// Register every metric; the config's exact model ids are label values from the start.
    pub fn new(config: &Config) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let with_type = [MODEL_LABELS, &["gen_ai_token_type"]].concat();
        let with_error = [MODEL_LABELS, &["error_type"]].concat();
        let m = Metrics {
            token_usage: histogram(
                "gen_ai_client_token_usage",
                "Tokens used per request, by type (input counts cache reads and writes).",
                TOKEN_BUCKETS,
                &with_type,
            )?,
            request_duration: histogram(
                "gen_ai_server_request_duration_seconds",
                "Time from request received to response complete.",
                DURATION_BUCKETS,
                &with_error,
            )?,
            ttft: histogram(
                "gen_ai_server_time_to_first_token_seconds",
                "Time from request received to the first output token sent (whole answer for non-streaming).",
                TTFT_BUCKETS,
                MODEL_LABELS,
            )?,
            tpot: histogram(
                "gen_ai_server_time_per_output_token_seconds",
                "Streaming: time per output token after the first.",
                TPOT_BUCKETS,
                MODEL_LABELS,
            )?,
            requests: IntCounterVec::new(
                Opts::new("basalt_requests_total", "Requests answered, by route, status and error type."),
                &["route", "status", "error_type"],
            )?,
            upstream_duration: histogram(
                "basalt_upstream_duration_seconds",
                "Time spent on the Bedrock exchange (request sent to answer read).",
                UPSTREAM_BUCKETS,
                &["route", "backend"],
            )?,
            credentials_refresh: IntCounterVec::new(
                Opts::new(
                    "basalt_credentials_refresh_total",
                    "AWS credential fetches and refreshes, by result.",
                ),
                &["result"],
            )?,
            in_flight: IntGauge::new("basalt_requests_in_flight", "Chat requests being served.")?,
            open_streams: IntGauge::new("basalt_open_streams", "Streaming responses open.")?,
            configured_models: configured_models(config),
            learned_models: RwLock::new(HashSet::new()),
            resilience: ResilienceMetrics::new()?,
            limits: LimitMetrics::new()?,
            registry,
        };
        let build = IntGaugeVec::new(
            Opts::new("basalt_build_info", "Build information (value 1)."),
            &["version"],
        )?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let r = &m.registry;
        r.register(Box::new(m.token_usage.clone()))?;
        r.register(Box::new(m.request_duration.clone()))?;
        r.register(Box::new(m.ttft.clone()))?;
        r.register(Box::new(m.tpot.clone()))?;
        r.register(Box::new(m.requests.clone()))?;
        r.register(Box::new(m.upstream_duration.clone()))?;
        r.register(Box::new(m.credentials_refresh.clone()))?;
        r.register(Box::new(m.in_flight.clone()))?;
        r.register(Box::new(m.open_streams.clone()))?;
        r.register(Box::new(build))?;
        m.resilience.register(r)?;
        m.limits.register(r)?;
        Ok(m)
    }

    /// The label value for a model id: itself when configured or learned, else `other`.
    /// Never creates a value.
    pub(crate) fn model_label<'a>(&self, model: Option<&'a str>) -> &'a str {
        let Some(model) = model else {
            return OTHER;
        };
        if self.configured_models.contains(model) {
            return model;
        }
        if model.len() <= MAX_LABEL_BYTES {
            if let Ok(learned) = self.learned_models.read() {
                if learned.contains(model) {
                    return model;
                }
            }
        }
        OTHER
    }

    /// Learn a model id Bedrock served (answered 2xx for), up to [`MAX_LEARNED_MODELS`] ids of at
    /// most [`MAX_LABEL_BYTES`].
    fn learn(&self, served: &str) {
        if served.len() > MAX_LABEL_BYTES || self.configured_models.contains(served) {
            return;
        }
        if let Ok(learned) = self.learned_models.read() {
            if learned.contains(served) || learned.len() >= MAX_LEARNED_MODELS {
                return;
            }
        }
        if let Ok(mut learned) = self.learned_models.write() {
            if learned.len() < MAX_LEARNED_MODELS {
                learned.insert(served.to_owned());
            }
        }
    }

    /// Record one finished request: tokens (once), durations, the request counter.
    pub fn observe(&self, o: &Observation<'_>) {
        let success = (200..300).contains(&o.status);
        let route = o.route.unwrap_or(OTHER);
        if let (true, Some(served)) = (success, o.response_model) {
            self.learn(served);
        }
        // The request model is labelled only if it is configured or was served at some point
        // (with a pass-through backend it is the id just served): the client's string alone
        // never creates a value.
        let request_model = self.model_label(o.request_model);
        let response_model = self.model_label(o.response_model);
        let operation = o.operation.label();
        let base = [operation, SYSTEM, request_model, response_model, route];
        let error_type = o.error_type.unwrap_or("");

        self.requests
            .with_label_values(&[route, status_label(o.status), error_type])
            .inc();
        self.request_duration
            .with_label_values(&[
                operation,
                SYSTEM,
                request_model,
                response_model,
                route,
                error_type,
            ])
            .observe(o.duration.as_secs_f64());
        if let (Some(upstream), Some(backend)) = (o.upstream, o.backend) {
            self.upstream_duration
                .with_label_values(&[route, backend])
                .observe(upstream.as_secs_f64());
        }
        if let Some(u) = o.usage {
            // Embeddings have no output tokens: none are recorded, rather than zeros.
            let generates = o.operation != Operation::Embeddings;
            for (kind, n, always) in [
                ("input", u.prompt_tokens(), true),
                ("output", u.output_tokens, generates),
                ("input_cache_read", u.cache_read(), false),
                ("input_cache_write", u.cache_write(), false),
            ] {
                if always || n > 0 {
                    let [a, b, c, d, e] = base;
                    self.token_usage
                        .with_label_values(&[a, b, c, d, e, kind])
                        .observe(n as f64);
                }
            }
        }
        if success {
            if let Some(ttft) = o.ttft {
                self.ttft
                    .with_label_values(&base)
                    .observe(ttft.as_secs_f64());
                let output = o.usage.map_or(0, |u| u.output_tokens);
                if o.stream && output > 1 {
                    let after = o.duration.saturating_sub(ttft).as_secs_f64();
                    self.tpot
                        .with_label_values(&base)
                        .observe(after / (output - 1) as f64);
                }
            }
        }
    }

    /// A credential fetch or refresh finished (`ok` / `error`).
    pub(crate) fn credentials_refresh(&self, ok: bool) {
        self.credentials_refresh
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// One upstream attempt ended with `outcome`.
    pub(crate) fn upstream_attempt(&self, backend: &str, outcome: &'static str) {
        self.attempt_counter(backend, outcome).inc();
    }

    /// The `basalt_upstream_attempts_total` counter of one backend and outcome (to keep, so
    /// that counting the common outcome costs no label lookup).
    pub(crate) fn attempt_counter(&self, backend: &str, outcome: &'static str) -> IntCounter {
        self.resilience
            .attempts
            .with_label_values(&[backend, outcome])
    }

    /// An attempt is being made again for `reason`.
    pub(crate) fn retry(&self, route: &str, reason: &'static str) {
        self.resilience
            .retries
            .with_label_values(&[route, reason])
            .inc();
    }

    /// A backend was ejected (`true`) or takes traffic again.
    pub(crate) fn backend_ejected(&self, backend: &str, ejected: bool) {
        self.resilience
            .ejected
            .with_label_values(&[backend])
            .set(i64::from(ejected));
    }

    /// A retry was not made: the backend's retry budget was spent.
    pub(crate) fn retry_budget_exhausted(&self, backend: &str) {
        self.resilience
            .budget_exhausted
            .with_label_values(&[backend])
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 * 1024);
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::error!("encoding metrics: {e}");
        }
        out
    }
}

/// Exact models named in the config: `matches[].model` without `*`, and backends' fixed models.
fn configured_models(config: &Config) -> HashSet<String> {
    let mut set: HashSet<String> = config
        .backends
        .iter()
        .filter_map(|b| b.model.clone())
        .collect();
    for r in &config.routes {
        for m in &r.matches {
            if let Some(model) = &m.model {
                if !model.contains('*') {
                    set.insert(model.clone());
                }
            }
        }
    }
    set
}

fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        422 => "422",
        424 => "424",
        429 => "429",
        499 => "499",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::load_str(
            r#"
listeners: [{name: l, address: "127.0.0.1:1"}]
secrets: [{name: s, stringData: {accessKey: a, secretKey: b}}]
backends:
  - name: b
    ai: {provider: {bedrock: {region: us-east-1, model: "amazon.nova-micro-v1:0"}}}
    policies: {auth: {aws: {secretRef: {name: s}}}}
routes:
  - name: r
    matches: [{path: {type: PathPrefix, value: /v1/chat/completions}, model: fixed}]
    backendRefs: [{name: b}]
"#,
            std::path::Path::new("."),
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn model_labels_are_bounded() {
        let m = Metrics::new(&config()).unwrap();
        assert_eq!(m.model_label(Some("fixed")), "fixed");
        assert_eq!(
            m.model_label(Some("amazon.nova-micro-v1:0")),
            "amazon.nova-micro-v1:0"
        );
        // Looking a name up creates nothing.
        assert_eq!(m.model_label(Some("junk-1")), OTHER);
        assert_eq!(m.model_label(Some("junk-1")), OTHER);
        // A model Bedrock served is learned, up to the cap.
        m.learn("m-0");
        assert_eq!(m.model_label(Some("m-0")), "m-0");
        for i in 1..MAX_LEARNED_MODELS + 10 {
            let name = format!("m-{i}");
            m.learn(&name);
            let got = m.model_label(Some(&name)).to_owned();
            assert_eq!(got == name, i < MAX_LEARNED_MODELS, "{i}");
        }
        assert_eq!(m.model_label(None), OTHER);
        let long = "z".repeat(MAX_LABEL_BYTES + 1);
        let m = Metrics::new(&config()).unwrap();
        m.learn(&long);
        assert_eq!(m.model_label(Some(&long)), OTHER);
    }

    fn finished<'a>(
        request_model: &'a str,
        response_model: &'a str,
        status: u16,
    ) -> Observation<'a> {
        Observation {
            operation: Operation::Chat,
            route: Some("r"),
            backend: Some("b"),
            request_model: Some(request_model),
            response_model: Some(response_model),
            status,
            error_type: None,
            duration: Duration::from_millis(30),
            ttft: Some(Duration::from_millis(10)),
            upstream: Some(Duration::from_millis(25)),
            usage: None,
            stream: false,
        }
    }

    /// The distinct values of `label` in the exposition.
    fn label_values(text: &str, label: &str) -> HashSet<String> {
        let key = format!("{label}=\"");
        text.match_indices(&key)
            .filter_map(|(i, _)| {
                let rest = &text[i + key.len()..];
                rest.find('"').map(|end| rest[..end].to_owned())
            })
            .collect()
    }

    #[test]
    fn client_model_names_create_no_series_when_the_backend_fixes_the_model() {
        let m = Metrics::new(&config()).unwrap();
        m.observe(&finished("fixed", "amazon.nova-micro-v1:0", 200));
        let baseline = m.render().len();
        // Bedrock served the fixed model every time: the client's names were never served.
        for i in 0..1000 {
            let name = format!("{i}-{}", "x".repeat(4096));
            m.observe(&finished(&name, "amazon.nova-micro-v1:0", 200));
        }
        let text = String::from_utf8(m.render()).unwrap();
        let requested = label_values(&text, "gen_ai_request_model");
        assert_eq!(
            requested,
            HashSet::from(["fixed".to_owned(), OTHER.to_owned()])
        );
        let responded = label_values(&text, "gen_ai_response_model");
        assert_eq!(
            responded,
            HashSet::from(["amazon.nova-micro-v1:0".to_owned()])
        );
        // One more request-model value (`other`) than the baseline, nothing per client name.
        assert!(text.len() < 2 * baseline + 1024, "{} bytes", text.len());
        assert!(text.len() < 32 * 1024, "{} bytes", text.len());
    }

    #[test]
    fn served_model_ids_are_learned_only_when_short_and_answered() {
        let m = Metrics::new(&config()).unwrap();
        // A pass-through backend: Bedrock was called with the client's name.
        for i in 0..1000 {
            let name = format!("{i}-{}", "y".repeat(MAX_LABEL_BYTES));
            m.observe(&finished(&name, &name, 200));
        }
        // Failures never teach a name.
        for i in 0..1000 {
            let name = format!("failed-{i}");
            m.observe(&finished(&name, &name, 400));
        }
        m.observe(&finished("served-1", "served-1", 200));
        let text = String::from_utf8(m.render()).unwrap();
        let requested = label_values(&text, "gen_ai_request_model");
        assert_eq!(
            requested,
            HashSet::from(["served-1".to_owned(), OTHER.to_owned()])
        );
        assert!(text.len() < 32 * 1024, "{} bytes", text.len());
    }

    #[test]
    fn renders_every_family() {
        let m = Metrics::new(&config()).unwrap();
        m.observe(&Observation {
            operation: Operation::Chat,
            route: Some("r"),
            backend: Some("b"),
            request_model: Some("fixed"),
            response_model: Some("amazon.nova-micro-v1:0"),
            status: 200,
            error_type: None,
            duration: Duration::from_millis(30),
            ttft: Some(Duration::from_millis(10)),
            upstream: Some(Duration::from_millis(25)),
            usage: None,
            stream: true,
        });
        let text = String::from_utf8(m.render()).unwrap();
        for name in [
            "basalt_requests_total{error_type=\"\",route=\"r\",status=\"200\"} 1",
            "gen_ai_server_request_duration_seconds_count",
            "gen_ai_server_time_to_first_token_seconds_count",
            "basalt_upstream_duration_seconds_count{backend=\"b\",route=\"r\"} 1",
            "basalt_build_info{version=",
            "basalt_requests_in_flight 0",
            "basalt_open_streams 0",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }

    #[test]
    fn embeddings_are_labelled_and_record_input_tokens_only() {
        let m = Metrics::new(&config()).unwrap();
        let usage = TokenUsage {
            input_tokens: 12,
            total_tokens: 12,
            ..TokenUsage::default()
        };
        m.observe(&Observation {
            operation: Operation::Embeddings,
            usage: Some(&usage),
            ..finished("fixed", "amazon.nova-micro-v1:0", 200)
        });
        let text = String::from_utf8(m.render()).unwrap();
        let input = text
            .lines()
            .find(|l| {
                l.starts_with("gen_ai_client_token_usage_sum")
                    && l.contains("gen_ai_operation_name=\"embeddings\"")
                    && l.contains("gen_ai_token_type=\"input\"")
            })
            .unwrap_or_else(|| panic!("no embeddings input tokens in:\n{text}"));
        assert!(input.ends_with(" 12"), "{input}");
        assert!(
            !text.contains("gen_ai_token_type=\"output\""),
            "embeddings recorded output tokens:\n{text}"
        );
        assert!(!text.contains("gen_ai_operation_name=\"chat\""));
    }
}
