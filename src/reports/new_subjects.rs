//! `new-subjects`: subjects, repositories, keys, networks and clients that
//! the baseline (earlier runs, or the store before the window) never saw.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, distinct, finding_rows,
    group, keep, string_column, strs,
};
use crate::frame::col;
use crate::ingest::{WEB_IDENTITY, is_long_lived_key};
use crate::state::history::{self, History, Seen, agent_family, network};
use crate::time::format_millis;

#[doc = include_str!("new_subjects.md")]
pub struct NewSubjects;

const CONTEXT: &[&str] = &[
    "kind",
    col::ROLE_ARN,
    col::SUBJECT,
    col::ACCESS_KEY_ID,
    col::IDENTITY_ARN,
    "network",
    "agent_family",
    "known",
];

impl Report for NewSubjects {
    fn id(&self) -> &'static str {
        "new-subjects"
    }
    fn title(&self) -> &'static str {
        "Subjects, repositories and keys never seen before"
    }
    fn doc(&self) -> &'static str {
        include_str!("new_subjects.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::WebIdentity, Needs::LongLivedKeys]
    }
    fn columns(&self) -> Vec<&'static str> {
        [CONTEXT, WEB_IDENTITY_CONTEXT, history::COLUMNS].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Optional
    }

    fn note(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.history.is_none().then(|| {
            "no history yet: building the baseline, nothing is reported as new (keep it with --state FILE; or read a --store, or give --baseline, with a --since that leaves events before the window)".to_string()
        })
    }

    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let empty = History::default();
        // Without a history nothing is new: the same steps on no rows give
        // the findings' columns.
        let (frame, history) = match ctx.history {
            Some(h) => (frame.clone(), h),
            None => (frame.head(Some(0)), &empty),
        };
        let (names, errors) = (
            strs(&frame, col::EVENT_NAME)?,
            strs(&frame, col::ERROR_CODE)?,
        );
        let (roles, subjects) = (strs(&frame, col::ROLE_ARN)?, strs(&frame, col::SUBJECT)?);
        let repos = strs(&frame, col::GH_REPOSITORY)?;
        let (keys, ips) = (
            strs(&frame, col::ACCESS_KEY_ID)?,
            strs(&frame, col::SOURCE_IP)?,
        );
        let agents = strs(&frame, col::USER_AGENT)?;
        let n = frame.height();
        let mut found: Vec<Option<(Severity, String, String)>> = vec![None; n];
        let (mut nets, mut families) = (vec![None; n], vec![None; n]);
        for i in 0..n {
            if names.get(i) == Some(WEB_IDENTITY) && errors.get(i).is_none() {
                let (Some(role), Some(subject)) = (roles.get(i), subjects.get(i)) else {
                    continue;
                };
                found[i] = judge_assumption(history, role, subject, repos.get(i));
            } else if let Some(key) = keys.get(i).filter(|k| is_long_lived_key(k)) {
                let net = ips.get(i).map(network);
                let family = agents.get(i).map(agent_family);
                found[i] = judge_key(history, key, net.as_deref(), family.as_deref());
                nets[i] = net;
                families[i] = family;
            }
        }
        let mut df = frame;
        df.with_column(string_column(
            "severity",
            found.iter().map(|f| f.as_ref().map(|f| f.0.as_str())),
        ))?;
        df.with_column(string_column(
            "kind",
            found.iter().map(|f| f.as_ref().map(|f| f.1.as_str())),
        ))?;
        df.with_column(string_column(
            "known",
            found.iter().map(|f| f.as_ref().map(|f| f.2.as_str())),
        ))?;
        df.with_column(string_column("network", nets))?;
        df.with_column(string_column("agent_family", families))?;
        let df = keep(df, found.iter().map(Option::is_some))?;
        finding_rows(df, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &["kind", col::ROLE_ARN, col::SUBJECT, col::ACCESS_KEY_ID],
            vec![
                col(col::GH_REPOSITORY).first().into(),
                distinct("network"),
                distinct("agent_family"),
                col("known").first().into(),
            ],
        )
    }
}

fn since(seen: &Seen) -> String {
    format_millis(seen.first)[..10].to_string()
}

/// A successful assumption: new repository, new subject, or known.
fn judge_assumption(
    history: &History,
    role: &str,
    subject: &str,
    repo: Option<&str>,
) -> Option<(Severity, String, String)> {
    let empty = BTreeMap::new();
    let subjects = history.subjects.get(role).unwrap_or(&empty);
    if subjects.contains_key(subject) {
        return None;
    }
    let repos = history.repositories.get(role).unwrap_or(&empty);
    let role_known = match subjects.values().map(|s| s.first).min() {
        Some(first) => format!(
            "role assumed by {} other subjects since {}",
            subjects.len(),
            &format_millis(first)[..10]
        ),
        None => "role never assumed before".to_string(),
    };
    match repo.map(|r| (r, repos.get(r))) {
        Some((_, Some(seen))) => {
            let others = subjects
                .keys()
                .filter(|s| {
                    crate::frame::subject::parse_github_subject(s, None)
                        .and_then(|g| g.repository)
                        .as_deref()
                        == repo
                })
                .count();
            Some((
                Severity::Medium,
                "new-subject".into(),
                format!(
                    "repository known since {} ({others} other subjects of it)",
                    since(seen)
                ),
            ))
        }
        Some((_, None)) => Some((Severity::High, "new-repository".into(), role_known)),
        // Not a GitHub subject: there is no repository to judge by.
        None => Some((Severity::Medium, "new-subject".into(), role_known)),
    }
}

/// A use of a long-lived key: new key, or a known one from a new network
/// or user-agent family.
fn judge_key(
    history: &History,
    key: &str,
    net: Option<&str>,
    family: Option<&str>,
) -> Option<(Severity, String, String)> {
    let Some(known) = history.keys.get(key) else {
        return Some((
            Severity::High,
            "new-key".into(),
            "key never used before".into(),
        ));
    };
    let new_net = net.filter(|n| !known.networks.contains_key(*n));
    let new_family = family.filter(|f| !known.agents.contains_key(*f));
    let list = |m: &BTreeMap<String, Seen>| {
        let mut names: Vec<&str> = m.keys().map(String::as_str).take(5).collect();
        if m.len() > 5 {
            names.push("…");
        }
        names.join(" ")
    };
    let (severity, kind) = match (new_net, new_family) {
        (None, None) => return None,
        (Some(_), None) => (Severity::Medium, "new-key-network"),
        (None, Some(_)) => (Severity::Low, "new-key-agent"),
        (Some(_), Some(_)) => (Severity::Medium, "new-key-network,new-key-agent"),
    };
    Some((
        severity,
        kind.into(),
        format!(
            "key used since {} from {} networks ({}) with {} agents ({})",
            since(&known.seen),
            known.networks.len(),
            list(&known.networks),
            known.agents.len(),
            list(&known.agents)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::{frame, web_identity};

    const ROLE: &str = "arn:aws:iam::111122223333:role/deploy";

    fn key_use(id: &str, time: &str, key: &str, ip: &str, agent: &str) -> String {
        format!(
            r#"{{"eventTime":"{time}","eventID":"{id}","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","sourceIPAddress":"{ip}","userAgent":"{agent}","userIdentity":{{"type":"IAMUser","accessKeyId":"{key}","arn":"arn:aws:iam::111122223333:user/ci"}}}}"#
        )
    }

    fn kinds(records: &[String], history: Option<&History>) -> Vec<(String, String)> {
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let ctx = Context {
            earlier_keys: None,
            policy: None,
            history,
            now: 0,
        };
        let f = NewSubjects.run(&frame(&refs), ctx).unwrap();
        let (s, k) = (
            strs(&f.events, "severity").unwrap(),
            strs(&f.events, "kind").unwrap(),
        );
        (0..f.events.height())
            .map(|i| (s.get(i).unwrap().to_string(), k.get(i).unwrap().to_string()))
            .collect()
    }

    #[test]
    fn every_kind_against_a_baseline_and_nothing_without_one() {
        let past = [
            web_identity(
                "2026-11-01T10:00:00Z",
                ROLE,
                "repo:acme/api:ref:refs/heads/main",
                "sts.amazonaws.com",
                None,
            ),
            key_use(
                "k0",
                "2026-11-01T10:00:00Z",
                "AKIAKNOWN00000000001",
                "198.51.100.7",
                "aws-cli/2.15.0 Python/3.11",
            ),
        ];
        let refs: Vec<&str> = past.iter().map(String::as_str).collect();
        let mut history = History::default();
        history.observe(&frame(&refs)).unwrap();

        let now = [
            // Known: nothing.
            web_identity(
                "2026-11-20T10:00:00Z",
                ROLE,
                "repo:acme/api:ref:refs/heads/main",
                "sts.amazonaws.com",
                None,
            ),
            // A new branch of a known repository.
            web_identity(
                "2026-11-20T10:01:00Z",
                ROLE,
                "repo:acme/api:ref:refs/heads/hotfix",
                "sts.amazonaws.com",
                None,
            ),
            // A repository that never used the role.
            web_identity(
                "2026-11-20T10:02:00Z",
                ROLE,
                "repo:acme/sandbox:ref:refs/heads/main",
                "sts.amazonaws.com",
                None,
            ),
            // A failed call is nobody's first use.
            web_identity(
                "2026-11-20T10:03:00Z",
                ROLE,
                "repo:evil/x:ref:refs/heads/main",
                "sts.amazonaws.com",
                Some(("AccessDenied", "no")),
            ),
            key_use(
                "k1",
                "2026-11-20T10:04:00Z",
                "AKIAKNOWN00000000001",
                "198.51.100.200",
                "aws-cli/2.22.0 Python/3.12",
            ),
            key_use(
                "k2",
                "2026-11-20T10:05:00Z",
                "AKIAKNOWN00000000001",
                "203.0.113.9",
                "aws-cli/2.22.0",
            ),
            key_use(
                "k3",
                "2026-11-20T10:06:00Z",
                "AKIAKNOWN00000000001",
                "198.51.100.7",
                "Boto3/1.34.0",
            ),
            key_use(
                "k4",
                "2026-11-20T10:07:00Z",
                "AKIANEW0000000000001",
                "198.51.100.7",
                "aws-cli/2.22.0",
            ),
        ];
        let pair = |s: &str, k: &str| (s.to_string(), k.to_string());
        assert_eq!(
            kinds(&now, Some(&history)),
            [
                pair("medium", "new-subject"),
                pair("high", "new-repository"),
                pair("medium", "new-key-network"),
                pair("low", "new-key-agent"),
                pair("high", "new-key"),
            ]
        );
        assert!(kinds(&now, None).is_empty(), "no history, nothing is new");
        assert!(NewSubjects.note(&Context::default()).is_some());
    }
}
