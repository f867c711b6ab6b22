//! With `--lambda`: the consumer as a Lambda function (custom runtime, the binary as `bootstrap`),
//! its log group with a retention, its role (the worker's policy and its own logs), and the event
//! source mapping that hands it batches with `ReportBatchItemFailures`.

use serde_json::{Value, json};

use super::cfn::{get_att, reference};
use super::storage::QUEUE;

pub const FUNCTION: &str = "ConsumerFunction";
pub const FUNCTION_ROLE: &str = "ConsumerFunctionRole";
pub const LOG_GROUP: &str = "ConsumerLogGroup";
pub const MAPPING: &str = "ConsumerEventSourceMapping";

/// The function's resources, `worker` being the worker's policy document (localised).
pub fn resources(worker: &Value) -> Vec<(String, Value)> {
    let log_group = json!({
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/${FunctionName}"},
            "RetentionInDays": reference("LogRetentionDays"),
        },
    });
    let role = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "voucherdeck lambda: the worker's rights (assets/iam/worker.json) and its own log group",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }],
            },
            "Policies": [
                {"PolicyName": "voucherdeck-worker", "PolicyDocument": worker},
                {"PolicyName": "voucherdeck-lambda-logs", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "WriteItsOwnLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": {"Fn::Sub": "${ConsumerLogGroup.Arn}"},
                    }],
                }},
            ],
        },
    });
    let function = json!({
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": reference("FunctionName"),
            "Description": "voucherdeck lambda: the consumer of the voucher queue",
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Architectures": [reference("FunctionArchitecture")],
            "Code": {"S3Bucket": reference("FunctionCodeBucket"), "S3Key": reference("FunctionCodeKey")},
            "MemorySize": reference("FunctionMemory"),
            "Timeout": reference("FunctionTimeout"),
            "Role": get_att(FUNCTION_ROLE, "Arn"),
            "LoggingConfig": {"LogGroup": reference(LOG_GROUP), "LogFormat": "Text"},
            "Environment": {"Variables": {
                "VOUCHERDECK_QUEUE": reference("QueueName"),
                "VOUCHERDECK_DLQ": reference("DlqName"),
                "VOUCHERDECK_TABLE": reference("TableName"),
                "VOUCHERDECK_LOG": "info",
            }},
        },
    });
    let mapping = json!({
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": get_att(QUEUE, "Arn"),
            "FunctionName": reference(FUNCTION),
            "Enabled": true,
            "BatchSize": reference("BatchSize"),
            "MaximumBatchingWindowInSeconds": reference("BatchingWindowSeconds"),
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": reference("MaximumConcurrency")},
        },
    });
    vec![
        (LOG_GROUP.into(), log_group),
        (FUNCTION_ROLE.into(), role),
        (FUNCTION.into(), function),
        (MAPPING.into(), mapping),
    ]
}
