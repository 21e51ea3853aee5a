//! The events frame in time order, each event once.

use std::collections::HashSet;

use polars::prelude::*;
use rayon::prelude::*;

use crate::frame::{self, col};

/// Sorts the frame by time (events without a time last), then event id and
/// source file, and drops events read twice ([`frame::EVENT_KEY_COLUMNS`]
/// says what makes two rows the same event). Returns the frame and how many
/// rows were dropped.
///
/// The order is found on the sort keys alone, then the columns are moved
/// into it a column per thread at a time, each dropped once moved: memory
/// holds the frame and a column or two more, not two frames (the rows
/// `report` keeps are most of its peak memory).
pub fn sort_and_dedupe(df: DataFrame) -> PolarsResult<(DataFrame, u64)> {
    const ROW: &str = "_row";
    let order = df
        .select([col::EVENT_TIME, col::EVENT_ID, col::SOURCE_FILE])?
        .with_row_index(ROW.into(), None)?
        .sort(
            [col::EVENT_TIME, col::EVENT_ID, col::SOURCE_FILE],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )?;
    let df = each_column(df, |c| c.take(order.column(ROW)?.idx()?))?;
    drop(order);
    let keys = frame::event_keys(&df)?;
    let mut seen = HashSet::with_capacity(keys.len());
    let mask: BooleanChunked = keys.into_iter().map(|k| seen.insert(k)).collect();
    let dropped = mask.iter().filter(|k| *k == Some(false)).count() as u64;
    if dropped == 0 {
        return Ok((df, 0));
    }
    Ok((each_column(df, |c| c.filter(&mask))?, dropped))
}

/// Applies `f` to each column of `df` (a column per thread at a time),
/// dropping each original as soon as its replacement is made.
fn each_column(
    df: DataFrame,
    f: impl Fn(&Column) -> PolarsResult<Column> + Sync + Send,
) -> PolarsResult<DataFrame> {
    let columns = df
        .into_columns()
        .into_par_iter()
        .map(|c| f(&c))
        .collect::<PolarsResult<Vec<_>>>()?;
    let height = columns.first().map_or(0, Column::len);
    DataFrame::new(height, columns)
}
