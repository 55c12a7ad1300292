//! The credentials background service: every backend's credential refresher and API-key
//! watcher, stopped with the server.

use crate::credentials::Refresher;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

/// Runs the credential refreshers as a Pingora background service.
pub(crate) struct CredentialsService(pub(crate) Refresher);

#[async_trait::async_trait]
impl BackgroundService for CredentialsService {
    async fn start(&self, shutdown: ShutdownWatch) {
        let mut tasks: Vec<_> = self
            .0
            .caches
            .iter()
            .map(|c| tokio::spawn(c.clone().run(shutdown.clone())))
            .collect();
        tasks.extend(
            self.0
                .api_keys
                .iter()
                .map(|k| tokio::spawn(k.clone().run(shutdown.clone()))),
        );
        for t in tasks {
            let _ = t.await;
        }
    }
}
