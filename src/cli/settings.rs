//! Settings: flags, then environment (VOUCHERDECK_*), then the TOML config file (the chosen
//! `[pipelines.NAME]` section, then its top level), then defaults.

use std::ops::RangeInclusive;
use std::time::Duration;

use super::args::GlobalArgs;
use super::config_file::{self, FileConfig};
use super::error::CliError;
use super::pepper::{self, Peppers};
use voucherdeck_aws::AwsOptions;
use voucherdeck_core::backend::{BackendKind, Names};
use voucherdeck_core::domain::limits::{self, check_queue_pair, fifo_dlq_name, is_fifo_name};
use voucherdeck_core::domain::{
    AgeThresholds, AlarmThresholds, Amount, Limits, QueueName, TrustedSenders,
};
use voucherdeck_pipeline::PipelineConfig;

/// Where the pipeline runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Embedded,
    Aws(AwsOptions),
}

/// Everything resolved for one pipeline.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The pipeline's name in the config file; `None` for the unnamed default.
    pub name: Option<String>,
    pub target: Target,
    pub names: Names,
    pub pipeline: PipelineConfig,
    pub read_only: bool,
    /// A production pipeline (read-only unless `--write`; a distinct header).
    pub production: bool,
    /// Oldest-message age thresholds.
    pub ages: AgeThresholds,
    /// The SNS topic alarms notify (`sns_topic` in the config file; `--sns-topic` overrides).
    pub sns_topic: Option<String>,
    /// The API key peppers configured (the pipeline holds the one in use).
    pub peppers: Peppers,
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

/// Which flags apply: all of them for the chosen pipeline; for a listing of every pipeline, only
/// those that are not about one pipeline's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flags {
    All,
    RunWide,
}

impl Settings {
    /// The pipeline a command runs on: `--pipeline NAME`, else the file's top level.
    pub fn resolve(g: &GlobalArgs) -> Result<Settings, CliError> {
        let file = config_file::load(g.config.as_deref())?;
        match &g.pipeline {
            Some(name) => build(g, Some(name), &file.pipeline(name)?, Flags::All),
            None => build(g, None, &file, Flags::All),
        }
    }

    /// Every configured pipeline, in name order (the unnamed default when the file names none).
    /// Flags that pick one pipeline's resources (queue, endpoint…) do not apply here.
    pub fn resolve_all(g: &GlobalArgs) -> Result<Vec<Settings>, CliError> {
        let file = config_file::load(g.config.as_deref())?;
        let names = file.pipeline_names();
        if names.is_empty() {
            return Ok(vec![build(g, None, &file, Flags::All)?]);
        }
        names
            .iter()
            .map(|n| build(g, Some(n), &file.pipeline(n)?, Flags::RunWide))
            .collect()
    }

    /// `prod` or `default`: how the pipeline is named on screen.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("default")
    }
}

fn resolve_names(g: &GlobalArgs, file: &FileConfig, flags: Flags) -> Result<Names, CliError> {
    let flag = |v: &Option<String>| if flags == Flags::All { v.clone() } else { None };
    let defaults = Names::default();
    let table = flag(&g.table)
        .or(file.table.clone())
        .unwrap_or(defaults.table);
    let queue = flag(&g.queue)
        .or(file.queue.clone())
        .unwrap_or(defaults.queue);
    let names = Names {
        queue: queue.clone(),
        dlq: flag(&g.dlq).or(file.dlq.clone()).unwrap_or_else(|| {
            if is_fifo_name(&queue) {
                fifo_dlq_name(&queue)
            } else {
                defaults.dlq
            }
        }),
        failure_table: file
            .failure_table
            .clone()
            .unwrap_or_else(|| format!("{table}-failures")),
        quota_table: file
            .quota_table
            .clone()
            .unwrap_or_else(|| format!("{table}-quotas")),
        audit_table: file
            .audit_table
            .clone()
            .unwrap_or_else(|| format!("{table}-audit")),
        key_table: file
            .key_table
            .clone()
            .unwrap_or_else(|| format!("{table}-keys")),
        table,
    };
    for (what, n) in [("queue", &names.queue), ("dlq", &names.dlq)] {
        QueueName::parse(n).map_err(|e| CliError::Usage(format!("{what}: {e}")))?;
    }
    check_queue_pair(&names.queue, &names.dlq).map_err(|e| CliError::Usage(format!("dlq: {e}")))?;
    Ok(names)
}

fn resolve_target(g: &GlobalArgs, file: &FileConfig, flags: Flags) -> Result<Target, CliError> {
    let flag = |v: &Option<String>| if flags == Flags::All { v.clone() } else { None };
    let endpoint_url = flag(&g.endpoint_url).or(file.endpoint_url.clone());
    if let Some(url) = &endpoint_url {
        check_endpoint_url("endpoint URL", url)?;
    } else if let Some(url) = env_set("AWS_ENDPOINT_URL") {
        check_endpoint_url("AWS_ENDPOINT_URL", &url)?;
    }
    let region = flag(&g.region).or(file.region.clone());
    let profile = flag(&g.profile).or(file.profile.clone());
    // An explicit backend in the file decides; otherwise anything pointing at AWS does.
    let aws = match file.backend {
        Some(kind) => kind == BackendKind::Aws,
        None => {
            endpoint_url.is_some()
                || region.is_some()
                || profile.is_some()
                || [
                    "AWS_ENDPOINT_URL",
                    "AWS_PROFILE",
                    "AWS_REGION",
                    "AWS_DEFAULT_REGION",
                ]
                .iter()
                .any(|v| env_set(v).is_some())
        }
    };
    // `--embedded` and `--aws` decide for the chosen pipeline.
    let aws = match flags {
        Flags::All if g.embedded => false,
        Flags::All if g.aws => true,
        _ => aws,
    };
    Ok(if aws {
        Target::Aws(AwsOptions {
            region,
            profile,
            endpoint_url,
            ..AwsOptions::default()
        })
    } else {
        Target::Embedded
    })
}

/// `value` of config key `key`, checked against `range`.
fn checked(
    value: Option<u32>,
    key: &str,
    range: &RangeInclusive<u32>,
    unit: &str,
) -> Result<Option<u32>, CliError> {
    value
        .map(|v| limits::check_range(v, range, unit))
        .transpose()
        .map_err(|rule| CliError::Usage(format!("config: {key} {rule}")))
}

/// The alarm thresholds the config file sets (the oldest-message ages aside).
fn resolve_alarms(file: &FileConfig, alarms: &mut AlarmThresholds) -> Result<(), CliError> {
    let percentages = [
        (
            file.failure_rate_percent,
            "failure_rate_percent",
            &limits::FAILURE_RATE_PERCENT,
            &mut alarms.failure_rate_percent,
        ),
        (
            file.intake_5xx_percent,
            "intake_5xx_percent",
            &limits::INTAKE_ALARM_PERCENT,
            &mut alarms.intake_5xx_percent,
        ),
        (
            file.intake_429_percent,
            "intake_429_percent",
            &limits::INTAKE_ALARM_PERCENT,
            &mut alarms.intake_429_percent,
        ),
    ];
    for (value, key, range, slot) in percentages {
        if let Some(v) = checked(value, key, range, "percent")? {
            *slot = v;
        }
    }
    let minutes = checked(
        file.no_consumer_minutes,
        "no_consumer_minutes",
        &limits::NO_CONSUMER_MINUTES,
        "minutes",
    )?;
    if let Some(m) = minutes {
        alarms.no_consumer = Duration::from_mins(u64::from(m));
    }
    Ok(())
}

fn resolve_config(file: &FileConfig) -> Result<PipelineConfig, CliError> {
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
    if let Some(ids) = &file.trusted_senders {
        pipeline.trusted_senders =
            Some(TrustedSenders::parse(ids).map_err(|e| CliError::Usage(format!("config: {e}")))?);
    }
    resolve_alarms(file, &mut pipeline.alarms)?;
    if let Some(v) = file.visibility_timeout_seconds {
        if v > limits::VISIBILITY_TIMEOUT_MAX.as_secs() {
            return Err(CliError::Usage(format!(
                "config: visibility_timeout_seconds must be at most {}",
                limits::VISIBILITY_TIMEOUT_MAX.as_secs()
            )));
        }
        pipeline.visibility_timeout = Duration::from_secs(v);
    }
    Ok(pipeline)
}

fn build(
    g: &GlobalArgs,
    name: Option<&str>,
    file: &FileConfig,
    flags: Flags,
) -> Result<Settings, CliError> {
    let production = file.production.unwrap_or(false);
    let default_ages = AgeThresholds::default();
    let read_only = g.read_only || file.read_only.unwrap_or(false) || (production && !g.write);
    let mut pipeline = resolve_config(file)?;
    pipeline.read_only = read_only;
    let ages = AgeThresholds::new(
        file.age_warn_seconds
            .map_or(default_ages.warn(), Duration::from_secs),
        file.age_alarm_seconds
            .map_or(default_ages.alarm(), Duration::from_secs),
    );
    pipeline.alarms.ages = ages;
    if let Some(arn) = &file.sns_topic {
        limits::check_sns_topic_arn(arn)
            .map_err(|rule| CliError::Usage(format!("config: sns_topic {rule}")))?;
    }
    let peppers = pepper::from_env(|var| std::env::var(var).ok())?;
    if let Some(current) = &peppers.current {
        pipeline.key_pepper.clone_from(current);
    }
    pipeline.key_pepper_previous.clone_from(&peppers.previous);
    pipeline.audit_file = Some(
        file.audit_file
            .clone()
            .unwrap_or_else(|| voucherdeck_tui::logging::state_dir().join("audit.jsonl")),
    );
    Ok(Settings {
        name: name.map(ToString::to_string),
        target: resolve_target(g, file, flags)?,
        names: resolve_names(g, file, flags)?,
        pipeline,
        read_only,
        production,
        ages,
        sns_topic: file.sns_topic.clone(),
        peppers,
    })
}
