//! Reports: the events frame → findings.
//!
//! A report is a small type implementing [`Report`], listed once in
//! [`REPORTS`]; `list-reports`, `--report` and the docs all come from that
//! array. Each report returns one row per flagged event (for JSON and CSV)
//! and a grouped view (for tables and Markdown). Reports neither read input
//! nor format output.

mod failures;
mod iam_user_keys;
mod off_hours;
mod trust_changes;
mod unexpected_subjects;

use std::fmt;

use polars::prelude::*;
use serde::Serialize;

use crate::frame::{Columns, col};
use crate::ingest::RowFilter;
use crate::policy::Policy;

pub use failures::Failures;
pub use iam_user_keys::IamUserKeys;
pub use off_hours::OffHours;
pub use trust_changes::TrustChanges;
pub use unexpected_subjects::UnexpectedSubjects;

/// Every report, in the order they are run and printed.
pub static REPORTS: &[&dyn Report] = &[
    &Failures,
    &UnexpectedSubjects,
    &OffHours,
    &IamUserKeys,
    &TrustChanges,
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
    /// The findings on `frame`, which has the events frame's schema. Only
    /// called when [`PolicyNeed::unmet`] is `None`.
    fn run(&self, frame: &DataFrame, policy: Option<&Policy>) -> PolarsResult<Findings>;
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

/// Runs each report on the frame, side by side.
pub fn run_all(
    reports: &[&'static dyn Report],
    frame: &DataFrame,
    policy: Option<&Policy>,
) -> PolarsResult<Vec<ReportRun>> {
    use rayon::prelude::*;
    reports
        .par_iter()
        .map(|&report| {
            let result = match report.policy_need().unmet(policy) {
                Some(reason) => Err(reason),
                None => Ok(report.run(frame, policy)?),
            };
            Ok(ReportRun { report, result })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Helpers shared by the reports.

/// The rows of `AssumeRoleWithWebIdentity` calls; `failed` picks those with
/// or without an `errorCode`.
///
/// Expects the events frame's schema.
pub(crate) fn web_identity_calls(frame: &DataFrame, failed: bool) -> PolarsResult<DataFrame> {
    let errored = col(col::ERROR_CODE).is_not_null();
    frame
        .clone()
        .lazy()
        .filter(col(col::EVENT_NAME).eq(lit(crate::ingest::WEB_IDENTITY)))
        .filter(if failed { errored } else { errored.not() })
        .collect()
}

/// A string column of `df`.
pub(crate) fn strs<'d>(df: &'d DataFrame, name: &str) -> PolarsResult<&'d StringChunked> {
    df.column(name)?.str()
}

/// Builds a string column from per-row values.
pub(crate) fn string_column<S: AsRef<str>>(
    name: &str,
    values: impl IntoIterator<Item = Option<S>>,
) -> Column {
    let ca: StringChunked = values.into_iter().collect();
    ca.with_name(name.into()).into_series().into()
}

/// Keeps the rows whose `mask` is true.
pub(crate) fn keep(df: DataFrame, mask: impl IntoIterator<Item = bool>) -> PolarsResult<DataFrame> {
    let mask: BooleanChunked = mask.into_iter().map(Some).collect();
    df.filter(&mask)
}

/// The context every web-identity finding ends with: where the workflow
/// ran, the credentials it got (to follow the session), where it came from.
pub(crate) const WEB_IDENTITY_CONTEXT: &[&str] = &[
    col::GH_REPOSITORY,
    col::GH_REF_TYPE,
    col::GH_REF,
    col::GH_ENVIRONMENT,
    col::ISSUED_ACCESS_KEY_ID,
    col::SOURCE_IP,
    col::USER_AGENT,
    col::AWS_REGION,
    col::ACCOUNT_ID,
];

/// Selects the flagged-event columns in order: `severity`, `event_id`,
/// `event_time`, then each of `context`; sorted by time and id.
pub(crate) fn finding_rows(df: DataFrame, context: &[&[&str]]) -> PolarsResult<DataFrame> {
    let mut cols = vec![col("severity"), col(col::EVENT_ID), col(col::EVENT_TIME)];
    cols.extend(context.iter().flat_map(|c| c.iter()).map(|c| col(*c)));
    df.lazy()
        .select(cols)
        .sort(
            [col::EVENT_TIME, col::EVENT_ID],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()
}

/// Groups flagged events by `keys`: `severity` (the most urgent in the
/// group), `count`, `first_seen`, `last_seen`, then `extra` aggregations.
/// Sorted by severity, count (descending) and the keys.
pub(crate) fn group(
    events: &DataFrame,
    keys: &[&str],
    extra: Vec<Expr>,
) -> PolarsResult<DataFrame> {
    let rank: UInt32Chunked = strs(events, "severity")?
        .iter()
        .map(|s| s.map(|s| Severity::rank(s) as u32))
        .collect();
    let mut ranked = events.clone();
    ranked.with_column(rank.with_name("_rank".into()).into_series().into())?;
    let mut aggs = vec![
        col("_rank").min(),
        len().cast(DataType::UInt32).alias("count"),
        col(col::EVENT_TIME).min().alias("first_seen"),
        col(col::EVENT_TIME).max().alias("last_seen"),
    ];
    aggs.extend(extra);
    let mut sort_by = vec![col("_rank"), col("count")];
    let mut descending = vec![false, true];
    for k in keys {
        sort_by.push(col(*k));
        descending.push(false);
    }
    let mut plan = ranked
        .lazy()
        .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg(aggs)
        .sort_by_exprs(
            sort_by,
            SortMultipleOptions::default()
                .with_order_descending_multi(descending)
                .with_nulls_last(true)
                .with_maintain_order(true),
        );
    // Grouping nothing makes polars warn on stderr; the schema is enough.
    let grouped = if events.height() == 0 {
        DataFrame::empty_with_arc_schema(plan.collect_schema()?)
    } else {
        plan.collect()?
    };
    let names = ["critical", "high", "medium", "low"];
    let severity = string_column(
        "severity",
        grouped
            .column("_rank")?
            .u32()?
            .iter()
            .map(|r| r.map(|r| names[r as usize])),
    );
    let mut out = grouped.drop("_rank")?;
    out.insert_column(0, severity)?;
    Ok(out)
}

/// Distinct values of `name` within a group, sorted, as a list column
/// (shown joined by the output layer, which leaves nulls out).
pub(crate) fn distinct(name: &str) -> Expr {
    col(name)
        .unique()
        .sort(SortOptions::default().with_nulls_last(true))
        .alias(name)
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
