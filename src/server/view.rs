//! What the admin listener answers from — the configuration part of `/config_dump` and the live
//! route table — kept apart so that a reload can build and swap it without the admin app.

use crate::config::dump::config_dump;
use crate::config::model::Config;
use crate::proxy::routes::RouteTable;
use serde_json::Value;
use std::sync::Arc;

/// What the admin answers from: the configuration part of the dump (built once per
/// configuration) and the live route table (health, rate-limit counts). A reload replaces it.
pub(crate) struct AdminView {
    /// The configuration part of `/config_dump`.
    pub(crate) dump: Value,
    /// The route table in force (health, rate-limit counts).
    pub(crate) routes: Arc<RouteTable>,
}

impl AdminView {
    /// The view of a validated config and its route table.
    pub(crate) fn new(config: &Config, routes: Arc<RouteTable>) -> Arc<Self> {
        Arc::new(AdminView {
            dump: config_dump(config),
            routes,
        })
    }
}
