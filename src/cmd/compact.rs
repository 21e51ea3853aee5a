//! `ctaudit compact`: merges the part files that daily ingests leave into
//! one file per day, for the events and the sessions alike.

use std::io::Write;
use std::path::PathBuf;

use crate::exit::ExitStatus;
use crate::lockfile::Wait;
use crate::store::{Store, StoreError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store directory.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,

    /// When an ingest is writing to the store, refuse at once instead of
    /// waiting for it to finish.
    #[arg(long)]
    pub no_wait: bool,
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    if !args.store.join("events").is_dir() {
        return Err(StoreError::Missing(args.store.clone()).into());
    }
    let store = Store::create(&args.store, Wait::unless(args.no_wait, &mut *stderr))?;
    let done = store.compact()?;
    writeln!(
        stdout,
        "store {}: {} days compacted, {} part files merged into {} ({} events)",
        args.store.display(),
        done.days,
        done.parts_before,
        done.parts_after,
        done.events
    )?;
    Ok(ExitStatus::Clean)
}
