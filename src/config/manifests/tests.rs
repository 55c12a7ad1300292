//! The manifest front-end: every kind, namespaces, references, errors and warnings, and the
//! same model as the equivalent native file.

use crate::config::model::*;
use crate::config::{from_native, load_str, ConfigError, Overrides};
use std::path::Path;

const GUIDE: [&str; 5] = [
    include_str!("../../../conf/guide/1-secret.yaml"),
    include_str!("../../../conf/guide/2-backend.yaml"),
    include_str!("../../../conf/guide/3-httproute.yaml"),
    include_str!("../../../conf/guide/4-policy.yaml"),
    include_str!("../../../conf/guide/5-gateway.yaml"),
];

fn guide() -> String {
    GUIDE.join("---\n")
}

fn load(text: &str) -> Result<Config, ConfigError> {
    load_str(text, Path::new("."), &|_| None)
}

fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0,
    }
}

fn has(errors: &[String], want: &str) {
    assert!(
        errors.iter().any(|e| e == want),
        "no `{want}` in {errors:#?}"
    );
}

/// The same resources in basalt's own format.
const NATIVE_GUIDE: &str = r#"
listeners:
  - {name: agentgateway-proxy.http, namespace: agentgateway-system, address: 0.0.0.0:8080}
secrets:
  - name: bedrock-secret
    namespace: agentgateway-system
    stringData: {accessKey: AKIDBASALTLOCAL, secretKey: basalt-local-secret-key, sessionToken: basalt-local-session-token}
backends:
  - name: bedrock
    namespace: agentgateway-system
    ai: {provider: {bedrock: {model: "amazon.nova-micro-v1:0", region: us-east-1}}}
    policies: {auth: {aws: {secretRef: {name: bedrock-secret}}}}
routes:
  - name: bedrock
    namespace: agentgateway-system
    matches: [{path: {type: PathPrefix, value: /v1/chat/completions}}]
    backendRefs: [{name: bedrock, namespace: agentgateway-system}]
policies:
  - name: bedrock-caching-policy
    namespace: agentgateway-system
    targetRefs: [{kind: HTTPRoute, name: bedrock, namespace: agentgateway-system}]
    backend: {ai: {promptCaching: {cacheSystem: true, cacheMessages: true, cacheTools: false, minTokens: 1024}}}
"#;

#[test]
fn the_guide_loads_into_the_model() {
    let c = load(&guide()).unwrap();
    assert_eq!(c.listeners.len(), 1);
    assert_eq!(c.listeners[0].address, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(c.listeners[0].namespace, "agentgateway-system");
    let b = &c.backends[0];
    assert_eq!(
        (b.name.as_str(), b.namespace.as_str()),
        ("bedrock", "agentgateway-system")
    );
    assert_eq!(b.model.as_deref(), Some("amazon.nova-micro-v1:0"));
    assert_eq!(
        b.endpoint.base_url,
        "https://bedrock-runtime.us-east-1.amazonaws.com"
    );
    match &b.auth {
        BackendAuth::Static {
            credentials,
            secret,
            ..
        } => {
            assert_eq!(secret, "bedrock-secret");
            assert_eq!(
                credentials.access_key_id, "AKIDBASALTLOCAL",
                "base64 `data` decoded"
            );
            assert_eq!(
                credentials.secret_access_key.expose(),
                "basalt-local-secret-key"
            );
            let token = credentials
                .session_token
                .as_ref()
                .map(|t| t.expose().to_owned());
            assert_eq!(token.as_deref(), Some("basalt-local-session-token"));
        }
        other => panic!("{other:?}"),
    }
    let r = &c.routes[0];
    assert_eq!(
        (r.name.as_str(), r.namespace.as_str()),
        ("bedrock", "agentgateway-system")
    );
    assert_eq!(
        r.prompt_caching.unwrap().min_tokens,
        1024,
        "the policy reaches the route"
    );
    assert_eq!(r.backends[0].1.name, "bedrock");
    assert_eq!(c.policies[0].namespace, "agentgateway-system");
    assert_eq!(c.source, Source::Manifests { warnings: vec![] });
}

#[test]
fn manifests_and_native_give_the_same_model() {
    let mut m = load(&guide()).unwrap();
    let n = load(NATIVE_GUIDE).unwrap();
    assert_eq!(n.source, Source::Native);
    m.source = Source::Native;
    assert_eq!(format!("{m:?}"), format!("{n:?}"));
    // Debug output hides secret values: compare them too.
    let keys = |c: &Config| match &c.backends[0].auth {
        BackendAuth::Static { credentials, .. } => (
            credentials.access_key_id.clone(),
            credentials.secret_access_key.expose().to_owned(),
        ),
        _ => panic!("static keys expected"),
    };
    assert_eq!(keys(&m), keys(&n));
}

#[test]
fn config_dump_answers_as_the_guide_shows() {
    let c = load(&guide()).unwrap();
    let dump = crate::config::dump::config_dump(&c);
    let want = serde_json::json!({
        "key": "backend/agentgateway-system/bedrock-caching-policy:ai:agentgateway-system/bedrock",
        "name": {"kind": "AgentgatewayPolicy", "name": "bedrock-caching-policy", "namespace": "agentgateway-system"},
        "target": {"route": {"name": "bedrock", "namespace": "agentgateway-system", "kind": "HTTPRoute"}},
        "policy": {"backend": {"aI": {"defaults": {}, "overrides": {}, "promptCaching": {
            "cacheSystem": true, "cacheMessages": true, "cacheTools": false, "minTokens": 1024}}}}
    });
    assert_eq!(dump["policies"], serde_json::json!([want]));
    assert_eq!(dump["backends"][0]["name"]["kind"], "AgentgatewayBackend");
    let native = crate::config::dump::config_dump(&load(NATIVE_GUIDE).unwrap());
    assert_eq!(native["policies"][0]["name"]["kind"], "Policy");
}

#[test]
fn no_gateway_means_one_listener_on_8080() {
    let text = GUIDE[..4].join("---\n");
    let c = load(&text).unwrap();
    assert_eq!(c.listeners.len(), 1);
    assert_eq!(c.listeners[0].name, "default");
    assert_eq!(c.listeners[0].address, "0.0.0.0:8080".parse().unwrap());
}

#[test]
fn format_is_detected_by_content() {
    use super::is_manifests;
    assert!(is_manifests(GUIDE[1]));
    assert!(is_manifests(&guide()));
    assert!(!is_manifests(NATIVE_GUIDE));
    assert!(!is_manifests(""));
    assert!(!is_manifests("listeners: []\n"));
}

#[test]
fn unknown_fields_name_document_kind_and_path() {
    let bad = guide().replace(
        "region: \"us-east-1\"",
        "regoin: us-east-1\n        region: us-east-1",
    );
    let e = errors(&bad);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(
            "config: document 2 (AgentgatewayBackend agentgateway-system/bedrock): \
             spec.ai.provider.bedrock.regoin: unknown key"
        ),
        "{e:?}"
    );
    let bad = guide().replace("  parentRefs:", "  hostnamez: [a]\n  parentRefs:");
    let e = errors(&bad);
    assert!(
        e[0].starts_with("config: document 3 (HTTPRoute agentgateway-system/bedrock): spec.hostnamez: unknown key"),
        "{e:?}"
    );
    let bad = guide().replace("minTokens: 1024", "minTokens: 1024\n        ttl: 5m");
    let e = errors(&bad);
    assert!(
        e[0].starts_with(
            "config: document 4 (AgentgatewayPolicy agentgateway-system/bedrock-caching-policy): \
             spec.backend.ai.promptCaching.ttl: unknown key"
        ),
        "{e:?}"
    );
}

#[test]
fn kinds_not_served_are_a_warning() {
    let text = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra, namespace: x}}\ndata: {{a: b}}\n",
        guide()
    );
    let c = load(&text).unwrap();
    let w = c.warnings();
    assert!(
        w.iter().any(|w| w == "config: document 6 (ConfigMap x/extra): v1 ConfigMap is not served by basalt; the document is ignored"),
        "{w:?}"
    );
    let text = guide().replace(
        "  parentRefs:",
        "  hostnames: [ai.example.com]\n  parentRefs:",
    );
    let w = load(&text).unwrap().warnings();
    assert!(
        w.iter().any(|w| w == "config: document 3 (HTTPRoute agentgateway-system/bedrock): spec.hostnames is not applied: basalt serves the route for every host"),
        "{w:?}"
    );
    let e = errors("apiVersion: v1\nkind: Secret\nmetadata: {namespace: x}\n---\nfoo: 1\n");
    has(
        &e,
        "config: document 1 (Secret x/): metadata.name: required key is missing",
    );
    has(
        &e,
        "config: document 2: not a Kubernetes resource (apiVersion and kind are required)",
    );
}

#[test]
fn namespaces_and_cross_namespace_references() {
    let text = r#"
apiVersion: v1
kind: Secret
metadata: {name: keys, namespace: aws}
stringData: {accessKey: AK, secretKey: SK}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: bedrock, namespace: aws}
spec:
  ai: {provider: {bedrock: {region: eu-west-1}}}
  policies: {auth: {aws: {secretRef: {name: keys}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: team}
spec:
  rules:
  - matches: [{path: {type: Exact, value: /v1/chat/completions}}]
    backendRefs: [{group: agentgateway.dev, kind: AgentgatewayBackend, name: bedrock, namespace: aws}]
"#;
    let c = load(text).unwrap();
    let r = &c.routes[0];
    assert_eq!(r.namespace, "team");
    assert_eq!(
        (
            r.backends[0].1.name.as_str(),
            r.backends[0].1.namespace.as_str()
        ),
        ("bedrock", "aws")
    );
    assert!(r.matches[0].exact);
    // Without `namespace` the reference is to the route's own namespace: dangling.
    let e = errors(&text.replace(", namespace: aws}]", "}]"));
    has(&e, "config: document 3 (HTTPRoute team/chat): spec.rules[0].backendRefs[0].name: no backend named `bedrock`");
    // A secret in another namespace than the backend's is not found.
    let e = errors(&text.replace("{name: keys, namespace: aws}", "{name: keys}"));
    has(&e, "config: document 2 (AgentgatewayBackend aws/bedrock): spec.policies.auth.aws.secretRef.name: no secret named `keys`");
    // A backendRef without kind is a Service, which basalt does not serve.
    let e = errors(&text.replace("group: agentgateway.dev, kind: AgentgatewayBackend, ", ""));
    has(&e, "config: document 3 (HTTPRoute team/chat): spec.rules[0].backendRefs[0].kind: `/Service` is not served (agentgateway.dev/AgentgatewayBackend)");
}

#[test]
fn secret_data_and_string_data() {
    let text = r#"
apiVersion: v1
kind: Secret
metadata: {name: k}
type: Opaque
data: {accessKey: QUtJRA==, secretKey: b2xk}
stringData: {secretKey: new}
---
apiVersion: v1
kind: Secret
metadata: {name: api}
stringData: {Authorization: "Bearer br-key"}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: a}
spec: {ai: {provider: {bedrock: {region: us-east-1}}}, policies: {auth: {aws: {secretRef: {name: k}}}}}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: b}
spec: {ai: {provider: {bedrock: {region: us-east-1}}}, policies: {auth: {secretRef: {name: api}}}}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: c}
spec: {ai: {provider: {bedrock: {region: us-east-1}}}}
"#;
    let c = load(text).unwrap();
    match &c.backends[0].auth {
        BackendAuth::Static { credentials, .. } => {
            assert_eq!(credentials.access_key_id, "AKID");
            assert_eq!(
                credentials.secret_access_key.expose(),
                "new",
                "stringData wins"
            );
        }
        other => panic!("{other:?}"),
    }
    match &c.backends[1].auth {
        BackendAuth::ApiKey { key, .. } => assert_eq!(key.expose(), "br-key"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.backends[2].auth,
        BackendAuth::Implicit { role: None }
    ));
    let e = errors(&text.replace("QUtJRA==", "not*base64"));
    has(
        &e,
        "config: document 1 (Secret default/k): data.accessKey: value is not valid base64",
    );
}

#[test]
fn policy_targets_routes_backends_and_gateways() {
    let base = GUIDE[..3].join("---\n");
    let policy = |kind: &str, name: &str| {
        format!(
            "---\napiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayPolicy\nmetadata: {{name: p, namespace: agentgateway-system}}\n\
             spec: {{targetRefs: [{{kind: {kind}, name: {name}}}], backend: {{ai: {{promptCaching: {{}}}}}}}}\n"
        )
    };
    let c = load(&format!(
        "{base}{}",
        policy("AgentgatewayBackend", "bedrock")
    ))
    .unwrap();
    assert_eq!(
        c.routes[0].prompt_caching.unwrap().min_tokens,
        1024,
        "{{}} is every default"
    );
    let c = load(&format!("{base}---\n{}", GUIDE[4])).unwrap();
    assert!(c.routes[0].prompt_caching.is_none());
    let text = format!(
        "{base}---\n{}{}",
        GUIDE[4],
        policy("Gateway", "agentgateway-proxy")
    );
    assert!(load(&text).unwrap().routes[0].prompt_caching.is_some());
    let e = errors(&format!("{base}{}", policy("HTTPRoute", "nope")));
    has(&e, "config: document 4 (AgentgatewayPolicy agentgateway-system/p): spec.targetRefs[0].name: no HTTPRoute named `nope` in namespace `agentgateway-system`");
    let e = errors(&format!("{base}{}", policy("Service", "x")));
    has(&e, "config: document 4 (AgentgatewayPolicy agentgateway-system/p): spec.targetRefs[0].kind: `Service` is not supported (HTTPRoute, AgentgatewayBackend, Gateway)");
}

#[test]
fn rules_become_routes() {
    let text = r#"
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: b}
spec: {ai: {provider: {bedrock: {region: us-east-1}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - name: chat
    matches: [{path: {value: /v1/chat/completions}}]
    backendRefs: [{kind: AgentgatewayBackend, name: b}]
    timeouts: {request: 30s}
  - backendRefs: [{kind: AgentgatewayBackend, name: b}]
"#;
    let c = load(text).unwrap();
    assert_eq!(c.routes[0].name, "r.chat");
    assert_eq!(
        c.routes[0].timeouts.total,
        std::time::Duration::from_secs(30)
    );
    assert_eq!(c.routes[1].name, "r.1");
    assert_eq!(
        c.routes[1].matches[0].path_prefix, "/",
        "no match is PathPrefix /"
    );
    let e = errors(&text.replace("request: 30s", "request: soon"));
    has(&e, "config: document 2 (HTTPRoute default/r): spec.rules[0].timeouts.request: `soon` is not a duration like 100ms, 5s or 2m");
    let e = errors(&text.replace("{path: {value:", "{path: {type: RegularExpression, value:"));
    has(&e, "config: document 2 (HTTPRoute default/r): spec.rules[0].matches[0].path.type: `RegularExpression` is not supported (PathPrefix, Exact)");
}

fn tls_manifests(secret_ns: &str) -> String {
    let cert = include_str!("../testdata/cert.pem");
    let key = include_str!("../testdata/key.pem");
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    format!(
        "{}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: tls, namespace: {secret_ns}}}\n\
         type: kubernetes.io/tls\nstringData:\n  tls.crt: |\n{}  tls.key: |\n{}---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: agentgateway-system}}\n\
         spec:\n  addresses: [{{type: IPAddress, value: 127.0.0.1}}]\n  listeners:\n  - {{name: https, port: 8443, protocol: HTTPS, \
         tls: {{mode: Terminate, certificateRefs: [{{kind: Secret, name: tls}}]}}}}\n  - {{name: http, port: 8080, protocol: HTTP}}\n",
        GUIDE[..4].join("---\n"),
        indent(cert),
        indent(key),
    )
}

#[test]
fn https_listener_with_a_tls_secret() {
    let c = load(&tls_manifests("agentgateway-system")).unwrap();
    assert_eq!(c.listeners.len(), 2);
    let l = &c.listeners[0];
    assert_eq!(l.name, "gw.https");
    assert_eq!(l.address, "127.0.0.1:8443".parse().unwrap());
    let tls = l.tls.as_ref().unwrap();
    assert_eq!(
        std::fs::read_to_string(&tls.cert_file).unwrap(),
        include_str!("../testdata/cert.pem")
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&tls.key_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key is owner-only");
    assert!(c.listeners[1].tls.is_none());
    let e = errors(&tls_manifests("elsewhere"));
    has(&e, "config: document 6 (Gateway agentgateway-system/gw): spec.listeners[0].tls.certificateRefs[0].name: no Secret named `tls` in namespace `agentgateway-system`");
    let e =
        errors(&tls_manifests("agentgateway-system").replace("protocol: HTTP}", "protocol: TCP}"));
    has(&e, "config: document 6 (Gateway agentgateway-system/gw): spec.listeners[1].protocol: `TCP` is not supported (HTTP, HTTPS)");
    let e = errors(&tls_manifests("agentgateway-system").replace("port: 8080", "port: 8443"));
    assert!(
        e.iter().any(|e| e.starts_with(
            "config: document 6 (Gateway agentgateway-system/gw): spec.listeners[1].port:"
        )),
        "{e:?}"
    );
}

#[test]
fn mounted_secrets_are_read_from_the_secrets_dir() {
    let dir = std::env::temp_dir().join(format!("basalt-test-secrets-{}", std::process::id()));
    let sdir = dir.join("agentgateway-system").join("bedrock-secret");
    std::fs::create_dir_all(&sdir).unwrap();
    std::fs::write(sdir.join("accessKey"), "AKMOUNTED\n").unwrap();
    std::fs::write(sdir.join("secretKey"), "sk").unwrap();
    let docs = super::split(&GUIDE[1..].join("---\n"), "m").unwrap();
    let ov = Overrides {
        secrets_dir: Some(dir.clone()),
        ..Overrides::default()
    };
    let c = crate::config::from_manifests(docs, Path::new("."), &|_| None, &ov).unwrap();
    match &c.backends[0].auth {
        BackendAuth::Static {
            credentials,
            dir: Some(d),
            ..
        } => {
            assert_eq!(credentials.access_key_id, "AKMOUNTED");
            assert_eq!(d, &sdir, "re-read from there on rotation");
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn aws_endpoint_variables_set_unset_endpoints() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |n: &str| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let both = env(&[
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9000"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
    ]);
    let c = load_str(&guide(), Path::new("."), &both).unwrap();
    assert_eq!(c.backends[0].endpoint.base_url, "http://127.0.0.1:9000");
    let general = env(&[("AWS_ENDPOINT_URL", "https://vpce.example.com/")]);
    let c = load_str(NATIVE_GUIDE, Path::new("."), &general).unwrap();
    assert_eq!(c.backends[0].endpoint.base_url, "https://vpce.example.com");
    let with_endpoint = NATIVE_GUIDE.replace(
        "region: us-east-1}",
        "region: us-east-1, endpoint: \"http://10.0.0.1:1\"}",
    );
    let c = load_str(&with_endpoint, Path::new("."), &both).unwrap();
    assert_eq!(
        c.backends[0].endpoint.base_url, "http://10.0.0.1:1",
        "the config wins"
    );
    let ignored = env(&[
        ("AWS_ENDPOINT_URL", "http://x:1"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
    ]);
    let c = load_str(NATIVE_GUIDE, Path::new("."), &ignored).unwrap();
    assert!(c.backends[0].endpoint.tls);
    let bad = env(&[("AWS_ENDPOINT_URL", "ftp://x")]);
    let e = load_str(&guide(), Path::new("."), &bad).unwrap_err().0;
    has(&e, "config: document 2 (AgentgatewayBackend agentgateway-system/bedrock): spec.ai.provider.bedrock.endpoint: `ftp://x` must start with http:// or https:// (from AWS_ENDPOINT_URL)");
}

#[test]
fn admin_and_metrics_overrides() {
    let ov = Overrides {
        admin: Some("0.0.0.0:9901".into()),
        metrics: Some("127.0.0.1:9902".into()),
        secrets_dir: None,
    };
    let c = from_native(NATIVE_GUIDE, Path::new("."), &|_| None, &ov).unwrap();
    assert_eq!(c.admin, "0.0.0.0:9901".parse().unwrap());
    assert_eq!(c.metrics, "127.0.0.1:9902".parse().unwrap());
    let docs = super::split(&guide(), "m").unwrap();
    let c = crate::config::from_manifests(docs, Path::new("."), &|_| None, &ov).unwrap();
    assert_eq!(c.admin, "0.0.0.0:9901".parse().unwrap());
    let bad = Overrides {
        admin: Some("nowhere".into()),
        ..Overrides::default()
    };
    let e = from_native(NATIVE_GUIDE, Path::new("."), &|_| None, &bad)
        .unwrap_err()
        .0;
    assert!(e[0].starts_with("--admin: "), "{e:?}");
    let clash = Overrides {
        metrics: Some("0.0.0.0:8080".into()),
        ..Overrides::default()
    };
    assert!(from_native(NATIVE_GUIDE, Path::new("."), &|_| None, &clash).is_err());
}

#[test]
fn a_list_and_a_directory() {
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        GUIDE
            .iter()
            .map(|d| {
                let v: serde_yaml::Value = serde_yaml::from_str(d).unwrap();
                let j = serde_json::to_string(&v).unwrap();
                format!("- {j}\n")
            })
            .collect::<String>()
    );
    assert_eq!(load(&list).unwrap().routes[0].name, "bedrock");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/guide");
    let c = crate::config::load(&dir).unwrap();
    assert!(matches!(c.source, Source::Manifests { .. }));
    assert_eq!(c.backends[0].namespace, "agentgateway-system");
}
