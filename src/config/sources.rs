//! Where each value comes from: the layers' names (kept for `check-config`), environment
//! variables as named layers, and secrets given as files (`k_file` = a path whose content,
//! one trailing newline trimmed, is the value of `k`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use figment::value::{Dict, Map, Tag, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::ConfigError;

/// Keys that may be given as `<name>_file`; `url_file` only as `database.url_file`.
const FILE_KEYS: &[&str] = &[
    "jwt_secret",
    "link_secret",
    "hash_secret",
    "hash_key",
    "access_key",
    "secret_key",
    "key1",
    "key2",
    "bearer_token",
    "password",
    "secret",
    "public_key",
    "url",
];

/// Where the layered files come from.
#[derive(Debug, Clone)]
pub struct ConfigSources {
    pub dir: PathBuf,
    pub environment: String,
    pub extra_file: Option<PathBuf>,
}

impl ConfigSources {
    /// `LANDPAY_CONFIG_DIR` (default `config/` in the working directory; it need not exist),
    /// `LANDPAY_ENV` (default `local`), and `--config`.
    pub fn from_env(extra_file: Option<PathBuf>) -> Self {
        let environment = std::env::var("LANDPAY_ENV").unwrap_or_else(|_| "local".to_owned());
        let dir = std::env::var("LANDPAY_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("config"));
        Self {
            dir,
            environment,
            extra_file,
        }
    }
}

/// One `LANDPAY__…` variable as a layer of its own, so that its values say which variable set them.
pub(super) struct EnvVar {
    pub name: String,
    pub key: String,
    pub value: Value,
}

impl Provider for EnvVar {
    fn metadata(&self) -> Metadata {
        Metadata::from(
            "environment variable",
            Source::Custom(format!("environment variable {}", self.name)),
        )
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        figment::providers::Serialized::default(&self.key, &self.value).data()
    }
}

/// `LANDPAY__SERVER__PORT=8081` → (`server.port`, "8081"). Scalars stay strings here and are
/// converted to the key's type on extraction; `[...]` and `{...}` are TOML inline values.
pub(super) fn env_overrides(env: &[(String, String)]) -> Result<Vec<EnvVar>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, raw) in env {
        let Some(path) = name.strip_prefix("LANDPAY__") else {
            continue;
        };
        let key = path
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(".");
        let trimmed = raw.trim();
        let value = if trimmed.starts_with('[') || trimmed.starts_with('{') {
            let doc: toml::Table = toml::from_str(&format!("v = {trimmed}"))
                .map_err(|e| ConfigError::invalid(&key, format!("not a TOML inline value: {e}")))?;
            let inline = doc.get("v").cloned().unwrap_or(toml::Value::Boolean(false));
            Value::serialize(inline).map_err(|e| ConfigError::invalid(&key, e.to_string()))?
        } else {
            Value::from(raw.clone())
        };
        out.insert(
            key.clone(),
            EnvVar {
                name: name.clone(),
                key,
                value,
            },
        );
    }
    Ok(out.into_values().collect())
}

/// The merged configuration tree with every `k_file` replaced by `k`, and where every leaf
/// came from (`auth.jwt_secret` → `file /run/secrets/jwt (auth.jwt_secret_file, environment
/// variable LANDPAY__AUTH__JWT_SECRET_FILE)`).
pub(super) fn resolve(figment: &Figment) -> Result<(Dict, BTreeMap<String, String>), ConfigError> {
    let mut data = figment
        .data()
        .map_err(|e| ConfigError::Load(e.kind.to_string()))?;
    let mut dict = data.remove(&Profile::Default).unwrap_or_default();
    let mut origins = BTreeMap::new();
    walk(figment, "", &mut dict, &mut origins)?;
    Ok((dict, origins))
}

fn describe(figment: &Figment, tag: Tag) -> String {
    match figment.get_metadata(tag).and_then(|m| m.source.as_ref()) {
        Some(Source::File(path)) => format!("file {}", path.display()),
        Some(Source::Custom(text)) => text.clone(),
        _ => "built-in defaults".to_owned(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(
    figment: &Figment,
    prefix: &str,
    dict: &mut Dict,
    origins: &mut BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    let file_keys: Vec<String> = dict
        .keys()
        .filter(|k| {
            k.strip_suffix("_file").is_some_and(|stem| {
                FILE_KEYS.contains(&stem) && (stem != "url" || prefix == "database")
            })
        })
        .cloned()
        .collect();
    for file_key in file_keys {
        let Some(value) = dict.remove(&file_key) else {
            continue;
        };
        let stem = file_key.trim_end_matches("_file").to_owned();
        let key_path = join(prefix, &file_key);
        let path = value
            .as_str()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| ConfigError::invalid(&key_path, "must be a file path"))?
            .to_owned();
        let content = read_secret_file(&path).map_err(|m| ConfigError::invalid(&key_path, m))?;
        origins.insert(
            join(prefix, &stem),
            format!(
                "file {path} ({key_path}, {})",
                describe(figment, value.tag())
            ),
        );
        dict.insert(stem, Value::from(content));
    }
    for (key, value) in dict.iter_mut() {
        let path = join(prefix, key);
        match value {
            Value::Dict(_, inner) => walk(figment, &path, inner, origins)?,
            Value::Array(_, items) if items.iter().any(|v| matches!(v, Value::Dict(..))) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    match item {
                        Value::Dict(_, inner) => walk(figment, &item_path, inner, origins)?,
                        other => {
                            origins.insert(item_path, describe(figment, other.tag()));
                        }
                    }
                }
            }
            other => {
                origins
                    .entry(path)
                    .or_insert_with(|| describe(figment, other.tag()));
            }
        }
    }
    Ok(())
}

/// The content of a secret file with one trailing newline (`\n` or `\r\n`) removed. The
/// message names the path and the failure, never the content.
pub fn read_secret_file(path: &str) -> Result<String, String> {
    let mut text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the file {path}: {}", e.kind()))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(format!("the file {path} is empty"));
    }
    Ok(text)
}

/// `check-config`'s trailer: one TOML comment line per key, saying where its value came from.
pub fn provenance_report(origins: &BTreeMap<String, String>) -> String {
    let mut out = String::from("\n# Where each value came from:\n");
    for (key, origin) in origins {
        out.push_str(&format!("#   {key} = {origin}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_trailing_newline_is_trimmed_and_an_empty_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "abc\n\n").unwrap();
        let p = path.display().to_string();
        assert_eq!(read_secret_file(&p).unwrap(), "abc\n");
        std::fs::write(&path, "abc\r\n").unwrap();
        assert_eq!(read_secret_file(&p).unwrap(), "abc");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_secret_file(&p).unwrap_err().contains("empty"));
        let err = read_secret_file("/nonexistent/secret").unwrap_err();
        assert!(err.contains("/nonexistent/secret"), "{err}");
    }
}
