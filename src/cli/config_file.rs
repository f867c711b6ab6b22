//! The TOML config file: top-level keys describe the default pipeline; `[pipelines.NAME]` sections
//! describe named ones and fall back to the top-level keys for what they leave out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::CliError;
use voucherdeck_core::backend::BackendKind;

/// One pipeline's keys (or the file's top level); every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
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
    pub audit_table: Option<String>,
    pub key_table: Option<String>,
    /// The local JSON Lines copy of the audit log [default: the state directory's audit.jsonl].
    pub audit_file: Option<std::path::PathBuf>,
    pub read_only: Option<bool>,
    /// A production pipeline: a distinct header, and read-only unless the command says `--write`.
    pub production: Option<bool>,
    pub max_amount: Option<String>,
    pub per_minute: Option<u32>,
    pub daily_cap: Option<u32>,
    pub max_receive_count: Option<u32>,
    pub visibility_timeout_seconds: Option<u64>,
    pub age_warn_seconds: Option<u64>,
    pub age_alarm_seconds: Option<u64>,
    /// The consumer failure rate, in percent of attempts, that fires its alarm.
    pub failure_rate_percent: Option<u32>,
    /// Minutes messages may wait while nothing is deleted before the no-consumer alarm fires.
    pub no_consumer_minutes: Option<u32>,
    /// The intake API's 5xx answers, in percent of its requests, that fire its alarm.
    pub intake_5xx_percent: Option<u32>,
    /// The intake API's 429 answers, in percent of its requests, that fire its alarm.
    pub intake_429_percent: Option<u32>,
    /// The SNS topic `provision --alarms` makes the alarms notify.
    pub sns_topic: Option<String>,
    /// IAM user, role or account ids whose messages the consumer accepts (others go to the DLQ as
    /// `untrusted_sender`); every sender when absent.
    pub trusted_senders: Option<Vec<String>>,
    /// Named pipelines (only at the top level).
    #[serde(default)]
    pub pipelines: BTreeMap<String, FileConfig>,
}

macro_rules! or_top {
    ($section:expr, $top:expr, $($field:ident),+) => {
        FileConfig {
            $($field: $section.$field.clone().or_else(|| $top.$field.clone()),)+
            pipelines: BTreeMap::new(),
        }
    };
}

impl FileConfig {
    /// The keys of pipeline `name`: its section over the top level.
    pub fn pipeline(&self, name: &str) -> Result<FileConfig, CliError> {
        let Some(section) = self.pipelines.get(name) else {
            let known: Vec<&str> = self.pipelines.keys().map(String::as_str).collect();
            return Err(CliError::Usage(if known.is_empty() {
                format!(
                    "no pipeline {name:?}: the config file defines no [pipelines.NAME] sections"
                )
            } else {
                format!(
                    "no pipeline {name:?} in the config file (known: {})",
                    known.join(", ")
                )
            }));
        };
        if !section.pipelines.is_empty() {
            return Err(CliError::Usage(format!(
                "config: [pipelines.{name}] may not contain pipelines of its own"
            )));
        }
        Ok(or_top!(
            section,
            self,
            backend,
            endpoint_url,
            region,
            profile,
            queue,
            dlq,
            table,
            failure_table,
            quota_table,
            audit_table,
            key_table,
            audit_file,
            read_only,
            production,
            max_amount,
            per_minute,
            daily_cap,
            max_receive_count,
            visibility_timeout_seconds,
            age_warn_seconds,
            age_alarm_seconds,
            failure_rate_percent,
            no_consumer_minutes,
            intake_5xx_percent,
            intake_429_percent,
            sns_topic,
            trusted_senders
        ))
    }

    /// The pipeline names, in order; empty when the file names none.
    pub fn pipeline_names(&self) -> Vec<String> {
        self.pipelines.keys().cloned().collect()
    }
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("voucherdeck").join("config.toml"))
}

fn read(path: &Path) -> Result<FileConfig, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| CliError::Usage(format!("config file {}: {e}", path.display())))
}

/// The file given, else `~/.config/voucherdeck/config.toml` when present, else nothing.
pub fn load(path: Option<&Path>) -> Result<FileConfig, CliError> {
    match path {
        Some(p) => read(p),
        None => match default_path().filter(|p| p.is_file()) {
            Some(p) => read(&p),
            None => Ok(FileConfig::default()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_fall_back_to_the_top_level() {
        let file: FileConfig = toml::from_str(
            "region = \"eu-west-1\"\nqueue = \"top\"\n\
             [pipelines.prod]\nqueue = \"prod-q\"\nproduction = true\n\
             [pipelines.dev]\nbackend = \"embedded\"\n",
        )
        .expect("parses");
        assert_eq!(file.pipeline_names(), vec!["dev", "prod"]);
        let prod = file.pipeline("prod").expect("prod");
        assert_eq!(prod.queue.as_deref(), Some("prod-q"));
        assert_eq!(prod.region.as_deref(), Some("eu-west-1"));
        assert_eq!(prod.production, Some(true));
        let dev = file.pipeline("dev").expect("dev");
        assert_eq!(dev.queue.as_deref(), Some("top"));
        let e = file.pipeline("stage").expect_err("unknown");
        assert!(e.to_string().contains("known: dev, prod"), "{e}");
    }

    #[test]
    fn unknown_keys_in_sections_are_refused() {
        let e = toml::from_str::<FileConfig>("[pipelines.a]\nqueu = \"x\"\n").expect_err("typo");
        assert!(e.to_string().contains("unknown field `queu`"), "{e}");
    }
}
