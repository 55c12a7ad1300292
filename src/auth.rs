//! Per-backend upstream authentication: which identity signs requests to Bedrock, resolved once
//! at start-up from the backend's `policies.auth`, and applied per request (SigV4 or Bearer).

use crate::bedrock::sigv4::{self, AwsCredentials, SignInput};
use crate::config::model::{Backend, BackendAuth};
use crate::error::GatewayError;
use crate::secret::Secret;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::SystemTime;

/// How requests to one backend are authenticated.
pub enum Authorizer {
    SigV4 {
        identity: Identity,
        region: String,
    },
    Bearer(Secret),
    /// No credentials could be found; every request gets a clear 503.
    Unavailable(String),
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl Authorizer {
    /// Resolve a backend's auth. `env` is injected (tests, and to keep the lookup explicit).
    pub fn resolve(
        backend: &Backend,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> (Authorizer, String) {
        match &backend.auth {
            BackendAuth::Static {
                secret,
                credentials,
            } => (
                Authorizer::SigV4 {
                    identity: credentials.identity(),
                    region: backend.region.clone(),
                },
                format!("static keys from secret `{secret}`"),
            ),
            BackendAuth::ApiKey { secret, key } => (
                Authorizer::Bearer(key.clone()),
                format!("Bedrock API key from secret `{secret}`"),
            ),
            BackendAuth::Implicit { .. } => {
                let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
                if let Some(token) = non_empty("AWS_BEARER_TOKEN_BEDROCK") {
                    return (
                        Authorizer::Bearer(Secret::new(token)),
                        "Bedrock API key from AWS_BEARER_TOKEN_BEDROCK".into(),
                    );
                }
                match (non_empty("AWS_ACCESS_KEY_ID"), non_empty("AWS_SECRET_ACCESS_KEY")) {
                    (Some(ak), Some(sk)) => {
                        let creds = AwsCredentials {
                            access_key_id: ak,
                            secret_access_key: Secret::new(sk),
                            session_token: non_empty("AWS_SESSION_TOKEN").map(Secret::new),
                            expiry: None,
                        };
                        (
                            Authorizer::SigV4 {
                                identity: creds.identity(),
                                region: backend.region.clone(),
                            },
                            "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
                        )
                    }
                    _ => (
                        Authorizer::Unavailable(
                            "no credentials found in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_BEARER_TOKEN_BEDROCK)".into(),
                        ),
                        "none found".into(),
                    ),
                }
            }
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Authorizer::SigV4 { .. } => "SigV4",
            Authorizer::Bearer(_) => "Bearer",
            Authorizer::Unavailable(_) => "Unavailable",
        }
    }

    /// The authentication headers for one request.
    pub fn headers(
        &self,
        input: &SignInput<'_>,
        now: SystemTime,
    ) -> Result<Vec<(&'static str, String)>, GatewayError> {
        match self {
            Authorizer::SigV4 { identity, region } => sigv4::sign(input, identity, region, now),
            Authorizer::Bearer(key) => {
                Ok(vec![("authorization", format!("Bearer {}", key.expose()))])
            }
            Authorizer::Unavailable(why) => Err(GatewayError::CredentialsUnavailable {
                message: why.clone(),
            }),
        }
    }
}
