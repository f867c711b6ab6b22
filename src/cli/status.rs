//! `voucherdeck status`.

use super::args::StatusArgs;
use super::error::CliError;
use crate::domain::{short_duration, text::sanitize, text::truncate};
use crate::pipeline::{Pipeline, QueueFigures};

fn age(f: &QueueFigures) -> String {
    match (f.oldest_age_seconds, f.oldest_age_as_of) {
        (Some(s), Some(at)) if f.oldest_age_source == "cloudwatch" => {
            format!(
                "{} (CloudWatch, as of {} UTC)",
                short_duration(std::time::Duration::from_secs(s)),
                at.hm()
            )
        }
        (Some(s), _) => short_duration(std::time::Duration::from_secs(s)),
        (None, _) if f.oldest_age_source == "cloudwatch" => {
            "no data (CloudWatch has no recent datapoint)".into()
        }
        (None, _) => "no data".into(),
    }
}

fn num(v: Option<u64>) -> String {
    v.map_or_else(|| "?".into(), |n| n.to_string())
}

pub async fn run(p: &Pipeline, args: StatusArgs) -> Result<(), CliError> {
    let r = p.status(args.failures).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| CliError::Failed(e.to_string()))?
        );
        return Ok(());
    }
    println!("backend  {}", r.backend.describe());
    for (label, f) in [("queue", &r.queue), ("dlq", &r.dlq)] {
        println!(
            "{label:<8} {:<24} visible {:>6}  in flight {:>6}  delayed {:>6}  oldest {}",
            f.name,
            num(f.visible),
            num(f.in_flight),
            num(f.delayed),
            age(f)
        );
    }
    if r.recent_failures.is_empty() {
        println!("recent failures: none");
    } else {
        println!("recent failures (newest first):");
        for f in &r.recent_failures {
            println!(
                "  {} {:<11} rc {:<2} {:<20} {}",
                f.at.hms(),
                f.kind.as_str(),
                f.receive_count,
                f.recipient.as_deref().map_or("-".into(), sanitize),
                truncate(&sanitize(&f.reason), 90)
            );
        }
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    println!("as of {}", r.as_of);
    Ok(())
}
