//! `ctaudit ingest`: logs → the local Parquet store, in bounded batches.

use std::io::Write;
use std::path::PathBuf;

use super::reading::ReadArgs;
use super::source::{Input, RemoteArgs, Wanted, read_batches};
use super::window::WindowArgs;
use crate::exit::ExitStatus;
use crate::ingest::IngestOptions;
use crate::ingest::summary::{InputSummary, SkipRecord};
use crate::lockfile::Wait;
use crate::output::escape::terminal;
use crate::state::{Marks, State};
use crate::store::{AppendStats, Store, StoreError};
use polars::prelude::DataFrame;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CloudTrail log files or directories (walked recursively).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub logs: Vec<PathBuf>,

    #[command(flatten)]
    pub remote: RemoteArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub networks: super::networks::NetworkArgs,

    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,

    #[command(flatten)]
    pub window: WindowArgs,

    /// When another ingest is writing to the store, refuse at once instead
    /// of waiting for it to finish.
    #[arg(long)]
    pub no_wait: bool,

    /// Where to remember what was read (default: `state.json` in the
    /// store): files, S3 objects and API events read by an earlier ingest
    /// are not read again.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Read everything again, whatever the state says (events already in
    /// the store are still not added twice).
    #[arg(long)]
    pub reread: bool,

    /// Input read per batch, in KiB (files and S3 objects as stored, API
    /// results as JSON): bounds memory, since a batch is written out while
    /// the next is read and no third is held. Each batch adds a row group
    /// to its days' parts, not a file.
    #[arg(long, value_name = "KIB", default_value_t = 4 * 1024, hide = true)]
    pub batch_kib: u64,
}

/// More part files than this in one day, and `ingest` suggests `compact`.
const CROWDED_DAY: usize = 8;

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let window = args.window.window()?;
    let now = args.window.now()?;
    let input = Input::pick(&args.logs, None, &args.remote)?;
    anyhow::ensure!(
        !matches!(input, Input::Athena(..)),
        "ingest does not read from Athena: a store keeps every event, and Athena is there not to move them all (report, query and trace take --athena)"
    );
    let batch = args.batch_kib.max(1) << 10;
    let store = Store::create(&args.store, Wait::unless(args.no_wait, &mut *stderr))?;
    // The store keeps its own state; it is written after the last batch
    // is in, so an interrupted ingest reads its input again (and the store
    // does not add what it already holds).
    let state_path = args
        .state
        .clone()
        .unwrap_or_else(|| args.store.join("state.json"));
    let mut state = State::open(&state_path, Wait::unless(args.no_wait, &mut *stderr))?;
    let enricher = args.networks.enricher()?;
    let wanted = Wanted {
        opts: IngestOptions {
            read: args.read.options(),
            // The store sorts and deduplicates each day as it writes it.
            ordered: false,
            ..IngestOptions::everything(window)
        },
        policy: None,
        now,
        seen: (!args.reread).then(|| state.saved()),
        enricher: Some(&enricher),
        lookups: None,
    };
    let mut marks = Marks::default();
    let (mut summary, total) = read_and_write(&input, &wanted, batch, &mut marks, store)?;
    // Events read twice in one batch were dropped by the store's writer.
    summary.unkeep(SkipRecord::Duplicate, total.duplicates);
    state.record(marks, None, &[]);
    state.save(now)?;
    for failure in &summary.files_failed {
        writeln!(stderr, "ctaudit: {}", terminal(&failure.to_string()))?;
    }
    for line in summary.describe() {
        writeln!(stdout, "{}", terminal(&line))?;
    }
    writeln!(
        stdout,
        "store {}: {} events added, {} already stored, {} files written, {} sessions added",
        args.store.display(),
        total.added,
        total.already_stored,
        total.files_written,
        total.sessions_added
    )?;
    let crowded = Store::crowded_days(&args.store, CROWDED_DAY)?;
    if let Some((day, parts)) = crowded.iter().max_by_key(|(_, n)| *n) {
        writeln!(
            stderr,
            "ctaudit: {} days of the store hold more than {CROWDED_DAY} part files ({day}: {parts}); \
             `ctaudit compact --store {}` merges them into one a day",
            crowded.len(),
            args.store.display()
        )?;
    }
    Ok(if summary.has_failures() {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}

/// Reads the input in batches and appends each to the store on a thread of
/// its own, so that one batch is compressed and written while the next is
/// read. At most two batches are held: the one being written and the one
/// being read (the reader waits to hand over until the writer is free).
fn read_and_write(
    input: &Input<'_>,
    wanted: &Wanted<'_>,
    batch: u64,
    marks: &mut Marks,
    mut store: Store,
) -> anyhow::Result<(InputSummary, AppendStats)> {
    std::thread::scope(|scope| {
        let (hand, take) = std::sync::mpsc::sync_channel::<DataFrame>(0);
        let writer = scope.spawn(move || -> Result<AppendStats, StoreError> {
            let mut total = AppendStats::default();
            for frame in take {
                total.add(store.append(&frame)?);
            }
            total.files_written += store.finish()?;
            Ok(total)
        });
        let read = read_batches(input, wanted, batch, marks, &mut |frame| {
            // Fails only when the writer has stopped on an error, which
            // is reported below in preference to this.
            hand.send(frame)
                .map_err(|_| anyhow::anyhow!("the store writer stopped"))
        });
        drop(hand);
        let written = writer.join().expect("the store writer does not panic")?;
        Ok((read?, written))
    })
}
