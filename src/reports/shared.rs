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

/// One of a group's columns after the common ones: an aggregation, or the
/// group's distinct values of a column ([`distinct`]).
pub(crate) enum Agg {
    Of(Expr),
    Distinct(&'static str),
}

impl From<Expr> for Agg {
    fn from(e: Expr) -> Self {
        Agg::Of(e)
    }
}

/// Distinct values of `name` within a group, sorted (nulls last), as a list
/// column (shown joined by the output layer, which leaves nulls out).
pub(crate) fn distinct(name: &'static str) -> Agg {
    Agg::Distinct(name)
}

/// Groups flagged events by `keys`: `severity` (the most urgent in the
/// group), `count`, `first_seen`, `last_seen`, then `extra` aggregations.
/// Sorted by severity, count (descending) and the keys.
pub(crate) fn group(events: &DataFrame, keys: &[&str], extra: Vec<Agg>) -> PolarsResult<DataFrame> {
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
    let mut lists = Vec::new();
    aggs.extend(extra.into_iter().map(|a| match a {
        Agg::Of(e) => e,
        // Each group's values as they come; made distinct and sorted below,
        // for all groups at once.
        Agg::Distinct(name) => {
            lists.push(name);
            col(name)
        }
    }));
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
    if out.height() > 0 {
        for name in lists {
            let sorted = sorted_distinct(out.column(name)?)?;
            out.replace(name, sorted)?;
        }
    }
    Ok(out)
}

/// Each list of `lists` (strings: every column a report lists is one) as
/// its distinct items, sorted, nulls last: what `unique().sort()` would
/// give within each group, without polars' per-group evaluation of those
/// two (a few microseconds a group: on a trail of 19,667 keys,
/// `iam-user-keys`' grouping took 74 ms with it and 26 ms without).
fn sorted_distinct(lists: &Column) -> PolarsResult<Column> {
    let name = lists.name().clone();
    let (items, offsets) = lists.list()?.explode_and_offsets(ExplodeOptions {
        empty_as_null: false,
        keep_nulls: false,
    })?;
    let Ok(strings) = items.str() else {
        polars_bail!(ComputeError: "distinct values of {name}: a {} column, not strings", items.dtype());
    };
    let mut out = ListStringChunkedBuilder::new(name, lists.len(), items.len());
    let mut values = strings.iter();
    let mut one: Vec<Option<&str>> = Vec::new();
    for w in offsets.as_slice().windows(2) {
        one.clear();
        one.extend(values.by_ref().take((w[1] - w[0]) as usize));
        one.sort_unstable_by_key(|v| (v.is_none(), *v));
        one.dedup();
        out.append_trusted_len_iter(one.iter().copied());
    }
    Ok(out.finish().into_column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::XorShift;

    /// Flagged events with `severity`, `event_time`, two keys, a string
    /// column to list (with nulls and repeats, in groups of one to many
    /// rows) and an integer column.
    fn events(rows: usize, seed: u64) -> DataFrame {
        let mut rng = XorShift::new(seed);
        let mut draw = |n: u64| rng.next() % n;
        let mut key = Vec::new();
        let mut other = Vec::new();
        let mut text = Vec::new();
        let mut number = Vec::new();
        let mut time = Vec::new();
        for i in 0..rows {
            key.push(format!("k{}", draw(rows as u64 / 3 + 1)));
            other.push((draw(4) > 0).then(|| format!("o{}", draw(2))));
            text.push((draw(5) > 0).then(|| ["b", "a", "B", "é", "", "a b"][draw(6) as usize]));
            number.push((draw(5) > 0).then(|| draw(4) as u32));
            time.push(i as i64 * 1000);
        }
        df!(
            "severity" => vec!["low"; rows],
            col::EVENT_TIME => time,
            "key" => key,
            "other" => other,
            "text" => text,
            "number" => number,
        )
        .unwrap()
    }

    /// Polars' own per-group `unique().sort()`: what `distinct` gave
    /// before it was done for all groups at once.
    fn per_group(name: &'static str) -> Agg {
        col(name)
            .unique()
            .sort(SortOptions::default().with_nulls_last(true))
            .alias(name)
            .into()
    }

    #[test]
    fn distinct_lists_match_polars_per_group_unique_and_sort() {
        for (rows, seed) in [(1, 7), (2, 11), (40, 13), (500, 17), (3000, 19)] {
            let df = events(rows, seed);
            let keys = ["key", "other"];
            let ours = group(&df, &keys, vec![distinct("text")]).unwrap();
            let theirs = group(&df, &keys, vec![per_group("text")]).unwrap();
            assert!(ours.height() > 0);
            assert_eq!(ours.schema(), theirs.schema(), "{rows} rows");
            assert!(
                ours.equals_missing(&theirs),
                "{rows} rows:\n{ours}\n{theirs}"
            );
        }
    }

    #[test]
    fn distinct_lists_are_sorted_without_repeats_nulls_last() {
        let df = df!(
            "severity" => ["low"; 6],
            col::EVENT_TIME => [1i64, 2, 3, 4, 5, 6],
            "key" => ["x", "x", "x", "x", "y", "y"],
            "text" => [Some("b"), None, Some("a"), Some("b"), None, None],
        )
        .unwrap();
        let out = group(&df, &["key"], vec![distinct("text")]).unwrap();
        let lists = out.column("text").unwrap().list().unwrap();
        let items = |i: usize| -> Vec<Option<String>> {
            let s = lists.get_as_series(i).unwrap();
            s.str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let keys: Vec<_> = out.column("key").unwrap().str().unwrap().iter().collect();
        assert_eq!(keys, [Some("x"), Some("y")]);
        assert_eq!(items(0), [Some("a".into()), Some("b".into()), None]);
        assert_eq!(items(1), [None]);
    }

    #[test]
    fn no_events_give_the_groups_schema() {
        let df = events(10, 23).clear();
        let out = group(&df, &["key"], vec![distinct("text")]).unwrap();
        assert_eq!(out.height(), 0);
        let theirs = group(&events(10, 23), &["key"], vec![per_group("text")]).unwrap();
        assert_eq!(out.schema(), theirs.schema());
    }

    #[test]
    fn a_column_not_of_strings_is_refused_by_name() {
        let err = group(&events(10, 29), &["key"], vec![distinct("number")]).unwrap_err();
        assert!(
            err.to_string().contains("distinct values of number"),
            "{err}"
        );
    }
}
