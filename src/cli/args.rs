//! Command-line arguments.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

use super::parse;
use voucherdeck_core::domain::limits;

/// Run an SQS-backed voucher pipeline from a terminal.
///
/// With no subcommand, opens the live dashboard. With nothing configured it runs on an embedded
/// in-process backend with demo traffic; --endpoint-url, --region, --profile, --aws (or AWS_ENDPOINT_URL,
/// AWS_PROFILE, AWS_REGION) point it at SQS and DynamoDB.
#[derive(Debug, Parser)]
#[command(
    name = "voucherdeck",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings every command takes. Each may also come from VOUCHERDECK_* or the config file.
#[derive(Debug, Args, Default)]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
pub struct GlobalArgs {
    /// AWS-compatible endpoint (moto, LocalStack); also AWS_ENDPOINT_URL.
    #[arg(
        long,
        global = true,
        env = "VOUCHERDECK_ENDPOINT_URL",
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,
    /// AWS region.
    #[arg(long, global = true, env = "VOUCHERDECK_REGION")]
    pub region: Option<String>,
    /// AWS profile (shared config and SSO).
    #[arg(long, global = true, env = "VOUCHERDECK_PROFILE")]
    pub profile: Option<String>,
    /// Source queue name [default: vouchers].
    #[arg(long, global = true, env = "VOUCHERDECK_QUEUE")]
    pub queue: Option<String>,
    /// Dead-letter queue name [default: vouchers-dlq].
    #[arg(long, global = true, env = "VOUCHERDECK_DLQ")]
    pub dlq: Option<String>,
    /// Voucher table name [default: vouchers].
    #[arg(long, global = true, env = "VOUCHERDECK_TABLE")]
    pub table: Option<String>,
    /// Config file (TOML) [default: ~/.config/voucherdeck/config.toml when present].
    #[arg(long, global = true, env = "VOUCHERDECK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A pipeline named in the config file (`[pipelines.NAME]`).
    #[arg(long, global = true, env = "VOUCHERDECK_PIPELINE", value_name = "NAME")]
    pub pipeline: Option<String>,
    /// Refuse every mutating action.
    #[arg(long, global = true, env = "VOUCHERDECK_READ_ONLY")]
    pub read_only: bool,
    /// Allow changes on a pipeline marked `production = true` for this run (it is read-only
    /// otherwise).
    #[arg(long, global = true, conflicts_with = "read_only")]
    pub write: bool,
    /// Use the embedded in-process backend even when an AWS target is configured.
    #[arg(long, global = true, conflicts_with = "aws")]
    pub embedded: bool,
    /// Use AWS with the default credential chain even when nothing else points at it.
    #[arg(long, global = true)]
    pub aws: bool,
    /// Log format of headless commands on stderr: text, or one JSON object per line for log
    /// shippers. The dashboard always logs text to its log file.
    #[arg(
        long,
        global = true,
        env = "VOUCHERDECK_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

/// How headless commands write their log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Options of the dashboard (no subcommand).
#[derive(Debug, Args, Default)]
pub struct DashboardArgs {
    /// Start the embedded backend without demo traffic.
    #[arg(long)]
    pub no_demo: bool,
    /// Do not run the embedded consumer in the dashboard (it can be toggled with a key).
    #[arg(long)]
    pub no_worker: bool,
    /// Key bindings file overlaying the defaults [default: ~/.config/voucherdeck/keymap.toml].
    #[arg(long, value_name = "FILE")]
    pub keymap: Option<PathBuf>,
    /// Ring the terminal bell when an alarm fires or clears and when messages reach the DLQ.
    #[arg(long)]
    pub bell: bool,
    /// Also run the HTTP intake API in the dashboard's process, on this address (e.g.
    /// 127.0.0.1:8080); on the embedded backend a demo key is made and shown.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the queue, its DLQ and the tables where missing (safe to run again); an existing
    /// queue's settings are compared with this configuration and changed only with --update. With
    /// --alarms, the CloudWatch alarms too.
    Provision(ProvisionArgs),
    /// Gift one voucher, or many from a JSON Lines file.
    Gift(GiftArgs),
    /// Run the consumer headless until Ctrl-C (or until the queue is empty).
    Worker(WorkerArgs),
    /// Run the consumer as an AWS Lambda function (custom runtime: this binary as `bootstrap`,
    /// invoked by an SQS event source mapping with ReportBatchItemFailures).
    Lambda,
    /// Queue depth, oldest-message age, DLQ count and recent failures.
    Status(StatusArgs),
    /// Look into the dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Move DLQ messages back to their source queue, or to another queue.
    Redrive(RedriveArgs),
    /// Run the HTTP intake API (headless) until Ctrl-C/SIGTERM.
    Serve(ServeArgs),
    /// Create, list and revoke API keys of the intake API.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log: who did what, newest first (every gift, key change, redrive, resend, purge).
    Audit(AuditArgs),
    /// The failure log by reason and time: counts per hour (last 24 h) or per day (last 7 days).
    Failures(FailuresArgs),
}

#[derive(Debug, Args)]
pub struct FailuresArgs {
    /// Count by failure reason (kind and reason text).
    #[arg(long, required = true)]
    pub by_reason: bool,
    /// hour: each UTC hour of the last 24 hours; day: each UTC day of the last 7 days.
    #[arg(long, value_name = "PERIOD", value_enum)]
    pub per: FailuresPer,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How wide each count's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailuresPer {
    Hour,
    Day,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries of the last DURATION (e.g. 30m, 12h, 7d; at most 30d, as far back as the log is
    /// read).
    #[arg(long, value_name = "DURATION", value_parser = parse::parse_since)]
    pub since: Option<std::time::Duration>,
    /// Entries at most (1 to 10000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Print JSON (one array of entries).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// A proxy (or load balancer) network whose forwarding header is believed, e.g. 10.0.0.0/8
    /// (repeat for several). Without it the client IP is the socket's peer.
    #[arg(long, value_name = "CIDR", value_parser = parse::parse_cidr)]
    pub trusted_proxy: Vec<ipnet::IpNet>,
    /// The header the trusted proxies write, `x-forwarded-for` (most load balancers) or
    /// `forwarded` (RFC 7239). Only that one is read: a client can send the other.
    #[arg(long, default_value = "x-forwarded-for", value_name = "HEADER", value_parser = parse_forwarded_header)]
    pub forwarded_header: voucherdeck_api::ForwardedHeader,
    /// Requests per minute per client IP (0: no per-IP limit, e.g. for a load test from one
    /// machine).
    #[arg(long, default_value_t = limits::PER_IP_PER_MINUTE)]
    pub per_ip_per_minute: u32,
    /// The embedded backend's demo key: gifts per minute (1 to 100000; for load tests, 100000).
    #[arg(long, value_name = "N", value_parser = parse::parse_per_minute)]
    pub demo_key_per_minute: Option<u32>,
    /// The embedded backend's demo key: gifts per day (1 to 10000000).
    #[arg(long, value_name = "N", value_parser = parse::parse_daily)]
    pub demo_key_daily: Option<u32>,
}

fn parse_forwarded_header(s: &str) -> Result<voucherdeck_api::ForwardedHeader, String> {
    match s.to_ascii_lowercase().as_str() {
        "x-forwarded-for" | "xff" => Ok(voucherdeck_api::ForwardedHeader::XForwardedFor),
        "forwarded" => Ok(voucherdeck_api::ForwardedHeader::Forwarded),
        _ => Err("must be x-forwarded-for or forwarded".into()),
    }
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once (only a hash is kept).
    Create(KeyCreateArgs),
    /// List keys (never the keys themselves).
    List(JsonFlag),
    /// Revoke a key: every server refuses it within 10 s.
    Revoke {
        /// The key id (the part after `vdk_`, as `keys list` shows it).
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// The identity the key's gifts carry.
    #[arg(long)]
    pub sender: String,
    /// gifter: gift one at a time and read its own vouchers; operator: also batches, any voucher.
    #[arg(long, default_value = "gifter", value_parser = parse::parse_role)]
    pub role: voucherdeck_core::domain::Role,
    /// Burst limit: gifts per minute (1 to 100000).
    #[arg(long, default_value_t = limits::KEY_PER_MINUTE_DEFAULT, value_parser = parse::parse_per_minute)]
    pub per_minute: u32,
    /// Gifts per UTC day, exact across every server (1 to 10000000).
    #[arg(long, default_value_t = limits::KEY_DAILY_DEFAULT, value_parser = parse::parse_daily)]
    pub daily: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
pub struct ProvisionArgs {
    /// Bring existing queues to this configuration (their settings are shared by every machine).
    #[arg(long)]
    pub update: bool,
    /// Also create or update the CloudWatch alarms (oldest-message age, DLQ not empty and growing,
    /// consumer failure rate, no consumer); names are `<queue>-…`, thresholds from the settings.
    #[arg(long)]
    pub alarms: bool,
    /// SNS topic the alarms notify when they fire and clear (also `sns_topic` in the config file).
    #[arg(long, value_name = "ARN", requires = "alarms", value_parser = parse::parse_sns_topic)]
    pub sns_topic: Option<String>,
    /// Print JSON.
    #[arg(long, conflicts_with = "template")]
    pub json: bool,
    /// Print a template of the stack instead of creating anything: what provision creates (and,
    /// with --alarms, the alarms), the IAM roles and queue policies of assets/iam/, and with
    /// --lambda the consumer as a Lambda function. Nothing is called.
    #[arg(long, value_name = "KIND", value_enum, conflicts_with = "update")]
    pub template: Option<TemplateKind>,
    /// With --template: the consumer as a Lambda function and its SQS event source mapping.
    #[arg(long, requires = "template")]
    pub lambda: bool,
    /// With --template: the template's format.
    #[arg(long, value_enum, default_value = "yaml", requires = "template")]
    pub format: TemplateFormat,
}

/// What kind of template `provision --template` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateKind {
    Cloudformation,
}

/// How a template is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateFormat {
    Json,
    Yaml,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("one").args(["recipient"]).conflicts_with("file")))]
pub struct GiftArgs {
    /// Email address, or 0x wallet address.
    #[arg(long, required_unless_present = "file")]
    pub recipient: Option<String>,
    /// Amount, e.g. 25.00.
    #[arg(long, required_unless_present = "file")]
    pub amount: Option<String>,
    /// ISO 4217 currency [default: USD].
    #[arg(long)]
    pub currency: Option<String>,
    /// Who is gifting.
    #[arg(long, required_unless_present = "file")]
    pub sender: Option<String>,
    /// A note of up to 280 characters.
    #[arg(long)]
    pub note: Option<String>,
    /// Gifting twice with the same key yields one voucher.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// JSON Lines file, one gift per line (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["recipient", "amount", "sender", "note", "currency", "idempotency_key"])]
    pub file: Option<PathBuf>,
    /// An operator's bulk import: lifts the per-sender limits.
    #[arg(long)]
    pub bulk: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Receive loops running at once (each takes batches of 10).
    #[arg(long, default_value_t = 4, value_parser = parse::parse_concurrency)]
    pub concurrency: usize,
    /// Stop when nothing is visible, in flight or delayed.
    #[arg(long)]
    pub until_empty: bool,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Serve /healthz, /readyz and /metrics (Prometheus) on this address, e.g. 0.0.0.0:9102.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// How many recent failures to include.
    #[arg(long, default_value_t = 10)]
    pub failures: usize,
    /// Every pipeline of the config file, one line each, most troubled first.
    #[arg(long)]
    pub all: bool,
    /// Exit with code 3 when something needs attention (an alarm in ALARM, a message in a DLQ, an
    /// oldest-message age past its alarm threshold) and 1 when a pipeline cannot be read: for
    /// scripts and cron.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List DLQ messages with their failure reasons (peeking raises their receive counts).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Most messages to list.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
        limit: u16,
    },
    /// Write DLQ messages (body, attributes, failure reason) to a JSON Lines file and leave them in
    /// the DLQ. Every message is received once (receive counts go up by one) and hidden until the
    /// export ends.
    Export(ExportArgs),
    /// Correct a DLQ message and send it again: opens its gift in $VISUAL/$EDITOR (or reads
    /// --file), checks it like a gift, sends it to its source queue as a new message, then deletes
    /// the original.
    Resend(ResendArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how_many").required(true).args(["all", "limit"])))]
pub struct ExportArgs {
    /// Every message in the DLQ.
    #[arg(long)]
    pub all: bool,
    /// At most this many messages.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: Option<u32>,
    /// The file to write (it must not exist yet).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ResendArgs {
    /// The DLQ message to resend.
    #[arg(value_name = "MESSAGE_ID")]
    pub message_id: String,
    /// The corrected gift as JSON (`-` for standard input), the shape of a `gift --file` line;
    /// without it the gift opens in $VISUAL or $EDITOR.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Why, in your words, kept in the audit entry (at most 280 characters, the rule of a gift's
    /// note).
    #[arg(long, value_name = "TEXT", value_parser = parse::parse_note)]
    pub note: Option<voucherdeck_core::domain::OperatorNote>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
#[command(group(ArgGroup::new("scope").required(true).multiple(true).args(["all", "id", "match_text", "kind", "reason"])))]
pub struct RedriveArgs {
    /// Every message in the DLQ.
    #[arg(long, conflicts_with = "id")]
    pub all: bool,
    /// These message ids (repeat the flag or separate with spaces).
    #[arg(long, num_args = 1..)]
    pub id: Vec<String>,
    /// Messages whose body contains this text (ignoring case when combined with --kind or
    /// --reason).
    #[arg(long = "match", value_name = "TEXT", conflicts_with_all = ["all", "id"])]
    pub match_text: Option<String>,
    /// Messages that failed this way: not_json, schema, invalid, throttled, unavailable, timeout
    /// or backend.
    #[arg(long, value_name = "KIND", value_parser = parse::parse_failure_kind, conflicts_with_all = ["all", "id"])]
    pub kind: Option<String>,
    /// Messages whose failure reason contains this text (ignoring case).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["all", "id"])]
    pub reason: Option<String>,
    /// Only count the messages the redrive would move (reads the whole DLQ, moves nothing).
    #[arg(long, conflicts_with_all = ["id", "no_wait"])]
    pub dry_run: bool,
    /// Destination queue [default: each message's source queue].
    #[arg(long, value_name = "QUEUE", value_parser = parse::parse_queue_name)]
    pub to: Option<String>,
    /// Messages per second (1 to 500).
    #[arg(long, value_parser = parse::parse_redrive_rate)]
    pub rate: Option<u32>,
    /// Start the native move task and return at once (AWS only).
    #[arg(long)]
    pub no_wait: bool,
    /// Why, in your words, kept in the audit entry (at most 280 characters, the rule of a gift's
    /// note).
    #[arg(long, value_name = "TEXT", value_parser = parse::parse_note, conflicts_with = "dry_run")]
    pub note: Option<voucherdeck_core::domain::OperatorNote>,
    /// Print the final progress as JSON.
    #[arg(long)]
    pub json: bool,
}
