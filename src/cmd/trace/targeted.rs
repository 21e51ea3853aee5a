//! `trace --api` asks the CloudTrail API only for what the selector needs,
//! instead of paging through every event (at 100 events a second per
//! region, the API's limit): the web-identity assumptions first, the
//! sessions the selector picks among them, then each issued key's calls by
//! `AccessKeyId`. The same timeline as from the trail's files, at a
//! fraction of the requests; how many were made is said on stderr.

use std::io::Write;

use polars::prelude::*;

use super::super::source::SourceArgs;
use crate::aws::lookup::Lookup;
use crate::frame::{self, col};
use crate::ingest::summary::InputSummary;
use crate::ingest::{WEB_IDENTITY, is_long_lived_key};
use crate::trace::{Selector, keys_for, with_attribution};

/// The events `selector`'s timeline is made of: the assumptions, and the
/// calls made with the keys it selects among them, in every region asked.
pub fn pull(
    source: &SourceArgs,
    selector: &Selector,
    stderr: &mut dyn Write,
) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
    // A long-lived key was issued by no assumption: its calls alone.
    let long_lived = matches!(selector, Selector::AccessKey(k) if is_long_lived_key(k));
    let mut first = Vec::new();
    if !long_lived {
        first.push(Lookup::event_name(WEB_IDENTITY));
    }
    if let Selector::EventId(id) = selector {
        first.push(Lookup::event_id(id));
    }
    let (sessions, mut summary) = if first.is_empty() {
        (frame::empty(), None)
    } else {
        let (lf, summary) = source.lookups(stderr, first)?;
        (lf.collect()?, summary)
    };
    let keys = match selector {
        Selector::AccessKey(k) => vec![k.clone()],
        _ => keys_for(
            &with_attribution(sessions.clone().lazy()).collect()?,
            selector,
        )?,
    };
    let found_requests = summary.as_ref().map_or(0, requests);
    let mut frames = vec![sessions.lazy()];
    let mut key_requests = 0;
    if !keys.is_empty() {
        let lookups = keys.iter().map(|k| Lookup::access_key(k)).collect();
        let (calls, more) = source.lookups(stderr, lookups)?;
        frames.push(calls);
        if let Some(more) = more {
            key_requests = requests(&more);
            match &mut summary {
                Some(s) => s.merge(more),
                None => summary = Some(more),
            }
        }
    }
    if let Some(queries) = summary.as_ref().and_then(athena_queries) {
        writeln!(
            stderr,
            "ctaudit: Athena: {} ({} key{} selected)",
            crate::output::escape::terminal(&queries),
            keys.len(),
            if keys.len() == 1 { "" } else { "s" },
        )?;
    } else {
        writeln!(
            stderr,
            "ctaudit: CloudTrail API: {} requests ({}{} for {} key{} selected)",
            found_requests + key_requests,
            if long_lived {
                String::new()
            } else {
                format!("{found_requests} for the web-identity sessions, ")
            },
            key_requests,
            keys.len(),
            if keys.len() == 1 { "" } else { "s" },
        )?;
    }
    // An event found by both lookups (`--event-id` of a call) once.
    let events = concat(frames, UnionArgs::default())?.unique_stable_generic(
        Some(vec![
            col(col::EVENT_ID),
            col(col::EVENT_TIME),
            col(col::AWS_REGION),
        ]),
        UniqueKeepStrategy::First,
    );
    Ok((events, summary))
}

/// The Athena queries a read ran, from the summary: their ids and what
/// they scanned.
fn athena_queries(summary: &InputSummary) -> Option<String> {
    let runs: Vec<&serde_json::Value> = match summary.sources.get("athena")? {
        serde_json::Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let described: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "query {} ({} rows, {:.1} MB scanned)",
                r["query_id"].as_str().unwrap_or("?"),
                r["rows"],
                r["data_scanned_bytes"].as_f64().unwrap_or(0.0) / 1e6
            )
        })
        .collect();
    Some(format!("{} queries: {}", runs.len(), described.join(", ")))
}

/// The requests an API read made, from its account in the summary.
fn requests(summary: &InputSummary) -> u64 {
    summary
        .sources
        .get("api")
        .and_then(|api| api["regions"].as_array())
        .map_or(0, |regions| {
            regions.iter().filter_map(|r| r["requests"].as_u64()).sum()
        })
}
