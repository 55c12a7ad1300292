//! The built-in Bedrock runtime simulator: `POST /model/{id}/converse` (and `/invoke` for the
//! embeddings models, `sim/invoke.rs`), with SigV4 / bearer
//! verification, Bedrock's request-shape validation, deterministic answers, every Bedrock error
//! on demand, and a record of received requests for tests (`GET/DELETE /_sim/requests`).
//!
//! Directives in the last user text steer the answer (tests and demos):
//! `[sim:error=ThrottlingException]`, `[sim:stop=max_tokens]`, `[sim:tool]` (call the first
//! tool), `[sim:tools=2]` (parallel calls), `[sim:reasoning]`, `[sim:cache=read:100,write:50]`,
//! `[sim:unknown-block]`, `[sim:latency=200ms]`.

mod count_tokens;
mod invoke;
mod schema;
pub mod validate;

use crate::bedrock::exceptions::status_of;
use crate::bedrock::sigv4::SERVICE as SIGV4_SERVICE;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Credentials the simulator accepts by default (used by `conf/local.yaml`).
pub(crate) const LOCAL_ACCESS_KEY: &str = "AKIDBASALTLOCAL";
/// The secret key paired with [`LOCAL_ACCESS_KEY`].
pub(crate) const LOCAL_SECRET_KEY: &str = "basalt-local-secret-key";

/// What the simulator accepts and how it behaves; the default accepts the local credentials.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Check SigV4 / bearer auth (off for load tests).
    pub verify: bool,
    /// Accepted (access key, secret key) pairs.
    pub credentials: Vec<(String, String)>,
    /// Session tokens that must accompany an access key (access key, token).
    pub tokens: Vec<(String, String)>,
    /// Temporary credentials minted by a test stand-in: an access key `<prefix><unix expiry, 10
    /// digits><anything>` is valid until that time, with secret `sk-<key>` and token `tok-<key>`.
    pub rotating_prefix: Option<String>,
    /// Accepted Bedrock API keys.
    pub api_keys: Vec<String>,
    /// Added before every answer.
    pub latency: Duration,
    /// Keep the last requests for `GET /_sim/requests`.
    pub record: bool,
    /// Seconds an idle keep-alive connection is kept open before the simulator closes it.
    pub keepalive_secs: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            verify: true,
            credentials: vec![(LOCAL_ACCESS_KEY.into(), LOCAL_SECRET_KEY.into())],
            api_keys: vec!["basalt-local-api-key".into()],
            tokens: Vec::new(),
            rotating_prefix: None,
            latency: Duration::ZERO,
            record: true,
            keepalive_secs: 60,
        }
    }
}

/// A request as received (raw path, all headers, exact body up to [`RECORD_BODY_MAX`] bytes).
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The HTTP method.
    pub(crate) method: String,
    /// The path as received, percent-encoding untouched (what the SigV4 signature covers).
    pub(crate) path: String,
    /// Every header in arrival order, so tests can check what the gateway sent upstream.
    pub(crate) headers: Vec<(String, String)>,
    /// The body, or its first [`RECORD_BODY_MAX`] bytes when `body_len` is larger.
    pub(crate) body: Bytes,
    /// The length of the body received.
    pub(crate) body_len: usize,
    /// The client's address (`ip:port`): distinct ports = distinct connections.
    pub(crate) peer: String,
}

/// One simulator instance: its options, the requests it recorded, its stream counts and its
/// prompt cache, shared by every connection.
pub(crate) struct Simulator {
    pub(crate) options: SimOptions,
    recorded: Mutex<Records>,
    /// `[sim:fail=N:Kind]`: requests seen per last user text.
    faults: Mutex<std::collections::HashMap<String, u32>>,
    pub(crate) streams: StreamStats,
    prompt_cache: PromptCache,
}

/// Cache tokens of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUsage {
    /// Tokens of the longest prefix already cached (`cacheReadInputTokens`).
    pub(crate) read: u64,
    /// Tokens newly cached beyond `read` (`cacheWriteInputTokens`).
    pub(crate) write: u64,
}

/// Bedrock's prompt cache, simulated: each `cachePoint` names the prefix before it (tools,
/// system, messages in that order, cache points themselves excluded). A prefix seen before is
/// read; the longest new one is written. Prefixes under 1,024 estimated tokens are ignored,
/// as Bedrock ignores checkpoints below the model's minimum.
#[derive(Default)]
pub(crate) struct PromptCache {
    seen: Mutex<std::collections::HashSet<u64>>,
}

impl PromptCache {
    const MIN_TOKENS: u64 = 1024;
    const MAX_PREFIXES: usize = 100_000;

    /// The cache tokens a Converse request (JSON) reads and writes; remembers its prefixes.
    pub(crate) fn usage(&self, request: &Value) -> CacheUsage {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let mut tokens = 0u64;
        let mut points: Vec<(u64, u64)> = Vec::new();
        let sections = [request.pointer("/toolConfig/tools"), request.get("system")];
        let mut visit = |item: &Value, counts: bool| {
            if item.get("cachePoint").is_some() {
                if tokens >= Self::MIN_TOKENS {
                    points.push((hasher.finish(), tokens));
                }
            } else {
                item.to_string().hash(&mut hasher);
                if counts {
                    tokens += estimate_tokens(item);
                }
            }
        };
        for section in sections.into_iter().flatten() {
            for item in section.as_array().into_iter().flatten() {
                visit(item, true);
            }
        }
        for m in request["messages"].as_array().into_iter().flatten() {
            visit(&m["role"], false);
            for item in m["content"].as_array().into_iter().flatten() {
                visit(item, true);
            }
        }
        let Ok(mut seen) = self.seen.lock() else {
            return CacheUsage::default();
        };
        let read = points
            .iter()
            .filter(|(h, _)| seen.contains(h))
            .map(|(_, t)| *t)
            .max()
            .unwrap_or(0);
        let longest = points.iter().map(|(_, t)| *t).max().unwrap_or(0);
        if seen.len() > Self::MAX_PREFIXES {
            seen.clear(); // a bounded cache, like Bedrock's (which also forgets)
        }
        for (h, _) in &points {
            seen.insert(*h);
        }
        CacheUsage {
            read,
            write: longest - read,
        }
    }
}

/// Requests kept for `GET /_sim/requests`, newest last.
const RECORD_MAX: usize = 200;
/// Bytes kept for them (bodies, headers, paths), oldest dropped first.
pub(crate) const RECORD_MAX_BYTES: usize = 8 * 1024 * 1024;
/// A longer body is kept truncated to this (`body_bytes` and `truncated` say so).
pub(crate) const RECORD_BODY_MAX: usize = 4 * 1024 * 1024;

/// The recorded requests and the bytes they hold.
#[derive(Default)]
struct Records {
    list: VecDeque<Recorded>,
    bytes: usize,
}

impl Recorded {
    /// The bytes this record keeps in memory (approximately: the variable-length parts).
    fn size(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.method.len() + self.path.len() + headers + self.body.len() + self.peer.len()
    }
}

impl Simulator {
    /// A simulator with nothing recorded and an empty prompt cache.
    pub(crate) fn new(options: SimOptions) -> Self {
        Simulator {
            options,
            recorded: Mutex::new(Records::default()),
            faults: Mutex::new(std::collections::HashMap::new()),
            streams: StreamStats::default(),
            prompt_cache: PromptCache::default(),
        }
    }
}

/// A simulator answer.
pub(crate) struct Answer {
    /// The HTTP status, as Bedrock would send it.
    pub(crate) status: u16,
    /// Headers beyond the ones the server adds itself (`x-amzn-errortype` on errors).
    pub(crate) headers: Vec<(&'static str, String)>,
    /// The JSON body or the frames to stream.
    pub(crate) body: Body,
}

/// What follows the response header.
pub(crate) enum Body {
    /// A complete JSON body (`content-length`).
    Json(Vec<u8>),
    /// `application/vnd.amazon.eventstream` frames (chunked), sent `pace` apart.
    EventStream {
        /// The frames, in order.
        frames: Vec<OutFrame>,
        /// The pause between two frames (`[sim:pace=...]`; zero sends them at once).
        pace: Duration,
    },
}

/// One event-stream frame of a streamed answer.
pub(crate) enum OutFrame {
    /// Encoded ahead of time.
    Ready(Vec<u8>),
    /// A text `contentBlockDelta` for this block whose text is the wall-clock time (Unix ns)
    /// at which the frame is written, so a client can measure frame → client latency.
    StampedText {
        /// The `contentBlockIndex` of the text block the delta extends.
        index: usize,
    },
}

impl OutFrame {
    pub(crate) fn encode(self) -> Vec<u8> {
        match self {
            OutFrame::Ready(bytes) => bytes,
            OutFrame::StampedText { index } => {
                let ns = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                crate::bedrock::eventstream::encode_event(
                    "contentBlockDelta",
                    &pad(json!({"contentBlockIndex": index, "delta": {"text": format!("{ns} ")}})),
                )
            }
        }
    }
}

/// Counts of model calls (load scripts check one per 2xx) and of streamed answers (tests check
/// the gateway closes abandoned streams).
#[derive(Default)]
pub(crate) struct StreamStats {
    /// Model calls answered (every `/model/...` request, streaming or not).
    pub(crate) calls: AtomicU64,
    pub(crate) started: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) aborted: AtomicU64,
}

impl Answer {
    fn json(status: u16, body: Vec<u8>) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
        }
    }
}

fn error_answer(status: u16, kind: &str, message: &str) -> Answer {
    let body = serde_json::to_vec(&json!({ "message": message })).unwrap_or_default();
    let mut answer = Answer::json(status, body);
    answer.headers.push((
        "x-amzn-errortype",
        format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    ));
    answer
}

impl Simulator {
    fn record(&self, r: Recorded) {
        if !self.options.record {
            return;
        }
        let size = r.size();
        if let Ok(mut q) = self.recorded.lock() {
            while !q.list.is_empty()
                && (q.list.len() >= RECORD_MAX || q.bytes + size > RECORD_MAX_BYTES)
            {
                if let Some(old) = q.list.pop_front() {
                    q.bytes = q.bytes.saturating_sub(old.size());
                }
            }
            q.bytes += size;
            q.list.push_back(r);
        }
    }

    fn recorded_json(&self) -> Vec<u8> {
        let list: Vec<Value> = self
            .recorded
            .lock()
            .map(|q| {
                q.list
                    .iter()
                    .map(|r| {
                        json!({
                            "method": r.method,
                            "path": r.path,
                            "headers": r.headers,
                            "body": String::from_utf8_lossy(&r.body),
                            "body_bytes": r.body_len,
                            "truncated": r.body.len() < r.body_len,
                            "peer": r.peer,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        serde_json::to_vec(&list).unwrap_or_default()
    }

    /// Answer one request (pure apart from the record and the clock).
    pub(crate) fn answer(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
        peer: &str,
    ) -> Answer {
        if path.starts_with("/_sim/streams") {
            let s = &self.streams;
            let body = json!({
                "calls": s.calls.load(Ordering::Relaxed),
                "started": s.started.load(Ordering::Relaxed),
                "completed": s.completed.load(Ordering::Relaxed),
                "aborted": s.aborted.load(Ordering::Relaxed),
            });
            return Answer::json(200, body.to_string().into_bytes());
        }
        if path.starts_with("/_sim/requests") {
            if method == "DELETE" {
                if let Ok(mut q) = self.recorded.lock() {
                    *q = Records::default();
                }
                return Answer::json(200, b"[]".to_vec());
            }
            return Answer::json(200, self.recorded_json());
        }
        self.record(Recorded {
            method: method.into(),
            path: path.into(),
            headers: headers.to_vec(),
            body: Bytes::copy_from_slice(&body[..body.len().min(RECORD_BODY_MAX)]),
            body_len: body.len(),
            peer: peer.to_owned(),
        });
        let Some(rest) = path.strip_prefix("/model/") else {
            return error_answer(404, "UnknownOperationException", "unknown operation");
        };
        self.streams.calls.fetch_add(1, Ordering::Relaxed);
        let Some((model_enc, op)) = rest.rsplit_once('/') else {
            return error_answer(404, "UnknownOperationException", "unknown operation");
        };
        if method == "POST" && op == "invoke" {
            return self.invoke(path, model_enc, headers, body);
        }
        if method != "POST" || !["converse", "converse-stream", "count-tokens"].contains(&op) {
            return error_answer(404, "UnknownOperationException", "unknown operation");
        }
        let model = percent_encoding::percent_decode_str(model_enc)
            .decode_utf8_lossy()
            .into_owned();
        if self.options.verify {
            if let Err((kind, msg)) = self.verify_auth(path, headers, body) {
                return error_answer(403, kind, &msg);
            }
        }
        let request: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return error_answer(
                    400,
                    "ValidationException",
                    &format!("Malformed input request: {e}"),
                )
            }
        };
        if op == "count-tokens" {
            return count_tokens::answer(&model, &request);
        }
        if let Err(msg) = validate::validate_for_model(&model, &request) {
            return error_answer(400, "ValidationException", &msg);
        }
        if let Some(fault) = self.scheduled_fault(&request, op == "converse-stream") {
            return fault;
        }
        let cache = self.prompt_cache.usage(&request);
        if op == "converse-stream" {
            stream_answer(&model, &request, cache)
        } else {
            converse_answer(&model, &request, cache)
        }
    }

    /// The fault schedule: `[sim:fail=N:Kind]` fails the first N requests whose last user text
    /// is this one with exception `Kind` (an HTTP error; with `[sim:fail-in-stream]`, a
    /// converse-stream 200 whose first frame is the exception), then answers normally.
    /// `[sim:retry-after=S]` adds `retry-after: S` to those errors.
    fn scheduled_fault(&self, request: &Value, stream: bool) -> Option<Answer> {
        let text = last_user_text(request);
        let (n, kind) = directive(&text, "fail")?.split_once(':')?;
        let n: u32 = n.parse().ok()?;
        let seen = {
            let mut faults = self.faults.lock().ok()?;
            if faults.len() > 10_000 {
                faults.clear();
            }
            let seen = faults.entry(text.clone()).or_insert(0);
            *seen += 1;
            *seen
        };
        if seen > n {
            return None;
        }
        let message = format!("simulated {kind} ({seen} of {n})");
        if stream && directive(&text, "fail-in-stream").is_some() {
            let mut camel = kind.to_owned();
            if let Some(first) = camel.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            let payload = serde_json::to_vec(&json!({ "message": message })).unwrap_or_default();
            let frame = crate::bedrock::eventstream::encode_exception(&camel, &payload);
            return Some(Answer {
                status: 200,
                headers: Vec::new(),
                body: Body::EventStream {
                    frames: vec![OutFrame::Ready(frame)],
                    pace: Duration::ZERO,
                },
            });
        }
        let mut answer = error_answer(status_of(kind), kind, &message);
        if let Some(secs) = directive(&text, "retry-after") {
            answer.headers.push(("retry-after", secs.to_owned()));
        }
        Some(answer)
    }

    /// Verify SigV4 (recomputed with aws-sigv4 over the received headers, raw path and body)
    /// or a Bedrock API key.
    fn verify_auth(
        &self,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), AuthError> {
        let auth = header(headers, "authorization").ok_or((
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".to_owned(),
        ))?;
        if let Some(key) = auth.strip_prefix("Bearer ") {
            return if self.options.api_keys.iter().any(|k| k == key) {
                Ok(())
            } else {
                Err(unrecognized())
            };
        }
        let rest = auth
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .ok_or_else(|| invalid("unsupported authorization scheme"))?;
        let sigv4 = parse_sigv4_header(rest)?;
        let (sk, want_token) = self.secret_for(sigv4.access_key)?;
        if let Some(want) = want_token {
            if header(headers, "x-amz-security-token") != Some(want.as_str()) {
                return Err(unrecognized());
            }
        }
        for required in ["host", "x-amz-date", "content-type"] {
            if !is_signed(sigv4.signed, required) {
                return Err(invalid(&format!("{required} must be signed")));
            }
        }
        let time = signing_time(headers)?;
        let token = header(headers, "x-amz-security-token");
        if token.is_some() && !is_signed(sigv4.signed, "x-amz-security-token") {
            return Err(invalid("x-amz-security-token must be signed"));
        }
        let signer = Signer {
            sigv4: &sigv4,
            sk,
            token,
            time,
        };
        let expected = signer.expected_signature(path, headers, body)?;
        if expected != sigv4.signature {
            return Err(invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."));
        }
        Ok(())
    }

    /// The secret key of access key `ak` and the session token that must come with it: a
    /// rotating test credential (refused once expired) or a configured pair.
    fn secret_for(&self, ak: &str) -> Result<(String, Option<String>), AuthError> {
        let rotating = self
            .options
            .rotating_prefix
            .as_deref()
            .and_then(|p| ak.strip_prefix(p))
            .and_then(|rest| rest.get(..10))
            .and_then(|t| t.parse::<u64>().ok());
        match rotating {
            Some(expiry) => {
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                if now >= expiry {
                    return Err((
                        "ExpiredTokenException",
                        "The security token included in the request is expired".into(),
                    ));
                }
                Ok((format!("sk-{ak}"), Some(format!("tok-{ak}"))))
            }
            None => {
                let sk = self
                    .options
                    .credentials
                    .iter()
                    .find(|(a, _)| a == ak)
                    .map(|(_, s)| s.clone())
                    .ok_or_else(unrecognized)?;
                let token = self
                    .options
                    .tokens
                    .iter()
                    .find(|(a, _)| a == ak)
                    .map(|(_, t)| t.clone());
                Ok((sk, token))
            }
        }
    }
}

/// An auth failure: the Bedrock exception name and its message.
type AuthError = (&'static str, String);

/// The value of header `name` (case-insensitive).
fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An `InvalidSignatureException` saying `m`.
fn invalid(m: &str) -> AuthError {
    ("InvalidSignatureException", m.to_owned())
}

/// The answer to an unknown key or a wrong session token.
fn unrecognized() -> AuthError {
    (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.".to_owned(),
    )
}

/// Whether header `name` is in the `;`-separated SignedHeaders list.
fn is_signed(signed: &str, name: &str) -> bool {
    signed.split(';').any(|h| h == name)
}

/// The parts of a SigV4 `Authorization` header the simulator checks.
struct SigV4Header<'h> {
    access_key: &'h str,
    region: &'h str,
    /// SignedHeaders, `;`-separated.
    signed: &'h str,
    signature: &'h str,
}

/// Parse `Credential=..., SignedHeaders=..., Signature=...`; the credential scope must be
/// `<key>/<date>/<region>/bedrock/aws4_request`.
fn parse_sigv4_header(rest: &str) -> Result<SigV4Header<'_>, AuthError> {
    let mut credential = "";
    let mut signed = "";
    let mut signature = "";
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = v;
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = v;
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = v;
        }
    }
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(invalid("malformed credential scope"));
    }
    let service = scope[3];
    if service != SIGV4_SERVICE {
        return Err(invalid(&format!(
            "Credential should be scoped to correct service: 'bedrock', not '{service}'"
        )));
    }
    Ok(SigV4Header {
        access_key: scope[0],
        region: scope[2],
        signed,
        signature,
    })
}

/// The request's `x-amz-date`, which must be within 5 minutes of now.
fn signing_time(headers: &[(String, String)]) -> Result<SystemTime, AuthError> {
    let amz_date = header(headers, "x-amz-date").ok_or_else(|| invalid("missing x-amz-date"))?;
    let time = parse_amz_date(amz_date).ok_or_else(|| invalid("bad x-amz-date"))?;
    let skew = SystemTime::now()
        .duration_since(time)
        .unwrap_or_else(|e| e.duration());
    if skew > Duration::from_secs(300) {
        return Err(invalid("Signature expired"));
    }
    Ok(time)
}

/// What the simulator signs a request with to check the client's signature.
struct Signer<'h> {
    sigv4: &'h SigV4Header<'h>,
    sk: String,
    token: Option<&'h str>,
    time: SystemTime,
}

impl Signer<'_> {
    /// The signature aws-sigv4 computes over the headers the client signed (the signer adds
    /// `x-amz-date` and `x-amz-security-token` itself), the raw path and the body.
    fn expected_signature(
        self,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<String, AuthError> {
        let host = header(headers, "host").unwrap_or("");
        let mut to_sign: Vec<(&str, &str)> = Vec::new();
        for name in self.sigv4.signed.split(';') {
            if name == "x-amz-date" || name == "x-amz-security-token" {
                continue;
            }
            let value = header(headers, name)
                .ok_or_else(|| invalid(&format!("signed header {name} missing")))?;
            to_sign.push((name, value));
        }
        let identity = aws_credential_types::Credentials::new(
            self.sigv4.access_key,
            self.sk,
            self.token.map(str::to_owned),
            None,
            "sim",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.sigv4.region)
            .name(SIGV4_SERVICE)
            .time(self.time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| invalid(&e.to_string()))?
            .into();
        let url = format!("http://{host}{path}");
        let req = SignableRequest::new("POST", url, to_sign.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| invalid(&e.to_string()))?;
        let (_, expected) = sign(req, &params)
            .map_err(|e| invalid(&e.to_string()))?
            .into_parts();
        Ok(expected)
    }
}

fn parse_amz_date(s: &str) -> Option<SystemTime> {
    // YYYYMMDDTHHMMSSZ
    if s.len() != 16 || &s[8..9] != "T" || !s.ends_with('Z') {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0, 4)?,
        n(4, 6)?,
        n(6, 8)?,
        n(9, 11)?,
        n(11, 13)?,
        n(13, 15)?,
    );
    // days from civil (Howard Hinnant)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + h * 3600 + mi * 60 + se;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// The text of the last user message (directives are read from it).
fn last_user_text(request: &Value) -> String {
    let mut out = String::new();
    if let Some(m) = request["messages"].as_array().and_then(|m| m.last()) {
        if m["role"] == "user" {
            for b in m["content"].as_array().into_iter().flatten() {
                if let Some(t) = b["text"].as_str() {
                    out.push_str(t);
                }
                if let Some(items) = b["toolResult"]["content"].as_array() {
                    for i in items {
                        if let Some(t) = i["text"].as_str() {
                            out.push_str(t);
                        }
                    }
                }
            }
        }
    }
    out
}

/// `[sim:key=value]` or `[sim:key]` in the text.
pub(crate) fn directive<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let needle = format!("[sim:{key}");
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let rest = &text[from + found + needle.len()..];
        if let Some(value) = rest.strip_prefix(']') {
            let _ = value;
            return Some("");
        }
        if let Some(value) = rest.strip_prefix('=') {
            return value.find(']').map(|end| &value[..end]);
        }
        from += found + needle.len();
    }
    None
}

fn estimate_tokens(v: &Value) -> u64 {
    (v.to_string().len() as u64 / 4).max(1)
}

/// The deterministic content blocks, stop reason and usage for a request.
pub(crate) struct Reply {
    /// The assistant's Converse content blocks (text, tool uses, reasoning ...).
    pub(crate) blocks: Vec<Value>,
    /// The Converse `stopReason` (`end_turn`, `tool_use`, or a `[sim:stop=...]` value).
    pub(crate) stop_reason: String,
    /// The Converse `usage` object, cache tokens included.
    pub(crate) usage: Value,
    /// `additionalModelResponseFields` (Claude's `stop_sequence` when asked for), or null.
    pub(crate) fields: Value,
}

/// Claude's `stop_sequence` (the first of the request's), when the request asks for
/// `/stop_sequence` and the answer stopped on one.
fn response_fields(request: &Value, stop_reason: &str) -> Value {
    let asked = request["additionalModelResponseFieldPaths"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p == "/stop_sequence"));
    let first = request.pointer("/inferenceConfig/stopSequences/0");
    match (asked && stop_reason == "stop_sequence", first) {
        (true, Some(seq)) => json!({ "stop_sequence": seq }),
        _ => Value::Null,
    }
}

/// The answer the directives in the last user text ask for, for `model`; an `Err` is the
/// (exception name, message) of a `[sim:error=...]`.
pub(crate) fn reply_for(
    model: &str,
    request: &Value,
    cache: CacheUsage,
) -> Result<Reply, (String, String)> {
    let text = last_user_text(request);
    if let Some(kind) = directive(&text, "error") {
        return Err((kind.to_owned(), format!("simulated {kind}")));
    }
    let mut blocks = Vec::new();
    if wants_reasoning(&text, request) {
        blocks.push(json!({"reasoningContent": {"reasoningText": {"text": "Let me think about this step by step.", "signature": "c2ltLXNpZ25hdHVyZQ=="}}}));
    }
    let tools: Vec<&Value> = request["toolConfig"]["tools"]
        .as_array()
        .map(|t| t.iter().filter(|t| t.get("toolSpec").is_some()).collect())
        .unwrap_or_default();
    let calls = if directive(&text, "tool").is_some() {
        1
    } else {
        directive(&text, "tools")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    // A forced choice (`any`, or `tool` with a name) always calls; `tool` calls that tool.
    let choice = &request["toolConfig"]["toolChoice"];
    let named = choice.pointer("/tool/name").and_then(Value::as_str);
    let calls = if named.is_some() || choice.get("any").is_some() {
        calls.max(1)
    } else {
        calls
    };
    let tools: Vec<&Value> = match named {
        Some(n) => tools
            .into_iter()
            .filter(|t| t["toolSpec"]["name"] == n)
            .collect(),
        None => tools,
    };
    let mut stop_reason = "end_turn".to_owned();
    if calls > 0 && !tools.is_empty() {
        for i in 0..calls {
            let spec = &tools[i % tools.len()]["toolSpec"];
            blocks.push(json!({"toolUse": {
                "toolUseId": format!("tooluse_sim{i:02}"),
                "name": spec["name"],
                "input": schema::example(&spec["inputSchema"]["json"]),
            }}));
        }
        stop_reason = "tool_use".into();
    } else {
        blocks.push(json!({"text": answer_text(model, request, &text)}));
    }
    if directive(&text, "unknown-block").is_some() {
        blocks.push(json!({"futureBlockType": {"anything": 1}}));
    }
    if let Some(stop) = directive(&text, "stop") {
        stop_reason = stop.to_owned();
    }
    let usage = reply_usage(request, &blocks, &text, cache);
    let fields = response_fields(request, &stop_reason);
    Ok(Reply {
        blocks,
        stop_reason,
        usage,
        fields,
    })
}

/// Whether the reply starts with reasoning: `[sim:reasoning]`, or the request asks for it.
fn wants_reasoning(text: &str, request: &Value) -> bool {
    let extra = &request["additionalModelRequestFields"];
    let reasoning_asked = ["thinking", "reasoningConfig", "reasoning_effort"]
        .iter()
        .any(|k| extra.get(k).is_some());
    directive(text, "reasoning").is_some() || reasoning_asked
}

/// The text answer: an example of the requested JSON schema, else a greeting that echoes the
/// start of the user's text.
fn answer_text(model: &str, request: &Value, text: &str) -> String {
    let wants_json = request.pointer("/outputConfig/textFormat").is_some();
    if wants_json {
        let schema: Value = request
            .pointer("/outputConfig/textFormat/structure/jsonSchema/schema")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(json!({"type": "object"}));
        schema::example(&schema).to_string()
    } else {
        let echo: String = text.chars().take(200).collect();
        format!("Hello from the Bedrock simulator ({model}). You said: {echo}")
    }
}

/// The reply's usage: estimated tokens, with cache tokens from `[sim:cache=read:N,write:M]`
/// or else from the simulated prompt cache.
fn reply_usage(request: &Value, blocks: &[Value], text: &str, cache: CacheUsage) -> Value {
    let input = estimate_tokens(&request["messages"]) + estimate_tokens(&request["system"]);
    let output = blocks.iter().map(estimate_tokens).sum::<u64>();
    let mut usage =
        json!({"inputTokens": input, "outputTokens": output, "totalTokens": input + output});
    if let Some(cache) = directive(text, "cache") {
        for part in cache.split(',') {
            if let Some((k, v)) = part.split_once(':') {
                let n: u64 = v.parse().unwrap_or(0);
                match k {
                    "read" => usage["cacheReadInputTokens"] = json!(n),
                    "write" => usage["cacheWriteInputTokens"] = json!(n),
                    _ => {}
                }
            }
        }
        let total = input
            + output
            + usage["cacheReadInputTokens"].as_u64().unwrap_or(0)
            + usage["cacheWriteInputTokens"].as_u64().unwrap_or(0);
        usage["totalTokens"] = json!(total);
    } else if cache.read + cache.write > 0 {
        usage["cacheReadInputTokens"] = json!(cache.read);
        usage["cacheWriteInputTokens"] = json!(cache.write);
        let uncached = input.saturating_sub(cache.read + cache.write);
        usage["inputTokens"] = json!(uncached);
        usage["totalTokens"] = json!(uncached + cache.read + cache.write + output);
    }
    usage
}

fn converse_answer(model: &str, request: &Value, cache: CacheUsage) -> Answer {
    match reply_for(model, request, cache) {
        Err((kind, message)) => error_answer(status_of(&kind), &kind, &message),
        Ok(r) => Answer::json(
            200,
            serde_json::to_vec(&json!({
                "output": {"message": {"role": "assistant", "content": r.blocks}},
                "stopReason": r.stop_reason,
                "additionalModelResponseFields": r.fields,
                "usage": r.usage,
                "metrics": {"latencyMs": 1},
            }))
            .unwrap_or_default(),
        ),
    }
}

/// Random `p` padding, as real Bedrock adds to event payloads.
fn pad(mut v: Value) -> Vec<u8> {
    let n = fastrand::usize(1..24);
    v["p"] = json!((0..n).map(|_| fastrand::alphanumeric()).collect::<String>());
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Split text into pieces of a few characters (on char boundaries).
fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// The ConverseStream event sequence for a reply: messageStart, per block [contentBlockStart
/// for toolUse] + deltas + contentBlockStop, messageStop, metadata. Directives:
/// `[sim:pace=50ms]` between frames, `[sim:stream-error=throttlingException]` after the first
/// delta, `[sim:truncate]` (end before messageStop), `[sim:stamp=N]` (N text deltas, each
/// carrying the Unix-ns time it was written: see [`OutFrame::StampedText`]).
fn stream_answer(model: &str, request: &Value, cache: CacheUsage) -> Answer {
    let text = last_user_text(request);
    let reply = match reply_for(model, request, cache) {
        Ok(r) => r,
        Err((kind, message)) => return error_answer(status_of(&kind), &kind, &message),
    };
    let pace = directive(&text, "pace")
        .and_then(crate::config::model::parse_duration)
        .unwrap_or(Duration::ZERO);
    let stream_error = directive(&text, "stream-error").map(str::to_owned);
    let mut frames = vec![event_frame("messageStart", json!({"role": "assistant"}))];
    if let Some(n) = directive(&text, "stamp").and_then(|n| n.parse::<usize>().ok()) {
        push_stamped_frames(n, &mut frames);
    } else {
        push_block_frames(&reply.blocks, stream_error.as_deref(), &mut frames);
        if stream_error.is_none() && directive(&text, "truncate").is_none() {
            frames.push(event_frame(
                "messageStop",
                json!({"stopReason": reply.stop_reason, "additionalModelResponseFields": reply.fields}),
            ));
            frames.push(event_frame(
                "metadata",
                json!({"usage": reply.usage, "metrics": {"latencyMs": 1}}),
            ));
        }
    }
    Answer {
        status: 200,
        headers: Vec::new(),
        body: Body::EventStream { frames, pace },
    }
}

/// A ready event frame of `kind` with payload `v` (padded).
fn event_frame(kind: &str, v: Value) -> OutFrame {
    OutFrame::Ready(crate::bedrock::eventstream::encode_event(kind, &pad(v)))
}

/// `[sim:stamp=N]`: N time-stamped text deltas (at most 100,000), then the end of the answer.
fn push_stamped_frames(n: usize, frames: &mut Vec<OutFrame>) {
    frames.extend((0..n.min(100_000)).map(|_| OutFrame::StampedText { index: 0 }));
    frames.extend(
        [
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            ("messageStop", json!({"stopReason": "end_turn"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 1, "outputTokens": n, "totalTokens": n + 1}, "metrics": {"latencyMs": 1}}),
            ),
        ]
        .into_iter()
        .map(|(kind, v)| event_frame(kind, v)),
    );
}

/// The frames of every streamable block: [contentBlockStart] + deltas + contentBlockStop. With
/// `stream_error`, that exception follows the first delta and ends the frames.
fn push_block_frames(blocks: &[Value], stream_error: Option<&str>, frames: &mut Vec<OutFrame>) {
    let mut deltas = 0;
    for (i, block) in blocks.iter().enumerate() {
        let Some(delta_frames) = block_deltas(i, block, frames) else {
            continue;
        };
        for d in delta_frames {
            frames.push(event_frame(
                "contentBlockDelta",
                json!({"contentBlockIndex": i, "delta": d}),
            ));
            deltas += 1;
            if deltas == 1 {
                if let Some(kind) = stream_error {
                    frames.push(OutFrame::Ready(
                        crate::bedrock::eventstream::encode_exception(
                            kind,
                            &serde_json::to_vec(&json!({"message": format!("simulated {kind}")}))
                                .unwrap_or_default(),
                        ),
                    ));
                    return;
                }
            }
        }
        frames.push(event_frame(
            "contentBlockStop",
            json!({"contentBlockIndex": i}),
        ));
    }
}

/// The delta payloads of block `i` in pieces of a few characters (a tool use's
/// contentBlockStart is pushed first); None for a block that is not streamed.
fn block_deltas(i: usize, block: &Value, frames: &mut Vec<OutFrame>) -> Option<Vec<Value>> {
    let mut delta_frames: Vec<Value> = Vec::new();
    if let Some(t) = block["text"].as_str() {
        for p in pieces(t, 7) {
            delta_frames.push(json!({"text": p}));
        }
    } else if let Some(r) = block.pointer("/reasoningContent/reasoningText") {
        for p in pieces(r["text"].as_str().unwrap_or(""), 9) {
            delta_frames.push(json!({"reasoningContent": {"text": p}}));
        }
        delta_frames.push(json!({"reasoningContent": {"signature": r["signature"]}}));
    } else if let Some(tu) = block.get("toolUse") {
        frames.push(event_frame(
            "contentBlockStart",
            json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": tu["toolUseId"], "name": tu["name"]}}}),
        ));
        for p in pieces(&tu["input"].to_string(), 5) {
            delta_frames.push(json!({"toolUse": {"input": p}}));
        }
    } else {
        return None;
    }
    Some(delta_frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date() {
        let t = parse_amz_date("20231114T221320Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_700_000_000
        );
    }

    fn recorded(sim: &Simulator) -> Vec<Value> {
        serde_json::from_slice::<Vec<Value>>(&sim.recorded_json()).unwrap()
    }

    #[test]
    fn the_record_is_bounded_in_bytes() {
        let sim = Simulator::new(SimOptions {
            verify: false,
            ..SimOptions::default()
        });
        let headers = vec![("host".to_owned(), "h".to_owned())];
        // 20 bodies of 1 MiB: only the newest that fit in RECORD_MAX_BYTES are kept, whole.
        for i in 0..20u8 {
            let body = vec![b'a' + i; 1024 * 1024];
            sim.answer("POST", "/model/m/converse", &headers, &body, "p");
        }
        let held = sim.recorded.lock().unwrap().bytes;
        assert!(held <= RECORD_MAX_BYTES, "{held}");
        let list = recorded(&sim);
        assert_eq!(list.len(), RECORD_MAX_BYTES / (1024 * 1024) - 1);
        let last = list.last().unwrap();
        assert_eq!(last["body"].as_str().unwrap().len(), 1024 * 1024);
        assert!(last["body"].as_str().unwrap().starts_with('t'));
        assert_eq!(last["truncated"], false);

        // A body over RECORD_BODY_MAX is kept truncated, with its real length.
        let big = vec![b'z'; RECORD_BODY_MAX + 10];
        sim.answer("POST", "/model/m/converse", &headers, &big, "p");
        let list = recorded(&sim);
        let last = list.last().unwrap();
        assert_eq!(last["body"].as_str().unwrap().len(), RECORD_BODY_MAX);
        assert_eq!(last["body_bytes"], RECORD_BODY_MAX + 10);
        assert_eq!(last["truncated"], true);
        assert!(sim.recorded.lock().unwrap().bytes <= RECORD_MAX_BYTES);

        // Small requests are still capped by count; DELETE empties the record.
        for _ in 0..RECORD_MAX + 5 {
            sim.answer("POST", "/model/m/converse", &headers, b"{}", "p");
        }
        assert_eq!(recorded(&sim).len(), RECORD_MAX);
        sim.answer("DELETE", "/_sim/requests", &[], b"", "p");
        assert!(recorded(&sim).is_empty());
        assert_eq!(sim.recorded.lock().unwrap().bytes, 0);
    }

    #[test]
    fn directives() {
        assert_eq!(
            directive("x [sim:error=ThrottlingException] y", "error"),
            Some("ThrottlingException")
        );
        assert_eq!(directive("[sim:tool]", "tool"), Some(""));
        assert_eq!(directive("[sim:tools=2]", "tool"), None);
        assert_eq!(directive("[sim:tools=2] [sim:tool]", "tool"), Some(""));
        assert_eq!(directive("[sim:tools=2]", "tools"), Some("2"));
        assert_eq!(directive("nothing", "tool"), None);
    }
}
