//! Finding and creating queues: URL, ARN and attributes, each asked for by more than one port
//! method.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;

use super::policy::arn_from_url;
use super::queue::SqsQueue;
use crate::errors::has_code;
use voucherdeck_core::ports::{BackendError, QueueSpec, Result};

impl SqsQueue {
    /// `Some(url)` if the queue exists, `None` if it does not.
    pub(super) async fn queue_url(&self, name: &str) -> Result<Option<String>> {
        let out = self
            .call("sqs:GetQueueUrl", name)
            .send_unless(self.client.get_queue_url().queue_name(name).send(), |e| {
                has_code(e, "QueueDoesNotExist") || has_code(e, "NonExistentQueue")
            })
            .await?;
        Ok(out.and_then(|o| o.queue_url().map(ToString::to_string)))
    }

    /// Every attribute of a queue, in one call (`All` is the cheapest form on moto).
    pub(super) async fn attributes(
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
    pub(super) async fn arn_for(&self, name: &str, url: &str) -> Result<String> {
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
    pub(super) async fn create(
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
}
