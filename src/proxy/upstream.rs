//! One backend's upstream: its resolved address (DNS resolved asynchronously and cached, never
//! by Pingora's blocking `HttpPeer::new` lookup), TLS settings and the `HttpPeer` built from them.

use super::h1::Conn;
use super::resilience::RetryBudget;
use crate::auth::Authorizer;
use crate::config::model::{Backend, Timeouts};
use crate::error::GatewayError;
use pingora::protocols::Stream;
use pingora::upstreams::peer::HttpPeer;
use pingora::utils::tls::{parse_x509, WrappedX509};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a DNS answer is used before it is looked up again (kept on lookup failure).
const DNS_TTL: Duration = Duration::from_secs(30);
/// How long an idle pooled upstream connection is kept.
pub(crate) const POOL_IDLE: Duration = Duration::from_secs(55);

/// Everything needed to call one backend, shared by all requests routed to it.
pub(crate) struct Upstream {
    /// The backend's validated config (endpoint, region, model override).
    pub(crate) backend: Arc<Backend>,
    /// How requests to this backend are signed or authorized.
    pub(crate) authorizer: Authorizer,
    ca: Option<Arc<[WrappedX509]>>,
    fixed: Option<SocketAddr>,
    cache: RwLock<Option<(SocketAddr, Instant)>>,
    /// Idle keep-alive connections, most recently used last. Kept here rather than in Pingora's
    /// pool, which spawns an idle-watch task per release and checks the peer address with a
    /// syscall per reuse; a connection is checked for a close by the server when it is taken
    /// (see `proxy::exchange`).
    idle: Mutex<Vec<(Stream, Instant)>>,
    /// Retries this backend may still take (a fraction of its recent requests).
    pub(crate) budget: RetryBudget,
    /// This backend's `basalt_upstream_attempts_total{outcome="ok"}`, resolved once.
    pub(crate) ok_attempts: std::sync::OnceLock<prometheus::IntCounter>,
}

/// At most this many idle connections per backend.
pub(crate) const MAX_IDLE: usize = 256;

impl Upstream {
    /// Prepare a backend's upstream (its CA bundle parsed, an IP-literal endpoint used as is);
    /// `Err` when the CA bundle cannot be used.
    pub(crate) fn new(backend: Arc<Backend>, authorizer: Authorizer) -> Result<Self, String> {
        let ca = match &backend.ca_certs {
            Some(ders) => Some(Arc::from(load_ca(ders)?)),
            None => None,
        };
        let fixed = backend
            .endpoint
            .host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, backend.endpoint.port));
        Ok(Upstream {
            backend,
            authorizer,
            ca,
            fixed,
            cache: RwLock::new(None),
            idle: Mutex::new(Vec::new()),
            budget: RetryBudget::new(Instant::now()),
            ok_attempts: std::sync::OnceLock::new(),
        })
    }

    async fn address(&self) -> Result<SocketAddr, GatewayError> {
        if let Some(a) = self.fixed {
            return Ok(a);
        }
        let cached = self.cache.read().ok().and_then(|c| *c);
        if let Some((addr, at)) = cached {
            if at.elapsed() < DNS_TTL {
                return Ok(addr);
            }
        }
        let host = (
            self.backend.endpoint.host.as_str(),
            self.backend.endpoint.port,
        );
        let looked_up =
            tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host(host)).await;
        match looked_up {
            Ok(Ok(mut addrs)) => match addrs.next() {
                Some(addr) => {
                    if let Ok(mut c) = self.cache.write() {
                        *c = Some((addr, Instant::now()));
                    }
                    Ok(addr)
                }
                None => cached
                    .map(|(a, _)| a)
                    .ok_or_else(|| GatewayError::UpstreamUnreachable {
                        message: format!("DNS: no address for {}", self.backend.endpoint.host),
                    }),
            },
            Ok(Err(e)) => cached
                .map(|(a, _)| a)
                .ok_or_else(|| GatewayError::UpstreamUnreachable {
                    message: format!("DNS lookup of {} failed: {e}", self.backend.endpoint.host),
                }),
            Err(_) => cached
                .map(|(a, _)| a)
                .ok_or_else(|| GatewayError::UpstreamTimeout {
                    message: format!("DNS lookup of {} timed out", self.backend.endpoint.host),
                }),
        }
    }

    /// A pooled connection idle for less than [`POOL_IDLE`] that the server has not closed,
    /// if any (older or closed ones are dropped).
    pub(crate) fn take_idle(&self) -> Option<Conn> {
        loop {
            let (mut stream, since) = self.idle.lock().ok()?.pop()?;
            if since.elapsed() < POOL_IDLE && still_open(&mut stream) {
                return Some(Conn::new(stream));
            }
        }
    }

    /// Return a connection to the idle pool if its exchange is complete, the server allows
    /// keep-alive and the pool has room (otherwise it is closed).
    pub(crate) fn release(&self, conn: Conn) {
        if !conn.reusable() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push((conn.into_stream(), Instant::now()));
            }
        }
    }

    /// The peer to connect to for a new connection, with the route's timeouts and this
    /// backend's TLS verification; resolves the host (cached for 30 s) when needed.
    pub(crate) async fn peer(&self, timeouts: &Timeouts) -> Result<HttpPeer, GatewayError> {
        let addr = self.address().await?;
        let ep = &self.backend.endpoint;
        let mut peer = HttpPeer::new(addr, ep.tls, ep.host.clone());
        let o = &mut peer.options;
        o.connection_timeout = Some(timeouts.connect);
        o.total_connection_timeout = Some(timeouts.connect);
        o.read_timeout = Some(timeouts.first_byte.max(timeouts.stream_idle));
        o.write_timeout = Some(timeouts.first_byte);
        o.idle_timeout = Some(POOL_IDLE);
        o.verify_cert = true;
        o.verify_hostname = true;
        o.ca = self.ca.clone();
        Ok(peer)
    }
}

/// Whether an idle connection is still usable: a read that would block means the server has
/// neither closed it nor sent anything unexpected (end of stream, an error or stray bytes: not).
fn still_open(stream: &mut Stream) -> bool {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    // Unconstrained: tokio's cooperative budget must not turn a ready read into `Pending`.
    let read = std::pin::pin!(tokio::task::unconstrained(stream.read(&mut byte)));
    let mut cx = Context::from_waker(Waker::noop());
    matches!(read.poll(&mut cx), Poll::Pending)
}

/// The backend's CA certificates (DER, validated as X.509 by the config) in Pingora's form.
fn load_ca(ders: &[Vec<u8>]) -> Result<Vec<WrappedX509>, String> {
    // parse_x509 panics on DER it cannot read; the config checked each one with x509-parser,
    // and a disagreement is still a start-up error rather than a panic.
    for der in ders {
        if std::panic::catch_unwind(|| parse_x509(der)).is_err() {
            return Err("a caFile certificate is not valid DER".into());
        }
    }
    Ok(ders
        .iter()
        .map(|der| WrappedX509::new(der.clone(), parse_x509))
        .collect())
}
