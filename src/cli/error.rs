//! Errors of the command line, each with what to do next, and their exit codes.

use std::process::ExitCode;

use voucherdeck_core::ports::BackendError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags, config or input: exit 2.
    #[error("{0}")]
    Usage(String),
    /// A refusal under --read-only: exit 2.
    #[error(
        "read-only mode: `{0}` changes things and is refused (drop --read-only / VOUCHERDECK_READ_ONLY)"
    )]
    ReadOnly(&'static str),
    /// A refusal on a production pipeline without `--write`: exit 2.
    #[error(
        "pipeline {1:?} is marked production: `{0}` changes things and needs --write for this run"
    )]
    Production(&'static str, String),
    /// The backend failed: exit 1.
    #[error("{0}")]
    Backend(#[from] BackendError),
    /// Something else failed: exit 1.
    #[error("{0}")]
    Failed(String),
    /// `status --check` found something that needs attention: exit 3.
    #[error("{0}")]
    Attention(String),
    /// Standard output was closed by its reader (`| head`): the command stops quietly, exit 0.
    #[error("standard output closed")]
    OutputClosed,
    /// Stopped by a signal before the work was done (a second signal, or a command with nothing
    /// to finish): exit 130.
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) | CliError::ReadOnly(_) | CliError::Production(..) => {
                ExitCode::from(2)
            }
            CliError::Backend(_) | CliError::Failed(_) => ExitCode::from(1),
            CliError::Attention(_) => ExitCode::from(3),
            CliError::Interrupted(_) => ExitCode::from(130),
            CliError::OutputClosed => ExitCode::SUCCESS,
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Backend(BackendError::NotFound(_)) => Some(
                "run `voucherdeck provision` to create the queues and tables (or check --queue/--dlq/--table)",
            ),
            CliError::Backend(BackendError::Unreachable(_) | BackendError::Timeout(_)) => Some(
                "the endpoint did not answer: check --endpoint-url / AWS_ENDPOINT_URL and your network",
            ),
            CliError::Backend(BackendError::Unavailable(_)) => Some(
                "the endpoint answered with a server error (it is failing or overloaded); try again \
                 shortly, and check the service's health if it lasts",
            ),
            CliError::Backend(BackendError::NoCredentials(_)) => Some(
                "no AWS credentials were found: use --profile (or AWS_PROFILE) for a configured \
                 profile, `aws sso login` for SSO, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
                 run where an instance or task role provides them",
            ),
            CliError::Backend(BackendError::AccessDenied(_)) => Some(
                "check your credentials (--profile, AWS_PROFILE, `aws sso login`) and IAM permissions",
            ),
            CliError::Backend(BackendError::Throttled(_)) => {
                Some("the service is throttling; try again shortly")
            }
            _ => None,
        }
    }
}
