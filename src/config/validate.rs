//! Validation of the raw file into the model, one function per section; every problem is
//! collected as `key.path: message` so `--check` reports them all at once.

mod backends;
mod listeners;
mod ratelimit;
mod routes;
mod secrets;
#[cfg(test)]
mod tests;

use super::model::*;
use super::{raw, ConfigError};
use backends::backends;
use listeners::{check_binds, listeners, service_address, Bind};
use routes::{policies, routes};
use secrets::load_secrets;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_ADMIN: ([u8; 4], u16) = ([127, 0, 0, 1], 15000);
const DEFAULT_METRICS: ([u8; 4], u16) = ([0, 0, 0, 0], 15020);

/// Check a parsed file and build the model; `base` resolves relative file paths.
pub(super) fn validate(file: raw::File, base: &Path) -> Result<Config, ConfigError> {
    let mut errors = Vec::new();
    let secrets = load_secrets(&file.secrets, base, &mut errors);
    let listeners = listeners(&file.listeners, &secrets, base, &mut errors);
    let admin = service_address(file.admin.as_ref(), "admin", DEFAULT_ADMIN, &mut errors);
    let metrics = service_address(
        file.metrics.as_ref(),
        "metrics",
        DEFAULT_METRICS,
        &mut errors,
    );
    let mut binds: Vec<Bind> = listeners
        .iter()
        .map(|(i, l)| Bind::new(format!("listeners[{i}].address"), l.address, false))
        .collect();
    binds.extend(admin.clone());
    binds.extend(metrics.clone());
    check_binds(&binds, &mut errors);
    let backends = backends(&file.backends, &secrets, base, &mut errors);
    // Policies first: routes carry the prompt-caching policy that targets them.
    let mut policies = policies(&file.policies, &file.routes, &mut errors);
    ratelimit::rate_limits(&file, &listeners, &mut policies, &mut errors);
    let routes = routes(&file, &backends, &policies, &mut errors);
    let server = server(file.server.as_ref(), &listeners, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigError(errors));
    }
    Ok(Config {
        listeners: listeners.into_iter().map(|(_, l)| l).collect(),
        admin: admin.map_or_else(|| DEFAULT_ADMIN.into(), |b| b.addr),
        metrics: metrics.map_or_else(|| DEFAULT_METRICS.into(), |b| b.addr),
        backends,
        routes,
        policies,
        server,
        source: Source::Native,
    })
}

pub(super) fn ns(n: &Option<String>) -> String {
    n.clone().unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

/// A relative path is relative to the config file's directory.
pub(super) fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Report every name used twice in one namespace of a section: `{section}[j].name: ...`.
pub(super) fn check_unique<'a>(
    kind: &str,
    section: &str,
    names: impl Iterator<Item = (&'a str, &'a Option<String>)>,
    errors: &mut Vec<String>,
) {
    let mut first: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for (j, (name, namespace)) in names.enumerate() {
        let namespace = ns(namespace);
        if let Some(i) = first.get(&(namespace.clone(), name)) {
            errors.push(format!(
                "{section}[{j}].name: duplicate {kind} `{name}` in namespace `{namespace}` \
                 (also {section}[{i}])"
            ));
        } else {
            first.insert((namespace, name), j);
        }
    }
}

/// A count or size: `default` when unset, and never 0.
pub(super) fn limit(v: Option<u64>, default: usize, path: &str, errors: &mut Vec<String>) -> usize {
    match v {
        None => default,
        Some(0) => {
            errors.push(format!("{path}: must be at least 1"));
            default
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
    }
}

/// Whether a duration key may be `0`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Zero {
    Allowed,
    Refused,
}

pub(super) fn duration_field(
    v: Option<&str>,
    default: Duration,
    zero: Zero,
    path: &str,
    errors: &mut Vec<String>,
) -> Duration {
    let Some(s) = v else {
        return default;
    };
    let max = format!("at most {}h", MAX_DURATION.as_secs() / 3600);
    let checked = match try_parse_duration(s) {
        Ok(d) if d > MAX_DURATION => Err(format!("`{s}` is too long ({max})")),
        Ok(d) if d.is_zero() && zero == Zero::Refused => Err(format!("`{s}`: must be above 0")),
        Ok(d) => Ok(d),
        Err(DurationError::Syntax) => Err(format!("`{s}` is not a duration like 100ms, 5s or 2m")),
        Err(DurationError::Overflow) => Err(format!("`{s}` is too long ({max})")),
    };
    checked.unwrap_or_else(|msg| {
        errors.push(format!("{path}: {msg}"));
        default
    })
}

fn server(
    s: Option<&raw::Server>,
    listeners: &[(usize, Listener)],
    errors: &mut Vec<String>,
) -> ServerSettings {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let threads = match s.and_then(|s| s.threads) {
        None => cores,
        Some(0) => {
            errors.push("server.threads: must be at least 1".into());
            cores
        }
        Some(n) => n,
    };
    let grace_period = duration_field(
        s.and_then(|s| s.grace_period.as_deref()),
        Duration::from_secs(10),
        Zero::Allowed,
        "server.gracePeriod",
        errors,
    );
    let set = s.and_then(|s| s.max_in_flight_body_bytes);
    let budget = limit(
        set,
        DEFAULT_MAX_IN_FLIGHT_BODY_BYTES,
        "server.maxInFlightBodyBytes",
        errors,
    );
    // The first listener with the largest body limit.
    let largest = listeners
        .iter()
        .max_by_key(|(i, l)| (l.max_body_bytes, std::cmp::Reverse(*i)));
    if let Some((i, l)) = largest.filter(|(_, l)| l.max_body_bytes > budget) {
        let note = if set.is_none() { " (the default)" } else { "" };
        errors.push(format!(
            "server.maxInFlightBodyBytes: {budget}{note} is less than \
             listeners[{i}].limits.maxBodyBytes ({}); such a body could never be admitted",
            l.max_body_bytes
        ));
    }
    ServerSettings {
        threads,
        grace_period,
        max_in_flight_body_bytes: budget,
    }
}
