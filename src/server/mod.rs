//! Assembling the process: a Pingora `Server` with one HTTP service per listener, the admin
//! and metrics listeners, the credentials and certificate background services and, on request,
//! the built-in Bedrock simulator. With `proxy`, this is where Pingora lives. [`Process::run`]
//! runs it under basalt's own signal handling (`lifecycle`) and configuration reload
//! (`reload`).

pub(crate) mod admin;
pub(crate) mod background;
pub(crate) mod certs;
pub(crate) mod edge;
pub(crate) mod http;
pub(crate) mod lifecycle;
pub(crate) mod metrics;
pub(crate) mod ops;
pub(crate) mod reload;
#[cfg(feature = "simulator")]
pub mod sim;
pub(crate) mod view;

use admin::Admin;
use background::CredentialsService;
use certs::{CertStore, CertWatcher};
use edge::EdgeApp;
use http::EdgeHttp;
use lifecycle::Lifecycle;
use metrics::{EdgeMetrics, MetricsService};
use ops::OpsListener;
use reload::{ConfigSource, Reloader};

use crate::auth::Authorizer;
use crate::config::model::{Config, Listener};
use crate::credentials::Refresher;
use crate::metrics::Metrics;
use crate::proxy::activity::Activity;
use crate::proxy::body::BodyBudget;
use crate::proxy::routes::RouteTable;
use crate::proxy::{upstream::Upstream, Edge, Gateway, Shared};
use arc_swap::ArcSwap;
use pingora::connectors::ConnectorOptions;
use pingora::connectors::TransportConnector;
use pingora::listeners::tls::TlsSettings;
use pingora::listeners::ListenerConfig;
use pingora::prelude::*;
use pingora::protocols::l4::stream::L4BufferSettings;
use pingora::server::configuration::ServerConf;
use pingora::services::background::background_service;
use pingora::services::listening::Service;
use std::path::PathBuf;
use std::sync::Arc;

/// The assembled process, ready to run.
pub struct Process {
    /// The Pingora server (more services, such as the simulator, may be added before running).
    pub server: Server,
    lifecycle: Arc<Lifecycle>,
    reloader: Reloader,
}

impl Process {
    /// Serve until a signal ends the process: SIGTERM drains, SIGINT exits fast, SIGHUP (or a
    /// change of `path`) reloads the configuration with `load`.
    pub fn run(self, path: PathBuf, load: reload::Load) -> ! {
        let source = ConfigSource::new(path, load);
        let reloader = self.reloader;
        let watch = lifecycle::watch_signals(self.lifecycle, source, reloader);
        match watch {
            Ok(stop) => self.server.run(pingora::server::RunArgs {
                shutdown_signal: Box::new(stop),
            }),
            Err(e) => {
                log::error!("{e}");
                std::process::exit(1);
            }
        }
        std::process::exit(0)
    }
}

/// Build the server for a validated config (tests run it with their own shutdown signal).
pub fn build(config: &Config) -> Result<Server, String> {
    build_process(config).map(|p| p.server)
}

/// Build the process for a validated config.
pub fn build_process(config: &Config) -> Result<Process, String> {
    for w in config.warnings() {
        log::warn!("{w}");
    }
    let mut server = Server::new_with_opt_and_conf(None, server_conf(config));
    server.bootstrap();
    let conf = server.configuration.clone();
    let metrics = Arc::new(Metrics::new(config).map_err(|e| format!("metrics: {e}"))?);
    let edge_metrics = Arc::new(EdgeMetrics::new().map_err(|e| format!("metrics: {e}"))?);
    let (upstreams, refresher) = upstreams(config, &metrics)?;
    server.add_service(background_service(
        "credentials",
        CredentialsService(refresher),
    ));
    let activity = Activity::new();
    let shared = Shared {
        routes: Arc::new(RouteTable::new(&config.routes, &upstreams, &[])?),
        connector: Arc::new(TransportConnector::new(Some(
            ConnectorOptions::from_server_conf(&conf),
        ))),
        body_budget: BodyBudget::new(config.server.max_in_flight_body_bytes),
        metrics: metrics.clone(),
        activity: activity.clone(),
    };
    let mut lives = Vec::new();
    let mut stores = Vec::new();
    for l in &config.listeners {
        let (svc, live, store) = listener(config, l, &shared)?;
        server.add_service(svc);
        lives.push((l.clone(), live));
        stores.extend(store);
    }
    if !stores.is_empty() {
        server.add_service(background_service("tls certificates", CertWatcher(stores)));
    }
    let lifecycle = Lifecycle::new(activity, config.server.grace_period);
    let admin = Admin::new(config, shared.routes.clone(), lifecycle.clone());
    let admin_view = admin.view();
    let admin = OpsListener::bind("admin", config.admin, admin)?;
    server.add_service(background_service("admin", admin));
    log::info!("admin on {}", config.admin);
    let metrics_svc = MetricsService {
        metrics,
        edge: edge_metrics.clone(),
    };
    let metrics_svc = OpsListener::bind("metrics", config.metrics, metrics_svc)?;
    server.add_service(background_service("metrics", metrics_svc));
    log::info!("metrics on {}/metrics", config.metrics);
    let reloader = Reloader::new(config, shared, lives, edge_metrics, admin_view);
    Ok(Process {
        server,
        lifecycle,
        reloader,
    })
}

/// Pingora's process settings from `server:`. basalt ends a drain itself (as soon as no
/// request is in progress, at the latest after `gracePeriod`); Pingora's own grace period is
/// only a backstop a little longer than that.
/// Downstream socket buffers. Pingora's default puts a 64 KiB read buffer in front of every
/// accepted connection, held for the connection's life (most of the memory of an open stream);
/// the HTTP/1 session reads with its own growable buffer anyway, so plain TCP reads straight
/// from the socket. TLS keeps one record's worth (16 KiB) so rustls does not read in small bits.
/// Writes keep Pingora's one-segment buffer (head and a small body leave in one `send`).
fn downstream_buffers(tls: bool) -> L4BufferSettings {
    L4BufferSettings::default().read(if tls { 16 * 1024 } else { 0 })
}

fn server_conf(config: &Config) -> ServerConf {
    ServerConf {
        threads: config.server.threads,
        grace_period_seconds: Some(config.server.grace_period.as_secs() + 2),
        graceful_shutdown_timeout_seconds: Some(1),
        upstream_keepalive_pool_size: 1024,
        work_stealing: false,
        ..ServerConf::default()
    }
}

/// Each backend's upstream state, and the refresher of their credentials.
pub(crate) fn upstreams(
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

/// A listener's service, its swappable state and (TLS) its certificate store.
type Built = (
    Service<EdgeApp>,
    Arc<ArcSwap<Gateway>>,
    Option<Arc<CertStore>>,
);

/// One listener's proxy service, plain or TLS (HTTP/1.1 and HTTP/2 by ALPN).
fn listener(config: &Config, l: &Listener, shared: &Shared) -> Result<Built, String> {
    let live = Arc::new(ArcSwap::from_pointee(Gateway::new(l.clone(), shared)));
    let edge = Edge {
        live: live.clone(),
        metrics: shared.metrics.clone(),
        activity: shared.activity.clone(),
    };
    let mut options = pingora::apps::HttpServerOptions::default();
    options.h2_idle_timeout = Some(l.conn.idle_timeout);
    // HTTP/2 (TLS listeners): Pingora's bounded defaults, with the listener's head limit.
    let mut h2 = pingora::protocols::http::v2::server::default_h2_options();
    h2.max_header_list_size(u32::try_from(l.conn.max_header_bytes).unwrap_or(u32::MAX));
    let app = EdgeApp::new(
        EdgeHttp::new(edge, options, h2),
        live.clone(),
        l.name.clone(),
    );
    let mut svc = Service::new(format!("listener {}", l.name), app);
    let addr = l.address.to_string();
    let store = match &l.tls {
        None => {
            svc.add_listener(
                ListenerConfig::tcp(addr.as_str()).l4_buffer(downstream_buffers(false)),
            );
            None
        }
        Some(tls) => {
            let store = CertStore::load(&l.name, tls)
                .map_err(|e| format!("listener {}: TLS: {e}", l.name))?;
            let mut settings = TlsSettings::intermediate("", "")
                .map_err(|e| format!("listener {}: TLS: {e}", l.name))?;
            settings.set_cert_resolver(store.clone());
            settings.enable_h2();
            svc.add_listener(
                ListenerConfig::tcp(addr.as_str())
                    .tls(settings)
                    .l4_buffer(downstream_buffers(true)),
            );
            Some(store)
        }
    };
    svc.threads = Some(config.server.threads);
    let scheme = if l.tls.is_some() {
        "https, HTTP/1.1 and HTTP/2"
    } else {
        "http"
    };
    log::info!("listener {} on {addr} ({scheme})", l.name);
    Ok((svc, live, store))
}
