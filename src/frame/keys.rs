//! What identifies an event, to tell events read twice apart.

use polars::prelude::*;

use super::col;

/// The columns that identify an event: two rows are the same event read
/// twice (a trail delivered to two buckets, overlapping exports) when all of
/// these match. Real CloudTrail ids are unique, but hand-written trails
/// reuse ids for different events, so the id alone is not enough.
pub const EVENT_KEY_COLUMNS: [&str; 9] = [
    col::EVENT_ID,
    col::EVENT_TIME,
    col::EVENT_NAME,
    col::EVENT_SOURCE,
    col::IDENTITY_ARN,
    col::ACCESS_KEY_ID,
    col::ERROR_CODE,
    col::SOURCE_IP,
    col::USER_AGENT,
];

/// `event_time` as milliseconds since the epoch (null where unknown).
pub fn event_times(df: &DataFrame) -> PolarsResult<Int64Chunked> {
    let times = df
        .column(col::EVENT_TIME)?
        .as_materialized_series()
        .to_physical_repr();
    Ok(times.i64()?.clone())
}

/// A 128-bit digest of each row's [`EVENT_KEY_COLUMNS`] (XXH3), to tell
/// events read twice apart. Only ever compared within one run, never stored.
///
/// Expects those columns with the events frame's types.
pub fn event_keys(df: &DataFrame) -> PolarsResult<Vec<u128>> {
    let times = event_times(df)?;
    let strs = EVENT_KEY_COLUMNS
        .iter()
        .filter(|c| **c != col::EVENT_TIME)
        .map(|c| df.column(c)?.str())
        .collect::<PolarsResult<Vec<_>>>()?;
    // Walked chunk by chunk: a frame read from many files has a chunk per
    // file, and looking a row up by index searches the chunks each time.
    let mut cells: Vec<_> = strs.iter().map(|c| c.iter()).collect();
    let mut key = Vec::with_capacity(256);
    Ok(times
        .iter()
        .map(|time| {
            // Each field length-prefixed (null: u32::MAX), so that no two
            // different rows make the same bytes.
            key.clear();
            key.extend_from_slice(&time.map_or([0xff; 8], i64::to_le_bytes));
            for c in &mut cells {
                match c.next().flatten() {
                    Some(s) => {
                        key.extend_from_slice(&(s.len() as u32).to_le_bytes());
                        key.extend_from_slice(s.as_bytes());
                    }
                    None => key.extend_from_slice(&u32::MAX.to_le_bytes()),
                }
            }
            xxhash_rust::xxh3::xxh3_128(&key)
        })
        .collect())
}
