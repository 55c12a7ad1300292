//! The admin listener (default 127.0.0.1:15000): `GET /config_dump` (the effective
//! configuration, secrets never included) and `GET /healthz/ready` (200 once every listener
//! accepts).

use crate::config::dump::config_dump;
use crate::config::model::Config;
use async_trait::async_trait;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use std::net::SocketAddr;
use std::time::Duration;

/// The admin app: the dump is rendered once at start-up.
pub struct Admin {
    dump: Vec<u8>,
    listeners: Vec<SocketAddr>,
}

impl Admin {
    /// The admin app for a validated config.
    pub fn new(config: &Config) -> Self {
        Admin {
            dump: serde_json::to_vec_pretty(&config_dump(config)).unwrap_or_default(),
            listeners: config.listeners.iter().map(|l| l.address).collect(),
        }
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
            "/config_dump" => (200, self.dump.clone()),
            "/healthz/ready" => {
                if all_listening(&self.listeners).await {
                    (200, b"ready\n".to_vec())
                } else {
                    (503, b"not ready\n".to_vec())
                }
            }
            _ => (404, b"not found\n".to_vec()),
        };
        let ctype = if path == "/config_dump" {
            "application/json"
        } else {
            "text/plain"
        };
        response(status, ctype, body)
    }
}

/// A complete response for the admin and metrics listeners.
pub fn response(status: u16, content_type: &str, body: Vec<u8>) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", body.len())
        .body(body)
        .unwrap_or_default()
}
