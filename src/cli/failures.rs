//! `voucherdeck failures --by-reason --per hour|day [--json]`: the failure log counted by reason,
//! per UTC hour over the last 24 hours or per UTC day over the last 7 days.

use std::fmt::Write as _;

use super::args::{FailuresArgs, FailuresPer};
use super::error::CliError;
use super::out::outln;
use voucherdeck_core::domain::text::{sanitize, truncate};
use voucherdeck_pipeline::{FAILURE_COUNT_READ_MAX, FailureCounts, Per, Pipeline};

/// Widest reason shown in the table (the JSON has all of it).
const REASON_W: usize = 48;

pub async fn run(p: &Pipeline, a: &FailuresArgs) -> Result<(), CliError> {
    let per = match a.per {
        FailuresPer::Hour => Per::Hour,
        FailuresPer::Day => Per::Day,
    };
    let counts = p.failure_counts(per).await?;
    if a.json {
        let text =
            serde_json::to_string_pretty(&counts).map_err(|e| CliError::Failed(e.to_string()))?;
        return outln!("{text}");
    }
    for line in table(&counts) {
        outln!("{line}")?;
    }
    if !counts.complete {
        outln!("(counted from the newest {FAILURE_COUNT_READ_MAX} failures of the period only)")?;
    }
    Ok(())
}

/// A header of period labels (`HH` per hour, `MM-DD` per day, UTC), then one line per reason:
/// its counts oldest first, the total, the kind and the reason.
fn table(c: &FailureCounts) -> Vec<String> {
    if c.reasons.is_empty() {
        let span = match c.per {
            Per::Hour => "the last 24 hours",
            Per::Day => "the last 7 days",
        };
        return vec![format!("no failures in {span}")];
    }
    let (labels, w): (Vec<String>, usize) = match c.per {
        // `HH` of `HH:MM`, `MM-DD` of `YYYY-MM-DD`.
        Per::Hour => (
            c.periods
                .iter()
                .map(|t| t.hm().split(':').next().unwrap_or_default().to_string())
                .collect(),
            3,
        ),
        Per::Day => (
            c.periods
                .iter()
                .map(|t| t.day().get(5..).unwrap_or_default().to_string())
                .collect(),
            6,
        ),
    };
    let mut header = String::new();
    for l in &labels {
        let _ = write!(header, "{l:>w$}");
    }
    let _ = write!(header, "  {:>6}  {:<11} reason (UTC)", "total", "kind");
    let mut lines = vec![header];
    for r in &c.reasons {
        let mut line = String::new();
        for n in &r.counts {
            let cell = if *n == 0 {
                ".".to_string()
            } else {
                n.to_string()
            };
            let _ = write!(line, "{cell:>w$}");
        }
        let _ = write!(
            line,
            "  {:>6}  {:<11} {}",
            r.total,
            r.kind.as_str(),
            truncate(&sanitize(&r.reason), REASON_W)
        );
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::domain::{FailureKind, FailureRecord, Timestamp};

    #[test]
    fn the_table_has_a_column_per_period_and_a_line_per_reason() {
        // 2026-12-08T10:30Z
        let now = Timestamp(1_796_725_800_000);
        let r = FailureRecord {
            record_id: uuid::Uuid::now_v7(),
            at: now,
            queue: "vouchers".into(),
            message_id: "m".into(),
            voucher_id: None,
            recipient: None,
            kind: FailureKind::Invalid,
            reason: "amount\u{1b}[2J".into(),
            receive_count: 1,
            worker: "w".into(),
            dead_lettered: false,
            group: None,
        };
        let lines = table(&FailureCounts::count(Per::Hour, now, &[r.clone(), r], true));
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with(" 11 12"), "{:?}", lines[0]);
        assert!(lines[0].contains(" 09 10  "), "{:?}", lines[0]);
        assert!(
            lines[1].contains("  .  2       2  invalid     amount\u{fffd}[2J"),
            "{:?}",
            lines[1]
        );
        let days = table(&FailureCounts::count(Per::Day, now, &[], true));
        assert_eq!(days, vec!["no failures in the last 7 days".to_string()]);
    }
}
