//! SDK errors mapped to [`BackendError`] at the adapter edge, so services decide retry versus DLQ
//! without knowing the SDK.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};

use voucherdeck_core::ports::BackendError;

/// What to tell a user who points the tool at resources that do not exist yet.
const PROVISION_HINT: &str = "run `voucherdeck provision` to create the queues and tables";

/// Maps any SDK operation error. `op` is the operation (`sqs:ReceiveMessage`), `resource` what it
/// was about (a queue or table name).
pub(crate) fn map_sdk<E>(op: &str, resource: &str, err: &SdkError<E, HttpResponse>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    match err {
        SdkError::ConstructionFailure(_) => BackendError::Invalid(format!(
            "{resource}: {op} request could not be built: {}",
            DisplayErrorContext(err)
        )),
        SdkError::TimeoutError(_) => {
            BackendError::Timeout(format!("{resource}: {op} got no answer within its timeout"))
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            tracing::debug!(error = %DisplayErrorContext(err), "{op} timed out");
            BackendError::Timeout(format!("{resource}: {op} timed out ({})", root_cause(err)))
        }
        SdkError::DispatchFailure(d) if d.is_user() => BackendError::Invalid(format!(
            "{resource}: {op} could not be sent: {}",
            DisplayErrorContext(err)
        )),
        SdkError::DispatchFailure(_) if is_missing_credentials(err) => {
            tracing::debug!(error = %DisplayErrorContext(err), "{op} found no credentials");
            BackendError::NoCredentials(format!(
                "{resource}: {op} could not be signed ({})",
                root_cause(err)
            ))
        }
        SdkError::DispatchFailure(_) => {
            // The full chain is long and repetitive; the screen gets its root cause.
            tracing::debug!(error = %DisplayErrorContext(err), "{op} could not reach the endpoint");
            BackendError::Unreachable(format!(
                "{resource}: cannot reach the endpoint for {op} ({})",
                root_cause(err)
            ))
        }
        SdkError::ResponseError(_) => match status {
            Some(s) => classify(op, resource, None, None, Some(s)),
            None => BackendError::Unavailable(format!(
                "{resource}: {op} returned an unreadable response: {}",
                DisplayErrorContext(err)
            )),
        },
        _ => classify(op, resource, err.code(), err.message(), status),
    }
}

/// Maps an error of an operation some endpoints do not implement (moto answers HTTP 500 for the
/// message-move APIs; others 400 `InvalidAction`, 404 or 501): an unsupported-operation code, or a
/// bare 404, 500 or 501 without a known error code, becomes `Unsupported`.
pub(crate) fn map_sdk_maybe_unsupported<E>(
    op: &str,
    resource: &str,
    err: &SdkError<E, HttpResponse>,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let mapped = map_sdk(op, resource, err);
    let known_code = err
        .code()
        .is_some_and(|c| !matches!(classify_code(c), CodeClass::Unknown));
    match (status, &mapped) {
        (
            Some(404 | 500 | 501),
            BackendError::Unavailable(_) | BackendError::Other(_) | BackendError::NotFound(_),
        ) if !known_code => BackendError::Unsupported(format!(
            "{op} is not implemented by this endpoint (HTTP {})",
            status.unwrap_or_default()
        )),
        _ => mapped,
    }
}

/// Maps a request-builder error (a required field missing).
pub(crate) fn map_build(op: &str, resource: &str, err: &BuildError) -> BackendError {
    BackendError::Invalid(format!(
        "{resource}: {op} request could not be built: {err}"
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeClass {
    Throttled,
    NotFound,
    Invalid,
    Conflict,
    AccessDenied,
    Unsupported,
    Unavailable,
    Unknown,
}

/// The error codes of each class, as AWS services spell them.
const CODES: &[(CodeClass, &[&str])] = &[
    (
        CodeClass::Throttled,
        &[
            "Throttling",
            "ThrottlingException",
            "ThrottledException",
            "RequestThrottled",
            "RequestThrottledException",
            "TooManyRequestsException",
            "RequestLimitExceeded",
            "ProvisionedThroughputExceededException",
            "TransactionInProgressException",
            "LimitExceededException",
            "SlowDown",
            "BandwidthLimitExceeded",
            "KmsThrottled",
            "KMS.ThrottlingException",
            "OverLimit",
            "PriorRequestNotComplete",
        ],
    ),
    (
        CodeClass::NotFound,
        &[
            "QueueDoesNotExist",
            "NonExistentQueue",
            "ResourceNotFoundException",
            "ResourceNotFound",
            "TableNotFoundException",
            "ResourceNotFoundFault",
        ],
    ),
    (
        CodeClass::Conflict,
        &[
            "ConditionalCheckFailedException",
            "TransactionConflictException",
            "ResourceInUseException",
            "QueueAlreadyExists",
            "QueueNameExists",
            "QueueDeletedRecently",
            "PurgeQueueInProgress",
            "TransactionCanceledException",
            "IdempotentParameterMismatchException",
        ],
    ),
    (
        CodeClass::AccessDenied,
        &[
            "AccessDenied",
            "AccessDeniedException",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "ExpiredTokenException",
            "MissingAuthenticationToken",
            "IncompleteSignature",
            "InvalidSecurity",
            "KmsAccessDenied",
            "KMS.AccessDeniedException",
            "RequestExpired",
            "OptInRequired",
        ],
    ),
    (
        CodeClass::Unsupported,
        &[
            "UnsupportedOperation",
            "UnknownOperation",
            "UnknownOperationException",
            "InvalidAction",
            "NotImplemented",
            "NotImplementedException",
        ],
    ),
    (
        CodeClass::Unavailable,
        &[
            "ServiceUnavailable",
            "ServiceUnavailableException",
            "InternalError",
            "InternalFailure",
            "InternalServerError",
            "InternalServiceError",
            "InternalServerException",
            "RequestTimeout",
            "RequestTimeoutException",
            "KmsUnavailable",
        ],
    ),
    (
        CodeClass::Invalid,
        &[
            "InvalidParameterValue",
            "InvalidParameterValueException",
            "InvalidParameterCombination",
            "InvalidParameterException",
            "ValidationException",
            "ValidationError",
            "MissingParameter",
            "MissingRequiredParameter",
            "InvalidAttributeName",
            "InvalidAttributeValue",
            "InvalidMessageContents",
            "InvalidBatchEntryId",
            "BatchEntryIdsNotDistinct",
            "TooManyEntriesInBatchRequest",
            "EmptyBatchRequest",
            "BatchRequestTooLong",
            "ReceiptHandleIsInvalid",
            "MessageNotInflight",
            "InvalidAddress",
            "InvalidIdFormat",
            "SerializationException",
            "ItemCollectionSizeLimitExceededException",
            "InvalidParameterInput",
            "InvalidFormat",
            "MalformedQueryString",
            "InvalidQueryParameter",
        ],
    ),
];

/// Error codes, without the `AWS.SimpleQueueService.` prefix or the `;Sender` suffix.
fn classify_code(code: &str) -> CodeClass {
    let code = code.rsplit_once('#').map_or(code, |(_, c)| c);
    let code = code.split(';').next().unwrap_or(code);
    let code = code.strip_prefix("AWS.SimpleQueueService.").unwrap_or(code);
    CODES
        .iter()
        .find(|(_, codes)| codes.contains(&code))
        .map_or(CodeClass::Unknown, |(class, _)| *class)
}

/// Classifies a service answer by its error code, then by its HTTP status.
fn classify(
    op: &str,
    resource: &str,
    code: Option<&str>,
    message: Option<&str>,
    status: Option<u16>,
) -> BackendError {
    let what = match (code, message) {
        (Some(c), Some(m)) if !m.is_empty() => format!("{m} ({op}, {c})"),
        (Some(c), _) => format!("{op} failed with {c}"),
        (None, Some(m)) if !m.is_empty() => format!("{m} ({op})"),
        (None, _) => format!(
            "{op} failed with HTTP {}",
            status.map_or_else(|| "?".into(), |s| s.to_string())
        ),
    };
    let text = format!("{resource}: {what}");
    let class = match code.map(classify_code) {
        Some(CodeClass::Unknown) | None => match status {
            Some(429) => CodeClass::Throttled,
            Some(404) => CodeClass::NotFound,
            Some(401 | 403) => CodeClass::AccessDenied,
            Some(409) => CodeClass::Conflict,
            Some(400 | 413) => CodeClass::Invalid,
            Some(501) => CodeClass::Unsupported,
            Some(500..=599) => CodeClass::Unavailable,
            _ => CodeClass::Unknown,
        },
        Some(c) => c,
    };
    match class {
        CodeClass::Throttled => BackendError::Throttled(text),
        CodeClass::NotFound => BackendError::NotFound(format!("{text}; {PROVISION_HINT}")),
        CodeClass::Invalid => BackendError::Invalid(text),
        CodeClass::Conflict => BackendError::Conflict(text),
        CodeClass::AccessDenied => BackendError::AccessDenied(text),
        CodeClass::Unsupported => BackendError::Unsupported(text),
        CodeClass::Unavailable => BackendError::Unavailable(text),
        CodeClass::Unknown => BackendError::Other(text),
    }
}

/// Whether an SDK error carries this error code (e.g. `ConditionalCheckFailedException`).
pub(crate) fn has_code<E>(err: &SdkError<E, HttpResponse>, wanted: &str) -> bool
where
    E: ProvideErrorMetadata,
{
    err.code().is_some_and(|c| {
        let c = c.rsplit_once('#').map_or(c, |(_, c)| c);
        c == wanted || c.strip_prefix("AWS.SimpleQueueService.") == Some(wanted)
    })
}

/// Whether a request failed before it was sent because no credentials could be found: the
/// credential chain's own error is in the cause chain (every provider, IMDS last, said no).
fn is_missing_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The innermost error of a chain, e.g. "Connection refused (os error 111)".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use std::mem::discriminant;

    use super::*;

    /// A variant of [`BackendError`], by its constructor.
    type Variant = fn(String) -> BackendError;

    fn class(code: Option<&str>, status: Option<u16>) -> BackendError {
        classify("sqs:Op", "q", code, Some("boom"), status)
    }

    /// Asserts that each (code, status) pair maps to its expected variant.
    fn assert_classes(cases: &[(Option<&str>, Option<u16>, Variant)]) {
        for (code, status, variant) in cases {
            let got = class(*code, *status);
            assert_eq!(
                discriminant(&got),
                discriminant(&variant(String::new())),
                "{code:?} {status:?} gave {got:?}"
            );
        }
    }

    #[test]
    fn codes_map_to_domain_errors() {
        use BackendError as B;
        assert!(matches!(
            class(Some("AWS.SimpleQueueService.NonExistentQueue"), Some(400)),
            BackendError::NotFound(m) if m.contains("voucherdeck provision")
        ));
        let sender_unsupported = "AWS.SimpleQueueService.UnsupportedOperation;Sender";
        assert_classes(&[
            (Some("ThrottlingException"), Some(400), B::Throttled),
            (
                Some("ProvisionedThroughputExceededException"),
                Some(400),
                B::Throttled,
            ),
            (Some("RequestThrottled"), Some(403), B::Throttled),
            (Some("QueueDoesNotExist"), Some(400), B::NotFound),
            (Some("ResourceNotFoundException"), Some(400), B::NotFound),
            (Some("InvalidParameterValue"), Some(400), B::Invalid),
            (Some("AccessDeniedException"), Some(400), B::AccessDenied),
            (Some(sender_unsupported), Some(400), B::Unsupported),
            (
                Some("ConditionalCheckFailedException"),
                Some(400),
                B::Conflict,
            ),
            (Some("InternalFailure"), Some(500), B::Unavailable),
        ]);
    }

    #[test]
    fn statuses_map_when_the_code_is_unknown() {
        use BackendError as B;
        assert_classes(&[
            (None, Some(429), B::Throttled),
            (Some("Weird"), Some(503), B::Unavailable),
            (None, Some(403), B::AccessDenied),
            (None, Some(400), B::Invalid),
            (Some("Weird"), Some(302), B::Other),
        ]);
    }

    #[test]
    fn retryable_classes() {
        assert!(class(Some("Throttling"), None).is_retryable());
        assert!(class(Some("ServiceUnavailable"), None).is_retryable());
        assert!(!class(Some("InvalidParameterValue"), None).is_retryable());
    }
}
