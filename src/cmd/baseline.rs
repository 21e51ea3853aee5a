//! Where `new-subjects` gets its baseline when the state has none: the
//! same source before the window (`--since` minus `--baseline`), read in
//! the same pass, or the store before the window.

use polars::prelude::*;

use super::source::Input;
use crate::frame::col;
use crate::ingest::summary::SkipRecord;
use crate::ingest::{IngestOptions, Ingested};
use crate::state::history::History;
use crate::store::Store;
use crate::time::{Millis, Window};

/// The window to read so that the baseline comes along: `since` moved back
/// by `length` (for the API, no further than its 90 days of history).
/// `None` when there is no start to move back from.
pub fn widened(window: &Window, length: Millis, input: &Input<'_>, now: Millis) -> Option<Window> {
    let since = window.since?;
    let mut from = since - length;
    if matches!(input, Input::Api(_)) {
        let oldest = now - crate::aws::lookup::HISTORY_DAYS * 86_400_000 + 60_000;
        from = from.max(oldest);
    }
    (from < since).then_some(Window {
        since: Some(from),
        until: window.until,
    })
}

/// Splits what was read over the widened window: events before `since`
/// become the baseline (counted in the summary as read for it, not kept),
/// the rest is the report's frame.
pub fn split_off(mut got: Ingested, since: Millis) -> PolarsResult<(Ingested, Option<History>)> {
    let times = got
        .frame
        .column(col::EVENT_TIME)?
        .as_materialized_series()
        .to_physical_repr();
    let before: BooleanChunked = times
        .i64()?
        .iter()
        .map(|t| Some(t.is_some_and(|t| t < since)))
        .collect();
    let past = got.frame.filter(&before)?;
    got.frame = got.frame.filter(&!&before)?;
    let n = past.height() as u64;
    got.summary.unkeep(SkipRecord::Baseline, n);
    let mut history = History::default();
    history.observe(&past)?;
    // Nothing before the window: there is no history to compare with.
    Ok((got, (n > 0).then_some(history)))
}

/// The store's events in the `length` before `since`, as a baseline.
pub fn from_store(
    dir: &std::path::Path,
    since: Millis,
    length: Millis,
    opts: &IngestOptions,
) -> anyhow::Result<Option<History>> {
    let before = Window {
        since: Some(since - length),
        until: Some(since),
    };
    let (past, _) = Store::load(dir, &before, &opts.filter, opts.columns)?;
    if past.height() == 0 {
        return Ok(None);
    }
    let mut h = History::default();
    h.observe(&past)?;
    Ok(Some(h))
}
