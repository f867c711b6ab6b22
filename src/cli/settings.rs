//! Settings: flags, then environment (VOUCHERDECK_*), then the TOML config file, then defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::args::GlobalArgs;
use super::error::CliError;
use crate::backend::{AwsOptions, BackendKind, Names};
use crate::domain::limits;
use crate::domain::{AgeThresholds, Amount, Limits, QueueName};
use crate::pipeline::PipelineConfig;

/// The config file's contents; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub backend: Option<BackendKind>,
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub queue: Option<String>,
    pub dlq: Option<String>,
    pub table: Option<String>,
    pub failure_table: Option<String>,
    pub quota_table: Option<String>,
    pub read_only: Option<bool>,
    pub max_amount: Option<String>,
    pub per_minute: Option<u32>,
    pub daily_cap: Option<u32>,
    pub max_receive_count: Option<u32>,
    pub visibility_timeout_seconds: Option<u64>,
    pub age_warn_seconds: Option<u64>,
    pub age_alarm_seconds: Option<u64>,
}

/// Where the pipeline runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Embedded,
    Aws(AwsOptions),
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub target: Target,
    pub names: Names,
    pub pipeline: PipelineConfig,
    pub read_only: bool,
    /// Oldest-message age thresholds.
    pub ages: AgeThresholds,
}

fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("voucherdeck").join("config.toml"))
}

fn load_file(path: &Path) -> Result<FileConfig, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| CliError::Usage(format!("config file {}: {e}", path.display())))
}

fn env_set(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// An endpoint must be an `http://` or `https://` URL with a host: anything else would surface much
/// later as a confusing credentials or connection error.
fn check_endpoint_url(what: &str, url: &str) -> Result<(), CliError> {
    let parsed = url.trim().parse::<http::Uri>().ok();
    let ok = parsed.as_ref().is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{what} {url:?} is not a URL: expected http://host[:port] or https://host[:port] \
             (e.g. http://127.0.0.1:5000)"
        )))
    }
}

impl Settings {
    pub fn resolve(g: &GlobalArgs) -> Result<Settings, CliError> {
        let file = match &g.config {
            Some(p) => load_file(p)?,
            None => match default_config_path().filter(|p| p.is_file()) {
                Some(p) => load_file(&p)?,
                None => FileConfig::default(),
            },
        };
        let defaults = Names::default();
        let table = g
            .table
            .clone()
            .or(file.table.clone())
            .unwrap_or(defaults.table);
        let names = Names {
            queue: g
                .queue
                .clone()
                .or(file.queue.clone())
                .unwrap_or(defaults.queue),
            dlq: g.dlq.clone().or(file.dlq.clone()).unwrap_or(defaults.dlq),
            failure_table: file
                .failure_table
                .clone()
                .unwrap_or_else(|| format!("{table}-failures")),
            quota_table: file
                .quota_table
                .clone()
                .unwrap_or_else(|| format!("{table}-quotas")),
            table,
        };
        for (what, n) in [("queue", &names.queue), ("dlq", &names.dlq)] {
            QueueName::parse(n).map_err(|e| CliError::Usage(format!("{what}: {e}")))?;
        }

        let endpoint_url = g.endpoint_url.clone().or(file.endpoint_url.clone());
        if let Some(url) = &endpoint_url {
            check_endpoint_url("--endpoint-url", url)?;
        } else if let Some(url) = env_set("AWS_ENDPOINT_URL") {
            check_endpoint_url("AWS_ENDPOINT_URL", &url)?;
        }
        let region = g.region.clone().or(file.region.clone());
        let profile = g.profile.clone().or(file.profile.clone());
        let aws_configured = g.aws
            || file.backend == Some(BackendKind::Aws)
            || endpoint_url.is_some()
            || region.is_some()
            || profile.is_some()
            || [
                "AWS_ENDPOINT_URL",
                "AWS_PROFILE",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
            ]
            .iter()
            .any(|v| env_set(v).is_some());
        let target = if g.embedded || !aws_configured {
            Target::Embedded
        } else {
            Target::Aws(AwsOptions {
                region,
                profile,
                endpoint_url,
                ..AwsOptions::default()
            })
        };

        let mut pipeline = PipelineConfig::default();
        if let Some(max) = &file.max_amount {
            let amount: Amount = max
                .parse()
                .map_err(|e| CliError::Usage(format!("config: max_amount {e}")))?;
            pipeline.limits = Limits { max_amount: amount };
        }
        if let Some(v) = file.per_minute {
            pipeline.per_minute = v;
        }
        if let Some(v) = file.daily_cap {
            pipeline.daily_cap = v;
        }
        if let Some(v) = file.max_receive_count {
            if !limits::MAX_RECEIVE_COUNT.contains(&v) {
                return Err(CliError::Usage(format!(
                    "config: max_receive_count must be {} to {}",
                    limits::MAX_RECEIVE_COUNT.start(),
                    limits::MAX_RECEIVE_COUNT.end()
                )));
            }
            pipeline.max_receive_count = v;
        }
        if let Some(v) = file.visibility_timeout_seconds {
            if v > limits::VISIBILITY_TIMEOUT_MAX.as_secs() {
                return Err(CliError::Usage(format!(
                    "config: visibility_timeout_seconds must be at most {}",
                    limits::VISIBILITY_TIMEOUT_MAX.as_secs()
                )));
            }
            pipeline.visibility_timeout = Duration::from_secs(v);
        }
        let default_ages = AgeThresholds::default();
        Ok(Settings {
            target,
            names,
            pipeline,
            read_only: g.read_only || file.read_only.unwrap_or(false),
            ages: AgeThresholds::new(
                file.age_warn_seconds
                    .map_or(default_ages.warn(), Duration::from_secs),
                file.age_alarm_seconds
                    .map_or(default_ages.alarm(), Duration::from_secs),
            ),
        })
    }
}
