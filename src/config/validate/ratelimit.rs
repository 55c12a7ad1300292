//! `policies[].rateLimit`: the key, the limits and overrides (windows 1s..30d), and the Redis
//! store (URL shown without its password, fail mode, timeout).

use super::{duration_field, Zero};
use crate::config::model::*;
use crate::config::raw;
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Shortest and longest `window`.
const MIN_WINDOW: Duration = Duration::from_secs(1);
const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
/// `store.redis.timeout` when not set, and the longest accepted.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);
const MAX_TIMEOUT: Duration = Duration::from_secs(10);

/// Check each policy's `rateLimit` and set it on the validated policy of the same index.
pub(super) fn rate_limits(
    file: &raw::File,
    listeners: &[(usize, Listener)],
    policies: &mut [Policy],
    errors: &mut Vec<String>,
) {
    for (i, (p, out)) in file.policies.iter().zip(policies.iter_mut()).enumerate() {
        let Some(rl) = &p.rate_limit else { continue };
        let path = format!("policies[{i}].rateLimit");
        let policy = format!("{}/{}", out.namespace, out.name);
        out.rate_limit = rate_limit(rl, &path, policy, file, listeners, errors).map(Arc::new);
    }
}

fn rate_limit(
    rl: &raw::RateLimit,
    path: &str,
    policy: String,
    file: &raw::File,
    listeners: &[(usize, Listener)],
    errors: &mut Vec<String>,
) -> Option<RateLimit> {
    let before = errors.len();
    let key = match rl.key.as_str() {
        "client" => {
            for (j, l) in file.listeners.iter().enumerate() {
                if l.auth.is_none() {
                    errors.push(format!(
                        "{path}.key: `client` counts per client API key, so every listener needs \
                         auth.apiKeys; listeners[{j}] (`{}`) has no auth",
                        l.name
                    ));
                }
            }
            RateLimitKey::Client
        }
        "ip" => RateLimitKey::Ip,
        other => {
            errors.push(format!(
                "{path}.key: `{other}` is not supported (client, ip)"
            ));
            RateLimitKey::Ip
        }
    };
    let limits = limit_list(&rl.limits, &format!("{path}.limits"), errors);
    let mut overrides = BTreeMap::new();
    for (name, list) in &rl.overrides {
        let p = format!("{path}.overrides.{name}");
        check_override_key(key, name, &p, listeners, errors);
        overrides.insert(name.clone(), limit_list(list, &p, errors));
    }
    let redis = rl
        .store
        .as_ref()
        .and_then(|s| match &s.redis {
            Some(r) => Some(r),
            None => {
                errors.push(format!("{path}.store: set `redis` or omit `store`"));
                None
            }
        })
        .map(|r| redis(r, &format!("{path}.store.redis"), errors));
    (errors.len() == before).then_some(RateLimit {
        policy,
        key,
        limits,
        overrides,
        redis,
    })
}

/// An override must name something that can be a key: a configured client key entry, or an
/// IP address.
fn check_override_key(
    key: RateLimitKey,
    name: &str,
    path: &str,
    listeners: &[(usize, Listener)],
    errors: &mut Vec<String>,
) {
    match key {
        RateLimitKey::Client => {
            let known = listeners.iter().any(|(_, l)| {
                l.api_keys
                    .as_ref()
                    .is_some_and(|k| k.iter().any(|(n, _)| n == name))
            });
            if !known {
                errors.push(format!(
                    "{path}: no client key entry named `{name}` in any listener's auth.apiKeys"
                ));
            }
        }
        RateLimitKey::Ip => {
            if name.parse::<IpAddr>().is_err() {
                errors.push(format!("{path}: `{name}` is not an IP address (key: ip)"));
            }
        }
    }
}

fn limit_list(list: &[raw::RateLimitEntry], path: &str, errors: &mut Vec<String>) -> Vec<Limit> {
    if list.is_empty() {
        errors.push(format!("{path}: at least one limit is required"));
    }
    let mut out: Vec<Limit> = Vec::new();
    for (j, e) in list.iter().enumerate() {
        let p = format!("{path}[{j}]");
        let (kind, amount) = match (e.requests, e.tokens) {
            (Some(n), None) => (LimitKind::Requests, n),
            (None, Some(n)) => (LimitKind::Tokens, n),
            _ => {
                errors.push(format!("{p}: set exactly one of `requests` and `tokens`"));
                continue;
            }
        };
        if amount == 0 {
            let what = if kind == LimitKind::Requests {
                "requests"
            } else {
                "tokens"
            };
            errors.push(format!("{p}.{what}: must be at least 1"));
        }
        let Some(window) = window(&e.window, &format!("{p}.window"), errors) else {
            continue;
        };
        if out.iter().any(|l| l.kind == kind && l.window == window) {
            errors.push(format!(
                "{p}: a second {kind:?} limit over the same window; keep the tighter one"
            ));
        }
        out.push(Limit {
            kind,
            amount,
            window,
        });
    }
    out
}

/// A window: `30s`, `1m`, `1h`, `1d`, `30d` (also `100ms`-style syntax, whole milliseconds),
/// from 1s to 30d.
pub(super) fn window(s: &str, path: &str, errors: &mut Vec<String>) -> Option<Duration> {
    let parsed = match s.trim().strip_suffix('d') {
        Some(days) => days
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|d| d.checked_mul(24 * 3600))
            .map(Duration::from_secs),
        None => parse_duration(s),
    };
    match parsed {
        Some(d) if (MIN_WINDOW..=MAX_WINDOW).contains(&d) && d.subsec_nanos() % 1_000_000 == 0 => {
            Some(d)
        }
        Some(_) => {
            errors.push(format!(
                "{path}: `{s}` is out of range (from 1s to 30d, whole milliseconds)"
            ));
            None
        }
        None => {
            errors.push(format!(
                "{path}: `{s}` is not a window like 1s, 1m, 1h or 30d"
            ));
            None
        }
    }
}

fn redis(r: &raw::RedisStore, path: &str, errors: &mut Vec<String>) -> RedisStore {
    let shown_url = redact_url(&r.url);
    if !(r.url.starts_with("redis://") || r.url.starts_with("rediss://")) {
        errors.push(format!(
            "{path}.url: `{shown_url}` is not a redis:// or rediss:// URL"
        ));
    } else if redis::IntoConnectionInfo::into_connection_info(r.url.as_str()).is_err() {
        errors.push(format!(
            "{path}.url: `{shown_url}` is not a valid Redis URL"
        ));
    }
    let fail_mode = match r.fail_mode.as_deref() {
        None | Some("open") => FailMode::Open,
        Some("closed") => FailMode::Closed,
        Some(other) => {
            errors.push(format!(
                "{path}.failMode: `{other}` is not supported (open, closed)"
            ));
            FailMode::Open
        }
    };
    let p = format!("{path}.timeout");
    let timeout = duration_field(
        r.timeout.as_deref(),
        DEFAULT_TIMEOUT,
        Zero::Refused,
        &p,
        errors,
    );
    if timeout > MAX_TIMEOUT {
        errors.push(format!(
            "{p}: at most {}s (a request waits on Redis at most this long)",
            MAX_TIMEOUT.as_secs()
        ));
    }
    RedisStore {
        url: Secret::new(r.url.clone()),
        shown_url,
        fail_mode,
        timeout,
    }
}

/// The URL with its user-info (user and password) replaced by `***`. Everything before the
/// last `@` ahead of the query counts as user-info, so a password holding `@`, `/` or `#`
/// (unescaped) never shows.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.contains('@') {
            "***".into()
        } else {
            url.into()
        };
    };
    let query = rest.find('?').unwrap_or(rest.len());
    match rest[..query].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::dump::config_dump;
    use crate::config::load_str;
    use crate::config::model::*;
    use std::path::Path;
    use std::time::Duration;

    const BASE: &str = "
listeners:
  - {name: l, address: 127.0.0.1:8080, auth: {apiKeys: {secretRef: {name: keys}}}}
secrets:
  - {name: keys, stringData: {team-a: ka, team-b: kb}}
backends:
  - {name: b, ai: {provider: {bedrock: {region: us-east-1}}}}
routes:
  - {name: r, matches: [{path: {type: PathPrefix, value: /v1}}], backendRefs: [{name: b}]}
  - {name: r2, matches: [{path: {type: PathPrefix, value: /v2}}], backendRefs: [{name: b}]}
policies:
  - name: p
    targetRefs: [{kind: HTTPRoute, name: r}, {kind: HTTPRoute, name: r2}]
    rateLimit:
";

    fn load(rate_limit: &str) -> Result<Config, Vec<String>> {
        load_str(&format!("{BASE}{rate_limit}"), Path::new("."), &|_| None).map_err(|e| e.0)
    }

    fn errors(rate_limit: &str) -> Vec<String> {
        load(rate_limit).err().unwrap_or_default()
    }

    #[test]
    fn a_full_policy_loads_and_is_shared_by_its_routes() {
        let c = load(
            "      key: client
      limits:
        - {requests: 600, window: 1m}
        - {tokens: 200000, window: 1m}
        - {tokens: 50000000, window: 30d}
      overrides:
        team-a: [{requests: 6000, window: 1m}]
      store:
        redis: {url: 'redis://user:hunter2@127.0.0.1:6379/0', failMode: closed, timeout: 20ms}
",
        )
        .unwrap();
        let rl = c.routes[0].rate_limit.clone().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &rl,
            c.routes[1].rate_limit.as_ref().unwrap()
        ));
        assert_eq!(rl.policy, "default/p");
        assert_eq!(rl.key, RateLimitKey::Client);
        assert_eq!(rl.limits.len(), 3);
        assert_eq!(rl.limits[2].window, Duration::from_secs(30 * 86400));
        assert_eq!(rl.limits[2].kind, LimitKind::Tokens);
        assert_eq!(rl.overrides["team-a"][0].amount, 6000);
        let redis = rl.redis.as_ref().unwrap();
        assert_eq!(redis.fail_mode, FailMode::Closed);
        assert_eq!(redis.timeout, Duration::from_millis(20));
        let dump = config_dump(&c).to_string();
        assert!(!dump.contains("hunter2"), "{dump}");
        assert!(dump.contains("redis://***@127.0.0.1:6379/0"), "{dump}");
        assert!(
            dump.contains(r#"{"requests":600,"window":"60000ms"}"#),
            "{dump}"
        );
    }

    #[test]
    fn defaults_and_ip_keys() {
        let c = load(
            "      key: ip
      limits: [{requests: 1, window: 1s}]
      overrides: {'10.0.0.1': [{requests: 5, window: 1s}], '::1': [{requests: 5, window: 1s}]}
      store: {redis: {url: 'redis://127.0.0.1:6379'}}
",
        )
        .unwrap();
        let rl = c.routes[0].rate_limit.clone().unwrap();
        let redis = rl.redis.as_ref().unwrap();
        assert_eq!(
            (redis.fail_mode, redis.timeout),
            (FailMode::Open, Duration::from_millis(50))
        );
    }

    #[test]
    fn every_bad_value_is_named_by_its_path() {
        let p = "policies[0].rateLimit";
        let cases: &[(&str, &str)] = &[
            ("key: user\n      limits: [{requests: 1, window: 1s}]", "key: `user` is not supported (client, ip)"),
            ("key: ip\n      limits: []", "limits: at least one limit is required"),
            ("key: ip\n      limits: [{requests: 1, tokens: 2, window: 1s}]", "limits[0]: set exactly one of `requests` and `tokens`"),
            ("key: ip\n      limits: [{window: 1s}]", "limits[0]: set exactly one of `requests` and `tokens`"),
            ("key: ip\n      limits: [{requests: 0, window: 1s}]", "limits[0].requests: must be at least 1"),
            ("key: ip\n      limits: [{tokens: 1, window: 500ms}]", "limits[0].window: `500ms` is out of range (from 1s to 30d, whole milliseconds)"),
            ("key: ip\n      limits: [{tokens: 1, window: 31d}]", "limits[0].window: `31d` is out of range (from 1s to 30d, whole milliseconds)"),
            ("key: ip\n      limits: [{tokens: 1, window: soon}]", "limits[0].window: `soon` is not a window like 1s, 1m, 1h or 30d"),
            ("key: ip\n      limits: [{tokens: 1, window: 1m}, {tokens: 2, window: 60s}]", "limits[1]: a second Tokens limit over the same window; keep the tighter one"),
            ("key: ip\n      limits: [{requests: 1, window: 1s}]\n      overrides: {bob: [{requests: 2, window: 1s}]}", "overrides.bob: `bob` is not an IP address (key: ip)"),
            ("key: client\n      limits: [{requests: 1, window: 1s}]\n      overrides: {team-c: [{requests: 2, window: 1s}]}", "overrides.team-c: no client key entry named `team-c` in any listener's auth.apiKeys"),
            ("key: ip\n      limits: [{requests: 1, window: 1s}]\n      store: {}", "store: set `redis` or omit `store`"),
            ("key: ip\n      limits: [{requests: 1, window: 1s}]\n      store: {redis: {url: 'http://x:pw@h'}}", "store.redis.url: `http://***@h` is not a redis:// or rediss:// URL"),
            ("key: ip\n      limits: [{requests: 1, window: 1s}]\n      store: {redis: {url: 'redis://h', failMode: maybe}}", "store.redis.failMode: `maybe` is not supported (open, closed)"),
            ("key: ip\n      limits: [{requests: 1, window: 1s}]\n      store: {redis: {url: 'redis://h', timeout: 0s}}", "store.redis.timeout: `0s`: must be above 0"),
            ("key: ip\n      limits: [{requests: 1, window: 1s}]\n      store: {redis: {url: 'redis://h', timeout: 1m}}", "store.redis.timeout: at most 10s (a request waits on Redis at most this long)"),
        ];
        for (yaml, want) in cases {
            let got = errors(&format!("      {yaml}\n"));
            let want = format!("{p}.{want}");
            assert!(got.contains(&want), "{yaml}\n want {want}\n got {got:?}");
        }
        let got = errors("      key: ip\n      limits: [{requests: 1, window: 1s, burst: 3}]\n");
        assert!(got.iter().any(|e| e.contains("burst")), "{got:?}");
    }

    #[test]
    fn client_keys_need_auth_on_every_listener() {
        let text = format!(
            "{}      key: client\n      limits: [{{requests: 1, window: 1s}}]\n",
            BASE.replace(
                "listeners:\n",
                "listeners:\n  - {name: open, address: 127.0.0.1:8081}\n"
            )
        );
        let e = load_str(&text, Path::new("."), &|_| None).err().unwrap().0;
        assert!(
            e.contains(
                &"policies[0].rateLimit.key: `client` counts per client API key, so every \
                         listener needs auth.apiKeys; listeners[0] (`open`) has no auth"
                    .to_owned()
            ),
            "{e:?}"
        );
    }

    #[test]
    fn redis_urls_are_shown_without_credentials() {
        use super::redact_url;
        assert_eq!(redact_url("redis://:pw@h:6379/0"), "redis://***@h:6379/0");
        assert_eq!(redact_url("rediss://u:p@w@h/0?x=@"), "rediss://***@h/0?x=@");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact_url("pw@h"), "***");
        // Unescaped `#`, `/` and `@` in the password: still hidden whole.
        assert_eq!(
            redact_url("redis://:pa#ss@redis:6379/0"),
            "redis://***@redis:6379/0"
        );
        assert_eq!(
            redact_url("redis://:p@ss/word@host/0"),
            "redis://***@host/0"
        );
    }
}
