//! Gateway listeners → native `listeners` (`<gateway>.<listener>`, bound to the Gateway's first
//! IP address or `0.0.0.0`); HTTPS listeners take their certificate from `tls`.

use super::convert::Builder;
use super::kinds::{self, Resource};
use super::parse::Parsed;
use super::Options;
use serde_json::json;

impl Builder {
    pub(super) fn gateway(
        &mut self,
        p: &Parsed,
        r: &Resource<kinds::GatewaySpec>,
        options: &Options,
    ) {
        let ip = r
            .spec
            .addresses
            .iter()
            .find(|a| a.kind.as_deref().is_none_or(|k| k == "IPAddress"))
            .map_or("0.0.0.0".to_owned(), |a| {
                if a.value.contains(':') {
                    format!("[{}]", a.value)
                } else {
                    a.value.clone()
                }
            });
        for (k, l) in r.spec.listeners.iter().enumerate() {
            let lp = format!("spec.listeners[{k}]");
            if l.hostname.is_some() {
                self.warnings.push(format!(
                    "{}: {lp}.hostname is not applied: the listener serves every host",
                    p.label
                ));
            }
            let mut native = json!({
                "name": format!("{}.{}", p.name, l.name),
                "namespace": p.namespace,
                "address": format!("{ip}:{}", l.port),
            });
            match l.protocol.as_str() {
                "HTTP" => {}
                "HTTPS" => {
                    if let Some(tls) = super::tls::listener_tls(
                        p,
                        l,
                        &lp,
                        options,
                        &self.secret_entries,
                        &mut self.errors,
                    ) {
                        native["tls"] = tls;
                    }
                }
                other => self.errors.push(format!(
                    "{}: {lp}.protocol: `{other}` is not supported (HTTP, HTTPS)",
                    p.label
                )),
            }
            let i = self.listeners.len();
            self.origins.add(
                format!("listeners[{i}]"),
                &p.label,
                &[
                    ("", lp.clone()),
                    (".name", format!("{lp}.name")),
                    (".address", format!("{lp}.port")),
                    (
                        ".tls.certFile",
                        format!("{lp}.tls.certificateRefs[0] (tls.crt)"),
                    ),
                    (
                        ".tls.keyFile",
                        format!("{lp}.tls.certificateRefs[0] (tls.key)"),
                    ),
                ],
            );
            self.listeners.push(native);
        }
    }
}
