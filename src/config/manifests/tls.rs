//! An HTTPS Gateway listener's certificate: the `kubernetes.io/tls` Secret its
//! `tls.certificateRefs[0]` names — given among the documents (its `tls.crt`/`tls.key` are
//! written, owner-only, to a per-process directory, since the listener loads PEM files), or
//! mounted under the secrets directory (`<dir>/<namespace>/<name>/tls.crt`).

use super::kinds::GatewayListener;
use super::parse::Parsed;
use super::Options;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub(super) fn listener_tls(
    p: &Parsed,
    l: &GatewayListener,
    lp: &str,
    options: &Options,
    secrets: &BTreeMap<(String, String), BTreeMap<String, String>>,
    errors: &mut Vec<String>,
) -> Option<Value> {
    let at = format!("{}: {lp}.tls", p.label);
    let Some(tls) = &l.tls else {
        errors.push(format!("{at}: required for protocol HTTPS"));
        return None;
    };
    if tls.mode.as_deref().is_some_and(|m| m != "Terminate") {
        errors.push(format!("{at}.mode: only Terminate is supported"));
        return None;
    }
    let Some(r) = tls.certificate_refs.first() else {
        errors.push(format!("{at}.certificateRefs: one Secret is required"));
        return None;
    };
    let kind = r.kind.as_deref().unwrap_or("Secret");
    if kind != "Secret" || r.group.as_deref().is_some_and(|g| !g.is_empty()) {
        errors.push(format!(
            "{at}.certificateRefs[0].kind: only a core Secret is supported"
        ));
        return None;
    }
    let ns = r.namespace.clone().unwrap_or_else(|| p.namespace.clone());
    if let Some(entries) = secrets.get(&(ns.clone(), r.name.clone())) {
        let dir = options.tls_dir.join(&ns).join(&r.name);
        let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
        let mut written = true;
        for (file, entry) in [(&cert, "tls.crt"), (&key, "tls.key")] {
            let Some(pem) = entries.get(entry) else {
                errors.push(format!(
                    "{at}.certificateRefs[0]: Secret `{ns}/{}` has no `{entry}`",
                    r.name
                ));
                written = false;
                continue;
            };
            if let Err(e) = write_private(&dir, file, pem) {
                errors.push(format!(
                    "{at}.certificateRefs[0]: cannot write {}: {e}",
                    file.display()
                ));
                written = false;
            }
        }
        return written.then(|| paths(&cert, &key));
    }
    let mounted = options
        .secrets_dir
        .as_ref()
        .map(|d| d.join(&ns).join(&r.name));
    if let Some(dir) = mounted.filter(|d| d.is_dir()) {
        return Some(paths(&dir.join("tls.crt"), &dir.join("tls.key")));
    }
    errors.push(format!(
        "{at}.certificateRefs[0].name: no Secret named `{}` in namespace `{ns}`",
        r.name
    ));
    None
}

fn paths(cert: &Path, key: &Path) -> Value {
    json!({"certFile": cert.display().to_string(), "keyFile": key.display().to_string()})
}

/// Write `text` to `file` (mode 0600) in `dir` (created 0700).
fn write_private(dir: &PathBuf, file: &Path, text: &str) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(text.as_bytes())
}
