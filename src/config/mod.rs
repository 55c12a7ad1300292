//! Loading the config file in two layers: YAML → `${VAR}` interpolation → raw serde structs that
//! reject unknown keys (`raw`) → validation into a model that cannot be invalid (`model`).
//! Every error names its key path, e.g. `backends[0].ai.provider.bedrock.regoin: unknown key`.
//! Kubernetes manifests (`manifests`) are a second front-end to the same raw structs (`load`).

pub(crate) mod dump;
mod endpoint;
mod load;
mod manifests;
pub mod model;
pub(crate) mod raw;
pub(crate) mod tls;
mod validate;

use crate::secret::Secret;
#[cfg(test)]
use load::{from_manifests, from_native};
pub use load::{load, load_str, load_with, Overrides};
#[cfg(test)]
use model::*;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// All problems found in a config file, each `path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub(crate) Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(e)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// `unknown field `x`, expected ...` at path P → `P.x: unknown key (expected ...)`.
fn describe_serde_error(path: &str, msg: &str) -> String {
    let path = if path == "." { "" } else { path };
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let full = if path.is_empty() {
                field.to_owned()
            } else if path.ends_with(field) {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
            let expected = tail.trim_start_matches(',').trim();
            return if expected.is_empty() {
                format!("{full}: unknown key")
            } else {
                format!("{full}: unknown key ({expected})")
            };
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some((field, _)) = rest.split_once('`') {
            let full = if path.is_empty() {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            return format!("{full}: required key is missing");
        }
    }
    if path.is_empty() {
        msg.to_owned()
    } else {
        format!("{path}: {msg}")
    }
}

/// Replace `${VAR}` (and `${VAR:-default}`) in every string; `$${` is a literal `${`.
fn interpolate(
    v: &mut serde_yaml::Value,
    path: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) {
    match v {
        serde_yaml::Value::String(s) if s.contains("${") => match substitute(s, env) {
            Ok(new) => *s = new,
            Err(msg) => errors.push(format!("{path}: {msg}")),
        },
        serde_yaml::Value::Sequence(seq) => {
            for (i, item) in seq.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                interpolate(item, path, env, errors);
                path.truncate(len);
            }
        }
        serde_yaml::Value::Mapping(map) => {
            for (k, item) in map.iter_mut() {
                let len = path.len();
                let key = k.as_str().unwrap_or("?");
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                interpolate(item, path, env, errors);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn substitute(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| "unterminated `${` in value".to_owned())?;
            let expr = &tail[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty() {
                return Err("empty variable name in `${}`".into());
            }
            match (env(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!("environment variable {name} is not set"));
                }
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A Kubernetes secret volume: one file per key (dot-files such as `..data` skipped).
pub(crate) fn read_secret_dir(dir: &Path) -> std::io::Result<BTreeMap<String, Secret>> {
    let mut map = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        let value = std::fs::read_to_string(entry.path())?;
        map.insert(
            name,
            Secret::new(value.trim_end_matches(['\n', '\r']).to_owned()),
        );
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "AK" => Some("AKIDEXAMPLE".into()),
            "SK" => Some("secret".into()),
            _ => None,
        }
    }

    const GOOD: &str = r#"
listeners:
  - name: default
    address: 0.0.0.0:8080
secrets:
  - name: bedrock-secret
    stringData: {accessKey: "${AK}", secretKey: "${SK}", sessionToken: "${TOKEN:-}"}
backends:
  - name: bedrock
    ai: {provider: {bedrock: {model: "amazon.nova-micro-v1:0", region: us-east-1, endpoint: "http://127.0.0.1:9000"}}}
    policies: {auth: {aws: {secretRef: {name: bedrock-secret}}}}
routes:
  - name: bedrock
    matches: [{path: {type: PathPrefix, value: /v1/chat/completions}}]
    backendRefs: [{name: bedrock}]
policies:
  - name: bedrock-caching-policy
    targetRefs: [{kind: HTTPRoute, name: bedrock}]
    backend: {ai: {promptCaching: {cacheSystem: true, cacheMessages: true, cacheTools: false, minTokens: 1024}}}
"#;

    fn load(text: &str) -> Result<Config, ConfigError> {
        load_str(text, Path::new("."), &env)
    }

    #[test]
    fn loads_contract_example() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.listeners[0].address, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.admin, "127.0.0.1:15000".parse().unwrap());
        assert_eq!(c.metrics, "0.0.0.0:15020".parse().unwrap());
        let b = &c.backends[0];
        assert_eq!(b.endpoint.authority, "127.0.0.1:9000");
        assert_eq!(b.endpoint.base_url, "http://127.0.0.1:9000");
        match &b.auth {
            BackendAuth::Static { credentials, .. } => {
                assert_eq!(credentials.access_key_id, "AKIDEXAMPLE");
                assert!(credentials.session_token.is_none(), "empty token = absent");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.routes[0].prompt_caching.unwrap().min_tokens, 1024);
        assert_eq!(c.listeners[0].max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn unknown_key_names_its_path() {
        let bad = GOOD.replace("region: us-east-1", "regoin: us-east-1, region: us-east-1");
        let e = load(&bad).unwrap_err();
        assert!(
            e.0[0].starts_with("backends[0].ai.provider.bedrock.regoin: unknown key"),
            "{e}"
        );
    }

    #[test]
    fn anthropic_betas_default_to_bedrocks_list_and_are_validated() {
        let c = load(GOOD).unwrap();
        assert!(c.backends[0]
            .anthropic_betas
            .iter()
            .any(|b| b == "interleaved-thinking-2025-05-14"));
        let one = load(&GOOD.replace(
            "region: us-east-1",
            "region: us-east-1, anthropicBetas: [context-1m-2025-08-07]",
        ))
        .unwrap();
        assert_eq!(one.backends[0].anthropic_betas, ["context-1m-2025-08-07"]);
        let e = load(&GOOD.replace(
            "region: us-east-1",
            "region: us-east-1, anthropicBetas: [\"a,b\"]",
        ))
        .unwrap_err();
        assert!(
            e.0[0].starts_with("backends[0].ai.provider.bedrock.anthropicBetas[0]: must be one"),
            "{e}"
        );
    }

    #[test]
    fn model_family_override_is_validated() {
        let ok = load(&GOOD.replace(
            "region: us-east-1",
            "region: us-east-1, modelFamily: claude-adaptive",
        ))
        .unwrap();
        assert_eq!(
            ok.backends[0].family("arn:aws:bedrock:us-east-1:1:application-inference-profile/x"),
            crate::translate::family::ModelFamily::ClaudeAdaptive
        );
        let e = load(&GOOD.replace(
            "region: us-east-1",
            "region: us-east-1, modelFamily: anthropic",
        ))
        .unwrap_err();
        assert!(
            e.0[0].starts_with(
                "backends[0].ai.provider.bedrock.modelFamily: unknown family `anthropic` (one of claude,"
            ),
            "{e}"
        );
    }

    #[test]
    fn unset_variable_is_named() {
        let bad = GOOD.replace("${SK}", "${TEAM_KEY}");
        let e = load(&bad).unwrap_err();
        assert_eq!(
            e.0,
            vec!["secrets[0].stringData.secretKey: environment variable TEAM_KEY is not set"]
        );
    }

    #[test]
    fn dangling_references_are_errors() {
        let bad = GOOD.replace(
            "backendRefs: [{name: bedrock}]",
            "backendRefs: [{name: nope}]",
        );
        let e = load(&bad).unwrap_err();
        assert!(
            e.0.iter()
                .any(|m| m == "routes[0].backendRefs[0].name: no backend named `nope`"),
            "{e}"
        );
        let bad = GOOD.replace("address: 0.0.0.0:8080", "address: nowhere");
        let e = load(&bad).unwrap_err();
        assert!(e.0[0].starts_with("listeners[0].address:"), "{e}");
    }

    #[test]
    fn defaults_and_implicit_auth() {
        let c = load(&GOOD.replace(
            "policies: {auth: {aws: {secretRef: {name: bedrock-secret}}}}",
            "",
        ))
        .unwrap();
        assert!(matches!(
            c.backends[0].auth,
            BackendAuth::Implicit { role: None }
        ));
        let c = load(&GOOD.replace(", endpoint: \"http://127.0.0.1:9000\"", "")).unwrap();
        assert_eq!(
            c.backends[0].endpoint.authority,
            "bedrock-runtime.us-east-1.amazonaws.com"
        );
        assert!(c.backends[0].endpoint.tls);
    }

    #[test]
    fn substitution_forms() {
        let e = |n: &str| (n == "A").then(|| "x".to_owned());
        assert_eq!(substitute("a${A}b", &e).unwrap(), "axb");
        assert_eq!(substitute("${B:-dflt}", &e).unwrap(), "dflt");
        assert_eq!(substitute("$${A} $5", &e).unwrap(), "${A} $5");
        assert!(substitute("${A", &e).is_err());
    }
}
