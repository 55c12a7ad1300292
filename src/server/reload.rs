//! Configuration reload, on SIGHUP or when the config file (or directory) changes: the new
//! configuration is validated whole and its backends and routes built before anything changes;
//! then each listener's state is swapped (new requests use it, requests and streams in flight
//! finish on the old one) and no listener socket is closed. An invalid configuration is logged
//! with its key paths, counted in `basalt_config_reload_total{result="invalid"}`, and the old
//! one keeps serving. What only a restart can change (listener addresses, listeners added or
//! removed, TLS file paths, the admin and metrics addresses, `server.*`) is logged.

use super::metrics::EdgeMetrics;
use super::view::AdminView;
use crate::config::model::{Config, Listener};
use crate::config::ConfigError;
use crate::proxy::routes::RouteTable;
use crate::proxy::{Gateway, Shared};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::watch;

/// Reads and validates the configuration (the same way as at start-up).
pub type Load = Box<dyn Fn() -> Result<Config, ConfigError> + Send>;

/// Where the configuration comes from, and the last seen version of its files.
pub(crate) struct ConfigSource {
    path: PathBuf,
    load: Load,
    stamp: Vec<(PathBuf, Option<SystemTime>, u64)>,
}

/// Modification time and length of a file, or of every file of a directory.
fn stamp_of(path: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let one = |p: &Path| {
        let m = std::fs::metadata(p).ok();
        let t = m.as_ref().and_then(|m| m.modified().ok());
        (p.to_path_buf(), t, m.map(|m| m.len()).unwrap_or(0))
    };
    let Ok(entries) = std::fs::read_dir(path) else {
        return vec![one(path)];
    };
    let mut all: Vec<_> = entries.flatten().map(|e| one(&e.path())).collect();
    all.sort();
    all
}

impl ConfigSource {
    /// A source read by `load`, watched at `path`.
    pub(crate) fn new(path: PathBuf, load: Load) -> Self {
        let stamp = stamp_of(&path);
        ConfigSource { path, load, stamp }
    }

    /// Whether the files changed since the last call (or since start-up).
    pub(crate) fn changed(&mut self) -> bool {
        let now = stamp_of(&self.path);
        let changed = now != self.stamp;
        self.stamp = now;
        changed
    }
}

/// What a reload replaces, and what it compares the new configuration with.
pub(crate) struct Reloader {
    config: Config,
    shared: Shared,
    listeners: Vec<(Listener, Arc<ArcSwap<Gateway>>)>,
    metrics: Arc<EdgeMetrics>,
    /// Kept open while the current generation's credential refreshers must run: replacing it
    /// at the next reload drops it, and the previous generation's refreshers stop (requests
    /// still in flight on that generation fetch credentials on demand).
    generation: Option<watch::Sender<bool>>,
    /// What the admin listener answers from (`/config_dump`, `/usage`).
    admin: Arc<ArcSwap<AdminView>>,
}

impl Reloader {
    /// The reloader of a process built from `config`.
    pub(crate) fn new(
        config: &Config,
        shared: Shared,
        listeners: Vec<(Listener, Arc<ArcSwap<Gateway>>)>,
        metrics: Arc<EdgeMetrics>,
        admin: Arc<ArcSwap<AdminView>>,
    ) -> Self {
        Reloader {
            config: config.clone(),
            shared,
            listeners,
            metrics,
            generation: None,
            admin,
        }
    }

    /// Reload from `source`; `why` names the trigger in the log. Must run inside a Tokio
    /// runtime (the new backends' credential refreshers are spawned on it).
    pub(crate) fn reload(&mut self, source: &ConfigSource, why: &str) {
        let config = match (source.load)() {
            Ok(c) => c,
            Err(e) => {
                self.metrics.reload("invalid");
                log::error!(
                    "config reload ({why}): {} is invalid; the previous configuration keeps \
                     serving:\n{e}",
                    source.path.display()
                );
                return;
            }
        };
        match self.apply(config) {
            Ok(()) => {
                self.metrics.reload("ok");
                log::info!("config reload ({why}): {} applied", source.path.display());
            }
            Err(e) => {
                self.metrics.reload("failed");
                log::error!(
                    "config reload ({why}): cannot apply {}; the previous configuration keeps \
                     serving: {e}",
                    source.path.display()
                );
            }
        }
    }

    fn apply(&mut self, config: Config) -> Result<(), String> {
        let (upstreams, refresher) = super::upstreams(&config, &self.shared.metrics)?;
        let previous = self.shared.routes.limiters();
        let routes = Arc::new(RouteTable::new(&config.routes, &upstreams, previous)?);
        let shared = Shared {
            routes,
            ..self.shared.clone()
        };
        for note in restart_notes(&self.config, &config) {
            log::warn!("config reload: {note}");
        }
        for (old, live) in &mut self.listeners {
            let same = |l: &&Listener| l.name == old.name && l.namespace == old.namespace;
            if let Some(l) = config.listeners.iter().find(same) {
                let mut l = l.clone();
                // Bound to the old address (and serving the old certificate files) until a
                // restart.
                l.address = old.address;
                l.tls = old.tls.clone();
                let gw = Gateway::reloaded(l, &shared, &live.load());
                live.store(Arc::new(gw));
            }
        }
        let (run, stop) = watch::channel(false);
        for c in refresher.caches {
            tokio::spawn(c.run(stop.clone()));
        }
        for k in refresher.api_keys {
            tokio::spawn(k.run(stop.clone()));
        }
        // Dropping the previous sender ends the previous generation's refreshers.
        self.generation = Some(run);
        self.admin
            .store(AdminView::new(&config, shared.routes.clone()));
        self.shared = shared;
        self.config = config;
        Ok(())
    }
}

/// The changes a reload cannot apply, each as a log line.
fn restart_notes(old: &Config, new: &Config) -> Vec<String> {
    let mut notes = Vec::new();
    for (i, l) in new.listeners.iter().enumerate() {
        let key = format!("listeners[{i}] ({})", l.name);
        match old
            .listeners
            .iter()
            .find(|o| o.name == l.name && o.namespace == l.namespace)
        {
            None => notes.push(format!("{key} is new: it needs a restart to listen")),
            Some(o) if o.address != l.address => notes.push(format!(
                "{key}.address: {} → {} needs a restart; still listening on {}",
                o.address, l.address, o.address
            )),
            Some(o) => {
                let paths = |t: &Option<crate::config::model::ListenerTls>| {
                    t.as_ref()
                        .map(|t| (t.cert_file.clone(), t.key_file.clone()))
                };
                if paths(&o.tls) != paths(&l.tls) {
                    notes.push(format!(
                        "{key}.tls: a change of TLS files (or of TLS on/off) needs a restart"
                    ));
                }
            }
        }
    }
    for o in &old.listeners {
        if !new
            .listeners
            .iter()
            .any(|l| l.name == o.name && l.namespace == o.namespace)
        {
            notes.push(format!(
                "listener {} was removed: it keeps serving on {} until a restart",
                o.name, o.address
            ));
        }
    }
    if old.admin != new.admin {
        notes.push(format!(
            "admin.address: {} → {} needs a restart",
            old.admin, new.admin
        ));
    }
    if old.metrics != new.metrics {
        notes.push(format!(
            "metrics.address: {} → {} needs a restart",
            old.metrics, new.metrics
        ));
    }
    let (o, n) = (&old.server, &new.server);
    if o.threads != n.threads
        || o.grace_period != n.grace_period
        || o.max_in_flight_body_bytes != n.max_in_flight_body_bytes
    {
        notes.push("server: threads, gracePeriod and maxInFlightBodyBytes need a restart".into());
    }
    notes
}
