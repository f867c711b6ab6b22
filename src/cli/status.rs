//! `voucherdeck status`: one pipeline in detail, or `--all` pipelines one line each; `--check`
//! turns what needs attention into exit code 3.

use super::out::outln;
use std::time::Duration;

use serde::Serialize;

use super::args::{GlobalArgs, StatusArgs};
use super::error::CliError;
use super::settings::Settings;
use voucherdeck_core::domain::{
    AgeLevel, Timestamp, short_duration, text::sanitize, text::truncate,
};
use voucherdeck_pipeline::{AlarmReport, Pipeline, QueueFigures, StatusReport};

/// How long `--all` waits for one pipeline before calling it unreachable.
const PIPELINE_TIMEOUT: Duration = Duration::from_secs(15);

fn age(f: &QueueFigures) -> String {
    if let Some(note) = f.oldest_age_note {
        return note.into();
    }
    match (f.oldest_age_seconds, f.oldest_age_as_of) {
        (Some(s), Some(at)) if f.oldest_age_source == "cloudwatch" => {
            format!(
                "{} (CloudWatch, as of {} UTC)",
                short_duration(Duration::from_secs(s)),
                at.hm()
            )
        }
        (Some(s), _) => short_duration(Duration::from_secs(s)),
        (None, _) if f.oldest_age_source == "cloudwatch" => {
            "no data (CloudWatch has no recent datapoint)".into()
        }
        (None, _) => "no data".into(),
    }
}

fn num(v: Option<u64>) -> String {
    v.map_or_else(|| "?".into(), |n| n.to_string())
}

/// What in a report needs someone's attention, in words (empty: nothing).
fn attention(r: &StatusReport, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = r.dlq.visible.filter(|n| *n > 0) {
        out.push(format!("{n} message(s) in the DLQ {}", r.dlq.name));
    }
    if let Some(alarms) = &r.alarms {
        for a in alarms.firing() {
            let since = a
                .since
                .map_or_else(String::new, |t| format!(" since {} UTC", t.hms()));
            out.push(format!("alarm {} is in ALARM{since}", a.name));
        }
    }
    if let Some(s) = r.queue.oldest_age_seconds {
        let age = Duration::from_secs(s);
        if settings.ages.level(age) == AgeLevel::Alarm {
            out.push(format!(
                "oldest message in {} is {} old (alarm at {})",
                r.queue.name,
                short_duration(age),
                short_duration(settings.ages.alarm())
            ));
        }
    }
    out
}

pub async fn run(p: &Pipeline, settings: &Settings, args: &StatusArgs) -> Result<(), CliError> {
    let r = p.status(args.failures).await?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
    } else {
        print_report(&r)?;
    }
    let needs = attention(&r, settings);
    if args.check && !needs.is_empty() {
        return Err(CliError::Attention(needs.join("; ")));
    }
    Ok(())
}

fn print_report(r: &StatusReport) -> Result<(), CliError> {
    outln!("backend  {}", r.backend.describe())?;
    for (label, f) in [("queue", &r.queue), ("dlq", &r.dlq)] {
        outln!(
            "{label:<8} {:<24} visible {:>6}  in flight {:>6}  delayed {:>6}  oldest {}",
            f.name,
            num(f.visible),
            num(f.in_flight),
            num(f.delayed),
            age(f)
        )?;
    }
    if r.recent_failures.is_empty() {
        outln!("recent failures: none")?;
    } else {
        outln!("recent failures (newest first):")?;
        for f in &r.recent_failures {
            outln!(
                "  {} {:<11} rc {:<2} {:<20} {}",
                f.at.hms(),
                f.kind.as_str(),
                f.receive_count,
                f.recipient.as_deref().map_or("-".into(), sanitize),
                truncate(&sanitize(&f.reason), 90)
            )?;
        }
    }
    if let Some(a) = &r.alarms {
        print_alarms(a)?;
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    outln!("as of {}", r.as_of)
}

fn print_alarms(a: &AlarmReport) -> Result<(), CliError> {
    if let Some(why) = &a.unavailable {
        return outln!("alarms: {why}");
    }
    if a.alarms.is_empty() {
        return outln!("alarms: none (`voucherdeck provision --alarms` creates them)");
    }
    outln!("alarms ({}):", a.source)?;
    for alarm in &a.alarms {
        let since = alarm
            .since
            .map_or_else(|| "-".to_string(), |t| format!("since {}", t.hms()));
        outln!(
            "  {:<17} {:<32} {:<14} {}",
            alarm.state.as_str(),
            truncate(&alarm.name, 32),
            since,
            truncate(&sanitize(&alarm.reason), 70)
        )?;
    }
    if !a.missing.is_empty() {
        outln!(
            "  missing: {} (run `voucherdeck provision --alarms`)",
            a.missing.join(", ")
        )?;
    }
    if !a.outdated.is_empty() {
        outln!(
            "  differ from the settings: {} (run `voucherdeck provision --alarms`)",
            a.outdated.join(", ")
        )?;
    }
    Ok(())
}

/// One pipeline's line in `status --all`.
#[derive(Debug, Serialize)]
struct PipelineLine {
    name: String,
    production: bool,
    /// Why the pipeline could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// What needs attention.
    attention: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusReport>,
}

impl PipelineLine {
    /// Most troubled first: unreachable, then needing attention, then by alarms firing, DLQ size
    /// and depth.
    fn trouble(&self) -> (u8, usize, u64, u64) {
        let Some(s) = &self.status else {
            return (2, 0, 0, 0);
        };
        (
            u8::from(!self.attention.is_empty()),
            s.alarms.as_ref().map_or(0, |a| a.firing().count()),
            s.dlq.visible.unwrap_or(0),
            s.queue.visible.unwrap_or(0),
        )
    }
}

async fn line_for(settings: Settings) -> PipelineLine {
    let name = settings.label().to_string();
    let production = settings.production;
    let read = async {
        let (p, _embedded) = super::connect::connect(&settings, true).await?;
        Ok::<_, CliError>(p.status(0).await?)
    };
    let (status, error) = match tokio::time::timeout(PIPELINE_TIMEOUT, read).await {
        Ok(Ok(r)) => (Some(r), None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(_) => (
            None,
            Some(format!(
                "no answer within {}",
                short_duration(PIPELINE_TIMEOUT)
            )),
        ),
    };
    let attention = status
        .as_ref()
        .map(|r| attention(r, &settings))
        .unwrap_or_default();
    PipelineLine {
        name,
        production,
        error,
        attention,
        status,
    }
}

#[derive(Serialize)]
struct AllReport<'a> {
    pipelines: &'a [PipelineLine],
    as_of: Timestamp,
}

/// `status --all`: every pipeline at once; one that cannot be reached never holds up the others.
pub async fn run_all(g: &GlobalArgs, args: &StatusArgs) -> Result<(), CliError> {
    let all = Settings::resolve_all(g)?;
    let tasks: Vec<_> = all.into_iter().map(|s| tokio::spawn(line_for(s))).collect();
    let mut lines = Vec::new();
    for t in tasks {
        lines.push(t.await.map_err(|e| CliError::Failed(e.to_string()))?);
    }
    lines.sort_by(|a, b| b.trouble().cmp(&a.trouble()).then(a.name.cmp(&b.name)));
    if args.json {
        let report = AllReport {
            pipelines: &lines,
            as_of: Timestamp::now(),
        };
        outln!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failed(e.to_string()))?
        )?;
    } else {
        print_lines(&lines)?;
    }
    if !args.check {
        return Ok(());
    }
    let unreachable: Vec<&str> = lines
        .iter()
        .filter(|l| l.error.is_some())
        .map(|l| l.name.as_str())
        .collect();
    if !unreachable.is_empty() {
        return Err(CliError::Failed(format!(
            "cannot read: {}",
            unreachable.join(", ")
        )));
    }
    let needs: Vec<String> = lines
        .iter()
        .flat_map(|l| l.attention.iter().map(move |a| format!("{}: {a}", l.name)))
        .collect();
    if needs.is_empty() {
        Ok(())
    } else {
        Err(CliError::Attention(needs.join("; ")))
    }
}

/// Where a pipeline runs, short: `embedded`, its endpoint, or its region.
fn where_(r: &StatusReport) -> String {
    let b = &r.backend;
    match (&b.endpoint, &b.region) {
        _ if b.kind == voucherdeck_core::backend::BackendKind::Embedded => "embedded".into(),
        (Some(e), _) => e.clone(),
        (None, Some(region)) => format!("aws {region}"),
        (None, None) => "aws".into(),
    }
}

/// The oldest-message age for a table cell: `empty` when nothing waits.
fn oldest(f: &QueueFigures) -> String {
    if f.oldest_age_note.is_some() {
        return "no data".into();
    }
    match f.oldest_age_seconds {
        Some(s) => short_duration(Duration::from_secs(s)),
        None if f.visible == Some(0) && f.in_flight == Some(0) => "empty".into(),
        None => "no data".into(),
    }
}

/// The alarms for a table cell: `2 ALARM`, `ok`, `none`, `n/a` (no CloudWatch) or `?`.
pub(super) fn alarm_cell(a: Option<&AlarmReport>) -> String {
    match a {
        None => "?".into(),
        Some(a) if a.unavailable.is_some() => "n/a".into(),
        Some(a) if a.alarms.is_empty() => "none".into(),
        Some(a) => match a.firing().count() {
            0 => "ok".into(),
            n => format!("{n} ALARM"),
        },
    }
}

fn print_lines(lines: &[PipelineLine]) -> Result<(), CliError> {
    outln!(
        "{:<16} {:<30} {:>8} {:>9} {:>10} {:>6}  {:<9}  STATE",
        "PIPELINE",
        "BACKEND",
        "VISIBLE",
        "IN FLIGHT",
        "OLDEST",
        "DLQ",
        "ALARMS"
    )?;
    for l in lines {
        let name = if l.production {
            format!("{} (prod)", l.name)
        } else {
            l.name.clone()
        };
        match &l.status {
            None => outln!(
                "{:<16} {:<30} {:>8} {:>9} {:>10} {:>6}  {:<9}  unreachable: {}",
                truncate(&name, 16),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                truncate(&sanitize(l.error.as_deref().unwrap_or_default()), 80)
            )?,
            Some(r) => outln!(
                "{:<16} {:<30} {:>8} {:>9} {:>10} {:>6}  {:<9}  {}",
                truncate(&name, 16),
                truncate(&where_(r), 30),
                num(r.queue.visible),
                num(r.queue.in_flight),
                oldest(&r.queue),
                num(r.dlq.visible),
                alarm_cell(r.alarms.as_ref()),
                if l.attention.is_empty() {
                    "ok".to_string()
                } else {
                    l.attention.join("; ")
                }
            )?,
        }
    }
    Ok(())
}
