//! Downstream TLS certificates that follow their files: each TLS listener serves the
//! certificate and key its [`CertStore`] holds; a watcher re-reads both files when either
//! changes (cert-manager rotates them in place). A new pair that does not load, or whose key
//! does not match, is refused with a log line and the old pair keeps serving. Connections
//! already open keep the certificate they were opened with.

use crate::config::model::ListenerTls;
use crate::config::tls::load_certified_key;
use arc_swap::ArcSwap;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How often the certificate files are checked for a change.
const POLL: Duration = Duration::from_secs(1);

/// What identifies one version of the files: modification time and length of each.
type Stamp = [Option<(SystemTime, u64)>; 2];

fn stamp_of(files: [&Path; 2]) -> Stamp {
    files.map(|f| {
        std::fs::metadata(f)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    })
}

/// One listener's current certificate and key.
#[derive(Debug)]
pub(crate) struct CertStore {
    listener: String,
    cert_file: PathBuf,
    key_file: PathBuf,
    current: ArcSwap<CertifiedKey>,
    stamp: Mutex<Stamp>,
}

impl CertStore {
    /// Load a listener's pair (it was checked at config load; it may have changed since).
    pub(crate) fn load(listener: &str, tls: &ListenerTls) -> Result<Arc<Self>, String> {
        let files = [tls.cert_file.as_path(), tls.key_file.as_path()];
        let stamp = stamp_of(files);
        let key = load_certified_key(&tls.cert_file, &tls.key_file)?;
        Ok(Arc::new(CertStore {
            listener: listener.to_owned(),
            cert_file: tls.cert_file.clone(),
            key_file: tls.key_file.clone(),
            current: ArcSwap::from_pointee(key),
            stamp: Mutex::new(stamp),
        }))
    }

    /// Re-read the pair if either file changed; `Some(result)` when a change was seen.
    pub(crate) fn refresh(&self) -> Option<Result<(), String>> {
        let now = stamp_of([&self.cert_file, &self.key_file]);
        {
            let mut seen = self.stamp.lock().ok()?;
            if *seen == now {
                return None;
            }
            *seen = now;
        }
        let result = load_certified_key(&self.cert_file, &self.key_file);
        Some(match result {
            Ok(key) => {
                self.current.store(Arc::new(key));
                log::info!(
                    "listener {}: TLS certificate reloaded from {}",
                    self.listener,
                    self.cert_file.display()
                );
                Ok(())
            }
            Err(e) => {
                log::warn!(
                    "listener {}: new TLS certificate refused, the previous one keeps serving: {e}",
                    self.listener
                );
                Err(e)
            }
        })
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The background service that checks every TLS listener's files once a second.
pub(crate) struct CertWatcher(pub(crate) Vec<Arc<CertStore>>);

#[async_trait::async_trait]
impl BackgroundService for CertWatcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
            for store in &self.0 {
                store.refresh();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/config/testdata")
            .join(name)
    }

    #[test]
    fn a_bad_new_key_is_refused_and_the_old_pair_kept() {
        let dir = std::env::temp_dir().join(format!("basalt-certs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
        std::fs::copy(fixture("cert.pem"), &cert).unwrap();
        std::fs::copy(fixture("key.pem"), &key).unwrap();
        let tls = ListenerTls {
            cert_file: cert.clone(),
            key_file: key.clone(),
        };
        let store = CertStore::load("l", &tls).unwrap();
        assert!(store.refresh().is_none(), "unchanged files are not re-read");
        let before = store.current.load_full();
        let other = std::fs::read(fixture("other-key.pem")).unwrap();
        std::fs::write(&key, [other.as_slice(), b"\n"].concat()).unwrap();
        assert!(store.refresh().unwrap().is_err());
        assert!(Arc::ptr_eq(&before, &store.current.load_full()));
        std::fs::copy(fixture("key.pem"), &key).unwrap();
        std::fs::write(
            &key,
            [std::fs::read(fixture("key.pem")).unwrap(), b"\n\n".to_vec()].concat(),
        )
        .unwrap();
        assert!(store.refresh().unwrap().is_ok());
        assert!(!Arc::ptr_eq(&before, &store.current.load_full()));
    }
}
