//! The policy file as TOML says it, and its checks into a [`Policy`]: every
//! mistake carries the byte span it was found at.

use serde::Deserialize;
use toml::Spanned;

use super::hours::BusinessHoursFile;
use super::{
    Burst, DEFAULT_AUDIENCE, DEFAULT_MAX_SESSION, OffHoursRule, Pattern, Policy, RoleRule,
    SpanError, accept, network,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    max_session: Option<u32>,
    business_hours: Option<BusinessHoursFile>,
    #[serde(default)]
    roles: Vec<RoleFile>,
    iam_user_keys: Option<IamUserKeysFile>,
    #[serde(default)]
    accept: Vec<accept::AcceptFile>,
    network: Option<network::NetworkFile>,
    failures: Option<FailuresFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailuresFile {
    burst: Option<BurstFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstFile {
    count: Option<Spanned<usize>>,
    within: Option<Spanned<String>>,
}

impl BurstFile {
    fn check(self) -> Result<Burst, SpanError> {
        let mut b = Burst::default();
        if let Some(c) = self.count {
            if *c.get_ref() < 2 {
                return Err(SpanError::new(c.span(), "`count` must be at least 2"));
            }
            b.count = *c.get_ref();
        }
        if let Some(w) = self.within {
            let text = w.get_ref().trim();
            let ms = crate::time::parse_length(text, &['s', 'm', 'h']).ok_or_else(|| {
                SpanError::new(
                    w.span(),
                    format!("`within = \"{text}\"` is not a duration: use 90s, 5m or 1h"),
                )
            })?;
            b.within = ms;
        }
        Ok(b)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    arn: String,
    #[serde(default)]
    subjects: Vec<String>,
    audiences: Option<Vec<String>>,
    #[serde(default)]
    off_hours: OffHoursRule,
    runners: Option<network::Runners>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
    max_session: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IamUserKeysFile {
    #[serde(default)]
    allowed_users: Vec<String>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
}

impl PolicyFile {
    pub(super) fn check(self) -> Result<Policy, SpanError> {
        let business_hours = self
            .business_hours
            .map(BusinessHoursFile::check)
            .transpose()?;
        let roles = self
            .roles
            .into_iter()
            .map(|r| {
                Ok(RoleRule {
                    networks: network::nets(&r.networks)?,
                    arn: Pattern::new(r.arn),
                    subjects: r.subjects.into_iter().map(Pattern::new).collect(),
                    audiences: r
                        .audiences
                        .unwrap_or_else(|| vec![DEFAULT_AUDIENCE.to_string()])
                        .into_iter()
                        .map(Pattern::new)
                        .collect(),
                    off_hours: r.off_hours,
                    runners: r.runners,
                    max_session: r.max_session,
                })
            })
            .collect::<Result<_, SpanError>>()?;
        let (allowed_users, key_networks) = match self.iam_user_keys {
            Some(k) => (
                k.allowed_users.into_iter().map(Pattern::new).collect(),
                network::nets(&k.networks)?,
            ),
            None => Default::default(),
        };
        let network = self
            .network
            .map(network::NetworkFile::check)
            .transpose()?
            .unwrap_or_default();
        let accept = self
            .accept
            .into_iter()
            .enumerate()
            .map(|(i, a)| a.check(i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            business_hours,
            roles,
            allowed_users,
            accept,
            trusted_networks: network.trusted,
            range_files: (network.github_meta, network.aws_ranges),
            key_networks,
            max_session: self.max_session.unwrap_or(DEFAULT_MAX_SESSION),
            burst: match self.failures.and_then(|f| f.burst) {
                Some(b) => b.check()?,
                None => Burst::default(),
            },
        })
    }
}
