//! The numbers behind a compliance report's KPIs (`--report summary`; in
//! JSON under `summary_stats`): the rule holding, not only its exceptions.
//! Assumptions per day by outcome, success rates per repository and per
//! workflow, an hour × weekday heat map in the policy's time zone, the
//! inventory of who assumed which role with what, the long-lived keys in
//! use, and where callers came from. Computed from the events frame; this
//! module neither reads input nor formats output.

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use polars::prelude::*;
use serde::Serialize;

use crate::frame::col;
use crate::ingest::{WEB_IDENTITY, is_long_lived_key};
use crate::policy::Policy;
use crate::time::{Millis, format_millis};

mod period;
pub use period::{
    Figure, Headline, Period, Summary, TREND_COLUMNS, TREND_WEEKS, WEEK, WeekKeys, key_trend,
};

/// The repository of calls that carry none (not from GitHub Actions).
pub const NOT_GITHUB: &str = "(not GitHub)";

/// The columns [`compute`] reads.
pub const COLUMNS: &[&str] = &[
    col::EVENT_NAME,
    col::ERROR_CODE,
    col::ROLE_ARN,
    col::ROLE_SESSION_NAME,
    col::SUBJECT,
    col::AUDIENCE,
    col::GH_REPOSITORY,
    col::GH_REF,
    col::GH_REF_TYPE,
    col::GH_ENVIRONMENT,
    col::GH_JOB_WORKFLOW_REF,
    col::ACCESS_KEY_ID,
    col::IDENTITY_ARN,
    col::USER_AGENT,
    col::SOURCE_NETWORK,
    col::SOURCE_ASN,
    col::SOURCE_AS_ORG,
    col::SOURCE_COUNTRY,
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayOutcome {
    pub day: String,
    /// `success`, or the error code.
    pub outcome: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rate {
    pub name: String,
    pub success: u64,
    pub failed: u64,
    /// Successes over all calls, 0 to 1.
    pub success_rate: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeatMap {
    /// The time zone the hours are in (the policy's, else UTC).
    pub timezone: String,
    /// Monday first; 24 hours each.
    pub counts: Vec<Vec<u64>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inventory {
    pub role_arn: String,
    pub repository: String,
    /// `branch`, `tag`, `environment`, `pull_request`, or `other`.
    pub kind: String,
    /// The ref or environment (empty for pull requests).
    pub context: String,
    pub count: u64,
    pub last_seen: String,
    /// Whether the policy expects this subject for the role (`None`: no
    /// policy roles).
    pub allowed: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyUse {
    pub identity: String,
    pub access_key_id: String,
    pub calls: u64,
    pub last_used: String,
    /// What the user agent says of CI, if anything.
    pub ci: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Origin {
    pub network: String,
    pub asn: Option<String>,
    pub as_org: Option<String>,
    pub country: Option<String>,
    pub calls: u64,
}

/// Everything, for one window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub assumptions: u64,
    pub failed: u64,
    pub per_day: Vec<DayOutcome>,
    pub by_repository: Vec<Rate>,
    pub by_workflow: Vec<Rate>,
    pub peak_hours: HeatMap,
    pub inventory: Vec<Inventory>,
    pub long_lived_keys: Vec<KeyUse>,
    pub origins: Vec<Origin>,
}

fn rates(map: BTreeMap<String, (u64, u64)>) -> Vec<Rate> {
    let mut v: Vec<Rate> = map
        .into_iter()
        .map(|(name, (success, failed))| Rate {
            name,
            success,
            failed,
            success_rate: success as f64 / (success + failed).max(1) as f64,
        })
        .collect();
    v.sort_by(|a, b| {
        (b.success + b.failed)
            .cmp(&(a.success + a.failed))
            .then(a.name.cmp(&b.name))
    });
    v
}

/// The workflow of a call: its `job_workflow_ref` where the subject carries
/// it, else the role session name (which `configure-aws-credentials` sets
/// to `GitHubActions` unless told otherwise).
fn workflow(job: Option<&str>, session: Option<&str>) -> String {
    job.or(session).unwrap_or("(unknown)").to_string()
}

/// Role, repository, kind and context.
type InventoryKey = (String, String, String, String);
/// Network class, ASN, AS organisation and country.
type OriginKey = (String, Option<String>, Option<String>, Option<String>);

/// Computes the statistics of `frame` (the events frame's schema).
pub fn compute(frame: &DataFrame, policy: Option<&Policy>) -> PolarsResult<Stats> {
    let s = |n: &str| frame.column(n).and_then(|c| c.str().cloned());
    let (names, errors, roles) = (s(col::EVENT_NAME)?, s(col::ERROR_CODE)?, s(col::ROLE_ARN)?);
    let (sessions, subjects, audiences) = (
        s(col::ROLE_SESSION_NAME)?,
        s(col::SUBJECT)?,
        s(col::AUDIENCE)?,
    );
    let (repos, refs, types) = (
        s(col::GH_REPOSITORY)?,
        s(col::GH_REF)?,
        s(col::GH_REF_TYPE)?,
    );
    let (envs, jobs) = (s(col::GH_ENVIRONMENT)?, s(col::GH_JOB_WORKFLOW_REF)?);
    let (keys, arns, agents) = (
        s(col::ACCESS_KEY_ID)?,
        s(col::IDENTITY_ARN)?,
        s(col::USER_AGENT)?,
    );
    let (nets, asns, orgs, countries) = (
        s(col::SOURCE_NETWORK)?,
        s(col::SOURCE_ASN)?,
        s(col::SOURCE_AS_ORG)?,
        s(col::SOURCE_COUNTRY)?,
    );
    let times = frame
        .column(col::EVENT_TIME)?
        .as_materialized_series()
        .to_physical_repr();
    let times = times.i64()?;
    let tz: Tz = policy
        .and_then(|p| p.business_hours.as_ref())
        .map_or(chrono_tz::UTC, |b| b.timezone);
    // Whether the policy allows a subject is asked only of one with roles.
    let mut judge = policy
        .filter(|p| !p.roles.is_empty())
        .map(crate::policy::Verdicts::new);

    let (mut assumptions, mut failed) = (0, 0);
    let mut per_day: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut by_repo, mut by_workflow) = (BTreeMap::new(), BTreeMap::new());
    let mut heat = vec![vec![0u64; 24]; 7];
    let mut inventory: BTreeMap<InventoryKey, (u64, Millis, Option<bool>)> = BTreeMap::new();
    let mut key_uses: BTreeMap<(String, String), (u64, Millis, Option<&'static str>)> =
        BTreeMap::new();
    let mut origins: BTreeMap<OriginKey, u64> = BTreeMap::new();
    for i in 0..frame.height() {
        let t = times.get(i);
        let web = names.get(i) == Some(WEB_IDENTITY);
        let key = keys.get(i).filter(|k| is_long_lived_key(k));
        if !web && key.is_none() {
            continue;
        }
        *origins
            .entry((
                nets.get(i).unwrap_or("unknown").to_string(),
                asns.get(i).map(str::to_owned),
                orgs.get(i).map(str::to_owned),
                countries.get(i).map(str::to_owned),
            ))
            .or_default() += 1;
        if let Some(key) = key {
            let identity = arns.get(i).unwrap_or("(unknown identity)").to_string();
            let e = key_uses
                .entry((identity, key.to_string()))
                .or_insert((0, i64::MIN, None));
            e.0 += 1;
            e.1 = e.1.max(t.unwrap_or(i64::MIN));
            e.2 = e.2.or(agents.get(i).and_then(crate::reports::ci_hint));
            continue;
        }
        assumptions += 1;
        let ok = errors.get(i).is_none();
        failed += u64::from(!ok);
        let outcome = errors.get(i).unwrap_or("success").to_string();
        if let Some(t) = t {
            *per_day
                .entry((format_millis(t)[..10].to_string(), outcome))
                .or_default() += 1;
            if let Some(local) = tz.timestamp_millis_opt(t).single() {
                heat[local.weekday().num_days_from_monday() as usize][local.hour() as usize] += 1;
            }
        }
        let tally = |m: &mut BTreeMap<String, (u64, u64)>, k: String| {
            let e = m.entry(k).or_default();
            if ok {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        };
        tally(&mut by_repo, repos.get(i).unwrap_or(NOT_GITHUB).to_string());
        tally(&mut by_workflow, workflow(jobs.get(i), sessions.get(i)));
        if ok && let (Some(role), Some(repo)) = (roles.get(i), repos.get(i)) {
            let kind = types.get(i).unwrap_or("other").to_string();
            let context = envs.get(i).or(refs.get(i)).unwrap_or("").to_string();
            let allowed = judge.as_mut().map(|p| {
                let v = p.get(Some(role), subjects.get(i), audiences.get(i));
                v.subject_allowed && v.audience_allowed
            });
            let e = inventory
                .entry((role.to_string(), repo.to_string(), kind, context))
                .or_insert((0, i64::MIN, allowed));
            e.0 += 1;
            e.1 = e.1.max(t.unwrap_or(i64::MIN));
        }
    }
    let when = |t: Millis| {
        if t == i64::MIN {
            String::new()
        } else {
            format_millis(t)
        }
    };
    let mut long_lived_keys: Vec<KeyUse> = key_uses
        .into_iter()
        .map(|((identity, access_key_id), (calls, last, ci))| KeyUse {
            identity,
            access_key_id,
            calls,
            last_used: when(last),
            ci,
        })
        .collect();
    long_lived_keys.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.identity.cmp(&b.identity)));
    let mut origins: Vec<Origin> = origins
        .into_iter()
        .map(|((network, asn, as_org, country), calls)| Origin {
            network,
            asn,
            as_org,
            country,
            calls,
        })
        .collect();
    origins.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.network.cmp(&b.network)));
    Ok(Stats {
        assumptions,
        failed,
        per_day: per_day
            .into_iter()
            .map(|((day, outcome), count)| DayOutcome {
                day,
                outcome,
                count,
            })
            .collect(),
        by_repository: rates(by_repo),
        by_workflow: rates(by_workflow),
        peak_hours: HeatMap {
            timezone: tz.name().to_string(),
            counts: heat,
        },
        inventory: inventory
            .into_iter()
            .map(
                |((role_arn, repository, kind, context), (count, last, allowed))| Inventory {
                    role_arn,
                    repository,
                    kind,
                    context,
                    count,
                    last_seen: when(last),
                    allowed,
                },
            )
            .collect(),
        long_lived_keys,
        origins,
    })
}
