//! The pipeline's DynamoDB tables as data: name, string key schema and TTL attribute. The AWS
//! backend creates them from these (`provision`), and the CloudFormation template declares them
//! from the same, so the two cannot drift.

/// One table: on-demand capacity, string keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    pub hash: &'static str,
    pub range: Option<&'static str>,
    /// The TTL attribute, if the table has one.
    pub ttl: Option<&'static str>,
    /// What it holds, in words (provision's report, the template's comments).
    pub purpose: &'static str,
}

impl TableDef {
    /// The vouchers, keyed by id.
    pub fn vouchers(name: &str) -> TableDef {
        TableDef::new(name, "voucher_id", None, None, "on-demand capacity")
    }

    /// Daily counters, idempotency keys and the index of accepted vouchers.
    pub fn quotas(name: &str) -> TableDef {
        TableDef::new(name, "pk", None, Some("expires_at"), "on-demand capacity")
    }

    /// A day-partitioned log (the failure log, the audit log).
    pub fn day_log(name: &str, purpose: &'static str) -> TableDef {
        TableDef::new(name, "day", Some("sk"), Some("expires_at"), purpose)
    }

    /// API keys (hashes only).
    pub fn keys(name: &str) -> TableDef {
        TableDef::new(name, "id", None, None, "API keys (hashes only)")
    }

    fn new(
        name: &str,
        hash: &'static str,
        range: Option<&'static str>,
        ttl: Option<&'static str>,
        purpose: &'static str,
    ) -> TableDef {
        TableDef {
            name: name.to_string(),
            hash,
            range,
            ttl,
            purpose,
        }
    }
}

/// What the failure log's table is, in words.
pub const FAILURE_LOG_PURPOSE: &str = "failure log, 14-day TTL";
/// What the audit log's table is, in words.
pub const AUDIT_LOG_PURPOSE: &str = "operator audit log, 1-year TTL";
