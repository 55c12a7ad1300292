//! `listeners`, `admin` and `metrics`: addresses, TLS files, client keys, limits, and the
//! check that no two of them listen on the same port.

use super::secrets::{client_keys, Secrets};
use super::{check_unique, duration_field, limit, ns, resolve, Zero};
use crate::config::model::*;
use crate::config::raw;
use crate::config::tls;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// The valid listeners, each with its index in the file (for key paths in later checks).
pub(super) fn listeners(
    list: &[raw::Listener],
    secrets: &Secrets,
    base: &Path,
    errors: &mut Vec<String>,
) -> Vec<(usize, Listener)> {
    if list.is_empty() {
        errors.push("listeners: at least one listener is required".into());
    }
    check_unique(
        "listener",
        "listeners",
        list.iter().map(|l| (l.name.as_str(), &l.namespace)),
        errors,
    );
    list.iter()
        .enumerate()
        .filter_map(|(i, l)| {
            listener(l, &format!("listeners[{i}]"), secrets, base, errors).map(|l| (i, l))
        })
        .collect()
}

fn listener(
    l: &raw::Listener,
    path: &str,
    secrets: &Secrets,
    base: &Path,
    errors: &mut Vec<String>,
) -> Option<Listener> {
    let address = parse_addr(&l.address, &format!("{path}.address"), errors);
    let api_keys = l.auth.as_ref().and_then(|a| {
        let p = format!("{path}.auth.apiKeys.secretRef");
        client_keys(
            &a.api_keys.secret_ref,
            &ns(&l.namespace),
            &p,
            secrets,
            errors,
        )
    });
    let tls = l.tls.as_ref().map(|t| {
        let tls = ListenerTls {
            cert_file: resolve(base, &t.cert_file),
            key_file: resolve(base, &t.key_file),
        };
        tls::check_listener_tls(
            &tls.cert_file,
            &tls.key_file,
            &format!("{path}.tls"),
            errors,
        );
        tls
    });
    let raw = l.limits.as_ref();
    let mut get = |v: Option<u64>, default: usize, key: &str| {
        limit(v, default, &format!("{path}.limits.{key}"), errors)
    };
    let max_body_bytes = get(
        raw.and_then(|l| l.max_body_bytes),
        DEFAULT_MAX_BODY_BYTES,
        "maxBodyBytes",
    );
    let max_concurrent_requests = get(
        raw.and_then(|l| l.max_concurrent_requests),
        DEFAULT_MAX_CONCURRENT_REQUESTS,
        "maxConcurrentRequests",
    );
    let limits = RequestLimits {
        max_messages: get(
            raw.and_then(|l| l.max_messages),
            DEFAULT_MAX_MESSAGES,
            "maxMessages",
        ),
        max_content_parts: get(
            raw.and_then(|l| l.max_content_parts),
            DEFAULT_MAX_CONTENT_PARTS,
            "maxContentParts",
        ),
        max_tools: get(raw.and_then(|l| l.max_tools), DEFAULT_MAX_TOOLS, "maxTools"),
    };
    let conn = conn_limits(raw, path, errors);
    Some(Listener {
        name: l.name.clone(),
        namespace: ns(&l.namespace),
        address: address?,
        tls,
        api_keys,
        max_body_bytes,
        max_concurrent_requests,
        limits,
        conn,
    })
}

/// `limits.{headerTimeout, idleTimeout, maxConnections, maxHeaderBytes}`: durations above 0,
/// counts at least 1, and a head limit of at least 1 KiB (a real client's head fits).
fn conn_limits(raw: Option<&raw::Limits>, path: &str, errors: &mut Vec<String>) -> ConnLimits {
    let key = |k: &str| format!("{path}.limits.{k}");
    let dur = |v: Option<&String>, default, k: &str, errors: &mut Vec<String>| {
        duration_field(
            v.map(|s| s.as_str()),
            default,
            Zero::Refused,
            &key(k),
            errors,
        )
    };
    let header_timeout = dur(
        raw.and_then(|l| l.header_timeout.as_ref()),
        DEFAULT_HEADER_TIMEOUT,
        "headerTimeout",
        errors,
    );
    let idle_timeout = dur(
        raw.and_then(|l| l.idle_timeout.as_ref()),
        DEFAULT_IDLE_TIMEOUT,
        "idleTimeout",
        errors,
    );
    let max_connections = limit(
        raw.and_then(|l| l.max_connections),
        DEFAULT_MAX_CONNECTIONS,
        &key("maxConnections"),
        errors,
    );
    let max_header_bytes = match raw.and_then(|l| l.max_header_bytes) {
        Some(n) if n < 1024 => {
            errors.push(format!("{}: must be at least 1024", key("maxHeaderBytes")));
            DEFAULT_MAX_HEADER_BYTES
        }
        v => limit(v, DEFAULT_MAX_HEADER_BYTES, &key("maxHeaderBytes"), errors),
    };
    ConnLimits {
        header_timeout,
        idle_timeout,
        max_connections,
        max_header_bytes,
    }
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

/// One address the process listens on, with the key that sets it.
#[derive(Clone)]
pub(super) struct Bind {
    pub(super) path: String,
    pub(super) addr: SocketAddr,
    /// Not in the file: the section's default.
    pub(super) defaulted: bool,
}

impl Bind {
    pub(super) fn new(path: String, addr: SocketAddr, defaulted: bool) -> Self {
        Bind {
            path,
            addr,
            defaulted,
        }
    }
}

/// `admin` / `metrics`: the address set (`None` when it does not parse) or the default.
pub(super) fn service_address(
    a: Option<&raw::Address>,
    section: &str,
    default: ([u8; 4], u16),
    errors: &mut Vec<String>,
) -> Option<Bind> {
    let path = format!("{section}.address");
    match a {
        None => Some(Bind::new(path, default.into(), true)),
        Some(a) => parse_addr(&a.address, &path, errors).map(|addr| Bind::new(path, addr, false)),
    }
}

/// No two listening addresses may take the same port on the same address: the kernel would
/// share the traffic between them (SO_REUSEPORT) instead of refusing the second bind.
pub(super) fn check_binds(binds: &[Bind], errors: &mut Vec<String>) {
    for (j, b) in binds.iter().enumerate() {
        let Some(a) = binds[..j].iter().find(|a| overlaps(a.addr, b.addr)) else {
            continue;
        };
        let this = if b.defaulted { " (the default)" } else { "" };
        let other = match (a.defaulted, a.addr == b.addr) {
            (true, _) => format!(" (default {})", a.addr),
            (false, true) => String::new(),
            (false, false) => format!(" ({})", a.addr),
        };
        errors.push(format!(
            "{}: {}{this} overlaps {}{other}",
            b.path, b.addr, a.path
        ));
    }
}

/// Same port, and the same address or one side the unspecified address covering the other
/// (`0.0.0.0` covers IPv4 addresses; `[::]` is dual-stack and covers both families).
fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    if a.port() != b.port() || a.port() == 0 {
        return false;
    }
    let (x, y) = (a.ip().to_canonical(), b.ip().to_canonical());
    let covers =
        |wild: IpAddr, other: IpAddr| wild.is_unspecified() && (wild.is_ipv6() || other.is_ipv4());
    x == y || covers(x, y) || covers(y, x)
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::config::model::*;
    use std::path::Path;
    use std::time::Duration;

    fn with_limits(limits: &str) -> String {
        format!(
            "listeners: [{{name: l, address: \"127.0.0.1:8080\", limits: {{{limits}}}}}]\n\
             backends: [{{name: b, ai: {{provider: {{bedrock: {{region: us-east-1}}}}}}}}]\n\
             routes: [{{name: r, matches: [{{path: {{type: PathPrefix, value: /v1}}}}], \
             backendRefs: [{{name: b}}]}}]\n"
        )
    }

    fn load(limits: &str) -> Result<Config, Vec<String>> {
        load_str(&with_limits(limits), Path::new("."), &|_| None).map_err(|e| e.0)
    }

    #[test]
    fn connection_limits_default_and_parse() {
        let c = load("maxBodyBytes: 10").unwrap();
        assert_eq!(c.listeners[0].conn, ConnLimits::default());
        assert_eq!(c.listeners[0].conn.header_timeout, Duration::from_secs(10));
        assert_eq!(c.listeners[0].conn.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.listeners[0].conn.max_connections, 10_000);
        assert_eq!(c.listeners[0].conn.max_header_bytes, 65_536);
        let c =
            load("headerTimeout: 2s, idleTimeout: 500ms, maxConnections: 3, maxHeaderBytes: 2048")
                .unwrap();
        let conn = c.listeners[0].conn;
        assert_eq!(conn.header_timeout, Duration::from_secs(2));
        assert_eq!(conn.idle_timeout, Duration::from_millis(500));
        assert_eq!((conn.max_connections, conn.max_header_bytes), (3, 2048));
    }

    #[test]
    fn bad_connection_limits_name_their_key() {
        let e =
            load("headerTimeout: 0s, idleTimeout: soon, maxConnections: 0, maxHeaderBytes: 100")
                .unwrap_err();
        let p = "listeners[0].limits";
        assert!(
            e.contains(&format!("{p}.headerTimeout: `0s`: must be above 0")),
            "{e:?}"
        );
        assert!(
            e.contains(&format!(
                "{p}.idleTimeout: `soon` is not a duration like 100ms, 5s or 2m"
            )),
            "{e:?}"
        );
        assert!(
            e.contains(&format!("{p}.maxConnections: must be at least 1")),
            "{e:?}"
        );
        assert!(
            e.contains(&format!("{p}.maxHeaderBytes: must be at least 1024")),
            "{e:?}"
        );
        let e = load("headerTimout: 1s").unwrap_err();
        assert!(
            e[0].starts_with("listeners[0].limits.headerTimout: unknown key"),
            "{e:?}"
        );
    }
}
