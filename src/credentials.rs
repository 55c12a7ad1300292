//! AWS credentials for SigV4: one cache per backend. Credentials are fetched once and shared by
//! every request, refreshed in the background ahead of expiry (5 minutes before, or at half the
//! lifetime of short-lived ones) with a bounded fetch time; a failed refresh keeps the
//! still-valid credentials (logged and counted in `basalt_credentials_refresh_total`).
//!
//! Sources: fixed keys from a secret, a mounted secret directory (re-read when its files change),
//! or the AWS default chain through `aws-config` (environment, shared config/credentials files
//! and profiles incl. SSO and `credential_process`, web identity/IRSA, ECS/EKS container
//! credentials, IMDSv2); any of them optionally with a role assumed on top through STS.

use crate::bedrock::sigv4::{AwsCredentials, Signer};
use crate::config::model::AssumeRole;
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::secret::Secret;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

/// Longest a credential fetch may take (the chain's own timeouts are shorter).
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Refresh this long before expiry (or at half the lifetime, whichever is later).
pub(crate) const REFRESH_LEAD: Duration = Duration::from_secs(300);
/// After a failed fetch: retry this soon, and fail requests fast until then.
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// How often a mounted secret directory is re-read.
pub(crate) const SECRET_POLL: Duration = Duration::from_secs(2);
/// Credentials closer than this to expiry are not used for a new request.
const EXPIRY_MARGIN: Duration = Duration::from_secs(1);
const MIN_WAIT: Duration = Duration::from_millis(200);

/// Where a backend's credentials come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Keys from a secret's `stringData`/`data`.
    Fixed(AwsCredentials),
    /// A mounted secret directory with `accessKey`, `secretKey` and optional `sessionToken`.
    Dir(PathBuf),
    /// The AWS default chain.
    Chain,
}

/// Credentials ready for signing.
#[derive(Debug)]
pub(crate) struct Cached {
    /// The SigV4 signer holding these credentials (and its cached signing key).
    pub(crate) signer: Signer,
    /// When they stop being valid (`None`: long-term keys).
    pub(crate) expiry: Option<SystemTime>,
    fetched: SystemTime,
    /// Access key id, for change detection and logs (not a secret).
    access_key_id: String,
    /// For a directory source: the secret key and token, to notice rotation.
    fingerprint: u64,
}

/// One backend's AWS credentials: fetched once, shared by every request, refreshed ahead of
/// expiry in the background; requests fail fast when none are valid.
pub(crate) struct CredentialCache {
    backend: String,
    region: String,
    source: Source,
    role: Option<AssumeRole>,
    provider: tokio::sync::OnceCell<SharedCredentialsProvider>,
    current: RwLock<Option<Arc<Cached>>>,
    fetching: tokio::sync::Mutex<()>,
    /// When the last fetch failed (cleared by a success).
    last_failure: Mutex<Option<Instant>>,
    metrics: Arc<Metrics>,
}

fn fingerprint(creds: &AwsCredentials) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    creds.access_key_id.hash(&mut h);
    creds.secret_access_key.expose().hash(&mut h);
    creds
        .session_token
        .as_ref()
        .map(Secret::expose)
        .hash(&mut h);
    h.finish()
}

fn cached(creds: &AwsCredentials, expiry: Option<SystemTime>) -> Cached {
    Cached {
        signer: Signer::new(creds),
        expiry,
        fetched: SystemTime::now(),
        access_key_id: creds.access_key_id.clone(),
        fingerprint: fingerprint(creds),
    }
}

/// Read `accessKey`, `secretKey` and optional `sessionToken` from a mounted secret directory.
pub(crate) fn read_dir_credentials(dir: &std::path::Path) -> Result<AwsCredentials, String> {
    let map = crate::config::read_secret_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let get = |k: &str| map.get(k).filter(|v| !v.expose().is_empty()).cloned();
    let (Some(ak), Some(sk)) = (get("accessKey"), get("secretKey")) else {
        return Err(format!(
            "{} has no non-empty accessKey and secretKey",
            dir.display()
        ));
    };
    Ok(AwsCredentials {
        access_key_id: ak.expose().to_owned(),
        secret_access_key: sk,
        session_token: get("sessionToken"),
        expiry: None,
    })
}

/// aws-config names the provider that answered in its `Debug` output only.
fn provider_name(creds: &Credentials) -> String {
    let debug = format!("{creds:?}");
    debug
        .split("provider_name: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("unknown")
        .to_owned()
}

/// How a cache is refreshed in the background, decided by its source and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schedule {
    /// Fixed keys without a role: never (they are cached at construction).
    Never,
    /// A mounted secret directory without a role: re-read every `SECRET_POLL`.
    Poll,
    /// Credentials that expire (the chain, or any source with a role on top): ahead of expiry.
    ByExpiry,
}

impl Schedule {
    fn of(source: &Source, role: Option<&AssumeRole>) -> Self {
        match (source, role) {
            (Source::Fixed(_), None) => Schedule::Never,
            (Source::Dir(_), None) => Schedule::Poll,
            (Source::Chain, None) | (_, Some(_)) => Schedule::ByExpiry,
        }
    }
}

/// How long from `now` until the next background refresh; `None`: never. Pure (every time is a
/// parameter) so the schedule is tested without a clock. `failed_ago`: how long ago the last
/// fetch failed, if it did; `current`: when the cached credentials were fetched and when they
/// expire, if any are cached.
///
/// - `Never` → `None`; `Poll` → `SECRET_POLL`, whatever else happened.
/// - `ByExpiry`: after a failure, the rest of `RETRY_AFTER_FAILURE`; nothing cached → at once
///   (zero); credentials without an expiry → never; otherwise `REFRESH_LEAD` before the expiry,
///   or at half the lifetime (fetch → expiry) when that is later (short-lived credentials).
/// - Every non-zero wait is at least `MIN_WAIT` (no busy loop once a refresh time has passed).
fn refresh_wait(
    schedule: Schedule,
    now: SystemTime,
    failed_ago: Option<Duration>,
    current: Option<(SystemTime, Option<SystemTime>)>,
) -> Option<Duration> {
    match schedule {
        Schedule::Never => return None,
        Schedule::Poll => return Some(SECRET_POLL),
        Schedule::ByExpiry => {}
    }
    if let Some(ago) = failed_ago {
        return Some(RETRY_AFTER_FAILURE.saturating_sub(ago).max(MIN_WAIT));
    }
    let Some((fetched, expiry)) = current else {
        return Some(Duration::ZERO);
    };
    let expiry = expiry?;
    let lifetime = expiry.duration_since(fetched).unwrap_or(Duration::ZERO);
    let lead = REFRESH_LEAD.min(lifetime / 2);
    let at = expiry.checked_sub(lead).unwrap_or(expiry);
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .max(MIN_WAIT),
    )
}

/// Whether credentials expiring at `expiry` (`None`: never) may still sign a new request at
/// `now`: not within `EXPIRY_MARGIN` of their expiry.
fn fresh_enough(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_none_or(|exp| exp > now + EXPIRY_MARGIN)
}

impl CredentialCache {
    /// A cache for `backend` fed from `source`, with an optional assume-role on top.
    pub(crate) fn new(
        backend: &str,
        region: &str,
        source: Source,
        role: Option<AssumeRole>,
        metrics: Arc<Metrics>,
    ) -> Self {
        // Fixed keys without a role are ready at once: no fetch, no refresh.
        let current = match (&source, &role) {
            (Source::Fixed(creds), None) => Some(Arc::new(cached(creds, None))),
            _ => None,
        };
        CredentialCache {
            backend: backend.to_owned(),
            region: region.to_owned(),
            source,
            role,
            provider: tokio::sync::OnceCell::new(),
            current: RwLock::new(current),
            fetching: tokio::sync::Mutex::new(()),
            last_failure: Mutex::new(None),
            metrics,
        }
    }

    /// Human description of the source, for the start-up log (never a secret).
    pub(crate) fn describe(&self) -> String {
        let base = match &self.source {
            Source::Fixed(_) => "static keys".to_owned(),
            Source::Dir(d) => format!("keys from the mounted directory {}", d.display()),
            Source::Chain => "the AWS default chain (environment, profile/SSO, credential_process, web identity, container, IMDS)".to_owned(),
        };
        match &self.role {
            Some(r) => format!("{base}, then assume-role {}", r.role_arn),
            None => base,
        }
    }

    fn usable(&self) -> Option<Arc<Cached>> {
        let current = self.current.read().ok()?.clone()?;
        fresh_enough(current.expiry, SystemTime::now()).then_some(current)
    }

    /// How long ago the last fetch failed (`None`: it succeeded, or none failed yet).
    fn failed_ago(&self) -> Option<Duration> {
        let at = self.last_failure.lock().ok().and_then(|f| *f)?;
        Some(at.elapsed())
    }

    /// Credentials for one request: the cached ones in the common case; a fetch only when none
    /// are valid (one at a time; after a recent failure, fail fast with its reason).
    pub(crate) async fn get(&self) -> Result<Arc<Cached>, GatewayError> {
        if let Some(c) = self.usable() {
            return Ok(c);
        }
        let recent_failure = |cache: &Self| {
            cache
                .failed_ago()
                .is_some_and(|ago| ago < RETRY_AFTER_FAILURE)
        };
        if recent_failure(self) {
            return Err(unavailable(&self.backend));
        }
        let _one = self.fetching.lock().await;
        if let Some(c) = self.usable() {
            return Ok(c);
        }
        if recent_failure(self) {
            return Err(unavailable(&self.backend));
        }
        // Boxed: fetching (the AWS provider chain) is a ~14 KiB future that every request's
        // state would otherwise carry for its whole life, streams included; it runs only when
        // the cached credentials are missing or expiring.
        Box::pin(self.refresh())
            .await
            .map_err(|_| unavailable(&self.backend))
    }

    /// Fetch now (bounded), store on success; on failure keep what is cached.
    async fn refresh(&self) -> Result<Arc<Cached>, String> {
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, self.fetch()).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "credential fetch timed out after {} s",
                FETCH_TIMEOUT.as_secs()
            )),
        };
        match fetched {
            Ok((new, from)) => {
                if let Ok(mut f) = self.last_failure.lock() {
                    *f = None;
                }
                let previous = self.current.read().ok().and_then(|c| c.clone());
                if let (Source::Dir(_), Some(prev)) = (&self.source, &previous) {
                    if prev.fingerprint == new.fingerprint {
                        return Ok(prev.clone()); // unchanged directory: nothing to do
                    }
                }
                let new = Arc::new(new);
                if let Ok(mut c) = self.current.write() {
                    *c = Some(new.clone());
                }
                self.metrics.credentials_refresh(true);
                let expiry = new
                    .expiry
                    .map(|e| humantime::format_rfc3339_seconds(e).to_string())
                    .unwrap_or_else(|| "never".into());
                let kind = if new.access_key_id.starts_with("ASIA") {
                    "temporary"
                } else {
                    "long-term"
                };
                if previous.is_none() {
                    log::info!(
                        "backend {}: credentials resolved from {from} ({kind}, expire {expiry})",
                        self.backend
                    );
                } else {
                    log::debug!(
                        "backend {}: credentials refreshed from {from} (expire {expiry})",
                        self.backend
                    );
                }
                Ok(new)
            }
            Err(why) => {
                self.metrics.credentials_refresh(false);
                let still = self
                    .usable()
                    .and_then(|c| c.expiry)
                    .map(|e| {
                        format!(
                            "; still using credentials valid until {}",
                            humantime::format_rfc3339_seconds(e)
                        )
                    })
                    .unwrap_or_default();
                log::warn!(
                    "backend {}: credential refresh failed: {why}{still}",
                    self.backend
                );
                if let Ok(mut f) = self.last_failure.lock() {
                    *f = Some(Instant::now());
                }
                Err(why)
            }
        }
    }

    /// One fetch from the source. Returns the credentials and the name of what supplied them.
    async fn fetch(&self) -> Result<(Cached, String), String> {
        if self.role.is_none() {
            match &self.source {
                Source::Fixed(creds) => return Ok((cached(creds, None), "a secret".into())),
                Source::Dir(dir) => {
                    let creds = read_dir_credentials(dir)?;
                    return Ok((cached(&creds, None), format!("{}", dir.display())));
                }
                Source::Chain => {}
            }
        }
        let provider = self
            .provider
            .get_or_try_init(|| self.build_provider())
            .await?;
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| error_chain(&e))?;
        let from = provider_name(&creds);
        let expiry = creds.expiry();
        let ours = AwsCredentials {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: Secret::new(creds.secret_access_key()),
            session_token: creds.session_token().map(Secret::new),
            expiry,
        };
        Ok((cached(&ours, expiry), from))
    }

    async fn build_provider(&self) -> Result<SharedCredentialsProvider, String> {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(self.region.clone()))
            .load()
            .await;
        let base = match &self.source {
            Source::Chain => sdk
                .credentials_provider()
                .ok_or("the AWS default chain is not available")?,
            Source::Fixed(c) => SharedCredentialsProvider::new(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.expose().to_owned(),
                c.session_token.as_ref().map(|t| t.expose().to_owned()),
                None,
                "StaticSecret",
            )),
            Source::Dir(dir) => {
                let c = read_dir_credentials(dir)?;
                SharedCredentialsProvider::new(Credentials::new(
                    c.access_key_id,
                    c.secret_access_key.expose().to_owned(),
                    c.session_token.map(|t| t.expose().to_owned()),
                    None,
                    "MountedSecret",
                ))
            }
        };
        let Some(role) = &self.role else {
            return Ok(base);
        };
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
            .session_name(role.session_name.clone().unwrap_or_else(|| "basalt".into()))
            .region(aws_config::Region::new(self.region.clone()))
            .configure(&sdk);
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id.clone());
        }
        Ok(SharedCredentialsProvider::new(
            builder.build_from_provider(base).await,
        ))
    }

    /// When the background task should refresh next; `None`: never (fixed keys). The clock is
    /// read here; the decision is `refresh_wait`'s.
    fn next_wait(&self) -> Option<Duration> {
        let current = self.current.read().ok().and_then(|c| c.clone());
        refresh_wait(
            Schedule::of(&self.source, self.role.as_ref()),
            SystemTime::now(),
            self.failed_ago(),
            current.map(|c| (c.fetched, c.expiry)),
        )
    }

    /// The background refresher: fetch at start, then ahead of each expiry.
    pub(crate) async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while let Some(wait) = self.next_wait() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            let _one = self.fetching.lock().await;
            let _ = self.refresh().await;
        }
    }
}

/// The client sees that credentials are unavailable, not why (the reason, which may describe
/// internal infrastructure, is in the gateway's log, written by `refresh`).
fn unavailable(backend: &str) -> GatewayError {
    GatewayError::CredentialsUnavailable {
        message: format!(
            "no valid AWS credentials for backend `{backend}` (the gateway log has the reason)"
        ),
    }
}

/// An error and its sources, `Display` only (never `Debug`, which can carry response bodies).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Runs every cache's background refresher and API-key watcher (a Pingora background service).
#[derive(Default)]
pub(crate) struct Refresher {
    /// The credential caches to keep fresh.
    pub(crate) caches: Vec<Arc<CredentialCache>>,
    /// The API keys to re-read from their mounted directories.
    pub(crate) api_keys: Vec<Arc<ApiKey>>,
}

/// A Bedrock API key, re-read from a mounted secret directory when it changes.
pub(crate) struct ApiKey {
    backend: String,
    key: RwLock<Secret>,
    dir: Option<PathBuf>,
}

impl ApiKey {
    /// A key for `backend`, re-read from `dir` when that is set.
    pub(crate) fn new(backend: &str, key: Secret, dir: Option<PathBuf>) -> Self {
        ApiKey {
            backend: backend.to_owned(),
            key: RwLock::new(key),
            dir,
        }
    }

    /// The `Authorization` header value.
    pub(crate) fn bearer(&self) -> Result<String, GatewayError> {
        let key = self.key.read().map_err(|_| GatewayError::Internal {
            message: "API key lock poisoned".into(),
        })?;
        Ok(format!("Bearer {}", key.expose()))
    }

    fn reread(&self, dir: &std::path::Path) {
        let fresh = crate::config::read_secret_dir(dir)
            .ok()
            .and_then(|m| m.get("apiKey").cloned())
            .filter(|k| !k.expose().is_empty());
        match fresh {
            Some(k) => {
                if let Ok(mut cur) = self.key.write() {
                    if *cur != k {
                        *cur = k;
                        log::info!(
                            "backend {}: API key re-read from {}",
                            self.backend,
                            dir.display()
                        );
                    }
                }
            }
            None => log::warn!(
                "backend {}: cannot re-read apiKey from {}; keeping the current key",
                self.backend,
                dir.display()
            ),
        }
    }

    /// Re-read the key from its directory every few seconds until shutdown.
    pub(crate) async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let Some(dir) = self.dir.clone() else {
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SECRET_POLL) => self.reread(&dir),
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);
    const MIN: Duration = Duration::from_secs(60);

    /// A fixed "now": the schedule never reads the clock.
    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    /// Credentials fetched at `t0`, living `lifetime`, looked at `elapsed` later.
    fn wait_for(lifetime: Duration, elapsed: Duration) -> Option<Duration> {
        let fetched = t0();
        refresh_wait(
            Schedule::ByExpiry,
            fetched + elapsed,
            None,
            Some((fetched, Some(fetched + lifetime))),
        )
    }

    fn role() -> AssumeRole {
        AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/bedrock".into(),
            external_id: None,
            session_name: None,
        }
    }

    fn keys() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIAFIXED".into(),
            secret_access_key: Secret::new("fixed-secret"),
            session_token: None,
            expiry: None,
        }
    }

    #[test]
    fn schedule_follows_source_and_role() {
        let dir = Source::Dir(PathBuf::from("/var/run/secrets/bedrock"));
        assert_eq!(Schedule::of(&Source::Fixed(keys()), None), Schedule::Never);
        assert_eq!(Schedule::of(&dir, None), Schedule::Poll);
        assert_eq!(Schedule::of(&Source::Chain, None), Schedule::ByExpiry);
        // A role on top makes any source expire: refreshed by expiry, not by source.
        let r = role();
        assert_eq!(
            Schedule::of(&Source::Fixed(keys()), Some(&r)),
            Schedule::ByExpiry
        );
        assert_eq!(Schedule::of(&dir, Some(&r)), Schedule::ByExpiry);
        assert_eq!(Schedule::of(&Source::Chain, Some(&r)), Schedule::ByExpiry);
    }

    #[test]
    fn long_lived_credentials_refresh_five_minutes_before_expiry() {
        assert_eq!(wait_for(60 * MIN, Duration::ZERO), Some(55 * MIN));
        // Measured from `now`, not from the fetch.
        assert_eq!(wait_for(60 * MIN, 50 * MIN), Some(5 * MIN));
        assert_eq!(wait_for(60 * MIN, 55 * MIN - SEC), Some(SEC));
    }

    #[test]
    fn short_lived_credentials_refresh_at_half_their_lifetime() {
        assert_eq!(wait_for(6 * SEC, Duration::ZERO), Some(3 * SEC));
        assert_eq!(wait_for(6 * SEC, SEC), Some(2 * SEC));
        assert_eq!(wait_for(4 * SEC, Duration::ZERO), Some(2 * SEC));
    }

    #[test]
    fn lead_and_half_life_meet_at_ten_minutes() {
        // lifetime / 2 == REFRESH_LEAD: both rules give the same time.
        assert_eq!(REFRESH_LEAD * 2, 10 * MIN);
        assert_eq!(wait_for(10 * MIN, Duration::ZERO), Some(5 * MIN));
        // Just longer: the 5 minute lead; just shorter: half the lifetime.
        assert_eq!(
            wait_for(10 * MIN + 2 * SEC, Duration::ZERO),
            Some(5 * MIN + 2 * SEC)
        );
        assert_eq!(
            wait_for(10 * MIN - 2 * SEC, Duration::ZERO),
            Some(5 * MIN - SEC)
        );
    }

    #[test]
    fn a_passed_refresh_time_waits_min_wait() {
        let left = Duration::from_millis(100);
        assert_eq!(wait_for(60 * MIN, 60 * MIN - left), Some(MIN_WAIT));
        assert_eq!(wait_for(6 * SEC, 6 * SEC - left), Some(MIN_WAIT));
        // Already expired, or an expiry before the fetch (zero lifetime): still MIN_WAIT.
        assert_eq!(wait_for(6 * SEC, 10 * SEC), Some(MIN_WAIT));
        let fetched = t0();
        let expiry = fetched - SEC;
        let wait = refresh_wait(
            Schedule::ByExpiry,
            fetched,
            None,
            Some((fetched, Some(expiry))),
        );
        assert_eq!(wait, Some(MIN_WAIT));
    }

    #[test]
    fn a_failure_is_retried_five_seconds_after_it() {
        let cached = Some((t0(), Some(t0() + 60 * MIN)));
        let after = |ago| refresh_wait(Schedule::ByExpiry, t0(), Some(ago), cached);
        assert_eq!(after(SEC), Some(4 * SEC));
        assert_eq!(after(Duration::ZERO), Some(RETRY_AFTER_FAILURE));
        // Overdue: as soon as allowed, never a busy loop.
        assert_eq!(
            after(RETRY_AFTER_FAILURE - Duration::from_millis(100)),
            Some(MIN_WAIT)
        );
        assert_eq!(after(60 * SEC), Some(MIN_WAIT));
        // The same with nothing cached (the first fetch failed).
        let first = refresh_wait(Schedule::ByExpiry, t0(), Some(SEC), None);
        assert_eq!(first, Some(4 * SEC));
    }

    #[test]
    fn nothing_cached_fetches_at_once() {
        let wait = refresh_wait(Schedule::ByExpiry, t0(), None, None);
        assert_eq!(wait, Some(Duration::ZERO));
    }

    #[test]
    fn credentials_without_expiry_are_never_refreshed() {
        // E.g. long-term keys from the environment through the chain.
        let wait = refresh_wait(Schedule::ByExpiry, t0(), None, Some((t0(), None)));
        assert_eq!(wait, None);
    }

    #[test]
    fn fixed_keys_are_never_refreshed() {
        for failed in [None, Some(SEC)] {
            assert_eq!(refresh_wait(Schedule::Never, t0(), failed, None), None);
            let cached = Some((t0(), None));
            assert_eq!(refresh_wait(Schedule::Never, t0(), failed, cached), None);
        }
    }

    #[test]
    fn a_directory_is_polled_every_two_seconds() {
        let cached = Some((t0(), None));
        for (failed, current) in [(None, None), (None, cached), (Some(SEC), cached)] {
            let wait = refresh_wait(Schedule::Poll, t0(), failed, current);
            assert_eq!(wait, Some(SECRET_POLL));
        }
        assert_eq!(SECRET_POLL, 2 * SEC);
    }

    #[test]
    fn a_role_on_fixed_keys_refreshes_by_expiry() {
        let schedule = Schedule::of(&Source::Fixed(keys()), Some(&role()));
        // Before the first AssumeRole: at once; then 5 minutes before the 1 h session ends.
        assert_eq!(
            refresh_wait(schedule, t0(), None, None),
            Some(Duration::ZERO)
        );
        let session = Some((t0(), Some(t0() + 60 * MIN)));
        assert_eq!(refresh_wait(schedule, t0(), None, session), Some(55 * MIN));
    }

    #[test]
    fn credentials_are_not_used_within_a_second_of_expiry() {
        let now = t0();
        assert!(fresh_enough(None, now));
        assert!(fresh_enough(Some(now + 60 * MIN), now));
        assert!(fresh_enough(
            Some(now + EXPIRY_MARGIN + Duration::from_millis(1)),
            now
        ));
        assert!(!fresh_enough(Some(now + EXPIRY_MARGIN), now));
        assert!(!fresh_enough(Some(now), now));
        assert!(!fresh_enough(Some(now - SEC), now));
    }
}
