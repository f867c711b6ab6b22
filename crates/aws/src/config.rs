//! Loads the shared `SdkConfig` once: region, profile, endpoint, timeouts, retries and credentials.
//!
//! With an endpoint URL (an emulator such as moto or LocalStack) and no region configured anywhere,
//! the region defaults to `us-east-1`; when no credentials are found, static dummy credentials are
//! used (emulators accept anything), except for an endpoint on AWS itself. For a loopback endpoint the instance-metadata lookups are
//! skipped, so a local run never probes the EC2 metadata address.

use std::time::Duration;

use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;
use aws_sdk_sqs::config::{SharedCredentialsProvider, SharedHttpClient};

/// Options for the AWS backend.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Whole-operation timeout (all attempts). Long polls add their wait to it.
    pub operation_timeout: Option<Duration>,
    /// Per-attempt timeout.
    pub attempt_timeout: Option<Duration>,
    /// Attempts per operation (1 = no retry). `None`: the SDK's standard retry (3).
    pub max_attempts: Option<u32>,
}

/// Region used with an endpoint URL when none is configured.
pub(super) const EMULATOR_REGION: &str = "us-east-1";
/// Connect timeout for every client.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Whole-operation timeout (all attempts) when none is given.
pub(super) const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Per-attempt timeout when none is given. Long polls add their wait on top.
pub(super) const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The timeouts in force, kept so long polls can extend them per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub operation: Duration,
    pub attempt: Duration,
}

impl Timeouts {
    pub fn from_options(opts: &AwsOptions) -> Self {
        Timeouts {
            operation: opts.operation_timeout.unwrap_or(DEFAULT_OPERATION_TIMEOUT),
            attempt: opts.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT),
        }
    }

    /// The timeout config for calls that may wait up to `extra` on the server (long polls).
    pub fn extended_by(self, extra: Duration) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_timeout(self.operation + extra)
            .operation_attempt_timeout(self.attempt + extra)
            .build()
    }
}

/// The loaded configuration plus what the header shows about it.
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    pub sdk: SdkConfig,
    pub timeouts: Timeouts,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub profile: Option<String>,
}

/// Loads the SDK configuration once for every client.
pub(super) async fn load(opts: &AwsOptions) -> Loaded {
    let timeouts = Timeouts::from_options(opts);
    let profile = opts.profile.clone().or_else(|| env_nonempty("AWS_PROFILE"));
    // The endpoint as far as it is known before loading (aws-config also reads profile files).
    let early_endpoint = opts
        .endpoint_url
        .clone()
        .or_else(|| env_nonempty("AWS_ENDPOINT_URL"));
    let local = early_endpoint.as_deref().is_some_and(is_loopback_url);

    let http = https_client();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http.clone())
        .timeout_config(timeouts.extended_by(Duration::ZERO))
        // Stalled-stream protection watches the throughput of large uploads and downloads (S3).
        // These services send small JSON bodies, which the attempt timeout already bounds; off, a
        // request saves its throughput checks and their timer wake-ups (a tenth of a worker's CPU).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .retry_config(match opts.max_attempts {
            Some(n) => RetryConfig::standard().with_max_attempts(n.max(1)),
            None => RetryConfig::standard(),
        });
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(e) = &opts.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    } else if early_endpoint.is_some() {
        // Environment, then profile, then us-east-1: no instance-metadata lookup for an emulator.
        loader = loader.region(emulator_region_chain(profile.as_deref(), &http));
    }
    if local {
        loader = loader.credentials_provider(local_credentials_chain(profile.as_deref(), &http));
    }
    let mut sdk = loader.load().await;

    if sdk.endpoint_url().is_some() {
        let mut builder = sdk.to_builder();
        if sdk.region().is_none() {
            builder = builder.region(Region::new(EMULATOR_REGION));
        }
        // Another machine's emulator (LocalStack on a LAN) accepts dummy credentials too; an AWS
        // endpoint never does, so there a missing credential is said as such.
        let aws_host = early_endpoint.as_deref().is_some_and(is_aws_url);
        if !local
            && !aws_host
            && let Some(configured) = sdk.credentials_provider()
        {
            let chain = CredentialsProviderChain::first_try("configured", configured)
                .or_else("dummy", dummy());
            builder = builder.credentials_provider(SharedCredentialsProvider::new(chain));
        }
        sdk = builder.build();
    }

    Loaded {
        region: sdk.region().map(ToString::to_string),
        endpoint: sdk.endpoint_url().map(ToString::to_string),
        profile,
        timeouts,
        sdk,
    }
}

/// The HTTPS client every SDK client shares: hyper and rustls with the ring crypto provider and
/// the system's root certificates (what the SDK's default client does, on aws-lc instead).
pub fn https_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// What providers built outside the loader need: the shared HTTP client (a profile may name a
/// source that asks the network, such as instance metadata).
fn provider_config(http: &SharedHttpClient) -> ProviderConfig {
    ProviderConfig::default().with_http_client(http.clone())
}

fn emulator_region_chain(profile: Option<&str>, http: &SharedHttpClient) -> RegionProviderChain {
    let mut from_profile =
        aws_config::profile::ProfileFileRegionProvider::builder().configure(&provider_config(http));
    if let Some(p) = profile {
        from_profile = from_profile.profile_name(p);
    }
    RegionProviderChain::first_try(
        aws_config::environment::EnvironmentVariableRegionProvider::new(),
    )
    .or_else(from_profile.build())
    .or_else(Region::new(EMULATOR_REGION))
}

fn local_credentials_chain(
    profile: Option<&str>,
    http: &SharedHttpClient,
) -> CredentialsProviderChain {
    let mut from_profile = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .configure(&provider_config(http));
    if let Some(p) = profile {
        from_profile = from_profile.profile_name(p);
    }
    CredentialsProviderChain::first_try(
        "env",
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else("profile", from_profile.build())
    .or_else("dummy", dummy())
}

/// Credentials an emulator accepts; never valid on AWS.
fn dummy() -> Credentials {
    Credentials::new(
        "testing",
        "testing",
        None,
        None,
        "voucherdeck-emulator-dummy",
    )
}

/// Whether a URL points at AWS itself (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`).
pub(super) fn is_aws_url(url: &str) -> bool {
    let host = host_of(url);
    ["amazonaws.com", "amazonaws.com.cn", "api.aws"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// The host of a URL, lower-cased, without port or brackets.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a URL points at this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
pub(super) fn is_loopback_url(url: &str) -> bool {
    let host = host_of(url);
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        assert!(is_loopback_url("http://127.0.0.1:5000"));
        assert!(is_loopback_url("http://localhost:4566/"));
        assert!(is_loopback_url("http://[::1]:5000"));
        assert!(is_loopback_url("127.0.0.2:80"));
        assert!(!is_loopback_url("https://sqs.eu-west-1.amazonaws.com"));
        assert!(!is_loopback_url("http://10.0.0.5:5000"));
    }

    #[test]
    fn aws_urls() {
        assert!(is_aws_url("https://sqs.eu-west-1.amazonaws.com"));
        assert!(is_aws_url("https://sqs.cn-north-1.amazonaws.com.cn/"));
        assert!(is_aws_url("https://sqs.us-east-1.api.aws"));
        assert!(!is_aws_url("http://localstack:4566"));
        assert!(!is_aws_url("https://notamazonaws.com"));
    }

    #[test]
    fn long_polls_extend_timeouts() {
        let t = Timeouts {
            operation: Duration::from_secs(30),
            attempt: Duration::from_secs(10),
        };
        let c = t.extended_by(Duration::from_secs(20));
        assert_eq!(c.operation_attempt_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(c.operation_timeout(), Some(Duration::from_secs(50)));
        assert_eq!(c.connect_timeout(), Some(CONNECT_TIMEOUT));
    }
}
