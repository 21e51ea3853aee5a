//! Events straight from AWS: the CloudTrail `LookupEvents` API
//! ([`lookup`]) and trails delivered to S3 ([`s3`]). Both hand their events
//! to the same parser and frame builder as local files, so every report,
//! format and exit status works unchanged.
//!
//! Credentials come from aws-config's standard chain (environment, shared
//! config and credentials files with `--profile`, SSO, web identity,
//! container and instance metadata). `AWS_ENDPOINT_URL` (or the
//! per-service `AWS_ENDPOINT_URL_CLOUDTRAIL`, `_S3`, `_IAM`, `_ACCOUNT`)
//! points the clients at another endpoint, as the tests do.

pub mod athena;
pub mod keys;
pub mod lookup;
pub mod roles;
pub mod s3;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// How to reach AWS, shared by `--api` and `--s3`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Region to read (repeatable). With --api: the regions whose event
    /// history is queried (STS calls are logged in the region that served
    /// them); with --s3: only these regions of the trail. Default for --api:
    /// the profile's or AWS_REGION's region.
    #[arg(long = "region", value_name = "REGION", action = clap::ArgAction::Append)]
    pub regions: Vec<String>,

    /// With --api: every region enabled for the account (asks
    /// `account:ListRegions`).
    #[arg(long)]
    pub all_regions: bool,

    /// The named profile of the shared config and credentials files.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// With --s3: only this account's logs (repeatable).
    #[arg(long = "account", value_name = "ID", action = clap::ArgAction::Append)]
    pub accounts: Vec<String>,
}

impl AwsArgs {
    /// The SDK configuration: the credential chain, the profile, standard
    /// retries (for the calls that do not pace themselves) and timeouts.
    pub async fn sdk_config(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            );
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        loader.load().await
    }

    /// A network runtime and the SDK configuration, with credentials
    /// resolved (one clear error when there are none).
    pub fn connect(&self) -> anyhow::Result<(tokio::runtime::Runtime, SdkConfig)> {
        use anyhow::Context;
        let rt = runtime().context("starting the network runtime")?;
        let sdk = rt.block_on(self.sdk_config());
        rt.block_on(check_credentials(&sdk))?;
        Ok((rt, sdk))
    }
}

/// The SDK's HTTP client: HTTPS by rustls on ring, with the system's root
/// certificates (the SDK's default client is the same on aws-lc, a second
/// cryptography library to build beside the ring that polars and reqwest
/// bring). Plain HTTP still works, for `AWS_ENDPOINT_URL` on loopback.
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Whether a request failed in the TLS handshake (a certificate that is not
/// trusted or not valid for the host, no protocol in common): rustls said
/// no, and another attempt would get the same answer, so these are not
/// retried.
pub fn is_tls_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    // An io::Error's `source` skips the error it wraps (hyper-rustls wraps
    // tokio-rustls' io::Error, which wraps rustls'): look inside by hand.
    fn is_rustls(e: &(dyn std::error::Error + 'static)) -> bool {
        e.is::<rustls::Error>()
            || e.downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .is_some_and(|inner| is_rustls(inner))
    }
    std::iter::successors(Some(err), |e| e.source()).any(is_rustls)
}

/// A retry classifier for the clients whose retries the SDK runs (S3, IAM,
/// STS, Account, Athena): a request refused in the TLS handshake is not
/// retried ([`is_tls_failure`]). The SDK's own classifiers take every
/// connector error for transient, so an untrusted certificate cost four
/// more attempts and their back-off (about ten seconds) before the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsRefusal;

impl aws_sdk_s3::config::retry::ClassifyRetry for TlsRefusal {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_s3::config::interceptors::InterceptorContext,
    ) -> aws_sdk_s3::config::retry::RetryAction {
        use aws_sdk_s3::config::retry::RetryAction;
        match ctx.output_or_error() {
            Some(Err(err)) if err.as_connector_error().is_some_and(|c| is_tls_failure(c)) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "TlsRefusal"
    }
}

/// The region global services (IAM, Account) and S3 are asked in when the
/// configuration names none.
pub fn home_region(sdk: &SdkConfig) -> Region {
    sdk.region()
        .cloned()
        .unwrap_or_else(|| Region::new("us-east-1"))
}

/// A runtime for the network side; parsing stays on rayon's threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ctaudit-net")
        .enable_all()
        .build()
}

/// An SDK error in one line: the service's code and message when it
/// answered, else the chain of causes (connection refused, timeout…).
pub fn describe_error<E, R>(err: &aws_sdk_cloudtrail::error::SdkError<E, R>) -> String
where
    E: std::error::Error + aws_sdk_cloudtrail::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    if let Some(service) = err.as_service_error() {
        match (service.code(), service.message()) {
            (Some(code), Some(msg)) => return format!("{code}: {msg}"),
            (Some(code), None) => return code.to_string(),
            _ => {}
        }
    }
    causes(err)
}

/// An error and its sources, joined by `: ` (each said once).
pub fn causes(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let msg = e.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = e.source();
    }
    out
}

/// Resolves credentials once, before any request, so that a machine with
/// none gets one clear error instead of one per region.
pub async fn check_credentials(sdk: &SdkConfig) -> anyhow::Result<()> {
    use aws_credential_types::provider::ProvideCredentials;
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| anyhow::anyhow!("no AWS credentials provider is configured"))?;
    provider.provide_credentials().await.map_err(|e| {
        anyhow::anyhow!(
            "no AWS credentials: {}\nset AWS_PROFILE or pass --profile, run `aws sso login`, export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached",
            causes(&e)
        )
    })?;
    Ok(())
}

/// A retry delay: exponential from `base`, capped, with jitter so that
/// regions throttled together do not retry together.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let exp = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    // Between half and all of the exponential delay.
    let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
    exp.mul_f64(fraction)
}

/// The account of the credentials (STS `GetCallerIdentity`): what the
/// CloudTrail API reads, and what `--state` keys its marks by.
pub async fn account_id(sdk: &SdkConfig) -> anyhow::Result<String> {
    let conf = aws_sdk_sts::config::Builder::from(sdk)
        .region(home_region(sdk))
        .retry_classifier(TlsRefusal)
        .build();
    let out = aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "--state: STS GetCallerIdentity failed ({}); the state keeps the API's progress per account",
                describe_error(&e)
            )
        })?;
    out.account()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("--state: STS GetCallerIdentity named no account"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::from_millis(500);
        let cap = Duration::from_secs(20);
        for attempt in 0..10 {
            let d = backoff(attempt, base, cap);
            let full = base.saturating_mul(1 << attempt).min(cap);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(40, base, cap) <= cap);
    }
}
