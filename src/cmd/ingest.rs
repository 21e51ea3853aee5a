//! `ctaudit ingest`: logs → the local Parquet store, in bounded batches.

use std::io::Write;
use std::path::PathBuf;

use super::reading::ReadArgs;
use super::source::{Input, RemoteArgs, Wanted, read_batches};
use super::window::WindowArgs;
use crate::exit::ExitStatus;
use crate::ingest::IngestOptions;
use crate::output::escape::terminal;
use crate::store::{AppendStats, Store, Wait};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CloudTrail log files or directories (walked recursively).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub logs: Vec<PathBuf>,

    #[command(flatten)]
    pub remote: RemoteArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,

    #[command(flatten)]
    pub window: WindowArgs,

    /// When another ingest is writing to the store, refuse at once instead
    /// of waiting for it to finish.
    #[arg(long)]
    pub no_wait: bool,

    /// Input read per batch, in KiB (files and S3 objects as stored, API
    /// results as JSON): bounds memory, since each batch is written out
    /// before the next is read.
    #[arg(long, value_name = "KIB", default_value_t = 8 * 1024, hide = true)]
    pub batch_kib: u64,
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let window = args.window.window()?;
    let input = Input::pick(&args.logs, None, &args.remote)?;
    let wanted = Wanted {
        opts: IngestOptions {
            read: args.read.options(),
            ..IngestOptions::everything(window)
        },
        policy: None,
        now: args.window.now()?,
    };
    let batch = args.batch_kib.max(1) << 10;
    let wait = if args.no_wait {
        Wait::Refuse
    } else {
        Wait::Block(&mut *stderr)
    };
    let mut store = Store::create(&args.store, wait)?;
    let mut total = AppendStats::default();
    let summary = read_batches(&input, &wanted, batch, &mut |frame| {
        let stats = store.append(&frame)?;
        total.added += stats.added;
        total.already_stored += stats.already_stored;
        total.files_written += stats.files_written;
        Ok(())
    })?;
    for failure in &summary.files_failed {
        writeln!(stderr, "ctaudit: {}", terminal(&failure.to_string()))?;
    }
    for line in summary.describe() {
        writeln!(stdout, "{}", terminal(&line))?;
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
