//! The AWS backend: every port on the official SDK (SQS, DynamoDB, CloudWatch), or on an
//! AWS-compatible endpoint such as moto or LocalStack.

mod alarms;
mod audit;
mod call;
pub mod cloudwatch;
pub mod config;
mod day_log;
pub mod dynamo;
mod errors;
pub mod failure_log;
mod items;
mod keys;
mod metric_queries;
mod quotas;
pub mod sqs;
mod tables;

use std::sync::Arc;

pub use alarms::CloudWatchAlarms;
pub use audit::{DynamoAuditLog, StsIdentity};
pub use cloudwatch::CloudWatchMetrics;
pub use config::{AwsOptions, Timeouts};
pub use dynamo::DynamoStore;
pub use failure_log::DynamoFailureLog;
pub use keys::DynamoKeys;
pub use sqs::SqsQueue;

use voucherdeck_core::backend::{Backend, BackendInfo, BackendKind, Names};
use voucherdeck_core::ports::{RequestCounter, Result};

/// Loads the SDK configuration once and builds one shared client per service.
///
/// Makes no request: a wrong endpoint or missing credentials show up on the first call.
pub async fn connect(opts: &AwsOptions, names: Names, requests: RequestCounter) -> Result<Backend> {
    let loaded = config::load(opts).await;
    let sqs = aws_sdk_sqs::Client::new(&loaded.sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&loaded.sdk);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&loaded.sdk);
    let sts = aws_sdk_sts::Client::new(&loaded.sdk);
    Ok(Backend {
        queue: Arc::new(SqsQueue::new(
            sqs,
            requests.clone(),
            loaded.timeouts,
            loaded.region.clone(),
        )),
        store: Arc::new(DynamoStore::new(
            dynamodb.clone(),
            requests.clone(),
            names.table.clone(),
            names.quota_table.clone(),
        )),
        failures: Arc::new(DynamoFailureLog::new(
            dynamodb.clone(),
            requests.clone(),
            names.failure_table.clone(),
        )),
        audit: Arc::new(DynamoAuditLog::new(
            dynamodb.clone(),
            requests.clone(),
            names.audit_table.clone(),
        )),
        keys: Arc::new(DynamoKeys::new(
            dynamodb,
            requests.clone(),
            names.key_table.clone(),
        )),
        identity: Arc::new(StsIdentity::new(sts, requests.clone())),
        metrics: Arc::new(CloudWatchMetrics::new(
            cloudwatch.clone(),
            requests.clone(),
            names.queue.clone(),
        )),
        alarms: Arc::new(CloudWatchAlarms::new(cloudwatch, requests.clone())),
        info: BackendInfo {
            kind: BackendKind::Aws,
            region: loaded.region,
            endpoint: loaded.endpoint,
            profile: loaded.profile,
        },
        names,
        requests,
    })
}
