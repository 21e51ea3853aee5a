//! Applies the policy's `[[accept]]` entries to a report's flagged events:
//! what an entry in force covers leaves the findings (and the exit status)
//! and is listed as accepted, with the reason; what an expired entry would
//! have covered stays a finding, and the entry is said to have expired.
//! Then [`review`] says of every entry whether it is in force, expiring,
//! expired or unused, so that nothing is silenced without a trace.

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use super::{ReportRun, keep, string_column};
use crate::policy::accept::Acceptance;
use crate::time::{MS_PER_DAY, Millis, day_start};

/// An entry expiring within this many days is listed as expiring.
pub const EXPIRING_DAYS: i64 = 14;

/// A report's flagged events, divided.
pub struct Split {
    pub kept: DataFrame,
    pub accepted: DataFrame,
    pub expired_hits: Vec<(usize, usize)>,
}

/// Whether an entry holds at `now`: through the whole of its `until` day.
fn in_force(a: &Acceptance, now: Millis) -> bool {
    now < day_start(a.until) + MS_PER_DAY
}

/// The first entry in `entries` (all for `report`) whose fields all match
/// row `i`.
fn covering<'e>(
    events: &DataFrame,
    i: usize,
    entries: impl Iterator<Item = &'e Acceptance>,
) -> Option<&'e Acceptance> {
    let cell = |names: &[&str]| {
        names.iter().find_map(|n| {
            let c = events.column(n).ok()?;
            Some(c.str().ok()?.get(i).map(str::to_owned))
        })
    };
    entries.into_iter().find(|a| {
        a.fields.iter().all(|(field, m)| {
            // A field the report's findings do not have never matches.
            matches!(cell(field.columns()), Some(Some(v)) if m.matches(&v))
        })
    })
}

/// Divides `events` (one report's flagged events) by the entries for
/// `report` among `entries`.
pub fn split(
    report: &str,
    events: DataFrame,
    entries: &[Acceptance],
    now: Millis,
) -> PolarsResult<Split> {
    let mine: Vec<&Acceptance> = entries.iter().filter(|a| a.report == report).collect();
    if mine.is_empty() || events.height() == 0 {
        return Ok(Split {
            accepted: with_acceptance(events.clear(), &[])?,
            kept: events,
            expired_hits: Vec::new(),
        });
    }
    let (active, expired): (Vec<&Acceptance>, Vec<&Acceptance>) =
        mine.iter().partition(|a| in_force(a, now));
    let mut by: Vec<Option<&Acceptance>> = Vec::with_capacity(events.height());
    let mut hits = std::collections::BTreeMap::new();
    for i in 0..events.height() {
        let found = covering(&events, i, active.iter().copied());
        if found.is_none()
            && let Some(e) = covering(&events, i, expired.iter().copied())
        {
            *hits.entry(e.number).or_insert(0usize) += 1;
        }
        by.push(found);
    }
    let accepted = keep(events.clone(), by.iter().map(Option::is_some))?;
    let chosen: Vec<&Acceptance> = by.iter().flatten().copied().collect();
    Ok(Split {
        kept: keep(events, by.iter().map(Option::is_none))?,
        accepted: with_acceptance(accepted, &chosen)?,
        expired_hits: hits.into_iter().collect(),
    })
}

/// Adds `accepted_by`, `accepted_reason` and `accepted_until` (one entry
/// per row of `df`).
fn with_acceptance(mut df: DataFrame, by: &[&Acceptance]) -> PolarsResult<DataFrame> {
    let number: UInt32Chunked = by.iter().map(|a| Some(a.number as u32)).collect();
    df.with_column(
        number
            .with_name("accepted_by".into())
            .into_series()
            .into_column(),
    )?;
    df.with_column(string_column(
        "accepted_reason",
        by.iter().map(|a| Some(a.reason.as_str())),
    ))?;
    df.with_column(string_column(
        "accepted_until",
        by.iter().map(|a| Some(a.until.to_string())),
    ))?;
    Ok(df)
}

/// Where an entry stands in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// In force, and it covered findings.
    Active,
    /// In force, covered findings, and ends within [`EXPIRING_DAYS`].
    Expiring,
    /// Past its date: what it covered is reported again.
    Expired,
    /// In force, but nothing in the window matched it.
    Unused,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Expiring => "expiring",
            Standing::Expired => "expired",
            Standing::Unused => "unused",
        }
    }
}

/// One entry's account.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub entry: usize,
    pub report: String,
    pub matches: String,
    pub reason: String,
    pub until: NaiveDate,
    pub standing: Standing,
    /// Findings it covered (in force), or would have covered (expired).
    pub findings: usize,
}

/// Accounts for every entry of a report that ran.
pub fn review(entries: &[Acceptance], runs: &[ReportRun], now: Millis) -> Vec<Review> {
    let mut out = Vec::new();
    for a in entries {
        let Some(Ok(f)) = runs
            .iter()
            .find(|r| r.report.id() == a.report)
            .map(|r| r.result.as_ref())
        else {
            continue;
        };
        let (standing, findings) = if in_force(a, now) {
            let covered = f
                .accepted
                .column("accepted_by")
                .ok()
                .and_then(|c| c.u32().ok().cloned())
                .map_or(0, |c| {
                    c.iter().filter(|n| *n == Some(a.number as u32)).count()
                });
            let ends_in = (day_start(a.until) - now) / MS_PER_DAY;
            let standing = match covered {
                0 => Standing::Unused,
                _ if ends_in < EXPIRING_DAYS => Standing::Expiring,
                _ => Standing::Active,
            };
            (standing, covered)
        } else {
            let hits = f
                .expired_hits
                .iter()
                .find(|(n, _)| *n == a.number)
                .map_or(0, |(_, h)| *h);
            (Standing::Expired, hits)
        };
        out.push(Review {
            entry: a.number,
            report: a.report.clone(),
            matches: a.describe(),
            reason: a.reason.clone(),
            until: a.until,
            standing,
            findings,
        });
    }
    out
}

/// Checks the policy's entries against the reports there are: an entry
/// for a report that does not exist, or naming a field its findings never
/// have, would silently accept nothing.
pub fn check(policy: &crate::policy::Policy, now: Millis) -> Result<(), String> {
    let history = crate::state::history::History::default();
    let ctx = super::Context {
        policy: Some(policy),
        history: Some(&history),
        now,
        earlier_keys: None,
    };
    let empty = crate::frame::empty();
    for a in &policy.accept {
        let Some(report) = super::by_id(&a.report) else {
            let ids: Vec<&str> = super::REPORTS.iter().map(|r| r.id()).collect();
            return Err(format!(
                "[[accept]] entry {}: there is no report `{}` (reports: {})",
                a.number,
                a.report,
                ids.join(", ")
            ));
        };
        if report.policy_need().unmet(Some(policy)).is_some() {
            continue;
        }
        // The findings' columns: the report run on no events.
        let columns = report.flag(&empty, &ctx).map_err(|e| e.to_string())?;
        for (field, _) in &a.fields {
            if !field.columns().iter().any(|c| columns.column(c).is_ok()) {
                return Err(format!(
                    "[[accept]] entry {}: the findings of `{}` have no `{}` to match",
                    a.number,
                    a.report,
                    field.name()
                ));
            }
        }
    }
    Ok(())
}
