//! `--report summary` over time: the previous period of the same length and
//! the long-lived keys per week, read from the store (`--store`); from
//! other sources, the trend of the window read and a note saying what a
//! store would add.

use std::path::Path;

use anyhow::Context as _;
use clap::ValueEnum;
use polars::prelude::{ChunkAgg, DataFrame};

use crate::frame::Columns;
use crate::ingest::RowFilter;
use crate::kpi::{self, Period, Summary};
use crate::network::Enricher;
use crate::policy::Policy;
use crate::store::Store;
use crate::time::{Millis, Window, format_millis};

/// What the summary's figures are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Compare {
    /// The period of the same length just before the window (with --store).
    #[default]
    Previous,
    /// Nothing: the window's figures alone.
    None,
}

/// What the summary is computed from, beside the window's frame.
pub struct Sources<'a> {
    pub store: Option<&'a Path>,
    pub compare: Compare,
    pub window: Window,
    pub now: Millis,
    pub policy: Option<&'a Policy>,
    pub enricher: &'a Enricher,
}

fn day(t: Millis) -> String {
    format_millis(t)[..10].to_string()
}

/// The summary of `frame` (the window's events), with the previous period
/// and the key trend where `src` allows them.
pub fn summary(frame: &DataFrame, src: &Sources<'_>) -> anyhow::Result<Summary> {
    let stats = kpi::compute(frame, src.policy).context("computing the summary")?;
    let mut summary = Summary::new(stats);
    let end = src.window.until.unwrap_or(src.now);
    let Some(store) = src.store else {
        // The whole of a trail (no window): its weeks end with its last day,
        // not today, or an exported trail would end in empty weeks.
        let span = span(frame);
        let end = match (src.window.since, src.window.until) {
            (None, None) => span.map_or(end, |(_, last)| day_end(last)),
            _ => end,
        };
        let first = src
            .window
            .since
            .or_else(|| span.map(|(first, _)| day_end(first) - DAY))
            .unwrap_or(end);
        summary.key_trend = kpi::key_trend(frame, first, end)?;
        summary.key_trend_source = format!(
            "the window read ({} to {}); with --store, the store's history",
            day(first),
            day(end - 1)
        );
        if src.compare == Compare::Previous {
            summary.previous_note = Some(
                "no previous period: it is read from a store (--store DIR, made by `ctaudit ingest`)"
                    .into(),
            );
        }
        return Ok(summary);
    };
    let first_day = Store::first_day(store)?;
    let filter = RowFilter {
        web_identity: true,
        long_lived_keys: true,
        trust_changes: false,
        all: false,
    };
    let load = |window: Window, names: &[&str]| {
        Store::load(store, &window, &filter, Columns::of(names.iter().copied()))
    };
    // The trend: every week the store holds, up to the window's end.
    let first = first_day
        .unwrap_or(end)
        .max(end - kpi::TREND_WEEKS as Millis * kpi::WEEK);
    let (history, _) = load(
        Window {
            since: Some(first),
            until: Some(end),
        },
        kpi::TREND_COLUMNS,
    )?;
    summary.key_trend = kpi::key_trend(&history, first, end)?;
    summary.key_trend_source = format!("the store's history ({} to {})", day(first), day(end - 1));
    drop(history);

    if src.compare == Compare::None {
        return Ok(summary);
    }
    let Some(since) = src.window.since else {
        summary.previous_note =
            Some("no previous period: the window has no start (give --since)".into());
        return Ok(summary);
    };
    let before = Window {
        since: Some(since - (end - since)),
        until: Some(since),
    };
    match first_day {
        Some(first) if first < since => {
            if first > before.since.unwrap_or(first) {
                summary.previous_note = Some(format!(
                    "the store begins on {}: the previous period is partly covered",
                    day(first)
                ));
            }
        }
        _ => {
            summary.previous_note = Some(format!(
                "no previous period: the store holds nothing before {}",
                day(since)
            ));
            return Ok(summary);
        }
    }
    let (mut past, _) = load(before, kpi::COLUMNS)?;
    src.enricher.apply(&mut past)?;
    let stats = kpi::compute(&past, src.policy).context("computing the previous period")?;
    summary.previous = Some(Period {
        since: format_millis(since - (end - since)),
        until: format_millis(since),
        headline: stats.headline(),
        stats,
    });
    Ok(summary)
}

/// The earliest and latest event times in `frame`.
fn span(frame: &DataFrame) -> Option<(Millis, Millis)> {
    let times = frame
        .column(crate::frame::col::EVENT_TIME)
        .ok()?
        .as_materialized_series()
        .to_physical_repr();
    let times = times.i64().ok()?;
    Some((times.min()?, times.max()?))
}

const DAY: Millis = 86_400_000;

/// The end of the UTC day holding `t`.
fn day_end(t: Millis) -> Millis {
    t.div_euclid(DAY) * DAY + DAY
}
