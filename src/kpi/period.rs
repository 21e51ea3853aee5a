//! The KPIs over time: the headline figures of a window, the same figures
//! for the period of the same length before it (week over week when the
//! window is a week), and the long-lived keys in use per week, the
//! migration's trend. Computed from frames handed in; reading the store
//! for the earlier periods is the caller's.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use serde::Serialize;

use super::Stats;
use crate::frame::col;
use crate::ingest::is_long_lived_key;
use crate::time::{Millis, format_millis};

/// One week, in milliseconds.
pub const WEEK: Millis = 7 * 24 * 3_600_000;

/// How many weeks the key trend goes back at most.
pub const TREND_WEEKS: usize = 26;

/// The columns [`key_trend`] reads.
pub const TREND_COLUMNS: &[&str] = &[col::ACCESS_KEY_ID, col::IDENTITY_ARN];

/// The figures a reviewer compares from one period to the next.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Headline {
    pub assumptions: u64,
    pub failed: u64,
    /// Successes over all assumptions, 0 to 1 (1 when there were none).
    pub success_rate: f64,
    /// Repositories that assumed (or tried to assume) a role.
    pub repositories: u64,
    pub workflows: u64,
    /// Roles assumed successfully.
    pub roles: u64,
    /// Role, repository and ref combinations seen that the policy does not
    /// allow (`None`: no policy roles to judge by).
    pub not_allowed: Option<u64>,
    /// Long-lived (`AKIA…`) keys used.
    pub long_lived_keys: u64,
    /// Identities those keys belong to.
    pub key_identities: u64,
    /// Calls made with them.
    pub key_calls: u64,
}

impl Stats {
    /// The window's headline figures.
    pub fn headline(&self) -> Headline {
        let repositories = self
            .by_repository
            .iter()
            .filter(|r| r.name != super::NOT_GITHUB)
            .count();
        let roles: BTreeSet<&str> = self.inventory.iter().map(|i| i.role_arn.as_str()).collect();
        let identities: BTreeSet<&str> = self
            .long_lived_keys
            .iter()
            .map(|k| k.identity.as_str())
            .collect();
        let judged = self.inventory.iter().filter_map(|i| i.allowed);
        let not_allowed = self
            .inventory
            .iter()
            .any(|i| i.allowed.is_some())
            .then(|| judged.filter(|a| !a).count() as u64);
        Headline {
            assumptions: self.assumptions,
            failed: self.failed,
            success_rate: if self.assumptions == 0 {
                1.0
            } else {
                (self.assumptions - self.failed) as f64 / self.assumptions as f64
            },
            repositories: repositories as u64,
            workflows: self.by_workflow.len() as u64,
            roles: roles.len() as u64,
            not_allowed,
            long_lived_keys: self.long_lived_keys.len() as u64,
            key_identities: identities.len() as u64,
            key_calls: self.long_lived_keys.iter().map(|k| k.calls).sum(),
        }
    }
}

/// One headline figure, for display beside its previous value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    /// A rate (0 to 1), shown as a percentage.
    pub rate: bool,
    /// Whether a rise is good news (`None`: neither).
    pub rise_is_good: Option<bool>,
}

impl Figure {
    /// The value as shown: `93 %` or `12`.
    pub fn show(&self) -> String {
        if self.rate {
            format!("{:.1} %", self.value * 100.0)
        } else {
            format!("{}", self.value as u64)
        }
    }

    /// The change from `before`, as shown: `+3`, `-2`, `+1.5 pt`, `=`.
    pub fn change_from(&self, before: &Figure) -> String {
        let d = self.value - before.value;
        if self.rate {
            let pt = d * 100.0;
            if pt.abs() < 0.05 {
                "=".into()
            } else {
                format!("{pt:+.1} pt")
            }
        } else if d == 0.0 {
            "=".into()
        } else {
            format!("{:+}", d as i64)
        }
    }

    /// Whether the change from `before` is good news (`None`: no change,
    /// or neither).
    pub fn improved_from(&self, before: &Figure) -> Option<bool> {
        let d = self.value - before.value;
        if d == 0.0 {
            return None;
        }
        self.rise_is_good.map(|good| good == (d > 0.0))
    }
}

impl Headline {
    /// The figures in display order. `not_allowed` only with a policy.
    pub fn figures(&self) -> Vec<Figure> {
        let n = |name, v: u64, rise_is_good| Figure {
            name,
            value: v as f64,
            rate: false,
            rise_is_good,
        };
        let mut v = vec![
            n("role assumptions", self.assumptions, None),
            n("failed assumptions", self.failed, Some(false)),
            Figure {
                name: "success rate",
                value: self.success_rate,
                rate: true,
                rise_is_good: Some(true),
            },
            n("repositories", self.repositories, None),
            n("workflows", self.workflows, None),
            n("roles assumed", self.roles, None),
        ];
        if let Some(bad) = self.not_allowed {
            v.push(n("subjects the policy does not allow", bad, Some(false)));
        }
        v.extend([
            n("long-lived keys in use", self.long_lived_keys, Some(false)),
            n("identities using them", self.key_identities, Some(false)),
            n("calls with long-lived keys", self.key_calls, Some(false)),
        ]);
        v
    }
}

/// The period before the window, of the same length.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Period {
    pub since: String,
    pub until: String,
    pub headline: Headline,
    pub stats: Stats,
}

/// Long-lived keys in use in one week.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeekKeys {
    /// The week's first day (weeks end where the window ends).
    pub week_start: String,
    pub keys: u64,
    pub identities: u64,
    pub calls: u64,
    /// The data begins inside this week: its figures cover part of it.
    pub partial: bool,
}

/// Everything `--report summary` says: the window's numbers (flattened, so
/// `summary_stats.assumptions` is the window's), its headline, the
/// previous period and the key trend.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    #[serde(flatten)]
    pub stats: Stats,
    pub headline: Headline,
    pub previous: Option<Period>,
    /// Why there is no previous period, or what limits it.
    pub previous_note: Option<String>,
    pub key_trend: Vec<WeekKeys>,
    /// What the trend was computed from.
    pub key_trend_source: String,
}

impl Summary {
    /// The window's numbers, with nothing to compare them to yet.
    pub fn new(stats: Stats) -> Summary {
        Summary {
            headline: stats.headline(),
            stats,
            previous: None,
            previous_note: None,
            key_trend: Vec::new(),
            key_trend_source: String::new(),
        }
    }
}

/// The long-lived keys used per week in `frame` (any rows; the ones made
/// with a long-lived key are counted), in weeks ending at `end`, oldest
/// first, from the week holding `first` (at most [`TREND_WEEKS`]).
pub fn key_trend(frame: &DataFrame, first: Millis, end: Millis) -> PolarsResult<Vec<WeekKeys>> {
    let span = (end - first).max(1);
    let weeks = (((span + WEEK - 1) / WEEK) as usize).clamp(1, TREND_WEEKS);
    let start = end - weeks as Millis * WEEK;
    // Per week (0 = the oldest): keys, identities, calls.
    type Week<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>, u64);
    let mut per: BTreeMap<usize, Week<'_>> = BTreeMap::new();
    let keys = frame.column(col::ACCESS_KEY_ID)?.str()?;
    let arns = frame.column(col::IDENTITY_ARN)?.str()?;
    let times = frame
        .column(col::EVENT_TIME)?
        .as_materialized_series()
        .to_physical_repr();
    let times = times.i64()?;
    for ((key, arn), t) in keys.iter().zip(arns.iter()).zip(times.iter()) {
        let (Some(key), Some(t)) = (key.filter(|k| is_long_lived_key(k)), t) else {
            continue;
        };
        if t < start || t >= end {
            continue;
        }
        let w = per.entry(((t - start) / WEEK) as usize).or_default();
        w.0.insert(key);
        w.1.insert(arn.unwrap_or("(unknown identity)"));
        w.2 += 1;
    }
    Ok((0..weeks)
        .map(|i| {
            let from = start + i as Millis * WEEK;
            let w = per.remove(&i).unwrap_or_default();
            WeekKeys {
                week_start: format_millis(from)[..10].to_string(),
                keys: w.0.len() as u64,
                identities: w.1.len() as u64,
                calls: w.2,
                partial: first > from,
            }
        })
        .collect())
}
