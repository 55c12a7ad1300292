//! `secrets`: each secret's entries, and the lookups other sections make into them.

use super::{check_unique, ns, resolve};
use crate::config::raw;
use crate::secret::Secret;
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The entries of every secret, by (namespace, name).
pub(super) struct Secrets {
    /// (namespace, name) → entries
    entries: BTreeMap<(String, String), BTreeMap<String, Secret>>,
    /// (namespace, name) → the mounted directory of a `path` secret.
    dirs: BTreeMap<(String, String), PathBuf>,
}

impl Secrets {
    /// The entries of the referenced secret (`default_ns` when the reference has none).
    pub(super) fn get(
        &self,
        r: &raw::SecretRef,
        default_ns: &str,
    ) -> Option<&BTreeMap<String, Secret>> {
        let ns = r.namespace.clone().unwrap_or_else(|| default_ns.to_owned());
        self.entries.get(&(ns, r.name.clone()))
    }

    /// The mounted directory behind a `path` secret.
    pub(super) fn dir(&self, r: &raw::SecretRef, default_ns: &str) -> Option<PathBuf> {
        let ns = r.namespace.clone().unwrap_or_else(|| default_ns.to_owned());
        self.dirs.get(&(ns, r.name.clone())).cloned()
    }
}

pub(super) fn load_secrets(list: &[raw::Secret], base: &Path, errors: &mut Vec<String>) -> Secrets {
    check_unique(
        "secret",
        "secrets",
        list.iter().map(|s| (s.name.as_str(), &s.namespace)),
        errors,
    );
    let mut entries = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for (i, s) in list.iter().enumerate() {
        let path = format!("secrets[{i}]");
        let key = (ns(&s.namespace), s.name.clone());
        if let Some(dir) = &s.path {
            dirs.entry(key.clone())
                .or_insert_with(|| resolve(base, dir));
        }
        // Checked even when a duplicate (reported above), so every problem shows at once.
        let map = secret_entries(s, &path, base, errors);
        entries.entry(key).or_insert(map);
    }
    Secrets { entries, dirs }
}

fn secret_entries(
    s: &raw::Secret,
    path: &str,
    base: &Path,
    errors: &mut Vec<String>,
) -> BTreeMap<String, Secret> {
    let mut map = BTreeMap::new();
    let sources = [s.string_data.is_some(), s.data.is_some(), s.path.is_some()];
    if sources.iter().filter(|x| **x).count() != 1 {
        errors.push(format!(
            "{path}: exactly one of stringData, data or path is required"
        ));
    }
    for (k, v) in s.string_data.iter().flatten() {
        map.insert(k.clone(), Secret::new(v.clone()));
    }
    for (k, v) in s.data.iter().flatten() {
        match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    map.insert(k.clone(), Secret::new(text));
                }
                Err(_) => errors.push(format!("{path}.data.{k}: value is not UTF-8 text")),
            },
            Err(_) => errors.push(format!("{path}.data.{k}: value is not valid base64")),
        }
    }
    if let Some(dir) = &s.path {
        let dir = resolve(base, dir);
        match crate::config::read_secret_dir(&dir) {
            Ok(m) => map.extend(m),
            Err(e) => errors.push(format!("{path}.path: cannot read {}: {e}", dir.display())),
        }
    }
    map
}

pub(super) fn secret_value(
    secrets: &Secrets,
    r: &raw::SecretRef,
    default_ns: &str,
    key: &str,
    required: bool,
    path: &str,
    errors: &mut Vec<String>,
) -> Option<Secret> {
    let Some(map) = secrets.get(r, default_ns) else {
        errors.push(format!(
            "{path}.secretRef.name: no secret named `{}`",
            r.name
        ));
        return None;
    };
    match map.get(key) {
        Some(v) if !v.expose().is_empty() => Some(v.clone()),
        _ if !required => None,
        _ => {
            errors.push(format!(
                "{path}.secretRef: secret `{}` has no non-empty `{key}`",
                r.name
            ));
            None
        }
    }
}

/// The client keys of `listeners[].auth.apiKeys`: every entry of the secret, none empty and no
/// two alike (a shared key would make the client's identity ambiguous).
pub(super) fn client_keys(
    r: &raw::SecretRef,
    default_ns: &str,
    path: &str,
    secrets: &Secrets,
    errors: &mut Vec<String>,
) -> Option<Vec<(String, Secret)>> {
    let Some(map) = secrets.get(r, default_ns) else {
        errors.push(format!("{path}.name: no secret named `{}`", r.name));
        return None;
    };
    if map.is_empty() {
        errors.push(format!("{path}: secret `{}` holds no keys", r.name));
        return None;
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, key) in map {
        if key.expose().is_empty() {
            errors.push(format!(
                "{path}: entry `{name}` of secret `{}` is empty",
                r.name
            ));
        } else if let Some(first) = seen.insert(key.expose(), name) {
            errors.push(format!(
                "{path}: entries `{first}` and `{name}` of secret `{}` hold the same key",
                r.name
            ));
        }
    }
    Some(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}
