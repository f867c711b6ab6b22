//! The limits and naming rules of the pipeline, each stated once. Clap, the dashboard's forms, the
//! config file and the services all check against these, so they cannot disagree.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

/// Most messages in one SQS batch call (send, receive, delete, change visibility).
pub const SQS_BATCH_MAX: usize = 10;
/// Most items in one DynamoDB `BatchWriteItem`.
pub const DYNAMO_BATCH_MAX: usize = 25;
/// Most keys in one DynamoDB `BatchGetItem`.
pub const DYNAMO_BATCH_GET_MAX: usize = 100;
/// Most messages the consumer handles as one batch: after a full receive it receives once more
/// at once, so one `BatchGetItem` and one `BatchWriteItem` serve two receives.
pub const CONSUMER_BATCH_MAX: usize = 2 * SQS_BATCH_MAX;
/// Longest long-poll wait SQS allows.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// Longest visibility timeout SQS allows (12 hours).
pub const VISIBILITY_TIMEOUT_MAX: Duration = Duration::from_hours(12);

/// Largest SQS message (body and message attributes), and the most one batch call may carry in all.
pub const MESSAGE_SIZE_MAX: usize = 1024 * 1024;
/// What the source queue accepts: room is left for the diagnosis the consumer adds when it
/// dead-letters a message, so every message fits in the DLQ (which accepts [`MESSAGE_SIZE_MAX`]).
pub const SOURCE_MESSAGE_SIZE: usize = MESSAGE_SIZE_MAX - 16 * 1024;
/// SQS's MaximumMessageSize for a queue that sets none (older queues; a conservative bound).
pub const MESSAGE_SIZE_DEFAULT: usize = 256 * 1024;
/// Longest delivery delay SQS allows.
pub const DELAY_MAX: Duration = Duration::from_mins(15);
/// How long the source queue keeps a message (SQS's default, 4 days).
pub const SOURCE_RETENTION: Duration = Duration::from_hours(4 * 24);
/// How long the DLQ keeps a message: SQS's maximum, 14 days. A message moved to a DLQ by the redrive
/// policy keeps its original enqueue time, so the DLQ must keep messages longer than the source.
pub const DLQ_RETENTION: Duration = Duration::from_hours(14 * 24);

pub use super::message_rules::{
    ATTRIBUTE_NAME_MAX, BATCH_ENTRY_ID_MAX, GROUP_ID_MAX, MESSAGE_ATTRIBUTES_MAX,
    check_attribute_name, check_batch_entry_id, check_group_id, check_message, dedup_id_of,
    group_id_of, is_sqs_text_char, message_size, sqs_text,
};

/// Messages per second a redrive may move (SQS's message-move task accepts 1 to 500).
pub const REDRIVE_RATE: RangeInclusive<u32> = 1..=500;
/// Receive loops one consumer may run at once.
pub const CONSUMER_CONCURRENCY: RangeInclusive<usize> = 1..=64;
/// Receives before SQS moves a message to the DLQ, as the config file accepts it.
pub const MAX_RECEIVE_COUNT: RangeInclusive<u32> = 1..=1000;
/// Longest SQS queue name, `.fifo` suffix included.
pub const QUEUE_NAME_MAX: usize = 80;

/// Consumer failure rate, in percent of processing attempts, above which its alarm fires.
pub const FAILURE_RATE_PERCENT: RangeInclusive<u32> = 1..=100;
/// Minutes messages may wait visible while nothing is deleted before the no-consumer alarm fires
/// (CloudWatch evaluates at most a day of one-minute periods).
pub const NO_CONSUMER_MINUTES: RangeInclusive<u32> = 1..=1440;
/// The intake's 5xx or 429 answers, in percent of its requests, above which their alarms fire.
pub const INTAKE_ALARM_PERCENT: RangeInclusive<u32> = 1..=100;

/// What watching one pipeline may cost at the default schedule, requests a minute per service.
pub const POLL_BUDGET_SQS_PER_MINUTE: u64 = 30;
pub const POLL_BUDGET_DYNAMODB_PER_MINUTE: u64 = 12;
pub const POLL_BUDGET_CLOUDWATCH_PER_MINUTE: u64 = 2;

/// The intake servers publish once a minute: their newest minute counts as "the last minute"
/// while it began at most this long ago (the current minute or the one before).
pub const SERVERS_LAST_MINUTE: Duration = Duration::from_mins(2);
/// The dashboard shows the servers' figures while one of them published within this.
pub const SERVERS_ACTIVE_WITHIN: Duration = Duration::from_hours(1);

/// Checks a value against an inclusive range; the error is the rule, in words
/// (`must be 1 to 100 percent`).
pub fn check_range<T: PartialOrd + fmt::Display + Copy>(
    value: T,
    range: &RangeInclusive<T>,
    unit: &str,
) -> Result<T, String> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(range_rule(range, unit))
    }
}

/// The rule of `range`, in words: `must be 1 to 60 gifts per minute`.
pub fn range_rule<T: fmt::Display>(range: &RangeInclusive<T>, unit: &str) -> String {
    format!("must be {} to {} {unit}", range.start(), range.end())
}

/// Parses and checks a number against `range`; the error is the rule, in words.
pub fn parse_in(s: &str, range: &RangeInclusive<u32>, unit: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| range_rule(range, unit))
        .and_then(|n| check_range(n, range, unit))
}

/// Checks an SNS topic ARN (`arn:PARTITION:sns:REGION:ACCOUNT:NAME`), where alarms notify.
pub fn check_sns_topic_arn(arn: &str) -> Result<&str, String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && (1..=256).contains(&parts[5].len())
        && parts[5]
            .trim_end_matches(".fifo")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(arn)
    } else {
        Err(format!(
            "{arn:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME, a 12-digit account)"
        ))
    }
}

/// How long a request waits for an earlier request with the same idempotency key to finish (on the
/// same server) before it is refused as in flight.
pub const IDEMPOTENCY_KEY_WAIT: Duration = Duration::from_secs(2);
/// How long an idempotency key is remembered (DynamoDB TTL on its record).
pub const IDEMPOTENCY_KEY_RETENTION: Duration = Duration::from_hours(14 * 24);

/// Largest request body the HTTP API reads (bytes); larger is refused with 413.
pub const API_BODY_MAX: usize = 16 * 1024;
/// Largest total size of a request's headers (bytes); larger is refused with 431.
pub const API_HEADERS_MAX: usize = 8 * 1024;
/// Most gifts in one `POST /v1/vouchers/batch`.
pub const API_BATCH_MAX: usize = 100;
/// Longest an API request may take before it is answered 503.
pub const API_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Requests one server works on at once; more are shed with 503 rather than queued.
pub const API_CONCURRENCY_MAX: usize = 1024;
/// Longest a client may take to send a request's head (request line and headers), from the
/// connection's accept or the first byte of the head; then the connection is closed unanswered.
pub const API_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a client may take to send a whole request body, from when the server starts reading it
/// (after authentication); then the request is answered 408 and the connection closed.
pub const API_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest an answer may take to drain once the client stops reading it (from the first write the
/// socket could not take to the answer fully sent); then the connection is closed.
pub const API_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a keep-alive connection may sit idle between two requests (above the 60 s idle timeout
/// load balancers default to, so the balancer, not the server, closes an idle connection).
pub const API_KEEP_ALIVE_IDLE: Duration = Duration::from_secs(75);
/// Most connections one server holds open; more are answered 503 and closed at once. Lowered at
/// start to what the process's open-file limit allows.
pub const API_CONNECTIONS_MAX: usize = 10_000;
/// Most connections one peer address holds open (trusted proxies are not counted); more are
/// answered 503 and closed at once.
pub const API_CONNECTIONS_PER_IP_MAX: usize = 256;
/// Most header fields in one request; more are refused with 431.
pub const API_HEADER_COUNT_MAX: usize = 100;
/// Most requests one API key has in flight on one server at once; more are answered 429 at once,
/// before their bodies are read.
pub const API_KEY_IN_FLIGHT_MAX: usize = 64;
/// Longest a stopping server waits for its connections to finish; what is still in flight then is
/// logged and dropped, and the audit and leased quota are flushed all the same (under Kubernetes'
/// 30 s grace period).
pub const API_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);
/// How many days back the audit log is read (one query a day on AWS; entries are kept a year).
pub const AUDIT_READ_DAYS: u32 = 30;
/// How long a failed audit write is retried (exponential backoff with jitter) before its entries
/// are counted lost.
pub const AUDIT_RETRY_WINDOW: Duration = Duration::from_secs(30);
/// How long a stopping server waits for its audit writes after its requests (and
/// [`API_SHUTDOWN_DEADLINE`]): the two stay within Kubernetes' default 30 s grace period.
pub const AUDIT_FLUSH_DEADLINE: Duration = Duration::from_secs(5);
/// Longest a server trusts its cached copy of a key: a revoked key is refused by every server
/// within this time.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(10);
/// How long a readiness answer is reused.
pub const READY_CACHE_TTL: Duration = Duration::from_secs(3);
/// Requests per minute one client IP may make (before authentication, so floods are cheap).
pub const PER_IP_PER_MINUTE: u32 = 1200;
/// Status reads (`GET /v1/vouchers/{id}`) per minute one API key may make: each costs up to two
/// store reads.
pub const API_READS_PER_MINUTE: u32 = 600;
/// A key's burst limit: gifts per minute, and its default.
pub const KEY_PER_MINUTE: RangeInclusive<u32> = 1..=100_000;
pub const KEY_PER_MINUTE_DEFAULT: u32 = 60;
/// A key's daily cap (gifts per UTC day across every server), and its default.
pub const KEY_DAILY: RangeInclusive<u32> = 1..=10_000_000;
pub const KEY_DAILY_DEFAULT: u32 = 1000;
/// Longest a gift waits for others to share its `SendMessageBatch`.
pub const COALESCE_WAIT: Duration = Duration::from_millis(2);
/// Most daily-quota units a server leases at once for one key (lost for the day if the server
/// dies holding them; returned on a clean shutdown).
pub const QUOTA_LEASE_MAX: u32 = 64;

/// Checks a redrive rate against [`REDRIVE_RATE`]; the error is the rule, in words.
pub fn check_redrive_rate(rate: u32) -> Result<u32, String> {
    check_range(rate, &REDRIVE_RATE, "messages per second")
}

/// The redrive-rate rule, as every front end words it.
pub fn redrive_rate_rule() -> String {
    range_rule(&REDRIVE_RATE, "messages per second")
}

/// Brings a consumer concurrency into [`CONSUMER_CONCURRENCY`].
pub fn clamp_concurrency(n: usize) -> usize {
    n.clamp(*CONSUMER_CONCURRENCY.start(), *CONSUMER_CONCURRENCY.end())
}

/// A valid SQS queue name: 1 to 80 ASCII letters, digits, `-` and `_`, with an optional `.fifo`
/// suffix (FIFO queues must end with it; no other `.` is allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueName(String);

/// Whether a queue name is a FIFO queue's (SQS's suffix, lowercase only).
#[allow(clippy::case_sensitive_file_extension_comparisons)]
pub fn is_fifo_name(name: &str) -> bool {
    name.ends_with(".fifo")
}

/// The dead-letter queue a FIFO queue gets when none is named: `orders.fifo` → `orders-dlq.fifo`.
pub fn fifo_dlq_name(queue: &str) -> String {
    format!("{}-dlq.fifo", queue.strip_suffix(".fifo").unwrap_or(queue))
}

/// A queue and its dead-letter queue are of one type (SQS refuses a redrive policy between a
/// FIFO queue and a standard one).
pub fn check_queue_pair(queue: &str, dlq: &str) -> Result<(), String> {
    match (is_fifo_name(queue), is_fifo_name(dlq)) {
        (true, false) => Err(format!(
            "{queue} is a FIFO queue, so its dead-letter queue must be FIFO too (a name ending in \
             .fifo, e.g. {}), not {dlq}",
            fifo_dlq_name(queue)
        )),
        (false, true) => Err(format!(
            "{queue} is a standard queue, so its dead-letter queue must be standard too (a name \
             without .fifo), not {dlq}"
        )),
        _ => Ok(()),
    }
}

/// Why a queue name is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid SQS queue name ({})", QueueName::RULE)]
pub struct QueueNameError {
    pub name: String,
}

impl QueueName {
    /// The rule, in words.
    pub const RULE: &'static str = "1 to 80 letters, digits, - or _ (optional .fifo suffix)";

    /// Checks `name` (surrounding spaces are an error too: names are exact).
    pub fn parse(name: &str) -> Result<QueueName, QueueNameError> {
        let stem = name.strip_suffix(".fifo").unwrap_or(name);
        let ok = !stem.is_empty()
            && name.len() <= QUEUE_NAME_MAX
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(QueueName(name.to_string()))
        } else {
            Err(QueueNameError {
                name: name.to_string(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this names a FIFO queue.
    pub fn is_fifo(&self) -> bool {
        is_fifo_name(&self.0)
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for QueueName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// How worrying an oldest-message age is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgeLevel {
    Ok,
    Warn,
    Alarm,
}

/// Oldest-message age thresholds: above `warn` is a warning, above `alarm` an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeThresholds {
    warn: Duration,
    alarm: Duration,
}

impl Default for AgeThresholds {
    fn default() -> Self {
        AgeThresholds {
            warn: Duration::from_mins(1),
            alarm: Duration::from_mins(5),
        }
    }
}

impl AgeThresholds {
    /// An alarm threshold below the warning one is raised to it.
    pub fn new(warn: Duration, alarm: Duration) -> AgeThresholds {
        AgeThresholds {
            warn,
            alarm: alarm.max(warn),
        }
    }

    pub const fn warn(self) -> Duration {
        self.warn
    }

    pub const fn alarm(self) -> Duration {
        self.alarm
    }

    pub fn level(self, age: Duration) -> AgeLevel {
        if age >= self.alarm {
            AgeLevel::Alarm
        } else if age >= self.warn {
            AgeLevel::Warn
        } else {
            AgeLevel::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_follow_sqs() {
        for ok in ["vouchers", "a", "v-1_x", "orders.fifo", &"q".repeat(80)] {
            assert!(QueueName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".fifo",
            "a.b",
            "has space",
            " vouchers",
            "ü",
            &"q".repeat(81),
            &format!("{}.fifo", "q".repeat(76)),
        ] {
            let e = QueueName::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("1 to 80 letters"), "{e}");
        }
        assert!(QueueName::parse("x.fifo").is_ok_and(|q| q.is_fifo()));
        assert_eq!(fifo_dlq_name("orders.fifo"), "orders-dlq.fifo");
        assert_eq!(check_queue_pair("a.fifo", "a-dlq.fifo"), Ok(()));
        assert_eq!(check_queue_pair("a", "a-dlq"), Ok(()));
        let e = check_queue_pair("a.fifo", "a-dlq").expect_err("mixed");
        assert!(
            e.contains("must be FIFO too") && e.contains("a-dlq.fifo"),
            "{e}"
        );
        assert!(check_queue_pair("a", "a-dlq.fifo").is_err());
    }

    #[test]
    fn redrive_rate_bounds() {
        assert_eq!(check_redrive_rate(1), Ok(1));
        assert_eq!(check_redrive_rate(500), Ok(500));
        assert_eq!(
            check_redrive_rate(0),
            Err("must be 1 to 500 messages per second".into())
        );
        assert!(check_redrive_rate(501).is_err());
    }

    #[test]
    fn alarm_settings_are_checked() {
        assert_eq!(check_range(10, &FAILURE_RATE_PERCENT, "percent"), Ok(10));
        assert_eq!(
            check_range(0, &FAILURE_RATE_PERCENT, "percent"),
            Err("must be 1 to 100 percent".into())
        );
        assert!(check_range(1441, &NO_CONSUMER_MINUTES, "minutes").is_err());
        assert_eq!(
            parse_in(" 60 ", &KEY_PER_MINUTE, "gifts per minute"),
            Ok(60)
        );
        assert_eq!(
            parse_in("x", &KEY_DAILY, "gifts per day"),
            Err("must be 1 to 10000000 gifts per day".into())
        );
        assert!(check_sns_topic_arn("arn:aws:sns:eu-west-1:123456789012:ops-pager").is_ok());
        for bad in [
            "ops-pager",
            "arn:aws:sqs:eu-west-1:123456789012:ops",
            "arn:aws:sns:eu-west-1:1234:ops",
            "arn:aws:sns::123456789012:ops",
            "arn:aws:sns:eu-west-1:123456789012:",
        ] {
            let e = check_sns_topic_arn(bad).expect_err(bad);
            assert!(e.contains("not an SNS topic ARN"), "{e}");
        }
    }

    #[test]
    fn concurrency_is_clamped() {
        assert_eq!(clamp_concurrency(0), 1);
        assert_eq!(clamp_concurrency(65), 64);
        assert_eq!(clamp_concurrency(8), 8);
    }

    #[test]
    fn age_levels() {
        let t = AgeThresholds::new(Duration::from_mins(1), Duration::from_secs(30));
        assert_eq!(t.alarm(), Duration::from_mins(1), "alarm raised to warn");
        let t = AgeThresholds::default();
        assert_eq!(t.level(Duration::from_secs(59)), AgeLevel::Ok);
        assert_eq!(t.level(Duration::from_mins(1)), AgeLevel::Warn);
        assert_eq!(t.level(Duration::from_mins(5)), AgeLevel::Alarm);
    }
}
