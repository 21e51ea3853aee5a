//! Events one at a time, as the CloudTrail API and Athena return them,
//! into the same frame, filters and counts as files.

use polars::prelude::*;

use super::parts::finish;
use super::sink::Sink;
use super::summary::InputSummary;
use super::{IngestOptions, Ingested, container};
use crate::frame::FrameBuilder;

/// Builds the events frame from single `CloudTrailEvent` strings, as the
/// CloudTrail API returns them: the same parser, filters and counts as files.
pub struct Collector {
    opts: IngestOptions,
    builder: FrameBuilder,
    summary: InputSummary,
}

impl Collector {
    pub fn new(opts: IngestOptions) -> Self {
        Collector {
            opts,
            builder: FrameBuilder::new(opts.columns),
            summary: InputSummary::default(),
        }
    }

    /// Parses one event; `source` names where it came from (the
    /// `source_file` column).
    pub fn push(&mut self, source: &str, json: &str) {
        let mut sink = Sink::new(&mut self.builder, &self.opts, source);
        container::deliver_embedded(json, &mut sink);
        sink.flush_into(&mut self.summary);
        self.summary.bytes_read += json.len() as u64;
    }

    /// JSON bytes pushed since the last [`Collector::take`].
    pub fn pending_bytes(&self) -> u64 {
        self.summary.bytes_read
    }

    /// The frame of the events pushed since the last call, and their account.
    pub fn take(&mut self) -> PolarsResult<Ingested> {
        let builder = std::mem::replace(&mut self.builder, FrameBuilder::new(self.opts.columns));
        finish(
            builder.finish()?,
            std::mem::take(&mut self.summary),
            self.opts.ordered,
        )
    }
}
