//! Assembling the process: a Pingora `Server` with one proxy service per listener, the admin
//! service and, on request, the built-in Bedrock simulator.

use crate::admin::Admin;
use crate::auth::Authorizer;
use crate::config::model::Config;
use crate::credentials::Refresher;
use crate::metrics::{Metrics, MetricsService};
use crate::proxy::body::BodyBudget;
use crate::proxy::routes::RouteTable;
use crate::proxy::{upstream::Upstream, Gateway, Shared};
use crate::sim::{SimOptions, Simulator};
use pingora::connectors::http::Connector;
use pingora::connectors::ConnectorOptions;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;
use pingora::services::listening::Service;
use std::sync::Arc;

/// Placeholder until the config carries `server.maxInFlightBodyBytes`.
const MAX_IN_FLIGHT_BODY_BYTES: usize = 256 * 1024 * 1024;

/// Build the server for a validated config. `simulator` starts the built-in simulator on that
/// address in the same process.
pub fn build(config: &Config, simulator: Option<(String, SimOptions)>) -> Result<Server, String> {
    let conf = ServerConf {
        threads: config.server.threads,
        grace_period_seconds: Some(config.server.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(5),
        upstream_keepalive_pool_size: 1024,
        work_stealing: false,
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let conf = server.configuration.clone();

    let connector = Arc::new(Connector::new(Some(ConnectorOptions::from_server_conf(
        &conf,
    ))));
    let env = |k: &str| std::env::var(k).ok();
    let metrics = Arc::new(Metrics::new(config).map_err(|e| format!("metrics: {e}"))?);
    let mut refresher = Refresher::default();
    let mut upstreams = Vec::new();
    for b in &config.backends {
        let (authorizer, source) = Authorizer::resolve(b, &env, &metrics, &mut refresher);
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
    server.add_service(pingora::services::background::background_service(
        "credentials",
        refresher,
    ));

    let shared = Shared {
        routes: Arc::new(RouteTable::new(&config.routes, &upstreams)?),
        connector,
        body_budget: BodyBudget::new(MAX_IN_FLIGHT_BODY_BYTES),
        metrics: metrics.clone(),
    };
    for l in &config.listeners {
        let gw = Gateway::new(l.clone(), &shared);
        let mut svc = pingora::proxy::http_proxy_service_with_name(
            &conf,
            gw,
            &format!("listener {}", l.name),
        );
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
        server.add_service(svc);
        log::info!(
            "listener {} on {} ({})",
            l.name,
            addr,
            if l.tls.is_some() { "https" } else { "http" }
        );
    }

    let mut admin = Service::new("admin".to_owned(), Admin::new(config));
    admin.add_tcp(&config.admin.to_string());
    admin.threads = Some(1);
    server.add_service(admin);
    log::info!("admin on {}", config.admin);

    let mut metrics_svc = Service::new("metrics".to_owned(), MetricsService { metrics });
    metrics_svc.add_tcp(&config.metrics.to_string());
    metrics_svc.threads = Some(1);
    server.add_service(metrics_svc);
    log::info!("metrics on {}/metrics", config.metrics);

    if let Some((addr, options)) = simulator {
        let mut sim = Service::new("bedrock simulator".to_owned(), Simulator::new(options));
        sim.add_tcp(&addr);
        sim.threads = Some(1);
        server.add_service(sim);
        log::info!("built-in Bedrock simulator on {addr}");
    }
    Ok(server)
}

/// A standalone simulator server (the `basalt-sim` binary).
pub fn build_simulator(addr: &str, options: SimOptions, threads: usize) -> Server {
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut sim = Service::new("bedrock simulator".to_owned(), Simulator::new(options));
    sim.add_tcp(addr);
    sim.threads = Some(threads);
    server.add_service(sim);
    server
}

/// Install the logger: `BASALT_LOG` (RUST_LOG syntax), default `info`; logs go to stderr.
pub fn init_logging() {
    let env = env_logger::Env::new().filter_or("BASALT_LOG", "info");
    let _ = env_logger::Builder::from_env(env)
        .target(env_logger::Target::Stderr)
        .try_init();
}
