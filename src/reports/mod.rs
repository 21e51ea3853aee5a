//! Reports: the events frame → findings.
//!
//! A report is a small type implementing [`Report`], listed once in
//! [`REPORTS`]; `list-reports`, `--report` and the docs all come from that
//! array. Each report returns one row per flagged event (for JSON and CSV)
//! and a grouped view (for tables and Markdown). Reports neither read input
//! nor format output.

pub mod accept;
mod bursts;
mod failures;
mod iam_user_keys;
mod long_sessions;
mod new_subjects;
mod off_hours;
mod shared;
mod shared_roles;
mod trust_changes;
mod unexpected_network;
mod unexpected_subjects;

use std::fmt;

use polars::prelude::*;
use serde::Serialize;

use crate::frame::Columns;
use crate::ingest::RowFilter;
use crate::policy::Policy;
use crate::state::history::History;
use crate::time::Millis;

pub use iam_user_keys::ci_hint;
pub(crate) use shared::*;

pub use failures::Failures;
pub use iam_user_keys::IamUserKeys;
pub use long_sessions::LongSessions;
pub use new_subjects::NewSubjects;
pub use off_hours::OffHours;
pub use shared_roles::SharedRoles;
pub use trust_changes::TrustChanges;
pub use unexpected_network::UnexpectedNetwork;
pub use unexpected_subjects::UnexpectedSubjects;

/// Every report, in the order they are run and printed.
pub static REPORTS: &[&dyn Report] = &[
    &Failures,
    &UnexpectedSubjects,
    &OffHours,
    &IamUserKeys,
    &TrustChanges,
    &NewSubjects,
    &UnexpectedNetwork,
    &LongSessions,
    &SharedRoles,
];

/// Looks a report up by id.
pub fn by_id(id: &str) -> Option<&'static dyn Report> {
    REPORTS.iter().copied().find(|r| r.id() == id)
}

/// How urgent a finding is (most urgent first, so `a < b` means `a` is the
/// more urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// The severity a finding's `severity` cell names.
    pub fn from_name(name: &str) -> Option<Severity> {
        [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Sort rank: critical first.
    pub fn rank(name: &str) -> u8 {
        match name {
            "critical" => 0,
            "high" => 1,
            "medium" => 2,
            _ => 3,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which events a report looks at, so ingest can keep only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// `AssumeRoleWithWebIdentity` calls.
    WebIdentity,
    /// Calls made with long-lived access keys.
    LongLivedKeys,
    /// Changes to roles' trust, OIDC providers and roles' permissions
    /// ([`crate::ingest::TRUST_CHANGE_EVENTS`]), with their payloads.
    TrustChanges,
}

/// What a report needs from the policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyNeed {
    /// Runs without one; uses it where given.
    Optional,
    /// Needs `[[roles]]`.
    Roles,
    /// Needs `[business_hours]`.
    BusinessHours,
}

impl PolicyNeed {
    /// Why the report cannot run with this policy, if it cannot.
    pub fn unmet(self, policy: Option<&Policy>) -> Option<String> {
        match (self, policy) {
            (PolicyNeed::Optional, _) => None,
            (PolicyNeed::Roles, None) => {
                Some("needs a policy with [[roles]]: pass --policy FILE".into())
            }
            (PolicyNeed::BusinessHours, None) => {
                Some("needs a policy with [business_hours]: pass --policy FILE".into())
            }
            (PolicyNeed::Roles, Some(p)) if p.roles.is_empty() => {
                Some("the policy has no [[roles]] entries".into())
            }
            (PolicyNeed::BusinessHours, Some(p)) if p.business_hours.is_none() => {
                Some("the policy has no [business_hours] section".into())
            }
            _ => None,
        }
    }
}

/// One audit report.
pub trait Report: Sync {
    /// The name used on the command line, in JSON and in file names.
    fn id(&self) -> &'static str;
    /// A one-line title.
    fn title(&self) -> &'static str;
    /// What it flags, why it matters and how to fix it (Markdown).
    fn doc(&self) -> &'static str;
    fn needs(&self) -> &'static [Needs];
    /// The events frame's columns `run` reads, besides those every frame
    /// fills ([`Columns::of`]); the others are left empty when reading logs
    /// for this report alone. Names that are not the frame's are ignored.
    fn columns(&self) -> Vec<&'static str>;
    fn policy_need(&self) -> PolicyNeed;
    /// The flagged events of `frame` (the events frame's schema), one row
    /// each. Only called when [`PolicyNeed::unmet`] is `None`.
    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame>;
    /// The flagged events grouped the way a person reads them, most urgent
    /// first.
    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame>;
    /// A line to print beside the report's findings, if any (what it could
    /// not judge, and why).
    fn note(&self, _ctx: &Context<'_>) -> Option<String> {
        None
    }

    /// Flags and groups, accepting nothing: what tests call.
    fn run<'a>(&self, frame: &DataFrame, ctx: impl Into<Context<'a>>) -> PolarsResult<Findings>
    where
        Self: Sized,
    {
        let ctx = ctx.into();
        let events = self.flag(frame, &ctx)?;
        let groups = self.group(&events)?;
        Ok(Findings {
            accepted: events.clear(),
            events,
            groups,
            expired_hits: Vec::new(),
            note: self.note(&ctx),
        })
    }
}

/// What a report is given besides the events: the policy, what earlier
/// runs saw, and the time of the run.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    pub policy: Option<&'a Policy>,
    /// The baseline of `new-subjects`: `None` when there is no history yet
    /// (a first run), which is not the same as an empty one.
    pub history: Option<&'a History>,
    /// Today, for acceptances' expiry.
    pub now: Millis,
    /// Web-identity keys issued before the events read (a store's sessions
    /// table), by key: the repository each was issued to.
    pub earlier_keys: Option<&'a std::collections::HashMap<String, String>>,
}

impl<'a> From<Option<&'a Policy>> for Context<'a> {
    fn from(policy: Option<&'a Policy>) -> Self {
        Context {
            policy,
            history: None,
            now: crate::time::now_millis(),
            earlier_keys: None,
        }
    }
}

/// The row filter ingest needs for a set of reports.
pub fn row_filter(reports: &[&dyn Report]) -> RowFilter {
    let needs = |n: Needs| reports.iter().any(|r| r.needs().contains(&n));
    RowFilter {
        web_identity: needs(Needs::WebIdentity),
        long_lived_keys: needs(Needs::LongLivedKeys),
        trust_changes: needs(Needs::TrustChanges),
        all: false,
    }
}

/// The columns ingest must fill for a set of reports.
pub fn columns(reports: &[&dyn Report]) -> Columns {
    let names: Vec<&str> = reports.iter().flat_map(|r| r.columns()).collect();
    Columns::of(names)
}

/// A report's result.
pub struct Findings {
    /// One row per flagged event. Always has `severity`, `event_id` and
    /// `event_time`, then the report's context columns.
    pub events: DataFrame,
    /// Rows grouped the way a person reads them, most urgent first.
    pub groups: DataFrame,
    /// Flagged events an `[[accept]]` entry covers: left out of `events`,
    /// with `accepted_by` (the entry's number), `accepted_reason` and
    /// `accepted_until` added.
    pub accepted: DataFrame,
    /// Per expired `[[accept]]` entry (by number), how many of `events` it
    /// would have covered: they are reported again.
    pub expired_hits: Vec<(usize, usize)>,
    /// The report's note, if any ([`Report::note`]).
    pub note: Option<String>,
}

impl Findings {
    pub fn count(&self) -> usize {
        self.events.height()
    }
}

/// The outcome of one report in a run.
pub struct ReportRun {
    pub report: &'static dyn Report,
    /// `Err(reason)` when the report could not run (e.g. no policy).
    pub result: Result<Findings, String>,
}

impl ReportRun {
    pub fn findings(&self) -> usize {
        self.result.as_ref().map_or(0, Findings::count)
    }

    /// The most urgent severity among its findings.
    pub fn worst(&self) -> Option<Severity> {
        let events = &self.result.as_ref().ok()?.events;
        let severities = events.column("severity").ok()?.str().ok()?;
        severities
            .iter()
            .flatten()
            .filter_map(Severity::from_name)
            .min()
    }
}

/// Runs each report on the frame, side by side, and sets aside what the
/// policy's `[[accept]]` entries cover.
pub fn run_all(
    reports: &[&'static dyn Report],
    frame: &DataFrame,
    ctx: &Context<'_>,
) -> PolarsResult<Vec<ReportRun>> {
    use rayon::prelude::*;
    let entries = ctx.policy.map_or(&[][..], |p| &p.accept[..]);
    reports
        .par_iter()
        .map(|&report| {
            let result = match report.policy_need().unmet(ctx.policy) {
                Some(reason) => Err(reason),
                None => {
                    let flagged = report.flag(frame, ctx)?;
                    let split = accept::split(report.id(), flagged, entries, ctx.now)?;
                    Ok(Findings {
                        groups: report.group(&split.kept)?,
                        events: split.kept,
                        accepted: split.accepted,
                        expired_hits: split.expired_hits,
                        note: report.note(ctx),
                    })
                }
            };
            Ok(ReportRun { report, result })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds small events frames for report tests from JSON records.

    use polars::prelude::DataFrame;

    /// An events frame from CloudTrail records given as JSON text.
    pub fn frame(records: &[&str]) -> DataFrame {
        crate::frame::from_json(records, false)
    }

    /// A successful or failed web-identity call.
    pub fn web_identity(
        time: &str,
        role: &str,
        subject: &str,
        audience: &str,
        error: Option<(&str, &str)>,
    ) -> String {
        let provider =
            "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
        let request = format!(
            r#""requestParameters":{{"roleArn":"{role}","roleSessionName":"GitHubActions"}}"#
        );
        match error {
            None => format!(
                r#"{{"eventTime":"{time}","eventID":"{time}-{subject}","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com",
                "userIdentity":{{"type":"WebIdentityUser","principalId":"{provider}:{audience}:{subject}","userName":"{subject}","identityProvider":"{provider}"}},
                {request},"responseElements":{{"credentials":{{"accessKeyId":"ASIATEST","sessionToken":"SECRET"}},
                "subjectFromWebIdentityToken":"{subject}","audience":"{audience}","provider":"{provider}"}}}}"#
            ),
            Some((code, message)) => format!(
                r#"{{"eventTime":"{time}","eventID":"{time}-{subject}-{code}","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com",
                "userIdentity":{{"type":"WebIdentityUser","principalId":"{provider}:{audience}:{subject}","userName":"{subject}","identityProvider":"{provider}"}},
                "errorCode":"{code}","errorMessage":"{message}",{request},"responseElements":null}}"#
            ),
        }
    }
}
