//! The store's `sessions` table, beside `events`: one row per session a
//! credential stands for, so that attribution travels with the files.
//!
//! - `web-identity`: one row per successful `AssumeRoleWithWebIdentity`,
//!   by the key it issued (`issued_access_key_id`), with the subject, the
//!   GitHub claims, the role, the session's start and expiry, and the
//!   assuming event's id (`event_id`).
//! - `iam-user-key`: one row per long-lived (`AKIA…`) key per UTC day it
//!   was used, from its first use that day (`session_start`; no expiry),
//!   with the user it belongs to.
//!
//! Column names are the events frame's wherever the meaning is the same,
//! so `events.access_key_id = sessions.issued_access_key_id` is the join.
//! Laid out like `events` (`DIR/sessions/date=YYYY-MM-DD/part-<n>.parquet`,
//! the day of `session_start`), and deduplicated within a day by
//! `issued_access_key_id`: a web-identity key is issued once, and a
//! long-lived key has one row a day.

use polars::prelude::*;

use crate::frame::{self, col};
use crate::ingest::{LONG_LIVED_KEY_PREFIX, WEB_IDENTITY};

/// The table's folder in the store.
pub const DIR: &str = "sessions";

/// Which kind of credential a row stands for.
pub const KIND: &str = "kind";
/// When the session started (the assumption's time; a long-lived key's
/// first use that day).
pub const SESSION_START: &str = "session_start";
/// When its credentials expire: the start plus the duration asked for (an
/// hour when none, or none STS accepts, was); null for long-lived keys.
pub const SESSION_EXPIRY: &str = "session_expiry";

/// `kind` of a web-identity session.
pub const WEB_IDENTITY_KIND: &str = "web-identity";
/// `kind` of a long-lived key's day of use.
pub const LONG_LIVED_KIND: &str = "iam-user-key";

/// `AssumeRoleWithWebIdentity`'s default `DurationSeconds`.
const DEFAULT_DURATION_S: i64 = 3_600;
/// The longest `DurationSeconds` STS accepts.
const MAX_DURATION_S: i64 = 43_200;

/// Columns taken from the event as they are, after `kind`,
/// `issued_access_key_id`, `session_start` and `session_expiry`.
const FROM_EVENT: [&str; 20] = [
    col::EVENT_ID,
    col::ACCOUNT_ID,
    col::AWS_REGION,
    col::SOURCE_IP,
    col::IDENTITY_ARN,
    col::IDENTITY_USER_NAME,
    col::ROLE_ARN,
    col::ASSUMED_ROLE_ARN,
    col::ROLE_SESSION_NAME,
    col::SUBJECT,
    col::AUDIENCE,
    col::PROVIDER,
    col::GH_OWNER,
    col::GH_REPOSITORY,
    col::GH_REF_TYPE,
    col::GH_REF,
    col::GH_ENVIRONMENT,
    col::GH_JOB_WORKFLOW_REF,
    col::GH_RUN_ID,
    col::GH_RUN_ATTEMPT,
];

/// Of [`FROM_EVENT`], what a long-lived key's row carries (the rest is
/// about a web-identity assumption and is null).
const LONG_LIVED_FROM_EVENT: [&str; 5] = [
    col::EVENT_ID,
    col::ACCOUNT_ID,
    col::AWS_REGION,
    col::IDENTITY_ARN,
    col::IDENTITY_USER_NAME,
];

/// The table's schema, in column order.
pub fn schema() -> Schema {
    let mut s = Schema::default();
    s.insert(KIND.into(), DataType::String);
    s.insert(col::ISSUED_ACCESS_KEY_ID.into(), DataType::String);
    s.insert(SESSION_START.into(), frame::time_dtype());
    s.insert(SESSION_EXPIRY.into(), frame::time_dtype());
    for name in FROM_EVENT {
        s.insert(name.into(), DataType::String);
    }
    s
}

/// The events columns [`of_events`] reads.
pub fn event_columns() -> Vec<&'static str> {
    let mut names = vec![
        col::EVENT_TIME,
        col::EVENT_NAME,
        col::ERROR_CODE,
        col::ACCESS_KEY_ID,
        col::ISSUED_ACCESS_KEY_ID,
        col::SESSION_DURATION,
    ];
    for name in FROM_EVENT {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The sessions among `events` (the events frame's schema, or at least
/// [`event_columns`]), in the table's schema, ordered by start, kind and
/// key; each key once (a long-lived key once a day), from its earliest
/// event (then smallest event id).
pub fn of_events(events: LazyFrame) -> LazyFrame {
    // Each kind's few rows picked first, then put in order.
    let in_order = |lf: LazyFrame| {
        lf.sort(
            [col::EVENT_TIME, col::EVENT_ID],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
    };
    let wanted: Vec<Expr> = event_columns().into_iter().map(col).collect();
    let events = events.select(wanted);
    let time = || col(col::EVENT_TIME);
    let millis = || time().cast(DataType::Int64);
    let as_time = |e: Expr| e.cast(frame::time_dtype());
    let null_text = || lit(NULL).cast(DataType::String);

    // The duration asked for, if it is one STS accepts (a record that says
    // otherwise did not get it): else STS's default.
    let asked = || col(col::SESSION_DURATION).cast(DataType::Int64);
    let duration_ms = when(
        asked()
            .gt_eq(lit(0))
            .and(asked().lt_eq(lit(MAX_DURATION_S))),
    )
    .then(asked())
    .otherwise(lit(DEFAULT_DURATION_S))
        * lit(1_000i64);
    let mut web_cols = vec![
        lit(WEB_IDENTITY_KIND).alias(KIND),
        col(col::ISSUED_ACCESS_KEY_ID),
        time().alias(SESSION_START),
        as_time(millis() + duration_ms).alias(SESSION_EXPIRY),
    ];
    web_cols.extend(FROM_EVENT.iter().map(|n| col(*n)));
    let web = in_order(
        events.clone().filter(
            col(col::EVENT_NAME)
                .eq(lit(WEB_IDENTITY))
                .and(col(col::ERROR_CODE).is_null())
                .and(col(col::ISSUED_ACCESS_KEY_ID).is_not_null()),
        ),
    )
    .unique_stable_generic(
        Some(vec![col(col::ISSUED_ACCESS_KEY_ID)]),
        UniqueKeepStrategy::First,
    )
    .select(web_cols);

    const DAY: &str = "__day";
    let mut key_cols = vec![
        lit(LONG_LIVED_KIND).alias(KIND),
        col(col::ACCESS_KEY_ID).alias(col::ISSUED_ACCESS_KEY_ID),
        time().alias(SESSION_START),
        as_time(null_text().cast(DataType::Int64)).alias(SESSION_EXPIRY),
    ];
    key_cols.extend(FROM_EVENT.iter().map(|n| {
        if LONG_LIVED_FROM_EVENT.contains(n) {
            col(*n)
        } else {
            null_text().alias(*n)
        }
    }));
    let keys = in_order(
        events.filter(
            col(col::ACCESS_KEY_ID)
                .str()
                .starts_with(lit(LONG_LIVED_KEY_PREFIX)),
        ),
    )
    .with_column(millis().floor_div(lit(86_400_000i64)).alias(DAY))
    .unique_stable_generic(
        Some(vec![col(col::ACCESS_KEY_ID), col(DAY)]),
        UniqueKeepStrategy::First,
    )
    .select(key_cols);

    concat([web, keys], UnionArgs::default())
        .expect("both selections have the table's columns")
        .sort(
            [SESSION_START, KIND, col::ISSUED_ACCESS_KEY_ID],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
}

/// The table's web-identity sessions as [`crate::trace::sessions`] gives
/// them (`issued_access_key_id` and the `via_*` columns), for attribution.
pub fn as_via(sessions: LazyFrame) -> LazyFrame {
    use crate::trace::via;
    sessions
        .filter(col(KIND).eq(lit(WEB_IDENTITY_KIND)))
        .select([
            col(col::ISSUED_ACCESS_KEY_ID),
            col(col::SUBJECT).alias(via::SUBJECT),
            col(col::GH_REPOSITORY).alias(via::REPOSITORY),
            col(col::GH_REF).alias(via::REF),
            col(col::GH_ENVIRONMENT).alias(via::ENVIRONMENT),
            col(col::ROLE_ARN).alias(via::ROLE_ARN),
            col(col::GH_RUN_ID).alias(via::RUN_ID),
            col(SESSION_START).alias(via::SESSION_START),
            col(col::EVENT_ID).alias(via::SESSION_EVENT_ID),
        ])
}

/// The repository each web-identity key was issued to, for the sessions of
/// `table` that started in `started` (milliseconds).
pub fn repositories_by_key(
    table: LazyFrame,
    started: std::ops::Range<crate::time::Millis>,
) -> PolarsResult<std::collections::HashMap<String, String>> {
    let start = col(SESSION_START).cast(DataType::Int64);
    let found = table
        .filter(
            col(KIND)
                .eq(lit(WEB_IDENTITY_KIND))
                .and(col(col::GH_REPOSITORY).is_not_null())
                .and(start.clone().gt_eq(lit(started.start)))
                .and(start.lt(lit(started.end))),
        )
        .select([col(col::ISSUED_ACCESS_KEY_ID), col(col::GH_REPOSITORY)])
        .collect()?;
    let keys = found.column(col::ISSUED_ACCESS_KEY_ID)?.str()?;
    let repos = found.column(col::GH_REPOSITORY)?.str()?;
    Ok(keys
        .iter()
        .zip(repos.iter())
        .filter_map(|(k, r)| Some((k?.to_string(), r?.to_string())))
        .collect())
}
