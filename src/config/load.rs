//! Loading, for both formats: basalt's YAML (interpolated, then parsed into the raw structs) or
//! Kubernetes manifests (translated into the same raw structs); then the CLI overrides, the AWS
//! endpoint variables and the one validation.

use super::model::{Config, Source};
use super::validate::validate;
use super::{describe_serde_error, endpoint, interpolate, manifests, raw, ConfigError};
use std::path::{Path, PathBuf};

/// Command-line settings that apply to either config format.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--admin ADDR`: replaces `admin.address`.
    pub admin: Option<String>,
    /// `--metrics ADDR`: replaces `metrics.address`.
    pub metrics: Option<String>,
    /// `--secrets-dir DIR` (manifests): a Secret named by a resource but not among the
    /// documents is the mounted directory `DIR/<namespace>/<name>`.
    pub secrets_dir: Option<PathBuf>,
}

/// Read, interpolate, parse and validate a config file (or a directory of manifests).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &Overrides::default())
}

/// [`load`] with command-line overrides. PATH is basalt's YAML format, or Kubernetes manifests:
/// a file of documents that carry `apiVersion`/`kind`, or a directory of `*.yaml`/`*.yml`.
pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    if path.is_dir() {
        return from_manifests(manifests::read(path)?, path, &env, overrides);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(vec![format!("{}: cannot read: {e}", path.display())]))?;
    let base = path.parent().unwrap_or(Path::new("."));
    if manifests::is_manifests(&text) {
        let docs = manifests::split(&text, &path.display().to_string())?;
        return from_manifests(docs, base, &env, overrides);
    }
    from_native(&text, base, &env, overrides)
}

/// Parse config text (either format); `env` looks variables up (injected so tests need no
/// process env).
pub fn load_str(
    text: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let none = Overrides::default();
    if manifests::is_manifests(text) {
        return from_manifests(manifests::split(text, "config")?, base_dir, env, &none);
    }
    from_native(text, base_dir, env, &none)
}

pub(super) fn from_native(
    text: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let mut value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| ConfigError(vec![format!("invalid YAML: {e}")]))?;
    if value.is_null() {
        value = serde_yaml::Value::Mapping(Default::default());
    }
    let mut errors = Vec::new();
    interpolate(&mut value, &mut String::new(), env, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigError(errors));
    }
    let file = raw_file(value)?;
    finish(file, base_dir, env, overrides, None, Source::Native)
}

/// Manifests are read as Kubernetes reads them: no `${VAR}` interpolation.
pub(super) fn from_manifests(
    docs: Vec<manifests::Doc>,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let options = manifests::Options::new(overrides.secrets_dir.clone());
    let t = manifests::translate(docs, &options)?;
    let file = raw_file(t.native).map_err(|e| rename(e, &t.origins))?;
    let source = Source::Manifests {
        warnings: t.warnings,
    };
    finish(file, base_dir, env, overrides, Some(&t.origins), source)
}

fn raw_file(value: serde_yaml::Value) -> Result<raw::File, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ConfigError(vec![describe_serde_error(
            &path,
            &e.into_inner().to_string(),
        )])
    })
}

fn rename(e: ConfigError, origins: &manifests::Origins) -> ConfigError {
    ConfigError(e.0.iter().map(|m| origins.rename(m)).collect())
}

/// The steps both formats share: CLI overrides, the AWS endpoint variables, validation.
fn finish(
    mut file: raw::File,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
    origins: Option<&manifests::Origins>,
    source: Source,
) -> Result<Config, ConfigError> {
    if let Some(a) = &overrides.admin {
        file.admin = Some(raw::Address { address: a.clone() });
    }
    if let Some(m) = &overrides.metrics {
        file.metrics = Some(raw::Address { address: m.clone() });
    }
    let from_env = endpoint::apply(&mut file, env);
    match validate(file, base_dir) {
        Ok(mut config) => {
            config.source = source;
            Ok(config)
        }
        Err(ConfigError(errors)) => Err(ConfigError(
            errors
                .iter()
                .map(|e| {
                    let e = overrides.rename(e);
                    let e = from_env.as_ref().map_or(e.clone(), |f| f.rename(&e));
                    origins.map_or(e.clone(), |o| o.rename(&e))
                })
                .collect(),
        )),
    }
}

impl Overrides {
    /// `admin.address: ...` → `--admin: ...` when the flag set it.
    fn rename(&self, e: &str) -> String {
        let flags = [
            (&self.admin, "admin.address", "--admin"),
            (&self.metrics, "metrics.address", "--metrics"),
        ];
        let mut out = e.to_owned();
        for (set, key, flag) in flags {
            if set.is_some() {
                out = out.replace(key, flag);
            }
        }
        out
    }
}
