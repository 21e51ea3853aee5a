//! Where `query` and `trace` get their events: the local store, or logs read
//! straight from files (every event, with payloads).

use std::io::Write;
use std::path::PathBuf;

use polars::prelude::*;

use crate::ingest::summary::InputSummary;
use crate::ingest::{self, IngestOptions};
use crate::store::Store;
use crate::time::{Bound, Window, now_millis, parse_bound};

#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Read events from this store (made by `ctaudit ingest`).
    #[arg(long, value_name = "DIR", conflicts_with = "logs")]
    pub store: Option<PathBuf>,

    /// Read events straight from this log file or directory (repeat for
    /// several): every event, with its payloads.
    #[arg(long, value_name = "PATH", action = clap::ArgAction::Append)]
    pub logs: Vec<PathBuf>,

    /// Only events at or after this time (RFC 3339, a date, or 7d, 24h…).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events before this time (a date includes that whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl SourceArgs {
    pub fn window(&self) -> anyhow::Result<Window> {
        let now = now_millis();
        let bound = |v: &Option<String>, b: Bound, flag: &str| -> anyhow::Result<Option<i64>> {
            v.as_deref()
                .map(|t| parse_bound(t, b, now).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
                .transpose()
        };
        Ok(Window {
            since: bound(&self.since, Bound::Since, "--since")?,
            until: bound(&self.until, Bound::Until, "--until")?,
        })
    }

    /// The events, and for `--logs` the account of the files read (damaged
    /// files are reported on `stderr`).
    pub fn events(
        &self,
        stderr: &mut dyn Write,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        let window = self.window()?;
        anyhow::ensure!(
            self.store.is_some() || !self.logs.is_empty(),
            "where are the events? pass --store DIR (see `ctaudit ingest`) or --logs PATH"
        );
        if let Some(dir) = &self.store {
            let mut lf = Store::scan(dir)?;
            let t = col(crate::frame::col::EVENT_TIME).cast(DataType::Int64);
            if let Some(s) = window.since {
                lf = lf.filter(t.clone().gt_eq(lit(s)));
            }
            if let Some(u) = window.until {
                lf = lf.filter(t.lt(lit(u)));
            }
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
