//! Request authentication for Bedrock: SigV4 (service `bedrock`) through `aws-sigv4`, or a
//! Bedrock API key as `Authorization: Bearer`. The clock and credentials are passed in.

use crate::error::GatewayError;
use crate::secret::Secret;
use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::SystemTime;

/// Static AWS credentials (access key, secret key, optional session token).
#[derive(Clone, Debug)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub expiry: Option<SystemTime>,
}

impl AwsCredentials {
    /// The `aws-sigv4` identity for these credentials (build once, reuse per request).
    pub fn identity(&self) -> Identity {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose().to_owned(),
            self.session_token.as_ref().map(|t| t.expose().to_owned()),
            self.expiry,
            "basalt",
        )
        .into()
    }
}

/// The headers of a request to sign: the ones that go on the wire and are signed.
pub struct SignInput<'a> {
    /// Full URL as sent: `https://host/model/<encoded id>/converse`.
    pub url: &'a str,
    /// The `host` header value exactly as sent (with `:port` when not default).
    pub host: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

/// Sign with SigV4. Returns the headers to add (`authorization`, `x-amz-date`,
/// `x-amz-security-token` when a session token is present).
pub fn sign(
    input: &SignInput<'_>,
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, GatewayError> {
    let settings = SigningSettings::default();
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("bedrock")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| GatewayError::Internal {
            message: format!("SigV4 parameters: {e}"),
        })?
        .into();
    let headers = [("host", input.host), ("content-type", input.content_type)];
    let request = SignableRequest::new(
        "POST",
        input.url,
        headers.into_iter(),
        SignableBody::Bytes(input.body),
    )
    .map_err(|e| GatewayError::Internal {
        message: format!("SigV4 request: {e}"),
    })?;
    let (instructions, _signature) = sigv4_sign(request, &params)
        .map_err(|e| GatewayError::Internal {
            message: format!("SigV4 signing: {e}"),
        })?
        .into_parts();
    let (headers, _params) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| {
            let name = h.name();
            let name: &'static str = match name {
                "authorization" => "authorization",
                "x-amz-date" => "x-amz-date",
                "x-amz-security-token" => "x-amz-security-token",
                "x-amz-content-sha256" => "x-amz-content-sha256",
                _ => "x-amz-unknown",
            };
            (name, h.value().to_owned())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn creds(token: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: token.map(Secret::new),
            expiry: None,
        }
    }

    #[test]
    fn signs_bedrock_service_with_expected_headers() {
        let body = br#"{"messages":[]}"#;
        let input = SignInput {
            url: "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-micro-v1%3A0/converse",
            host: "bedrock-runtime.us-east-1.amazonaws.com",
            content_type: "application/json",
            body,
        };
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = sign(&input, &creds(Some("TOKEN")).identity(), "us-east-1", t).unwrap();
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-amz-date"), Some("20231114T221320Z"));
        assert_eq!(get("x-amz-security-token"), Some("TOKEN"));
        let auth = get("authorization").unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="),
            "{auth}"
        );
        // Deterministic for a fixed clock, and it covers the body.
        let again = sign(&input, &creds(Some("TOKEN")).identity(), "us-east-1", t).unwrap();
        assert_eq!(h, again);
        let other = SignInput {
            body: b"{}",
            ..input
        };
        let changed = sign(&other, &creds(Some("TOKEN")).identity(), "us-east-1", t).unwrap();
        assert_ne!(
            get("authorization"),
            changed
                .iter()
                .find(|(k, _)| *k == "authorization")
                .map(|(_, v)| v.as_str())
        );
    }
}
