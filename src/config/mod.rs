//! Loading the config file in two layers: YAML → `${VAR}` interpolation → raw serde structs that
//! reject unknown keys (`raw`) → validation into a model that cannot be invalid (`model`).
//! Every error names its key path, e.g. `backends[0].ai.provider.bedrock.regoin: unknown key`.

pub mod model;
pub mod raw;

use crate::bedrock::sigv4::AwsCredentials;
use crate::secret::Secret;
use crate::translate::family::ModelFamily;
use base64::Engine;
use model::*;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// All problems found in a config file, each `path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub Vec<String>);

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

/// Read, interpolate, parse and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(vec![format!("{}: cannot read: {e}", path.display())]))?;
    let base = path.parent().unwrap_or(Path::new("."));
    load_str(&text, base, &|name| std::env::var(name).ok())
}

/// Parse config text; `env` looks variables up (injected so tests need no process env).
pub fn load_str(
    text: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| ConfigError(vec![format!("invalid YAML: {e}")]))?;
    if value.is_null() {
        value = serde_yaml::Value::Mapping(Default::default());
    }
    let mut errors = Vec::new();
    interpolate(&mut value, &mut String::new(), env, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigError(errors));
    }
    let file: raw::File = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ConfigError(vec![describe_serde_error(
            &path,
            &e.into_inner().to_string(),
        )])
    })?;
    validate(file, base_dir)
}

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

fn ns(n: &Option<String>) -> String {
    n.clone().unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

fn parse_addr(s: &str, path: &str, errors: &mut Vec<String>) -> Option<SocketAddr> {
    match s.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            errors.push(format!("{path}: `{s}` is not an address like 0.0.0.0:8080"));
            None
        }
    }
}

struct Secrets {
    /// (namespace, name) → (path, entries)
    entries: BTreeMap<(String, String), (String, BTreeMap<String, Secret>)>,
    /// (namespace, name) → the mounted directory of a `path` secret.
    dirs: BTreeMap<(String, String), PathBuf>,
}

impl Secrets {
    fn get(
        &self,
        r: &raw::SecretRef,
        default_ns: &str,
    ) -> Option<&(String, BTreeMap<String, Secret>)> {
        let ns = r.namespace.clone().unwrap_or_else(|| default_ns.to_owned());
        self.entries.get(&(ns, r.name.clone()))
    }

    /// The mounted directory behind a `path` secret.
    fn dir(&self, r: &raw::SecretRef, default_ns: &str) -> Option<PathBuf> {
        let ns = r.namespace.clone().unwrap_or_else(|| default_ns.to_owned());
        self.dirs.get(&(ns, r.name.clone())).cloned()
    }
}

fn load_secrets(list: &[raw::Secret], base: &Path, errors: &mut Vec<String>) -> Secrets {
    let mut entries = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for (i, s) in list.iter().enumerate() {
        let path = format!("secrets[{i}]");
        let mut map = BTreeMap::new();
        let sources = [s.string_data.is_some(), s.data.is_some(), s.path.is_some()];
        if sources.iter().filter(|x| **x).count() != 1 {
            errors.push(format!(
                "{path}: exactly one of stringData, data or path is required"
            ));
        }
        for (k, v) in s.string_data.iter().flatten() {
            map.insert(k.clone(), Secret::new(v.clone()));
        }
        for (k, v) in s.data.iter().flatten() {
            match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        map.insert(k.clone(), Secret::new(text));
                    }
                    Err(_) => errors.push(format!("{path}.data.{k}: value is not UTF-8 text")),
                },
                Err(_) => errors.push(format!("{path}.data.{k}: value is not valid base64")),
            }
        }
        if let Some(dir) = &s.path {
            let dir = resolve(base, dir);
            match read_secret_dir(&dir) {
                Ok(m) => map.extend(m),
                Err(e) => errors.push(format!("{path}.path: cannot read {}: {e}", dir.display())),
            }
            dirs.insert((ns(&s.namespace), s.name.clone()), dir);
        }
        let key = (ns(&s.namespace), s.name.clone());
        if entries.contains_key(&key) {
            errors.push(format!("{path}.name: duplicate secret `{}`", s.name));
        }
        entries.insert(key, (path, map));
    }
    Secrets { entries, dirs }
}

/// A Kubernetes secret volume: one file per key (dot-files such as `..data` skipped).
pub fn read_secret_dir(dir: &Path) -> std::io::Result<BTreeMap<String, Secret>> {
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

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

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
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(format!("`{s}` must not have a path"));
    }
    let default_port = if tls { 443 } else { 80 };
    let port = uri.port_u16().unwrap_or(default_port);
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

fn duration_field(
    v: &Option<String>,
    default: std::time::Duration,
    path: &str,
    errors: &mut Vec<String>,
) -> std::time::Duration {
    match v {
        None => default,
        Some(s) => match parse_duration(s) {
            Some(d) => d,
            None => {
                errors.push(format!(
                    "{path}: `{s}` is not a duration like 100ms, 5s or 2m"
                ));
                default
            }
        },
    }
}

fn secret_value(
    secrets: &Secrets,
    r: &raw::SecretRef,
    default_ns: &str,
    key: &str,
    required: bool,
    path: &str,
    errors: &mut Vec<String>,
) -> Option<Secret> {
    let Some((_, map)) = secrets.get(r, default_ns) else {
        errors.push(format!(
            "{path}.secretRef.name: no secret named `{}`",
            r.name
        ));
        return None;
    };
    match map.get(key) {
        Some(v) if !v.expose().is_empty() => Some(v.clone()),
        _ if !required => None,
        _ => {
            errors.push(format!(
                "{path}.secretRef: secret `{}` has no non-empty `{key}`",
                r.name
            ));
            None
        }
    }
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
            let key = secret_value(
                secrets,
                &k.secret_ref,
                &ns,
                "apiKey",
                true,
                &format!("{path}.apiKey"),
                errors,
            );
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
            if let Some(r) = &aws.secret_ref {
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
            } else {
                BackendAuth::Implicit { role }
            }
        }
    }
}

fn validate(file: raw::File, base: &Path) -> Result<Config, ConfigError> {
    let mut errors = Vec::new();
    let secrets = load_secrets(&file.secrets, base, &mut errors);

    if file.listeners.is_empty() {
        errors.push("listeners: at least one listener is required".into());
    }
    let mut listeners = Vec::new();
    for (i, l) in file.listeners.iter().enumerate() {
        let path = format!("listeners[{i}]");
        let address = parse_addr(&l.address, &format!("{path}.address"), &mut errors);
        let api_keys = l.auth.as_ref().and_then(|a| {
            let r = &a.api_keys.secret_ref;
            match secrets.get(r, &ns(&l.namespace)) {
                Some((_, map)) if !map.is_empty() => Some(
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<Vec<_>>(),
                ),
                Some(_) => {
                    errors.push(format!(
                        "{path}.auth.apiKeys.secretRef: secret `{}` holds no keys",
                        r.name
                    ));
                    None
                }
                None => {
                    errors.push(format!(
                        "{path}.auth.apiKeys.secretRef.name: no secret named `{}`",
                        r.name
                    ));
                    None
                }
            }
        });
        let limits = l.limits.as_ref();
        let max_body_bytes = limits
            .and_then(|l| l.max_body_bytes)
            .map(|v| v as usize)
            .unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 {
            errors.push(format!("{path}.limits.maxBodyBytes: must be positive"));
        }
        let max_concurrent_requests = limits
            .and_then(|l| l.max_concurrent_requests)
            .map(|v| v as usize)
            .unwrap_or(4096);
        if let Some(address) = address {
            listeners.push(Listener {
                name: l.name.clone(),
                namespace: ns(&l.namespace),
                address,
                tls: l.tls.as_ref().map(|t| ListenerTls {
                    cert_file: resolve(base, &t.cert_file),
                    key_file: resolve(base, &t.key_file),
                }),
                api_keys,
                max_body_bytes,
                max_concurrent_requests,
            });
        }
    }
    let admin = file
        .admin
        .as_ref()
        .and_then(|a| parse_addr(&a.address, "admin.address", &mut errors))
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 15000)));
    let metrics = file
        .metrics
        .as_ref()
        .and_then(|a| parse_addr(&a.address, "metrics.address", &mut errors))
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 15020)));

    let mut backends: Vec<Arc<Backend>> = Vec::new();
    for (i, b) in file.backends.iter().enumerate() {
        let path = format!("backends[{i}]");
        let br = &b.ai.provider.bedrock;
        if br.region.trim().is_empty() {
            errors.push(format!(
                "{path}.ai.provider.bedrock.region: must not be empty"
            ));
        }
        let endpoint_str = br
            .endpoint
            .clone()
            .unwrap_or_else(|| crate::bedrock::default_endpoint(&br.region));
        let endpoint = match parse_endpoint(&endpoint_str) {
            Ok(e) => e,
            Err(msg) => {
                errors.push(format!("{path}.ai.provider.bedrock.endpoint: {msg}"));
                continue;
            }
        };
        if let Some(m) = &br.model {
            if m.trim().is_empty() {
                errors.push(format!(
                    "{path}.ai.provider.bedrock.model: must not be empty when set"
                ));
            }
        }
        let auth = backend_auth(b, &path, &secrets, &mut errors);
        let ca_file = b
            .policies
            .as_ref()
            .and_then(|p| p.tls.as_ref())
            .and_then(|t| t.ca_file.as_ref())
            .map(|f| resolve(base, f));
        if backends
            .iter()
            .any(|x| x.name == b.name && x.namespace == ns(&b.namespace))
        {
            errors.push(format!("{path}.name: duplicate backend `{}`", b.name));
        }
        backends.push(Arc::new(Backend {
            name: b.name.clone(),
            namespace: ns(&b.namespace),
            model: br.model.clone(),
            model_family: match br.model_family.as_deref() {
                None => None,
                Some(name) => {
                    let family = ModelFamily::from_name(name);
                    if family.is_none() {
                        let names: Vec<&str> = ModelFamily::NAMES.iter().map(|(n, _)| *n).collect();
                        errors.push(format!(
                            "{path}.ai.provider.bedrock.modelFamily: unknown family `{name}` (one of {})",
                            names.join(", ")
                        ));
                    }
                    family
                }
            },
            region: br.region.clone(),
            endpoint,
            auth,
            ca_file,
        }));
    }

    // Policies first: routes carry the prompt-caching policy that targets them.
    let mut policies = Vec::new();
    for (i, p) in file.policies.iter().enumerate() {
        let path = format!("policies[{i}]");
        let prompt_caching = p.backend.ai.prompt_caching.as_ref().map(|c| PromptCaching {
            cache_system: c.cache_system.unwrap_or(true),
            cache_messages: c.cache_messages.unwrap_or(true),
            cache_tools: c.cache_tools.unwrap_or(false),
            min_tokens: c.min_tokens.unwrap_or(1024),
        });
        let mut targets = Vec::new();
        for (j, t) in p.target_refs.iter().enumerate() {
            if t.kind != "HTTPRoute" {
                errors.push(format!(
                    "{path}.targetRefs[{j}].kind: `{}` is not supported (HTTPRoute)",
                    t.kind
                ));
            }
            let tns = t.namespace.clone().unwrap_or_else(|| ns(&p.namespace));
            if !file
                .routes
                .iter()
                .any(|r| r.name == t.name && ns(&r.namespace) == tns)
            {
                errors.push(format!(
                    "{path}.targetRefs[{j}].name: no route named `{}`",
                    t.name
                ));
            }
            targets.push(PolicyTarget {
                kind: t.kind.clone(),
                name: t.name.clone(),
                namespace: tns,
            });
        }
        policies.push(Policy {
            name: p.name.clone(),
            namespace: ns(&p.namespace),
            targets,
            prompt_caching,
        });
    }

    let mut routes = Vec::new();
    for (i, r) in file.routes.iter().enumerate() {
        let path = format!("routes[{i}]");
        let rns = ns(&r.namespace);
        if r.matches.is_empty() {
            errors.push(format!("{path}.matches: at least one match is required"));
        }
        let mut matches = Vec::new();
        for (j, m) in r.matches.iter().enumerate() {
            if m.path.kind != "PathPrefix" && m.path.kind != "Exact" {
                errors.push(format!(
                    "{path}.matches[{j}].path.type: `{}` is not supported (PathPrefix, Exact)",
                    m.path.kind
                ));
            }
            if !m.path.value.starts_with('/') {
                errors.push(format!("{path}.matches[{j}].path.value: must start with /"));
            }
            matches.push(RouteMatch {
                path_prefix: m.path.value.clone(),
                model: m.model.clone(),
            });
        }
        if r.backend_refs.is_empty() {
            errors.push(format!(
                "{path}.backendRefs: at least one backend is required"
            ));
        }
        let mut refs = Vec::new();
        for (j, br) in r.backend_refs.iter().enumerate() {
            let bns = br.namespace.clone().unwrap_or_else(|| rns.clone());
            match backends
                .iter()
                .find(|b| b.name == br.name && b.namespace == bns)
            {
                Some(b) => refs.push((br.priority.unwrap_or(0), b.clone())),
                None => errors.push(format!(
                    "{path}.backendRefs[{j}].name: no backend named `{}`",
                    br.name
                )),
            }
        }
        refs.sort_by_key(|(p, _)| *p);
        let retry = r.retry.as_ref().map(|rt| {
            if rt.attempts == 0 {
                errors.push(format!("{path}.retry.attempts: must be at least 1"));
            }
            Retry {
                attempts: rt.attempts.max(1),
                backoff: duration_field(
                    &rt.backoff,
                    std::time::Duration::from_millis(100),
                    &format!("{path}.retry.backoff"),
                    &mut errors,
                ),
                max_backoff: duration_field(
                    &rt.max_backoff,
                    std::time::Duration::from_secs(2),
                    &format!("{path}.retry.maxBackoff"),
                    &mut errors,
                ),
            }
        });
        let failover = r.failover.as_ref().map(|f| Failover {
            consecutive_failures: f.consecutive_failures.max(1),
            eject_for: duration_field(
                &Some(f.eject_for.clone()),
                std::time::Duration::from_secs(30),
                &format!("{path}.failover.ejectFor"),
                &mut errors,
            ),
        });
        let d = Timeouts::default();
        let timeouts = match &r.timeouts {
            None => d,
            Some(t) => Timeouts {
                connect: duration_field(
                    &t.connect,
                    d.connect,
                    &format!("{path}.timeouts.connect"),
                    &mut errors,
                ),
                first_byte: duration_field(
                    &t.first_byte,
                    d.first_byte,
                    &format!("{path}.timeouts.firstByte"),
                    &mut errors,
                ),
                stream_idle: duration_field(
                    &t.stream_idle,
                    d.stream_idle,
                    &format!("{path}.timeouts.streamIdle"),
                    &mut errors,
                ),
                total: duration_field(
                    &t.total,
                    d.total,
                    &format!("{path}.timeouts.total"),
                    &mut errors,
                ),
            },
        };
        let prompt_caching = policies
            .iter()
            .filter(|p| {
                p.targets
                    .iter()
                    .any(|t| t.name == r.name && t.namespace == rns)
            })
            .find_map(|p| p.prompt_caching);
        routes.push(Route {
            name: r.name.clone(),
            namespace: rns,
            matches,
            backends: refs,
            retry,
            failover,
            timeouts,
            prompt_caching,
        });
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let server = ServerSettings {
        threads: file
            .server
            .as_ref()
            .and_then(|s| s.threads)
            .unwrap_or(cores)
            .max(1),
        grace_period: duration_field(
            &file.server.as_ref().and_then(|s| s.grace_period.clone()),
            std::time::Duration::from_secs(10),
            "server.gracePeriod",
            &mut errors,
        ),
    };

    if !errors.is_empty() {
        return Err(ConfigError(errors));
    }
    Ok(Config {
        listeners,
        admin,
        metrics,
        backends,
        routes,
        policies,
        server,
    })
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
