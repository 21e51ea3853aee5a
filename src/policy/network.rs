//! Where callers are expected to come from: per `[[roles]]` entry
//! `runners` (`github-hosted`, the default for GitHub subjects;
//! `self-hosted` with `networks`; or `any`), a global `[network]` section of
//! networks trusted for everyone, and `[iam_user_keys] networks` for
//! long-lived keys.
//!
//! ```toml
//! [network]
//! trusted = ["10.20.0.0/16"]        # the VPN, the office: trusted for every role
//!
//! [[roles]]
//! arn = "arn:aws:iam::111122223333:role/gha-build"
//! subjects = ["repo:acme/build:*"]
//! runners = "self-hosted"
//! networks = ["10.40.0.0/16"]       # the runner fleet's VPC
//! ```

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::SpanError;

/// Which runners a role's callers are expected on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runners {
    /// GitHub-hosted runners: GitHub's Actions ranges (and `networks`).
    GithubHosted,
    /// Self-hosted runners: only the entry's `networks` (and `[network]`).
    SelfHosted,
    /// Anywhere: not checked.
    Any,
}

impl Runners {
    pub fn as_str(self) -> &'static str {
        match self {
            Runners::GithubHosted => "github-hosted",
            Runners::SelfHosted => "self-hosted",
            Runners::Any => "any",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NetworkFile {
    #[serde(default)]
    trusted: Vec<Spanned<String>>,
    github_meta: Option<String>,
    aws_ranges: Option<String>,
}

/// `[network]`, checked.
#[derive(Debug, Clone, Default)]
pub struct NetworkSection {
    pub trusted: Vec<IpNet>,
    /// `github_meta = "FILE"`: GitHub's meta JSON or a CIDR list, relative
    /// to the policy file (`--github-meta` wins).
    pub github_meta: Option<std::path::PathBuf>,
    /// `aws_ranges = "FILE"` (`--aws-ranges` wins).
    pub aws_ranges: Option<std::path::PathBuf>,
}

impl NetworkFile {
    pub(super) fn check(self) -> Result<NetworkSection, SpanError> {
        Ok(NetworkSection {
            trusted: nets(&self.trusted)?,
            github_meta: self.github_meta.map(Into::into),
            aws_ranges: self.aws_ranges.map(Into::into),
        })
    }
}

/// Parses a list of CIDR blocks, each error at its entry.
pub(super) fn nets(list: &[Spanned<String>]) -> Result<Vec<IpNet>, SpanError> {
    list.iter()
        .map(|s| {
            crate::network::ranges::parse_net(s.get_ref()).map_err(|e| SpanError::new(s.span(), e))
        })
        .collect()
}
