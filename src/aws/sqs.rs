//! [`Queue`] on Amazon SQS (or an SQS-compatible endpoint).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};

use super::config::Timeouts;
use super::errors::{has_code, map_build, map_sdk, map_sdk_maybe_unsupported};
use crate::domain::Timestamp;
use crate::ports::{
    BackendError, BatchFailure, BatchResult, MoveTask, MoveTaskStatus, OutgoingMessage, Queue,
    QueueRef, QueueSpec, QueueStats, Receipt, ReceiveRequest, ReceivedMessage, RedrivePolicy,
    RequestCounter, Result, SQS_BATCH_MAX, VisibilityChange,
};

/// SQS behind the [`Queue`] port. Resolved queues are cached by name.
#[derive(Debug)]
pub struct SqsQueue {
    client: Client,
    requests: RequestCounter,
    timeouts: Timeouts,
    region: Option<String>,
    cache: Mutex<HashMap<String, QueueRef>>,
}

impl SqsQueue {
    pub fn new(
        client: Client,
        requests: RequestCounter,
        timeouts: Timeouts,
        region: Option<String>,
    ) -> Self {
        SqsQueue {
            client,
            requests,
            timeouts,
            region,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, name: &str) -> Option<QueueRef> {
        self.cache.lock().ok().and_then(|c| c.get(name).cloned())
    }

    fn remember(&self, queue: &QueueRef) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(queue.name.clone(), queue.clone());
        }
    }

    /// `Some(url)` if the queue exists, `None` if it does not.
    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        self.requests.hit("sqs:GetQueueUrl");
        match self.client.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url().map(ToString::to_string)),
            Err(e) if has_code(&e, "QueueDoesNotExist") || has_code(&e, "NonExistentQueue") => {
                Ok(None)
            }
            Err(e) => Err(map_sdk("sqs:GetQueueUrl", name, &e)),
        }
    }

    /// Every attribute of a queue, in one call (`All` is the cheapest form on moto).
    async fn attributes(
        &self,
        name: &str,
        url: &str,
    ) -> Result<HashMap<QueueAttributeName, String>> {
        self.requests.hit("sqs:GetQueueAttributes");
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(|e| map_sdk("sqs:GetQueueAttributes", name, &e))?;
        Ok(out.attributes().cloned().unwrap_or_default())
    }

    /// The ARN for a queue URL, built from the URL (`…/{account}/{name}`) and the region when the URL
    /// has that shape, else asked of the service.
    async fn arn_for(&self, name: &str, url: &str) -> Result<String> {
        if let Some(arn) = arn_from_url(url, name, self.region.as_deref()) {
            return Ok(arn);
        }
        let attrs = self.attributes(name, url).await?;
        attrs
            .get(&QueueAttributeName::QueueArn)
            .cloned()
            .ok_or_else(|| BackendError::Other(format!("{name}: the service returned no QueueArn")))
    }

    async fn create(
        &self,
        spec: &QueueSpec,
        attrs: &HashMap<QueueAttributeName, String>,
    ) -> Result<Option<String>> {
        self.requests.hit("sqs:CreateQueue");
        match self
            .client
            .create_queue()
            .queue_name(&spec.name)
            .set_attributes(Some(attrs.clone()))
            .send()
            .await
        {
            Ok(out) => Ok(out.queue_url().map(ToString::to_string)),
            // Created meanwhile by someone else with other attributes: update it instead.
            Err(e) if has_code(&e, "QueueAlreadyExists") || has_code(&e, "QueueNameExists") => {
                Ok(None)
            }
            Err(e) => Err(map_sdk("sqs:CreateQueue", &spec.name, &e)),
        }
    }

    async fn set_attributes(
        &self,
        name: &str,
        url: &str,
        attrs: HashMap<QueueAttributeName, String>,
    ) -> Result<()> {
        self.requests.hit("sqs:SetQueueAttributes");
        self.client
            .set_queue_attributes()
            .queue_url(url)
            .set_attributes(Some(attrs))
            .send()
            .await
            .map_err(|e| map_sdk("sqs:SetQueueAttributes", name, &e))?;
        Ok(())
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn ensure(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        let wanted = spec_attributes(spec);
        let mut created = false;
        let mut url = self.queue_url(&spec.name).await?;
        if url.is_none() {
            url = self.create(spec, &wanted).await?;
            created = url.is_some();
            if url.is_none() {
                url = self.queue_url(&spec.name).await?;
            }
        }
        let url = url.ok_or_else(|| {
            BackendError::Other(format!("{}: the service returned no queue URL", spec.name))
        })?;
        let arn = if created {
            self.arn_for(&spec.name, &url).await?
        } else {
            let current = self.attributes(&spec.name, &url).await?;
            let mut changes = HashMap::new();
            for (k, v) in &wanted {
                if !attribute_matches(k, current.get(k), v) {
                    changes.insert(k.clone(), v.clone());
                }
            }
            if spec.redrive.is_none()
                && current
                    .get(&QueueAttributeName::RedrivePolicy)
                    .is_some_and(|p| !p.is_empty())
            {
                changes.insert(QueueAttributeName::RedrivePolicy, String::new());
            }
            if !changes.is_empty() {
                self.set_attributes(&spec.name, &url, changes).await?;
            }
            match current.get(&QueueAttributeName::QueueArn) {
                Some(arn) => arn.clone(),
                None => self.arn_for(&spec.name, &url).await?,
            }
        };
        let queue = QueueRef {
            name: spec.name.clone(),
            url,
            arn,
        };
        self.remember(&queue);
        Ok((queue, created))
    }

    async fn open(&self, name: &str) -> Result<QueueRef> {
        if let Some(q) = self.cached(name) {
            return Ok(q);
        }
        let url = self.queue_url(name).await?.ok_or_else(|| {
            BackendError::NotFound(format!(
                "queue {name} does not exist; run `voucherdeck provision` to create the queues and tables"
            ))
        })?;
        let arn = self.arn_for(name, &url).await?;
        let queue = QueueRef {
            name: name.to_string(),
            url,
            arn,
        };
        self.remember(&queue);
        Ok(queue)
    }

    async fn send_batch(
        &self,
        queue: &QueueRef,
        messages: &[OutgoingMessage],
    ) -> Result<BatchResult> {
        check_batch("sqs:SendMessageBatch", &queue.name, messages.len())?;
        let mut entries = Vec::with_capacity(messages.len());
        for m in messages {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(&m.id)
                .message_body(&m.body);
            if let Some(delay) = m.delay {
                entry = entry.delay_seconds(secs_i32(delay));
            }
            for (k, v) in &m.attributes {
                let value = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(v)
                    .build()
                    .map_err(|e| map_build("sqs:SendMessageBatch", &queue.name, &e))?;
                entry = entry.message_attributes(k, value);
            }
            entries.push(
                entry
                    .build()
                    .map_err(|e| map_build("sqs:SendMessageBatch", &queue.name, &e))?,
            );
        }
        self.requests.hit("sqs:SendMessageBatch");
        let out = self
            .client
            .send_message_batch()
            .queue_url(&queue.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| map_sdk("sqs:SendMessageBatch", &queue.name, &e))?;
        Ok(outcome(
            out.successful().iter().map(|s| s.id.as_str()),
            out.failed(),
        ))
    }

    async fn receive(&self, queue: &QueueRef, req: ReceiveRequest) -> Result<Vec<ReceivedMessage>> {
        let max = req.max.clamp(1, SQS_BATCH_MAX);
        let wait = req.wait.min(crate::ports::MAX_WAIT);
        let mut call = self
            .client
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(secs_i32(wait))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All");
        if let Some(v) = req.visibility {
            call = call.visibility_timeout(secs_i32(v));
        }
        self.requests.hit("sqs:ReceiveMessage");
        let result = if wait.is_zero() {
            call.send().await
        } else {
            // The server holds a long poll for up to `wait`: give this call that much more time.
            let timeouts = self.timeouts.extended_by(wait + Duration::from_secs(1));
            call.customize()
                .config_override(aws_sdk_sqs::config::Builder::default().timeout_config(timeouts))
                .send()
                .await
        };
        let out = result.map_err(|e| map_sdk("sqs:ReceiveMessage", &queue.name, &e))?;
        Ok(out.messages().iter().filter_map(received).collect())
    }

    async fn delete_batch(&self, queue: &QueueRef, receipts: &[Receipt]) -> Result<BatchResult> {
        check_batch("sqs:DeleteMessageBatch", &queue.name, receipts.len())?;
        let entries = receipts
            .iter()
            .map(|r| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(&r.id)
                    .receipt_handle(&r.handle)
                    .build()
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| map_build("sqs:DeleteMessageBatch", &queue.name, &e))?;
        self.requests.hit("sqs:DeleteMessageBatch");
        let out = self
            .client
            .delete_message_batch()
            .queue_url(&queue.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| map_sdk("sqs:DeleteMessageBatch", &queue.name, &e))?;
        Ok(outcome(
            out.successful().iter().map(|s| s.id.as_str()),
            out.failed(),
        ))
    }

    async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        changes: &[VisibilityChange],
    ) -> Result<BatchResult> {
        check_batch(
            "sqs:ChangeMessageVisibilityBatch",
            &queue.name,
            changes.len(),
        )?;
        let entries = changes
            .iter()
            .map(|c| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(&c.id)
                    .receipt_handle(&c.handle)
                    .visibility_timeout(secs_i32(c.timeout))
                    .build()
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| map_build("sqs:ChangeMessageVisibilityBatch", &queue.name, &e))?;
        self.requests.hit("sqs:ChangeMessageVisibilityBatch");
        let out = self
            .client
            .change_message_visibility_batch()
            .queue_url(&queue.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| map_sdk("sqs:ChangeMessageVisibilityBatch", &queue.name, &e))?;
        Ok(outcome(
            out.successful().iter().map(|s| s.id.as_str()),
            out.failed(),
        ))
    }

    async fn stats(&self, queue: &QueueRef) -> Result<QueueStats> {
        let attrs = self.attributes(&queue.name, &queue.url).await?;
        let count = |k: QueueAttributeName| {
            attrs
                .get(&k)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(QueueStats {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            oldest_age: None,
            as_of: Timestamp::now(),
        })
    }

    async fn redrive_policy(&self, queue: &QueueRef) -> Result<Option<RedrivePolicy>> {
        let attrs = self.attributes(&queue.name, &queue.url).await?;
        match attrs.get(&QueueAttributeName::RedrivePolicy) {
            Some(raw) if !raw.trim().is_empty() => {
                parse_redrive_policy(raw).map(Some).ok_or_else(|| {
                    BackendError::Other(format!("{}: unreadable RedrivePolicy {raw:?}", queue.name))
                })
            }
            _ => Ok(None),
        }
    }

    async fn dead_letter_sources(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        let mut urls = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.requests.hit("sqs:ListDeadLetterSourceQueues");
            let out = self
                .client
                .list_dead_letter_source_queues()
                .queue_url(&dlq.url)
                .set_next_token(token.take())
                .max_results(1000)
                .send()
                .await
                .map_err(|e| map_sdk("sqs:ListDeadLetterSourceQueues", &dlq.name, &e))?;
            urls.extend(out.queue_urls().iter().cloned());
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let prefix = dlq.arn.rsplit_once(':').map_or("", |(p, _)| p);
        let sources: Vec<QueueRef> = urls
            .into_iter()
            .map(|url| {
                let name = url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let arn = format!("{prefix}:{name}");
                QueueRef { name, url, arn }
            })
            .collect();
        for q in &sources {
            self.remember(q);
        }
        Ok(sources)
    }

    async fn start_move_task(
        &self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        self.requests.hit("sqs:StartMessageMoveTask");
        let out = self
            .client
            .start_message_move_task()
            .source_arn(&dlq.arn)
            .set_destination_arn(destination.map(|d| d.arn.clone()))
            .set_max_number_of_messages_per_second(rate.map(|r| r.min(500) as i32))
            .send()
            .await
            .map_err(|e| map_sdk_maybe_unsupported("sqs:StartMessageMoveTask", &dlq.name, &e))?;
        out.task_handle().map(ToString::to_string).ok_or_else(|| {
            BackendError::Other(format!(
                "{}: StartMessageMoveTask returned no task handle",
                dlq.name
            ))
        })
    }

    async fn list_move_tasks(&self, dlq: &QueueRef) -> Result<Vec<MoveTask>> {
        self.requests.hit("sqs:ListMessageMoveTasks");
        let out = self
            .client
            .list_message_move_tasks()
            .source_arn(&dlq.arn)
            .max_results(10)
            .send()
            .await
            .map_err(|e| map_sdk_maybe_unsupported("sqs:ListMessageMoveTasks", &dlq.name, &e))?;
        let mut tasks: Vec<MoveTask> = out
            .results()
            .iter()
            .map(|t| MoveTask {
                handle: t.task_handle().unwrap_or_default().to_string(),
                status: MoveTaskStatus::parse(t.status().unwrap_or_default()),
                source_arn: t.source_arn().unwrap_or(&dlq.arn).to_string(),
                destination_arn: t.destination_arn().map(ToString::to_string),
                rate: t
                    .max_number_of_messages_per_second()
                    .and_then(|r| u32::try_from(r).ok()),
                moved: u64::try_from(t.approximate_number_of_messages_moved()).unwrap_or(0),
                to_move: t
                    .approximate_number_of_messages_to_move()
                    .and_then(|n| u64::try_from(n).ok()),
                started_at: Some(Timestamp(t.started_timestamp())).filter(|ts| ts.0 > 0),
                failure_reason: t.failure_reason().map(ToString::to_string),
            })
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.started_at));
        Ok(tasks)
    }

    async fn cancel_move_task(&self, handle: &str) -> Result<u64> {
        self.requests.hit("sqs:CancelMessageMoveTask");
        let out = self
            .client
            .cancel_message_move_task()
            .task_handle(handle)
            .send()
            .await
            .map_err(|e| map_sdk_maybe_unsupported("sqs:CancelMessageMoveTask", "move task", &e))?;
        Ok(u64::try_from(out.approximate_number_of_messages_moved()).unwrap_or(0))
    }

    async fn purge(&self, queue: &QueueRef) -> Result<()> {
        self.requests.hit("sqs:PurgeQueue");
        self.client
            .purge_queue()
            .queue_url(&queue.url)
            .send()
            .await
            .map_err(|e| match map_sdk("sqs:PurgeQueue", &queue.name, &e) {
                BackendError::Conflict(m) => BackendError::Conflict(format!(
                    "{m} (SQS allows one purge per queue every 60 s)"
                )),
                other => other,
            })?;
        Ok(())
    }
}

/// The attributes a spec asks for.
fn spec_attributes(spec: &QueueSpec) -> HashMap<QueueAttributeName, String> {
    let mut attrs = HashMap::new();
    attrs.insert(
        QueueAttributeName::VisibilityTimeout,
        spec.visibility_timeout.as_secs().to_string(),
    );
    if let Some(r) = &spec.redrive {
        let policy = serde_json::json!({
            "deadLetterTargetArn": r.dead_letter_arn,
            "maxReceiveCount": r.max_receive_count,
        });
        attrs.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    attrs
}

/// Whether a current attribute value already says what `wanted` says (redrive policies compared parsed).
fn attribute_matches(key: &QueueAttributeName, current: Option<&String>, wanted: &str) -> bool {
    match (key, current) {
        (_, None) => false,
        (QueueAttributeName::RedrivePolicy, Some(c)) => {
            parse_redrive_policy(c).is_some()
                && parse_redrive_policy(c) == parse_redrive_policy(wanted)
        }
        (_, Some(c)) => c.trim() == wanted,
    }
}

/// Parses `{"deadLetterTargetArn": "...", "maxReceiveCount": 5}` (the count may be a string).
pub(crate) fn parse_redrive_policy(raw: &str) -> Option<RedrivePolicy> {
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    let arn = v.get("deadLetterTargetArn")?.as_str()?.to_string();
    let count = match v.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => u32::try_from(n.as_u64()?).ok()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(RedrivePolicy {
        dead_letter_arn: arn,
        max_receive_count: count,
    })
}

/// `arn:{partition}:sqs:{region}:{account}:{name}` from a queue URL ending in `/{account}/{name}`.
pub(crate) fn arn_from_url(url: &str, name: &str, region: Option<&str>) -> Option<String> {
    let region = region?;
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let last = segments.next()?;
    let account = segments.next()?;
    if last != name || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    };
    Some(format!("arn:{partition}:sqs:{region}:{account}:{name}"))
}

fn check_batch(op: &str, queue: &str, n: usize) -> Result<()> {
    if n == 0 || n > SQS_BATCH_MAX {
        return Err(BackendError::Invalid(format!(
            "{queue}: {op} takes 1 to {SQS_BATCH_MAX} entries, got {n}"
        )));
    }
    Ok(())
}

fn secs_i32(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn outcome<'a>(
    succeeded: impl Iterator<Item = &'a str>,
    failed: &[BatchResultErrorEntry],
) -> BatchResult {
    BatchResult {
        succeeded: succeeded.map(ToString::to_string).collect(),
        failed: failed
            .iter()
            .map(|f| BatchFailure {
                id: f.id().to_string(),
                code: f.code().to_string(),
                message: f.message().unwrap_or_default().to_string(),
                sender_fault: f.sender_fault(),
            })
            .collect(),
    }
}

/// A received SDK message in domain terms; messages without an id or receipt are skipped.
fn received(m: &Message) -> Option<ReceivedMessage> {
    let system = m.attributes();
    let sys = |k: MessageSystemAttributeName| system.and_then(|a| a.get(&k)).map(String::as_str);
    let millis = |k| {
        sys(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(Timestamp)
    };
    let attributes: BTreeMap<String, String> = m
        .message_attributes()
        .map(|attrs| {
            attrs
                .iter()
                .filter_map(|(k, v)| v.string_value().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Some(ReceivedMessage {
        message_id: m.message_id()?.to_string(),
        receipt: m.receipt_handle()?.to_string(),
        body: m.body().unwrap_or_default().to_string(),
        attributes,
        receive_count: sys(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1),
        sent_at: millis(MessageSystemAttributeName::SentTimestamp),
        first_received_at: millis(MessageSystemAttributeName::ApproximateFirstReceiveTimestamp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_from_urls() {
        assert_eq!(
            arn_from_url(
                "http://127.0.0.1:5000/123456789012/vouchers",
                "vouchers",
                Some("us-east-1")
            )
            .as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:vouchers")
        );
        assert_eq!(
            arn_from_url(
                "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
                "q",
                Some("cn-north-1")
            )
            .as_deref(),
            Some("arn:aws-cn:sqs:cn-north-1:123456789012:q")
        );
        assert_eq!(
            arn_from_url("http://x/000000000000/q", "other", Some("us-east-1")),
            None
        );
        assert_eq!(arn_from_url("http://x/q", "q", Some("us-east-1")), None);
        assert_eq!(arn_from_url("http://x/123456789012/q", "q", None), None);
    }

    #[test]
    fn redrive_policies_parse_numbers_and_strings() {
        let a = parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:x","maxReceiveCount":"5"}"#);
        let b = parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:x","maxReceiveCount":5}"#);
        assert_eq!(a, b);
        assert_eq!(a.map(|p| p.max_receive_count), Some(5));
        assert_eq!(parse_redrive_policy("{}"), None);
    }
}
