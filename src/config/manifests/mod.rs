//! Kubernetes manifests as a config source: the guide's `Secret`, `AgentgatewayBackend`,
//! `HTTPRoute`, `AgentgatewayPolicy` and `Gateway` documents are turned into the native config
//! (the same raw structs and the same validation, so every native rule applies), and the
//! native errors are renamed back to the document, kind/name and key path they came from.

mod convert;
mod gateways;
mod kinds;
mod origins;
mod parse;
mod policies;
#[cfg(test)]
mod tests;
mod tls;

use super::ConfigError;
use std::path::{Path, PathBuf};

pub(crate) use origins::Origins;

/// One YAML document and where it came from (`file: document N`).
pub(crate) struct Doc {
    /// `path/to/file.yaml: document N` (N from 1).
    pub(crate) label: String,
    /// The document as parsed.
    pub(crate) value: serde_yaml::Value,
}

/// What the manifests front-end needs besides the documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Where Secrets not among the documents are mounted: `DIR/<namespace>/<name>/<key>`.
    pub(crate) secrets_dir: Option<PathBuf>,
    /// Where the PEM files of TLS Secrets given inline are written for the listeners.
    pub(crate) tls_dir: PathBuf,
}

impl Options {
    /// The defaults: no mounted secrets; TLS files in a per-process directory under `$TMPDIR`.
    pub(crate) fn new(secrets_dir: Option<PathBuf>) -> Self {
        Options {
            secrets_dir,
            tls_dir: std::env::temp_dir().join(format!("basalt-{}-tls", std::process::id())),
        }
    }
}

/// The native config (as a YAML value) built from manifests, how to name its errors, and
/// warnings about documents that were ignored.
pub(crate) struct Translated {
    /// The native config, as if written by hand.
    pub(crate) native: serde_yaml::Value,
    /// Native key path → document and manifest key path.
    pub(crate) origins: Origins,
    /// Kinds basalt does not serve, and fields accepted but not applied.
    pub(crate) warnings: Vec<String>,
}

/// Whether config text is manifests: several documents, or one that carries
/// `apiVersion`/`kind` (the native format has neither key).
pub(crate) fn is_manifests(text: &str) -> bool {
    let mut docs = 0;
    for de in serde_yaml::Deserializer::from_str(text) {
        let Ok(v) = <serde_yaml::Value as serde::Deserialize>::deserialize(de) else {
            return false;
        };
        if v.get("apiVersion").is_some() || v.get("kind").is_some() {
            return true;
        }
        if !v.is_null() {
            docs += 1;
        }
    }
    docs > 1
}

/// The documents of one file of YAML documents (empty ones skipped).
pub(crate) fn split(text: &str, file: &str) -> Result<Vec<Doc>, ConfigError> {
    let mut out = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let label = format!("{file}: document {}", i + 1);
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(de)
            .map_err(|e| ConfigError(vec![format!("{label}: invalid YAML: {e}")]))?;
        if !value.is_null() {
            out.push(Doc { label, value });
        }
    }
    Ok(out)
}

/// The documents of a file, or of every `*.yaml`/`*.yml` file of a directory in name order
/// (not recursive; dot-files such as a ConfigMap volume's `..data` are skipped).
pub(crate) fn read(path: &Path) -> Result<Vec<Doc>, ConfigError> {
    let cannot = |p: &Path, e: std::io::Error| {
        ConfigError(vec![format!("{}: cannot read: {e}", p.display())])
    };
    let files = if path.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| cannot(path, e))? {
            let p = entry.map_err(|e| cannot(path, e))?.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
            if yaml && !name.starts_with('.') && p.is_file() {
                files.push(p);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(ConfigError(vec![format!(
                "{}: no *.yaml or *.yml file in this directory",
                path.display()
            )]));
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| cannot(&f, e))?;
        docs.extend(split(&text, &f.display().to_string())?);
    }
    Ok(docs)
}

/// Turn the documents into the native config.
pub(crate) fn translate(docs: Vec<Doc>, options: &Options) -> Result<Translated, ConfigError> {
    convert::translate(docs, options)
}
