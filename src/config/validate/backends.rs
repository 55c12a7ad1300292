//! `backends`: the Bedrock endpoint, credentials and CA bundle of each backend.

use super::secrets::{secret_value, Secrets};
use super::{check_unique, ns, resolve};
use crate::bedrock::sigv4::AwsCredentials;
use crate::config::model::*;
use crate::config::raw;
use crate::config::tls;
use crate::secret::Secret;
use crate::translate::family::ModelFamily;
use std::path::Path;
use std::sync::Arc;

pub(super) fn backends(
    list: &[raw::Backend],
    secrets: &Secrets,
    base: &Path,
    errors: &mut Vec<String>,
) -> Vec<Arc<Backend>> {
    check_unique(
        "backend",
        "backends",
        list.iter().map(|b| (b.name.as_str(), &b.namespace)),
        errors,
    );
    list.iter()
        .enumerate()
        .filter_map(|(i, b)| backend(b, &format!("backends[{i}]"), secrets, base, errors))
        .map(Arc::new)
        .collect()
}

fn backend(
    b: &raw::Backend,
    path: &str,
    secrets: &Secrets,
    base: &Path,
    errors: &mut Vec<String>,
) -> Option<Backend> {
    let br = &b.ai.provider.bedrock;
    let p = format!("{path}.ai.provider.bedrock");
    if br.region.trim().is_empty() {
        errors.push(format!("{p}.region: must not be empty"));
    }
    let endpoint_str = br
        .endpoint
        .clone()
        .unwrap_or_else(|| crate::bedrock::default_endpoint(&br.region));
    let endpoint = parse_endpoint(&endpoint_str)
        .map_err(|msg| errors.push(format!("{p}.endpoint: {msg}")))
        .ok();
    if br.model.as_ref().is_some_and(|m| m.trim().is_empty()) {
        errors.push(format!("{p}.model: must not be empty when set"));
    }
    let model_family = br.model_family.as_deref().and_then(|name| {
        let family = ModelFamily::from_name(name);
        if family.is_none() {
            let names: Vec<&str> = ModelFamily::NAMES.iter().map(|(n, _)| *n).collect();
            errors.push(format!(
                "{p}.modelFamily: unknown family `{name}` (one of {})",
                names.join(", ")
            ));
        }
        family
    });
    let anthropic_betas = match &br.anthropic_betas {
        None => crate::translate::messages::request::DEFAULT_BETAS
            .iter()
            .map(|b| (*b).to_owned())
            .collect(),
        Some(list) => {
            for (i, b) in list.iter().enumerate() {
                if b.trim().is_empty() || b.contains(',') {
                    errors.push(format!(
                        "{p}.anthropicBetas[{i}]: must be one beta name (no commas, not empty)"
                    ));
                }
            }
            list.clone()
        }
    };
    let auth = backend_auth(b, path, secrets, errors);
    let ca_file = b
        .policies
        .as_ref()
        .and_then(|p| p.tls.as_ref())
        .and_then(|t| t.ca_file.as_ref())
        .map(|f| resolve(base, f));
    let ca_certs = ca_file.as_ref().and_then(|f| {
        tls::load_ca_pem(f)
            .map_err(|e| errors.push(format!("{path}.policies.tls.caFile: {e}")))
            .ok()
            .map(Arc::new)
    });
    Some(Backend {
        name: b.name.clone(),
        namespace: ns(&b.namespace),
        model: br.model.clone(),
        model_family,
        anthropic_betas,
        region: br.region.clone(),
        endpoint: endpoint?,
        auth,
        ca_file,
        ca_certs,
    })
}

/// `http(s)://host[:port]` with nothing after the authority.
fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    let uri: http::Uri = s.parse().map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("`{s}` must start with http:// or https://")),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("`{s}` has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if host.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(format!("`{s}` must not carry user information"));
    }
    if (uri.path() != "/" && !uri.path().is_empty()) || uri.query().is_some() {
        return Err(format!("`{s}` must not have a path or query"));
    }
    let default_port = if tls { 443 } else { 80 };
    // Read the port text directly: `Uri::port` is `None` for one that does not fit a u16.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let after_host = authority
        .rfind(']')
        .map_or(authority, |i| &authority[i + 1..]);
    let port = match after_host.rsplit_once(':').map(|(_, p)| p) {
        None | Some("") => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("`{s}`: port `{p}` is not 1 to 65535")),
        },
    };
    let host_part = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let authority = if port == default_port {
        host_part
    } else {
        format!("{host_part}:{port}")
    };
    let scheme = if tls { "https" } else { "http" };
    Ok(Endpoint {
        tls,
        host,
        port,
        base_url: format!("{scheme}://{authority}"),
        authority,
    })
}

fn backend_auth(
    b: &raw::Backend,
    path: &str,
    secrets: &Secrets,
    errors: &mut Vec<String>,
) -> BackendAuth {
    let ns = ns(&b.namespace);
    let auth = b.policies.as_ref().and_then(|p| p.auth.as_ref());
    let Some(auth) = auth else {
        return BackendAuth::Implicit { role: None };
    };
    let path = format!("{path}.policies.auth");
    match (&auth.aws, &auth.api_key) {
        (Some(_), Some(_)) => {
            errors.push(format!("{path}: set either aws or apiKey, not both"));
            BackendAuth::Implicit { role: None }
        }
        (None, Some(k)) => {
            let p = format!("{path}.apiKey");
            let key = secret_value(secrets, &k.secret_ref, &ns, "apiKey", true, &p, errors);
            BackendAuth::ApiKey {
                secret: k.secret_ref.name.clone(),
                key: key.unwrap_or_else(|| Secret::new("")),
                dir: secrets.dir(&k.secret_ref, &ns),
            }
        }
        (aws, None) => {
            let default = raw::AwsAuth::default();
            let aws = aws.as_ref().unwrap_or(&default);
            let role = aws.role_arn.as_ref().map(|arn| AssumeRole {
                role_arn: arn.clone(),
                external_id: aws.external_id.clone(),
                session_name: aws.session_name.clone(),
            });
            let Some(r) = &aws.secret_ref else {
                return BackendAuth::Implicit { role };
            };
            let p = format!("{path}.aws");
            let ak = secret_value(secrets, r, &ns, "accessKey", true, &p, errors);
            let sk = secret_value(secrets, r, &ns, "secretKey", true, &p, errors);
            let token = secret_value(secrets, r, &ns, "sessionToken", false, &p, errors);
            BackendAuth::Static {
                secret: r.name.clone(),
                credentials: AwsCredentials {
                    access_key_id: ak.map(|s| s.expose().to_owned()).unwrap_or_default(),
                    secret_access_key: sk.unwrap_or_else(|| Secret::new("")),
                    session_token: token,
                    expiry: None,
                },
                dir: secrets.dir(r, &ns),
                role,
            }
        }
    }
}
