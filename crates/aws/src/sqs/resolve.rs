//! Finding, creating and configuring queues: URL, ARN, attributes, the DLQ's source queues.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;

use super::policy::{arn_from_url, settings_from, spec_attributes};
use super::queue::SqsQueue;
use crate::errors::has_code;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{
    BackendError, QueueRef, QueueSettings, QueueSpec, QueueStats, Result,
};

impl SqsQueue {
    /// `Some(url)` if the queue exists, `None` if it does not.
    async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        let out = self
            .call("sqs:GetQueueUrl", name)
            .send_unless(self.client.get_queue_url().queue_name(name).send(), |e| {
                has_code(e, "QueueDoesNotExist") || has_code(e, "NonExistentQueue")
            })
            .await?;
        Ok(out.and_then(|o| o.queue_url().map(ToString::to_string)))
    }

    /// Every attribute of a queue, in one call (`All` is the cheapest form on moto).
    async fn attributes(
        &self,
        name: &str,
        url: &str,
    ) -> Result<HashMap<QueueAttributeName, String>> {
        let request = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send();
        let out = self
            .call("sqs:GetQueueAttributes", name)
            .send(request)
            .await?;
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

    /// Creates the queue; `None` when it was created meanwhile by someone else with other
    /// attributes (it is then updated instead).
    async fn create(
        &self,
        spec: &QueueSpec,
        attrs: &HashMap<QueueAttributeName, String>,
    ) -> Result<Option<String>> {
        let request = self
            .client
            .create_queue()
            .queue_name(&spec.name)
            .set_attributes(Some(attrs.clone()))
            .send();
        let out = self
            .call("sqs:CreateQueue", &spec.name)
            .send_unless(request, |e| {
                has_code(e, "QueueAlreadyExists") || has_code(e, "QueueNameExists")
            })
            .await?;
        Ok(out.and_then(|o| o.queue_url().map(ToString::to_string)))
    }

    async fn set_attributes(
        &self,
        name: &str,
        url: &str,
        attrs: HashMap<QueueAttributeName, String>,
    ) -> Result<()> {
        let request = self
            .client
            .set_queue_attributes()
            .queue_url(url)
            .set_attributes(Some(attrs))
            .send();
        self.call("sqs:SetQueueAttributes", name)
            .send(request)
            .await?;
        Ok(())
    }

    /// Creates the queue with the spec's attributes if it is missing; an existing one is left as it
    /// is. Returns it and whether it was created.
    pub(super) async fn ensure_queue(&self, spec: &QueueSpec) -> Result<(QueueRef, bool)> {
        let mut created = false;
        let mut url = self.queue_url(&spec.name).await?;
        if url.is_none() {
            url = self.create(spec, &spec_attributes(spec)).await?;
            created = url.is_some();
            if url.is_none() {
                url = self.queue_url(&spec.name).await?;
            }
        }
        let url = url.ok_or_else(|| {
            BackendError::Other(format!("{}: the service returned no queue URL", spec.name))
        })?;
        let arn = self.arn_for(&spec.name, &url).await?;
        let queue = QueueRef {
            name: spec.name.clone(),
            url,
            arn,
        };
        self.remember(&queue);
        Ok((queue, created))
    }

    /// The queue's settings, from one `GetQueueAttributes` call.
    pub(super) async fn queue_settings(&self, queue: &QueueRef) -> Result<QueueSettings> {
        let attrs = self.attributes(&queue.name, &queue.url).await?;
        Ok(settings_from(&attrs))
    }

    /// Sets every attribute the spec names; removes a redrive policy the spec does not have.
    pub(super) async fn update_queue(&self, queue: &QueueRef, spec: &QueueSpec) -> Result<()> {
        let mut changes = spec_attributes(spec);
        if spec.redrive.is_none() {
            changes.insert(QueueAttributeName::RedrivePolicy, String::new());
        }
        self.set_attributes(&queue.name, &queue.url, changes).await
    }

    /// Resolves an existing queue by name (cached).
    pub(super) async fn open_queue(&self, name: &str) -> Result<QueueRef> {
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

    /// Visible, in flight and delayed, from the queue's approximate counts.
    pub(super) async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats> {
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

    /// The queues whose redrive policy names this DLQ, every page of them.
    pub(super) async fn source_queues(&self, dlq: &QueueRef) -> Result<Vec<QueueRef>> {
        let call = self.call("sqs:ListDeadLetterSourceQueues", &dlq.name);
        let mut urls = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .list_dead_letter_source_queues()
                .queue_url(&dlq.url)
                .set_next_token(token.take())
                .max_results(1000)
                .send();
            // Optional: some SQS-compatible endpoints lack it (`Unsupported`; redrive falls back).
            let out = call.send_maybe_unsupported(request).await?;
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
}
