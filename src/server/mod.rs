//! Assembling the process: a Pingora `Server` with one proxy service per listener, the admin
//! and metrics listeners, the credentials background service and, on request, the built-in
//! Bedrock simulator. With `proxy`, this is where Pingora lives.

pub(crate) mod admin;
pub(crate) mod background;
pub(crate) mod metrics;
#[cfg(feature = "simulator")]
pub mod sim;

use admin::Admin;
use background::CredentialsService;
use metrics::MetricsService;

use crate::auth::Authorizer;
use crate::config::model::{Config, Listener};
use crate::credentials::Refresher;
use crate::metrics::Metrics;
use crate::proxy::body::BodyBudget;
use crate::proxy::routes::RouteTable;
use crate::proxy::{upstream::Upstream, Gateway, Shared};
use pingora::connectors::http::Connector;
use pingora::connectors::ConnectorOptions;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;
use pingora::services::listening::Service;
use std::sync::Arc;

/// Build the server for a validated config.
pub fn build(config: &Config) -> Result<Server, String> {
    for w in config.warnings() {
        log::warn!("{w}");
    }
    let mut server = Server::new_with_opt_and_conf(None, server_conf(config));
    server.bootstrap();
    let conf = server.configuration.clone();
    let metrics = Arc::new(Metrics::new(config).map_err(|e| format!("metrics: {e}"))?);
    let (upstreams, refresher) = upstreams(config, &metrics)?;
    server.add_service(pingora::services::background::background_service(
        "credentials",
        CredentialsService(refresher),
    ));
    let shared = Shared {
        routes: Arc::new(RouteTable::new(&config.routes, &upstreams)?),
        connector: Arc::new(Connector::new(Some(ConnectorOptions::from_server_conf(
            &conf,
        )))),
        body_budget: BodyBudget::new(config.server.max_in_flight_body_bytes),
        metrics: metrics.clone(),
    };
    for l in &config.listeners {
        server.add_service(listener(&conf, config, l, &shared)?);
    }
    let mut admin = Service::new(
        "admin".to_owned(),
        Admin::new(config, shared.routes.clone()),
    );
    admin.add_tcp(&config.admin.to_string());
    admin.threads = Some(1);
    server.add_service(admin);
    log::info!("admin on {}", config.admin);
    let mut metrics_svc = Service::new("metrics".to_owned(), MetricsService { metrics });
    metrics_svc.add_tcp(&config.metrics.to_string());
    metrics_svc.threads = Some(1);
    server.add_service(metrics_svc);
    log::info!("metrics on {}/metrics", config.metrics);
    Ok(server)
}

/// Pingora's process settings from `server:`.
fn server_conf(config: &Config) -> ServerConf {
    ServerConf {
        threads: config.server.threads,
        grace_period_seconds: Some(config.server.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(5),
        upstream_keepalive_pool_size: 1024,
        work_stealing: false,
        ..ServerConf::default()
    }
}

/// Each backend's upstream state, and the refresher of their credentials.
fn upstreams(
    config: &Config,
    metrics: &Arc<Metrics>,
) -> Result<(Vec<Arc<Upstream>>, Refresher), String> {
    let env = |k: &str| std::env::var(k).ok();
    let mut refresher = Refresher::default();
    let mut upstreams = Vec::new();
    for b in &config.backends {
        let (authorizer, source) = Authorizer::resolve(b, &env, metrics, &mut refresher);
        log::info!(
            "backend {}/{}: region {}, endpoint {}, credentials: {source}",
            b.namespace,
            b.name,
            b.region,
            b.endpoint.base_url
        );
        let up =
            Upstream::new(b.clone(), authorizer).map_err(|e| format!("backend {}: {e}", b.name))?;
        upstreams.push(Arc::new(up));
    }
    Ok((upstreams, refresher))
}

/// One listener's proxy service, plain or TLS.
fn listener(
    conf: &Arc<ServerConf>,
    config: &Config,
    l: &Listener,
    shared: &Shared,
) -> Result<Service<pingora::proxy::HttpProxy<Gateway>>, String> {
    let gw = Gateway::new(l.clone(), shared);
    let mut svc =
        pingora::proxy::http_proxy_service_with_name(conf, gw, &format!("listener {}", l.name));
    let addr = l.address.to_string();
    match &l.tls {
        None => svc.add_tcp(&addr),
        Some(tls) => svc
            .add_tls(
                &addr,
                &tls.cert_file.to_string_lossy(),
                &tls.key_file.to_string_lossy(),
            )
            .map_err(|e| format!("listener {}: TLS: {e}", l.name))?,
    }
    svc.threads = Some(config.server.threads);
    let scheme = if l.tls.is_some() { "https" } else { "http" };
    log::info!("listener {} on {addr} ({scheme})", l.name);
    Ok(svc)
}
