//! Following temporary credentials back to the workflow that obtained them.
//!
//! Every successful `AssumeRoleWithWebIdentity` issues an access key
//! (`ASIA…`). Joining it to the later events whose `access_key_id` is that
//! key tells, for each API call a workflow made, the repository, ref, run and
//! role it came from: the `via_*` columns. `trace` then selects sessions (by
//! repository, subject, role, key or event) and lists everything done with
//! them. Long-lived keys (`AKIA…`) trace by key. This module works on frames;
//! it neither reads logs nor prints.

use polars::prelude::*;

use crate::frame::col;
use crate::ingest::WEB_IDENTITY;
use crate::policy::Pattern;

/// Attribution columns added by [`with_attribution`].
pub mod via {
    pub const SUBJECT: &str = "via_subject";
    pub const REPOSITORY: &str = "via_repository";
    pub const REF: &str = "via_ref";
    pub const ENVIRONMENT: &str = "via_environment";
    pub const ROLE_ARN: &str = "via_role_arn";
    pub const RUN_ID: &str = "via_run_id";
    pub const SESSION_START: &str = "via_session_start";
    pub const SESSION_EVENT_ID: &str = "via_session_event_id";
}

/// The successful web-identity assumptions, one row per issued key:
/// `issued_access_key_id` and the `via_*` columns.
///
/// Expects the events frame's schema.
pub fn sessions(events: LazyFrame) -> LazyFrame {
    events
        .filter(
            col(col::EVENT_NAME)
                .eq(lit(WEB_IDENTITY))
                .and(col(col::ERROR_CODE).is_null())
                .and(col(col::ISSUED_ACCESS_KEY_ID).is_not_null()),
        )
        .group_by([col(col::ISSUED_ACCESS_KEY_ID)])
        .agg([
            col(col::SUBJECT).first().alias(via::SUBJECT),
            col(col::GH_REPOSITORY).first().alias(via::REPOSITORY),
            col(col::GH_REF).first().alias(via::REF),
            col(col::GH_ENVIRONMENT).first().alias(via::ENVIRONMENT),
            col(col::ROLE_ARN).first().alias(via::ROLE_ARN),
            col(col::GH_RUN_ID).first().alias(via::RUN_ID),
            col(col::EVENT_TIME).min().alias(via::SESSION_START),
            col(col::EVENT_ID).first().alias(via::SESSION_EVENT_ID),
        ])
}

/// The events with the `via_*` columns of the session whose key made each
/// call (null for calls not made with web-identity credentials).
///
/// Expects the events frame's schema; keeps its row order.
pub fn with_attribution(events: LazyFrame) -> LazyFrame {
    with_attribution_from(events, None)
}

/// Like [`with_attribution`], with `earlier` sessions (a [`sessions`]
/// frame, from a state) for keys issued before these events: a key issued
/// in an earlier run and used in this one is still attributed.
pub fn with_attribution_from(events: LazyFrame, earlier: Option<LazyFrame>) -> LazyFrame {
    let mut s = sessions(events.clone());
    if let Some(earlier) = earlier {
        s = concat([s, earlier], UnionArgs::default())
            .unwrap_or_else(|_| sessions(events.clone()))
            .unique_stable_generic(
                Some(vec![col(col::ISSUED_ACCESS_KEY_ID)]),
                UniqueKeepStrategy::First,
            );
    }
    events.join(
        s,
        [col(col::ACCESS_KEY_ID)],
        [col(col::ISSUED_ACCESS_KEY_ID)],
        JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        },
    )
}

/// Which sessions to follow.
#[derive(Debug, Clone)]
pub enum Selector {
    /// Sessions issued to this repository (`owner/name`).
    Repository(String),
    /// Sessions whose subject matches this `StringLike` pattern.
    Subject(Pattern),
    /// Sessions of roles matching this `StringLike` pattern.
    Role(Pattern),
    /// The session that issued this key, or this long-lived key itself.
    AccessKey(String),
    /// The session (or key) behind this event.
    EventId(String),
}

/// The access keys to follow for `selector`, from an attributed events frame.
pub fn keys_for(attributed: &DataFrame, selector: &Selector) -> PolarsResult<Vec<String>> {
    let s = |name: &str| attributed.column(name).and_then(|c| c.str().cloned());
    let (names, errors, issued) = (
        s(col::EVENT_NAME)?,
        s(col::ERROR_CODE)?,
        s(col::ISSUED_ACCESS_KEY_ID)?,
    );
    let (repos, subjects, roles) = (s(col::GH_REPOSITORY)?, s(col::SUBJECT)?, s(col::ROLE_ARN)?);
    let (ids, used) = (s(col::EVENT_ID)?, s(col::ACCESS_KEY_ID)?);
    let is_session = |i: usize| {
        names.get(i) == Some(WEB_IDENTITY) && errors.get(i).is_none() && issued.get(i).is_some()
    };
    // Calls made with keys of sessions whose assumption is not among these
    // events (an earlier run's, from a state) are selected by attribution.
    let (via_repos, via_subjects, via_roles) =
        (s(via::REPOSITORY)?, s(via::SUBJECT)?, s(via::ROLE_ARN)?);
    let earlier = |i: usize, v: &StringChunked, ok: &dyn Fn(&str) -> bool| {
        (!is_session(i) && v.get(i).is_some_and(ok))
            .then(|| used.get(i))
            .flatten()
    };
    let mut keys: Vec<String> = Vec::new();
    for i in 0..attributed.height() {
        let key = match selector {
            Selector::Repository(r) if is_session(i) && repos.get(i) == Some(r.as_str()) => {
                issued.get(i)
            }
            Selector::Subject(p)
                if is_session(i) && subjects.get(i).is_some_and(|s| p.matches(s)) =>
            {
                issued.get(i)
            }
            Selector::Role(p) if is_session(i) && roles.get(i).is_some_and(|r| p.matches(r)) => {
                issued.get(i)
            }
            Selector::Repository(r) => earlier(i, &via_repos, &|v| v == r),
            Selector::Subject(p) => earlier(i, &via_subjects, &|v| p.matches(v)),
            Selector::Role(p) => earlier(i, &via_roles, &|v| p.matches(v)),
            Selector::AccessKey(k)
                if used.get(i) == Some(k.as_str()) || issued.get(i) == Some(k.as_str()) =>
            {
                Some(k.as_str())
            }
            Selector::EventId(id) if ids.get(i) == Some(id.as_str()) => {
                if is_session(i) {
                    issued.get(i)
                } else {
                    used.get(i)
                }
            }
            _ => None,
        };
        if let Some(k) = key
            && !keys.iter().any(|x| x == k)
        {
            keys.push(k.to_string());
        }
    }
    keys.sort();
    Ok(keys)
}

/// The columns of a timeline, in order.
pub const TIMELINE_COLUMNS: &[&str] = &[
    col::EVENT_TIME,
    col::EVENT_NAME,
    col::EVENT_SOURCE,
    col::AWS_REGION,
    col::SOURCE_IP,
    col::SOURCE_NETWORK,
    col::ERROR_CODE,
    col::RESOURCES,
    col::ACCESS_KEY_ID,
    via::SUBJECT,
    via::REPOSITORY,
    via::ROLE_ARN,
    via::RUN_ID,
    col::EVENT_ID,
];

/// Everything done with `keys`, oldest first: the calls made with them and
/// the assumptions that issued them (shown with their own subject).
///
/// Expects an attributed events frame ([`with_attribution`]).
pub fn timeline(attributed: LazyFrame, keys: &[String]) -> LazyFrame {
    let keys = Series::new("keys".into(), keys);
    let issuing = col(col::ISSUED_ACCESS_KEY_ID).is_in(lit(keys.clone()).implode(false), false);
    let used = col(col::ACCESS_KEY_ID).is_in(lit(keys).implode(false), false);
    let pick = |via_col: &str, own: &str| {
        when(
            col(via_col)
                .is_null()
                .and(col(col::EVENT_NAME).eq(lit(WEB_IDENTITY))),
        )
        .then(col(own))
        .otherwise(col(via_col))
        .alias(via_col)
    };
    attributed
        .filter(used.or(issuing))
        .with_columns([
            pick(via::SUBJECT, col::SUBJECT),
            pick(via::REPOSITORY, col::GH_REPOSITORY),
            pick(via::ROLE_ARN, col::ROLE_ARN),
            pick(via::RUN_ID, col::GH_RUN_ID),
            // The assumption itself is shown with the key it issued.
            when(col(col::EVENT_NAME).eq(lit(WEB_IDENTITY)))
                .then(col(col::ISSUED_ACCESS_KEY_ID))
                .otherwise(col(col::ACCESS_KEY_ID))
                .alias(col::ACCESS_KEY_ID),
        ])
        .select(TIMELINE_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .sort(
            [col::EVENT_TIME, col::EVENT_ID],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
}
