//! Sessions in the state, for `trace --state`: the web-identity sessions
//! an earlier run saw start, kept for the longest a session can last
//! ([`MAX_SESSION_MS`]), so that a key issued in one run and used in the
//! next is still attributed to its repository, ref and role.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::frame::col;
use crate::time::Millis;
use crate::trace::via;

/// The longest a role session can last (`DurationSeconds` up to 12 hours).
pub const MAX_SESSION_MS: Millis = 12 * 3_600_000;

/// One session, by the key it issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMark {
    pub subject: Option<String>,
    pub repository: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub environment: Option<String>,
    pub role_arn: Option<String>,
    pub run_id: Option<String>,
    #[serde(with = "super::history::rfc3339")]
    pub start: Millis,
    pub event_id: Option<String>,
}

const STRINGS: [&str; 6] = [
    via::SUBJECT,
    via::REPOSITORY,
    via::REF,
    via::ENVIRONMENT,
    via::ROLE_ARN,
    via::RUN_ID,
];

/// Reads a [`crate::trace::sessions`] frame into marks.
pub fn marks_of(sessions: &DataFrame) -> PolarsResult<BTreeMap<String, SessionMark>> {
    let s = |n: &str| sessions.column(n).and_then(|c| c.str().cloned());
    let keys = s(col::ISSUED_ACCESS_KEY_ID)?;
    let cols = STRINGS.map(s);
    let [subject, repo, git_ref, env, role, run] = cols;
    let (subject, repo, git_ref, env, role, run) = (subject?, repo?, git_ref?, env?, role?, run?);
    let event = s(via::SESSION_EVENT_ID)?;
    let start = sessions
        .column(via::SESSION_START)?
        .as_materialized_series()
        .to_physical_repr();
    let start = start.i64()?;
    let own = |c: &StringChunked, i| c.get(i).map(str::to_owned);
    let mut out = BTreeMap::new();
    for i in 0..sessions.height() {
        let (Some(key), Some(t)) = (keys.get(i), start.get(i)) else {
            continue;
        };
        out.insert(
            key.to_string(),
            SessionMark {
                subject: own(&subject, i),
                repository: own(&repo, i),
                git_ref: own(&git_ref, i),
                environment: own(&env, i),
                role_arn: own(&role, i),
                run_id: own(&run, i),
                start: t,
                event_id: own(&event, i),
            },
        );
    }
    Ok(out)
}

/// The marks as a [`crate::trace::sessions`] frame.
pub fn frame_of(marks: &BTreeMap<String, SessionMark>) -> PolarsResult<DataFrame> {
    let text = |f: &dyn Fn(&SessionMark) -> Option<&str>, name: &str| {
        let ca: StringChunked = marks.values().map(f).collect();
        ca.with_name(name.into()).into_column()
    };
    let keys: StringChunked = marks.keys().map(|k| Some(k.as_str())).collect();
    let start = Int64Chunked::from_iter(marks.values().map(|m| Some(m.start)))
        .with_name(via::SESSION_START.into())
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_column();
    DataFrame::new(
        marks.len(),
        vec![
            keys.with_name(col::ISSUED_ACCESS_KEY_ID.into())
                .into_column(),
            text(&|m| m.subject.as_deref(), via::SUBJECT),
            text(&|m| m.repository.as_deref(), via::REPOSITORY),
            text(&|m| m.git_ref.as_deref(), via::REF),
            text(&|m| m.environment.as_deref(), via::ENVIRONMENT),
            text(&|m| m.role_arn.as_deref(), via::ROLE_ARN),
            text(&|m| m.run_id.as_deref(), via::RUN_ID),
            start,
            text(&|m| m.event_id.as_deref(), via::SESSION_EVENT_ID),
        ],
    )
}

/// Drops sessions that ended before `newest` (the newest event read).
pub fn prune(marks: &mut BTreeMap<String, SessionMark>, newest: Millis) {
    marks.retain(|_, m| m.start + MAX_SESSION_MS >= newest);
}
