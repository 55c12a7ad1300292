//! The AWS SDKs' endpoint convention: `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, else
//! `AWS_ENDPOINT_URL`, is the endpoint of every backend that does not set `endpoint` (VPC
//! endpoints, proxies, local stand-ins); `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns it off.

use super::raw;

/// The variables, most specific first.
const VARS: [&str; 2] = ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"];

/// Which backends took their endpoint from which variable.
pub(super) struct FromEnv {
    var: &'static str,
    backends: Vec<usize>,
}

/// Set the endpoint of each backend without one from the environment, if a variable is set.
pub(super) fn apply(file: &mut raw::File, env: &dyn Fn(&str) -> Option<String>) -> Option<FromEnv> {
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    let (var, url) = VARS
        .iter()
        .find_map(|v| env(v).filter(|u| !u.trim().is_empty()).map(|u| (*v, u)))?;
    let url = url.trim().trim_end_matches('/').to_owned();
    let mut backends = Vec::new();
    for (i, b) in file.backends.iter_mut().enumerate() {
        let bedrock = &mut b.ai.provider.bedrock;
        if bedrock.endpoint.is_none() {
            bedrock.endpoint = Some(url.clone());
            backends.push(i);
        }
    }
    Some(FromEnv { var, backends })
}

impl FromEnv {
    /// An error about an endpoint that came from the environment says so.
    pub(super) fn rename(&self, e: &str) -> String {
        for i in &self.backends {
            let key = format!("backends[{i}].ai.provider.bedrock.endpoint:");
            if e.starts_with(&key) {
                return format!("{e} (from {})", self.var);
            }
        }
        e.to_owned()
    }
}
