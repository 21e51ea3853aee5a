//! `unexpected-network`: callers outside the networks their role (or
//! long-lived key) is expected to be used from.

use std::net::IpAddr;

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, distinct, finding_rows,
    group, keep, string_column, strs,
};
use crate::frame::col;
use crate::ingest::{WEB_IDENTITY, is_long_lived_key};
use crate::network::classes::NetClass;
use crate::network::ranges::RangeSet;
use crate::policy::Policy;
use crate::policy::network::Runners;

#[doc = include_str!("unexpected_network.md")]
pub struct UnexpectedNetwork;

const CONTEXT: &[&str] = &[
    "kind",
    col::ROLE_ARN,
    col::SUBJECT,
    col::ACCESS_KEY_ID,
    col::IDENTITY_ARN,
    col::SOURCE_AS_ORG,
    "expected",
];

impl Report for UnexpectedNetwork {
    fn id(&self) -> &'static str {
        "unexpected-network"
    }
    fn title(&self) -> &'static str {
        "Callers outside their expected networks"
    }
    fn doc(&self) -> &'static str {
        include_str!("unexpected_network.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::WebIdentity, Needs::LongLivedKeys]
    }
    fn columns(&self) -> Vec<&'static str> {
        let read = [col::EVENT_NAME, col::ERROR_CODE, col::PROVIDER];
        [CONTEXT, WEB_IDENTITY_CONTEXT, &read].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Optional
    }

    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let empty = Policy::default();
        let policy = ctx.policy.unwrap_or(&empty);
        let trusted = RangeSet::from_nets(policy.trusted_networks.iter().copied());
        let keys_ok = RangeSet::from_nets(
            policy
                .key_networks
                .iter()
                .chain(&policy.trusted_networks)
                .copied(),
        );
        let (names, errors) = (strs(frame, col::EVENT_NAME)?, strs(frame, col::ERROR_CODE)?);
        let (roles, repos) = (
            strs(frame, col::ROLE_ARN)?,
            strs(frame, col::GH_REPOSITORY)?,
        );
        let providers = strs(frame, col::PROVIDER)?;
        let (ips, classes) = (
            strs(frame, col::SOURCE_IP)?,
            strs(frame, col::SOURCE_NETWORK)?,
        );
        let keys = strs(frame, col::ACCESS_KEY_ID)?;
        let n = frame.height();
        let mut found: Vec<Option<(Severity, &'static str, String)>> = vec![None; n];
        for (i, slot) in found.iter_mut().enumerate() {
            let Some(source) = ips.get(i) else { continue };
            // Services calling for the caller are not a network to judge.
            let Ok(ip) = source.trim().parse::<IpAddr>() else {
                continue;
            };
            let class = classes.get(i).unwrap_or("other");
            let severity = if class == NetClass::Other.as_str() {
                Severity::High
            } else {
                Severity::Medium
            };
            if names.get(i) == Some(WEB_IDENTITY) && errors.get(i).is_none() {
                let Some(role) = roles.get(i) else { continue };
                let github = repos.get(i).is_some()
                    || providers
                        .get(i)
                        .is_some_and(crate::frame::subject::is_github_provider);
                let Some(expect) = Expectation::of(policy, role, github) else {
                    continue;
                };
                if !(trusted.contains(ip) || expect.admits(ip, class)) {
                    *slot = Some((severity, expect.kind(), expect.describe(policy)));
                }
            } else if keys.get(i).is_some_and(is_long_lived_key)
                && !policy.key_networks.is_empty()
                && !keys_ok.contains(ip)
            {
                let list: Vec<String> = policy
                    .key_networks
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                *slot = Some((
                    severity,
                    "key-outside-networks",
                    format!("[iam_user_keys] networks: {}", list.join(", ")),
                ));
            }
        }
        let mut df = frame.clone();
        df.with_column(string_column(
            "severity",
            found.iter().map(|f| f.as_ref().map(|f| f.0.as_str())),
        ))?;
        df.with_column(string_column(
            "kind",
            found.iter().map(|f| f.as_ref().map(|f| f.1)),
        ))?;
        df.with_column(string_column(
            "expected",
            found.iter().map(|f| f.as_ref().map(|f| f.2.as_str())),
        ))?;
        let df = keep(df, found.iter().map(Option::is_some))?;
        finding_rows(df, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &[
                "kind",
                col::ROLE_ARN,
                col::ACCESS_KEY_ID,
                col::SOURCE_NETWORK,
            ],
            vec![
                distinct(col::SOURCE_IP),
                distinct(col::SOURCE_ASN),
                distinct(col::SOURCE_AS_ORG),
                distinct(col::SOURCE_COUNTRY),
                distinct(col::SUBJECT),
                col("expected").first().into(),
            ],
        )
    }
}

/// What a role's callers are expected on.
struct Expectation {
    runners: Runners,
    networks: RangeSet,
    listed: Vec<String>,
}

impl Expectation {
    /// `None` when the role is not checked (`runners = "any"`, or a
    /// non-GitHub subject with no `runners` said).
    fn of(policy: &Policy, role: &str, github_subject: bool) -> Option<Expectation> {
        let rules: Vec<_> = policy.rules_for(role).collect();
        let said = |r: Runners| rules.iter().any(|x| x.runners == Some(r));
        let runners = if said(Runners::Any) {
            return None;
        } else if said(Runners::SelfHosted) {
            Runners::SelfHosted
        } else if said(Runners::GithubHosted) || github_subject {
            Runners::GithubHosted
        } else {
            return None;
        };
        let nets: Vec<ipnet::IpNet> = rules
            .iter()
            .flat_map(|r| r.networks.iter().copied())
            .collect();
        Some(Expectation {
            runners,
            listed: nets.iter().map(ToString::to_string).collect(),
            networks: RangeSet::from_nets(nets),
        })
    }

    fn admits(&self, ip: IpAddr, class: &str) -> bool {
        self.networks.contains(ip)
            || (self.runners == Runners::GithubHosted && class == NetClass::GithubActions.as_str())
    }

    fn kind(&self) -> &'static str {
        match self.runners {
            Runners::SelfHosted => "outside-self-hosted-networks",
            _ => "outside-github-actions",
        }
    }

    fn describe(&self, policy: &Policy) -> String {
        let mut parts = Vec::new();
        if self.runners == Runners::GithubHosted {
            parts.push("GitHub's Actions ranges".to_string());
        }
        parts.extend(self.listed.iter().cloned());
        parts.extend(
            policy
                .trusted_networks
                .iter()
                .map(|n| format!("{n} ([network] trusted)")),
        );
        if parts.is_empty() {
            "no networks listed for these self-hosted runners".into()
        } else {
            parts.join(", ")
        }
    }
}
