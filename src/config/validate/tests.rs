//! Validation tests: each probe that `--check` used to accept (or panic on) is now an error that
//! names its key path.

use crate::config::model::*;
use crate::config::{load_str, ConfigError};
use std::path::{Path, PathBuf};

const BASE: &str = r#"
listeners:
  - name: default
    address: 0.0.0.0:8080
backends:
  - name: bedrock
    ai: {provider: {bedrock: {region: us-east-1, endpoint: "http://127.0.0.1:9000"}}}
routes:
  - name: bedrock
    matches: [{path: {type: PathPrefix, value: /v1/chat/completions}}]
    backendRefs: [{name: bedrock}]
"#;

fn load(text: &str) -> Result<Config, ConfigError> {
    load_str(text, Path::new("."), &|_| None)
}

/// The errors of a config that must not load.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.0,
    }
}

fn has(errors: &[String], expected: &str) -> bool {
    errors.iter().any(|e| e == expected)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/config/testdata")
        .join(name)
}

#[test]
fn base_loads_with_defaults() {
    let c = load(BASE).unwrap();
    let l = &c.listeners[0];
    assert_eq!(l.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    assert_eq!(l.max_concurrent_requests, 4096);
    assert_eq!(
        l.limits,
        RequestLimits {
            max_messages: 10_000,
            max_content_parts: 100_000,
            max_tools: 1024
        }
    );
    assert_eq!(c.server.max_in_flight_body_bytes, 256 * 1024 * 1024);
    assert!(c.backends[0].ca_file.is_none() && c.backends[0].ca_certs.is_none());
}

#[test]
fn admin_or_metrics_on_a_listener_port_is_refused() {
    let e = errors(&format!(
        "{BASE}admin: {{address: 127.0.0.1:8080}}\nmetrics: {{address: \"[::]:8080\"}}\n"
    ));
    assert!(
        has(
            &e,
            "admin.address: 127.0.0.1:8080 overlaps listeners[0].address (0.0.0.0:8080)"
        ),
        "{e:?}"
    );
    assert!(
        has(
            &e,
            "metrics.address: [::]:8080 overlaps listeners[0].address (0.0.0.0:8080)"
        ),
        "{e:?}"
    );

    let same = BASE.replace("0.0.0.0:8080", "127.0.0.1:15000");
    let e = errors(&same);
    assert_eq!(
        e,
        ["admin.address: 127.0.0.1:15000 (the default) overlaps listeners[0].address"]
    );

    let two = BASE.replace(
        "listeners:\n",
        "listeners:\n  - {name: second, address: \"0.0.0.0:8080\"}\n",
    );
    assert!(has(
        &errors(&two),
        "listeners[1].address: 0.0.0.0:8080 overlaps listeners[0].address"
    ));
}

#[test]
fn distinct_addresses_on_one_port_are_fine() {
    let text = BASE.replace("0.0.0.0:8080", "127.0.0.1:8080")
        + "admin: {address: \"127.0.0.2:8080\"}\nmetrics: {address: \"[::1]:8080\"}\n";
    load(&text).unwrap();
    // 0.0.0.0 covers IPv4 only; [::] is dual-stack and covers both.
    load(&(BASE.to_owned() + "admin: {address: \"[::1]:8080\"}\n")).unwrap();
    let e = errors(&BASE.replace("0.0.0.0:8080", "\"[::]:15020\""));
    assert!(
        has(
            &e,
            "metrics.address: 0.0.0.0:15020 (the default) overlaps listeners[0].address ([::]:15020)"
        ),
        "{e:?}"
    );
}

fn with_tls(cert: &Path, key: &Path) -> String {
    BASE.replace(
        "address: 0.0.0.0:8080",
        &format!(
            "address: 0.0.0.0:8080\n    tls: {{certFile: \"{}\", keyFile: \"{}\"}}",
            cert.display(),
            key.display()
        ),
    )
}

#[test]
fn listener_tls_files_are_checked() {
    let c = load(&with_tls(&fixture("cert.pem"), &fixture("key.pem"))).unwrap();
    assert!(c.listeners[0].tls.is_some());

    let e = errors(&with_tls(
        Path::new("/nonexistent/tls.crt"),
        Path::new("/nonexistent/tls.key"),
    ));
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("listeners[0].tls.certFile: cannot read /nonexistent/tls.crt"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("listeners[0].tls.keyFile: cannot read /nonexistent/tls.key"),
        "{e:?}"
    );

    let e = errors(&with_tls(&fixture("cert.pem"), &fixture("other-key.pem")));
    assert!(
        e[0].starts_with("listeners[0].tls.keyFile: ") && e[0].contains("cannot be used with"),
        "{e:?}"
    );
}

fn with_ca(path: &Path) -> String {
    BASE.replace(
        "endpoint: \"http://127.0.0.1:9000\"}}}",
        &format!(
            "endpoint: \"https://127.0.0.1:9000\"}}}}}}\n    policies: {{tls: {{caFile: \"{}\"}}}}",
            path.display()
        ),
    )
}

#[test]
fn backend_ca_is_checked_and_kept_as_der() {
    let c = load(&with_ca(&fixture("cert.pem"))).unwrap();
    let certs = c.backends[0].ca_certs.as_ref().unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(
        c.backends[0].ca_file.as_deref(),
        Some(fixture("cert.pem").as_path())
    );

    let e = errors(&with_ca(Path::new("/nonexistent/ca.pem")));
    assert!(
        e[0].starts_with("backends[0].policies.tls.caFile: cannot read /nonexistent/ca.pem"),
        "{e:?}"
    );
    let junk = std::env::temp_dir().join(format!("basalt-validate-{}-ca.pem", std::process::id()));
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = errors(&with_ca(&junk));
    assert!(
        e[0].starts_with("backends[0].policies.tls.caFile: ")
            && e[0].contains("certificate 1: not a valid X.509 certificate"),
        "{e:?}"
    );
}

#[test]
fn endpoint_port_must_fit() {
    for (port, shown) in [("70000", "70000"), ("0", "0")] {
        let e = errors(&BASE.replace("127.0.0.1:9000", &format!("127.0.0.1:{port}")));
        assert!(
            e.iter().any(
                |m| m.starts_with("backends[0].ai.provider.bedrock.endpoint: ")
                    && m.contains(&format!("port `{shown}` is not 1 to 65535"))
            ),
            "{e:?}"
        );
    }
    let e = errors(&BASE.replace("127.0.0.1:9000", "127.0.0.1:9000/x?y"));
    assert!(e[0].ends_with("must not have a path or query"), "{e:?}");
    let c = load(&BASE.replace("http://127.0.0.1:9000", "https://[::1]:65535")).unwrap();
    assert_eq!(c.backends[0].endpoint.authority, "[::1]:65535");
}

#[test]
fn zero_counts_and_limits_are_refused() {
    let text = BASE.replace(
        "address: 0.0.0.0:8080",
        "address: 0.0.0.0:8080\n    limits: {maxBodyBytes: 0, maxConcurrentRequests: 0, \
         maxMessages: 0, maxContentParts: 0, maxTools: 0}",
    ) + "server: {threads: 0, maxInFlightBodyBytes: 0}\n";
    let e = errors(&text);
    for key in [
        "listeners[0].limits.maxBodyBytes",
        "listeners[0].limits.maxConcurrentRequests",
        "listeners[0].limits.maxMessages",
        "listeners[0].limits.maxContentParts",
        "listeners[0].limits.maxTools",
        "server.threads",
        "server.maxInFlightBodyBytes",
    ] {
        assert!(
            has(&e, &format!("{key}: must be at least 1")),
            "{key}: {e:?}"
        );
    }
    let route = BASE.replace(
        "backendRefs: [{name: bedrock}]",
        "backendRefs: [{name: bedrock}]\n    failover: {consecutiveFailures: 0, ejectFor: 0s}\n    \
         timeouts: {connect: 0s, firstByte: 0ms, streamIdle: \"0\", total: 0h}",
    );
    let e = errors(&route);
    assert!(
        has(
            &e,
            "routes[0].failover.consecutiveFailures: must be at least 1"
        ),
        "{e:?}"
    );
    for key in [
        "failover.ejectFor",
        "timeouts.connect",
        "timeouts.firstByte",
        "timeouts.total",
    ] {
        assert!(
            e.iter()
                .any(|m| m.starts_with(&format!("routes[0].{key}: "))
                    && m.ends_with("must be above 0")),
            "{key}: {e:?}"
        );
    }
}

#[test]
fn new_limits_parse_and_show_in_the_dump_model() {
    let text = BASE.replace(
        "address: 0.0.0.0:8080",
        "address: 0.0.0.0:8080\n    limits: {maxBodyBytes: 1000, maxMessages: 5, maxContentParts: 6, maxTools: 7}",
    ) + "server: {maxInFlightBodyBytes: 1000}\n";
    let c = load(&text).unwrap();
    let l = &c.listeners[0];
    assert_eq!(
        (
            l.limits.max_messages,
            l.limits.max_content_parts,
            l.limits.max_tools
        ),
        (5, 6, 7)
    );
    assert_eq!(c.server.max_in_flight_body_bytes, 1000);
    let v = serde_json::to_value(l).unwrap();
    assert_eq!(v["maxBodyBytes"], 1000);
    assert_eq!(v["maxMessages"], 5);
    assert_eq!(v["maxContentParts"], 6);
    assert_eq!(v["maxTools"], 7);
    let s = serde_json::to_value(c.server).unwrap();
    assert_eq!(s["maxInFlightBodyBytes"], 1000);

    let e = errors(&text.replace("maxTools: 7", "maxTools: 7, maxToolz: 8"));
    assert!(
        e[0].starts_with("listeners[0].limits.maxToolz: unknown key"),
        "{e:?}"
    );
}

#[test]
fn body_budget_must_hold_the_largest_body() {
    let text = BASE.replace(
        "address: 0.0.0.0:8080",
        "address: 0.0.0.0:8080\n    limits: {maxBodyBytes: 2000}",
    );
    let e = errors(&(text.clone() + "server: {maxInFlightBodyBytes: 1999}\n"));
    assert_eq!(
        e,
        [
            "server.maxInFlightBodyBytes: 1999 is less than listeners[0].limits.maxBodyBytes \
          (2000); such a body could never be admitted"
        ]
    );
    let big = BASE.replace(
        "address: 0.0.0.0:8080",
        "address: 0.0.0.0:8080\n    limits: {maxBodyBytes: 536870912}",
    );
    let e = errors(&big);
    assert!(
        e[0].starts_with(
            "server.maxInFlightBodyBytes: 268435456 (the default) is less than listeners[0]"
        ),
        "{e:?}"
    );
    load(&(text + "server: {maxInFlightBodyBytes: 2000}\n")).unwrap();
}

#[test]
fn duplicate_names_are_refused_per_namespace() {
    let text = r#"
listeners:
  - {name: l, address: "0.0.0.0:8080"}
  - {name: l, address: "0.0.0.0:8081"}
  - {name: l, namespace: other, address: "0.0.0.0:8082"}
secrets:
  - {name: s, stringData: {apiKey: a}}
  - {name: s, stringData: {apiKey: b}}
backends:
  - {name: b, ai: {provider: {bedrock: {region: us-east-1}}}}
  - {name: b, ai: {provider: {bedrock: {region: us-east-1}}}}
routes:
  - {name: r, matches: [{path: {type: PathPrefix, value: /v1}}], backendRefs: [{name: b}]}
  - {name: r, matches: [{path: {type: PathPrefix, value: /v2}}], backendRefs: [{name: b}]}
policies:
  - {name: p, targetRefs: [{kind: HTTPRoute, name: r}], backend: {ai: {}}}
  - {name: p, targetRefs: [{kind: HTTPRoute, name: r}], backend: {ai: {}}}
"#;
    let e = errors(text);
    for (section, kind, name) in [
        ("listeners", "listener", "l"),
        ("secrets", "secret", "s"),
        ("backends", "backend", "b"),
        ("routes", "route", "r"),
        ("policies", "policy", "p"),
    ] {
        let msg = format!(
            "{section}[1].name: duplicate {kind} `{name}` in namespace `default` (also {section}[0])"
        );
        assert!(has(&e, &msg), "{msg}: {e:?}");
    }
    assert_eq!(e.len(), 5, "the other namespace is fine: {e:?}");
}

#[test]
fn overflowing_and_overlong_durations_are_errors() {
    let text = BASE.replace(
        "backendRefs: [{name: bedrock}]",
        "backendRefs: [{name: bedrock}]\n    timeouts: {total: 99999999999999999999h, connect: 8761h}",
    );
    let e = errors(&text);
    assert!(
        has(
            &e,
            "routes[0].timeouts.total: `99999999999999999999h` is too long (at most 8760h)"
        ),
        "{e:?}"
    );
    assert!(
        has(
            &e,
            "routes[0].timeouts.connect: `8761h` is too long (at most 8760h)"
        ),
        "{e:?}"
    );
    let e = errors(&(BASE.to_owned() + "server: {gracePeriod: 1e999s}\n"));
    assert!(
        has(
            &e,
            "server.gracePeriod: `1e999s` is not a duration like 100ms, 5s or 2m"
        ),
        "{e:?}"
    );
    let c = load(&(BASE.to_owned() + "server: {gracePeriod: 0s}\n")).unwrap();
    assert!(
        c.server.grace_period.is_zero(),
        "a zero grace period is allowed"
    );
}

#[test]
fn client_keys_must_be_distinct_and_non_empty() {
    let text = BASE.replace(
        "address: 0.0.0.0:8080",
        "address: 0.0.0.0:8080\n    auth: {apiKeys: {secretRef: {name: keys}}}",
    ) + "secrets:\n  - {name: keys, stringData: {a: k1, b: k1, c: \"\"}}\n";
    let e = errors(&text);
    assert_eq!(
        e,
        [
            "listeners[0].auth.apiKeys.secretRef: entries `a` and `b` of secret `keys` hold the same key",
            "listeners[0].auth.apiKeys.secretRef: entry `c` of secret `keys` is empty",
        ]
    );
}

#[test]
fn an_invalid_backend_is_not_also_a_dangling_reference() {
    let e = errors(&BASE.replace("http://127.0.0.1:9000", "ftp://x"));
    assert_eq!(
        e,
        ["backends[0].ai.provider.bedrock.endpoint: `ftp://x` must start with http:// or https://"]
    );
}
