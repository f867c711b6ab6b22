//! What a template declares beside the queues and tables.

use super::iam::PolicyFile;

/// What the template declares beside the queues and tables.
#[derive(Debug, Clone, Default)]
pub struct TemplateOptions {
    /// The alarms, as `provision --alarms` puts them.
    pub alarms: bool,
    /// The consumer as a Lambda function with its event source mapping.
    pub lambda: bool,
    /// The policy documents of `assets/iam/` (roles, queue policies).
    pub policies: Vec<PolicyFile>,
    /// The SNS topic the alarms notify (the `AlarmTopicArn` parameter's default).
    pub sns_topic: Option<String>,
}
