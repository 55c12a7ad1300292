//! Per-backend upstream authentication: which identity signs requests to Bedrock, resolved once
//! at start-up from the backend's `policies.auth` (and, in the implicit mode, the environment),
//! and applied per request: SigV4 with cached credentials, or a Bedrock API key as Bearer.

use crate::bedrock::sigv4::SignInput;
use crate::config::model::{Backend, BackendAuth};
use crate::credentials::{ApiKey, CredentialCache, Refresher, Source};
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::secret::Secret;
use std::sync::Arc;
use std::time::SystemTime;

/// How requests to one backend are authenticated.
pub(crate) enum Authorizer {
    /// Sign each request with SigV4 (static keys, the AWS default chain, or an assumed role).
    SigV4 {
        /// Where the current credentials come from, refreshed ahead of expiry.
        credentials: Arc<CredentialCache>,
        /// The region signed for (the backend's `region`).
        region: String,
    },
    /// Send a Bedrock API key as `Authorization: Bearer` (re-read when its secret is a mounted
    /// directory).
    Bearer(Arc<ApiKey>),
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Authorizer::SigV4 { .. } => "SigV4",
            Authorizer::Bearer(_) => "Bearer",
        })
    }
}

impl Authorizer {
    /// Resolve a backend's auth; registers what needs background refreshing in `refresher`.
    /// Returns the authorizer and a description of the source for the start-up log.
    /// `env` is injected (tests, and to keep the lookup explicit).
    pub(crate) fn resolve(
        backend: &Backend,
        env: &dyn Fn(&str) -> Option<String>,
        metrics: &Arc<Metrics>,
        refresher: &mut Refresher,
    ) -> (Authorizer, String) {
        let sigv4 = |source: Source, role, refresher: &mut Refresher| {
            let cache = Arc::new(CredentialCache::new(
                &backend.name,
                &backend.region,
                source,
                role,
                metrics.clone(),
            ));
            let described = cache.describe();
            refresher.caches.push(cache.clone());
            (
                Authorizer::SigV4 {
                    credentials: cache,
                    region: backend.region.clone(),
                },
                described,
            )
        };
        match &backend.auth {
            BackendAuth::Static {
                secret,
                credentials,
                dir,
                role,
            } => {
                let source = match dir {
                    Some(d) => Source::Dir(d.clone()),
                    None => Source::Fixed(credentials.clone()),
                };
                let (a, d) = sigv4(source, role.clone(), refresher);
                (a, format!("{d} (secret `{secret}`)"))
            }
            BackendAuth::ApiKey { secret, key, dir } => {
                let key = Arc::new(ApiKey::new(&backend.name, key.clone(), dir.clone()));
                if dir.is_some() {
                    refresher.api_keys.push(key.clone());
                }
                let how = if dir.is_some() {
                    " (re-read when the mounted file changes)"
                } else {
                    ""
                };
                (
                    Authorizer::Bearer(key),
                    format!("Bedrock API key from secret `{secret}`{how}"),
                )
            }
            BackendAuth::Implicit { role } => {
                // As the AWS SDKs do: a Bedrock API key in the environment wins.
                if let Some(token) = env("AWS_BEARER_TOKEN_BEDROCK").filter(|v| !v.is_empty()) {
                    let key = ApiKey::new(&backend.name, Secret::new(token), None);
                    return (
                        Authorizer::Bearer(Arc::new(key)),
                        "Bedrock API key from AWS_BEARER_TOKEN_BEDROCK".into(),
                    );
                }
                sigv4(Source::Chain, role.clone(), refresher)
            }
        }
    }

    /// The authentication headers for one request.
    pub(crate) async fn headers(
        &self,
        input: &SignInput<'_>,
        now: SystemTime,
    ) -> Result<Vec<(&'static str, String)>, GatewayError> {
        match self {
            Authorizer::SigV4 {
                credentials,
                region,
            } => {
                let creds = credentials.get().await?;
                Ok(creds.signer.sign(input, region, now))
            }
            Authorizer::Bearer(key) => Ok(vec![("authorization", key.bearer()?)]),
        }
    }
}
