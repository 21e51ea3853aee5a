//! Where `query` and `trace` get their events: the local store, or logs read
//! straight from files (every event, with payloads).

use std::io::Write;
use std::path::PathBuf;

use polars::prelude::*;

use super::window::WindowArgs;
use crate::ingest::summary::InputSummary;
use crate::ingest::{self, IngestOptions};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Read events from this store (made by `ctaudit ingest`).
    #[arg(long, value_name = "DIR", conflicts_with = "logs")]
    pub store: Option<PathBuf>,

    /// Read events straight from this log file or directory (repeat for
    /// several): every event, with its payloads.
    #[arg(long, value_name = "PATH", action = clap::ArgAction::Append)]
    pub logs: Vec<PathBuf>,

    #[command(flatten)]
    pub window: WindowArgs,
}

impl SourceArgs {
    /// The events, and for `--logs` the account of the files read (damaged
    /// files are reported on `stderr`).
    pub fn events(
        &self,
        stderr: &mut dyn Write,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        let window = self.window.window()?;
        anyhow::ensure!(
            self.store.is_some() || !self.logs.is_empty(),
            "where are the events? pass --store DIR (see `ctaudit ingest`) or --logs PATH"
        );
        if let Some(dir) = &self.store {
            let lf = crate::store::within(Store::scan(dir)?, &window);
            return Ok((lf, None));
        }
        let got = ingest::ingest_paths(&self.logs, &IngestOptions::everything(window));
        let got = anyhow::Context::context(got, "reading logs")?;
        for failure in &got.summary.files_failed {
            writeln!(stderr, "ctaudit: {failure}")?;
        }
        Ok((got.frame.lazy(), Some(got.summary)))
    }
}
