//! `ctaudit ingest`: logs → the local Parquet store, in bounded batches.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::window::WindowArgs;
use crate::exit::ExitStatus;
use crate::ingest::summary::InputSummary;
use crate::ingest::{self, IngestOptions};
use crate::store::{AppendStats, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CloudTrail log files or directories (walked recursively).
    #[arg(long, value_name = "PATH", num_args = 1.., required = true)]
    pub logs: Vec<PathBuf>,

    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Files parsed per batch: bounds memory (each batch is written out
    /// before the next is read).
    #[arg(long, value_name = "N", default_value_t = 128, hide = true)]
    pub batch_files: usize,
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let window = args.window.window()?;
    let opts = IngestOptions::everything(window);
    let mut store = Store::create(&args.store)?;
    let mut summary = InputSummary::default();
    let files = ingest::discover::discover(&args.logs, &window, &mut summary);
    let mut total = AppendStats::default();
    for batch in files.chunks(args.batch_files.max(1)) {
        let got = ingest::ingest_files(batch, &opts).context("reading logs")?;
        let stats = store.append(&got.frame)?;
        total.added += stats.added;
        total.already_stored += stats.already_stored;
        total.files_written += stats.files_written;
        summary.merge(got.summary);
    }
    summary.finish();
    for failure in &summary.files_failed {
        writeln!(stderr, "ctaudit: {failure}")?;
    }
    for line in summary.describe() {
        writeln!(stdout, "{line}")?;
    }
    writeln!(
        stdout,
        "store {}: {} events added, {} already stored, {} files written",
        args.store.display(),
        total.added,
        total.already_stored,
        total.files_written
    )?;
    Ok(if summary.has_failures() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}
