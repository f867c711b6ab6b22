//! The value parsers of the flags: each says the rule a refused value broke, in the words the
//! services use (the limits come from `domain::limits`).

use voucherdeck_core::domain::{OperatorNote, QueueName, limits};

/// `30m`, `12h`, `7d` (or `90s`): a duration back from now, at most as far back as the audit log
/// is read ([`limits::AUDIT_READ_DAYS`]).
pub(super) fn parse_since(s: &str) -> Result<std::time::Duration, String> {
    let max_days = limits::AUDIT_READ_DAYS;
    let rule = format!(
        "must be a number and a unit, s, m, h or d (e.g. 30m, 12h, 7d), at most {max_days}d"
    );
    let s = s.trim();
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(rule),
    };
    let n: u64 = n.parse().map_err(|_| rule.clone())?;
    let d = std::time::Duration::from_secs(n.saturating_mul(seconds));
    if n == 0 || d > std::time::Duration::from_hours(24 * u64::from(max_days)) {
        return Err(rule);
    }
    Ok(d)
}

pub(super) fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| "must be an IP network such as 10.0.0.0/8, or one address".into())
}

pub(super) fn parse_role(s: &str) -> Result<voucherdeck_core::domain::Role, String> {
    s.parse()
}

pub(super) fn parse_per_minute(s: &str) -> Result<u32, String> {
    limits::parse_in(s, &limits::KEY_PER_MINUTE, "gifts per minute")
}

pub(super) fn parse_daily(s: &str) -> Result<u32, String> {
    limits::parse_in(s, &limits::KEY_DAILY, "gifts per day")
}

pub(super) fn parse_concurrency(s: &str) -> Result<usize, String> {
    let range = limits::CONSUMER_CONCURRENCY;
    s.parse::<usize>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            )
        })
}

pub(super) fn parse_redrive_rate(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .map_err(|_| limits::redrive_rate_rule())
        .and_then(limits::check_redrive_rate)
}

pub(super) fn parse_failure_kind(s: &str) -> Result<String, String> {
    voucherdeck_core::domain::FailureKind::parse(s.trim())
        .map(|k| k.as_str().to_string())
        .ok_or_else(|| {
            "must be one of not_json, schema, invalid, throttled, unavailable, timeout, backend"
                .to_string()
        })
}

pub(super) fn parse_sns_topic(s: &str) -> Result<String, String> {
    limits::check_sns_topic_arn(s).map(ToString::to_string)
}

pub(super) fn parse_queue_name(s: &str) -> Result<String, String> {
    QueueName::parse(s)
        .map(|q| q.to_string())
        .map_err(|e| e.to_string())
}

/// An operator's note on a destructive action: the rule of a gift's note (at most 280
/// characters, no control, bidirectional-control or non-characters), and not blank.
pub(super) fn parse_note(s: &str) -> Result<OperatorNote, String> {
    match OperatorNote::parse(s) {
        Ok(Some(note)) => Ok(note),
        Ok(None) => Err("may not be blank (leave the flag out for no note)".into()),
        Err(rule) => Err(format!("a note {rule}")),
    }
}
