//! The process lifecycle: signals, readiness and the graceful drain. SIGTERM turns readiness
//! to 503 at once, stops accepting (Pingora's graceful shutdown) and exits 0 as soon as no
//! request is in progress, or when `server.gracePeriod` is over, whichever comes first. A
//! second SIGTERM, or SIGINT during a drain, exits at once; SIGINT otherwise runs Pingora's fast
//! shutdown and exits within 1 s. SIGHUP, or a change of the config file (checked every
//! second), reloads the configuration ([`super::reload`]).

use super::reload::{ConfigSource, Reloader};
use crate::proxy::activity::Activity;
use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the config file is checked for a change.
const CONFIG_POLL: Duration = Duration::from_secs(1);
/// How often a drain checks whether requests are still in progress.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// What the admin listener and the signal watcher share.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    draining: AtomicBool,
    activity: Arc<Activity>,
    grace: Duration,
}

impl Lifecycle {
    /// The lifecycle of a process whose requests are counted by `activity`.
    pub(crate) fn new(activity: Arc<Activity>, grace: Duration) -> Arc<Self> {
        Arc::new(Lifecycle {
            draining: AtomicBool::new(false),
            activity,
            grace,
        })
    }

    /// Whether SIGTERM was received (readiness is then 503).
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

/// Which shutdown Pingora is asked for.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Graceful,
    Fast,
}

/// Pingora's main loop waits on this instead of installing its own signal handlers.
pub(crate) struct StopSignal(watch::Receiver<Option<Stop>>);

#[async_trait]
impl ShutdownSignalWatch for StopSignal {
    async fn recv(&self) -> ShutdownSignal {
        let mut rx = self.0.clone();
        loop {
            let stop = *rx.borrow_and_update();
            match stop {
                Some(Stop::Graceful) => return ShutdownSignal::GracefulTerminate,
                Some(Stop::Fast) => return ShutdownSignal::FastShutdown,
                None => {}
            }
            if rx.changed().await.is_err() {
                return ShutdownSignal::FastShutdown;
            }
        }
    }
}

/// Start the signal watcher thread; the returned watch is handed to Pingora's `run`.
pub(crate) fn watch_signals(
    life: Arc<Lifecycle>,
    source: ConfigSource,
    reloader: Reloader,
) -> Result<StopSignal, String> {
    let (tx, rx) = watch::channel(None);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match rt {
                Ok(rt) => rt.block_on(signal_loop(life, tx, source, reloader)),
                Err(e) => log::error!("no signal watcher runtime: {e}"),
            }
        })
        .map_err(|e| format!("cannot start the signal watcher: {e}"))?;
    Ok(StopSignal(rx))
}

async fn signal_loop(
    life: Arc<Lifecycle>,
    tx: watch::Sender<Option<Stop>>,
    mut source: ConfigSource,
    mut reloader: Reloader,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        log::error!("cannot install signal handlers");
        return;
    };
    let mut files = tokio::time::interval(CONFIG_POLL);
    loop {
        tokio::select! {
            _ = int.recv() => {
                if life.draining() {
                    log::warn!("SIGINT during the drain: exiting now");
                    std::process::exit(0);
                }
                log::info!("SIGINT: fast shutdown");
                let _ = tx.send(Some(Stop::Fast));
                tokio::time::sleep(Duration::from_secs(1)).await;
                log::warn!("SIGINT: the fast shutdown did not finish within 1 s; exiting");
                std::process::exit(0);
            }
            _ = term.recv() => {
                if life.draining() {
                    log::warn!("second SIGTERM: exiting without waiting for the grace period");
                    std::process::exit(0);
                }
                life.draining.store(true, Ordering::Release);
                log::info!(
                    "SIGTERM: draining (readiness 503, no new connections) for at most {:?}",
                    life.grace
                );
                let _ = tx.send(Some(Stop::Graceful));
                tokio::spawn(drain(life.clone()));
            }
            _ = hup.recv() => {
                source.changed();
                reloader.reload(&source, "SIGHUP");
            }
            _ = files.tick() => {
                if source.changed() && !life.draining() {
                    reloader.reload(&source, "config file changed");
                }
            }
        }
    }
}

/// Exit 0 once no request is in progress (checked twice, a poll apart, so a request's access
/// log line is written), or when the grace period is over.
async fn drain(life: Arc<Lifecycle>) {
    let deadline = tokio::time::Instant::now() + life.grace;
    let mut idle_polls = 0;
    loop {
        let n = life.activity.in_progress();
        idle_polls = if n == 0 { idle_polls + 1 } else { 0 };
        if idle_polls >= 2 {
            log::info!("drained: no request in progress; exiting");
            std::process::exit(0);
        }
        if tokio::time::Instant::now() >= deadline {
            log::warn!(
                "grace period ({:?}) over with {n} request(s) in progress; exiting",
                life.grace
            );
            std::process::exit(0);
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}
