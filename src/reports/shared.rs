//! Helpers shared by the reports: picking rows, building columns, and the
//! common shape of flagged events and their groups.

use polars::prelude::*;

use super::Severity;
use crate::frame::col;

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
    col::SOURCE_NETWORK,
    col::SOURCE_ASN,
    col::SOURCE_COUNTRY,
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
