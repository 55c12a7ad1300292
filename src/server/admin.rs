//! The admin listener (default 127.0.0.1:15000): `GET /config_dump` (the effective
//! configuration, secrets never included), `GET /healthz/ready` (200 once every listener
//! accepts; 503 from the moment a drain starts), `GET /healthz/live` (200 while the process
//! runs; a cheap liveness probe) and `GET /usage` (rate-limit counts per policy, key and
//! limit; key names only).

use super::lifecycle::Lifecycle;
use super::ops::response;
use super::view::AdminView;
use crate::config::model::Config;
use crate::proxy::routes::RouteTable;
use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The admin app; each backend's live health (`health`: healthy, or ejected until a time) is
/// added to the dump at every request.
pub(crate) struct Admin {
    view: Arc<ArcSwap<AdminView>>,
    listeners: Vec<SocketAddr>,
    lifecycle: Arc<Lifecycle>,
}

impl Admin {
    /// The admin app for a validated config and the live route table.
    pub(crate) fn new(config: &Config, routes: Arc<RouteTable>, lifecycle: Arc<Lifecycle>) -> Self {
        Admin {
            lifecycle,
            view: Arc::new(ArcSwap::new(AdminView::new(config, routes))),
            listeners: config.listeners.iter().map(|l| l.address).collect(),
        }
    }

    /// The handle a reload stores the new configuration's view into.
    pub(crate) fn view(&self) -> Arc<ArcSwap<AdminView>> {
        self.view.clone()
    }

    fn dump(&self) -> Vec<u8> {
        let view = self.view.load();
        let mut dump = view.dump.clone();
        if let Some(obj) = dump.as_object_mut() {
            obj.insert("health".into(), view.routes.health_json());
        }
        serde_json::to_vec_pretty(&dump).unwrap_or_default()
    }

    /// `{"policies": [{policy, key, store, keys: [{key, limits: [{kind, window, limit, used,
    /// remaining, resetSeconds}]}]}]}`.
    async fn usage(&self) -> Vec<u8> {
        let mut policies = Vec::new();
        let view = self.view.load_full();
        for l in view.routes.limiters() {
            policies.push(l.usage().await);
        }
        serde_json::to_vec_pretty(&serde_json::json!({ "policies": policies })).unwrap_or_default()
    }
}

async fn all_listening(addrs: &[SocketAddr]) -> bool {
    for a in addrs {
        let mut target = *a;
        if target.ip().is_unspecified() {
            target.set_ip(if a.is_ipv4() {
                [127, 0, 0, 1].into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        match tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(target),
        )
        .await
        {
            Ok(Ok(_)) => {}
            _ => return false,
        }
    }
    true
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> http::Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_owned();
        let (status, body) = match path.as_str() {
            "/config_dump" => (200, self.dump()),
            "/healthz/live" => (200, b"live\n".to_vec()),
            "/usage" => (200, self.usage().await),
            "/healthz/ready" => {
                if self.lifecycle.draining() {
                    (503, b"draining\n".to_vec())
                } else if all_listening(&self.listeners).await {
                    (200, b"ready\n".to_vec())
                } else {
                    (503, b"not ready\n".to_vec())
                }
            }
            _ => (404, b"not found\n".to_vec()),
        };
        let ctype = if path == "/config_dump" || path == "/usage" {
            "application/json"
        } else {
            "text/plain"
        };
        response(status, ctype, body)
    }
}
