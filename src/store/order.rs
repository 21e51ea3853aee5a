//! The order a day's part is written in, and the hasher for the set of
//! row keys a batch holds.

use polars::prelude::*;

use crate::frame::{self, col};

/// The events frame's order (time with events without one last, then event
/// id, then source file), compared row by row without copying the frame.
pub struct RowOrder {
    times: Vec<Option<i64>>,
    ids: StringChunked,
    sources: StringChunked,
}

impl RowOrder {
    pub fn of(df: &DataFrame) -> PolarsResult<RowOrder> {
        Ok(RowOrder {
            times: frame::event_times(df)?.iter().collect(),
            ids: df.column(col::EVENT_ID)?.str()?.rechunk().into_owned(),
            sources: df.column(col::SOURCE_FILE)?.str()?.rechunk().into_owned(),
        })
    }

    pub fn cmp(&self, a: usize, b: usize) -> std::cmp::Ordering {
        /// `None` after every value.
        fn last<T: Ord>(a: Option<T>, b: Option<T>) -> std::cmp::Ordering {
            match (a, b) {
                (Some(a), Some(b)) => a.cmp(&b),
                (a, b) => a.is_none().cmp(&b.is_none()),
            }
        }
        last(self.times[a], self.times[b])
            .then_with(|| last(self.ids.get(a), self.ids.get(b)))
            .then_with(|| last(self.sources.get(a), self.sources.get(b)))
    }
}
