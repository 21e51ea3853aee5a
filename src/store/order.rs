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

/// Row keys are already uniform 128-bit digests: their low bits are the hash.
#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

pub type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;
