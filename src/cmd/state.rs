//! `--state`, `--baseline` and `--no-wait`: what a scheduled job keeps
//! between runs, shared by `report`, `ingest` and `trace`.

use std::io::Write;
use std::path::PathBuf;

use crate::lockfile::Wait;
use crate::state::State;
use crate::time::{MS_PER_DAY, Millis, parse_length};

#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// Remember in this file (JSON; a FILE.lock goes beside it) what was
    /// read and seen, so the next run reads only what is new and knows what
    /// is new. Written only when the run's output is written in full.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// When another run holds the state (or store), refuse at once instead
    /// of waiting for it to finish.
    #[arg(long)]
    pub no_wait: bool,

    /// How far back the baseline of `new-subjects` reaches (90d, 12w): in
    /// a state, what was not seen for this long is new again; with
    /// `--store`, the store before the window is read back this far
    /// (default for both: 90d). With --logs, --s3 or --api and --since,
    /// giving it also reads the source this far before the window as the
    /// baseline (not done unless asked: it reads that much more).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub baseline: Option<Millis>,
}

/// The baseline's length when `--baseline` is not given.
pub const DEFAULT_BASELINE: Millis = 90 * MS_PER_DAY;

impl StateArgs {
    /// `--baseline`, or [`DEFAULT_BASELINE`].
    pub fn baseline(&self) -> Millis {
        self.baseline.unwrap_or(DEFAULT_BASELINE)
    }

    /// Opens (and locks) the state, if one was asked for.
    pub fn open(&self, stderr: &mut dyn Write) -> anyhow::Result<Option<State>> {
        self.state
            .as_deref()
            .map(|p| State::open(p, Wait::unless(self.no_wait, stderr)))
            .transpose()
    }
}

/// `90d`, `12w`, `36h`: a length of time.
fn parse_duration(s: &str) -> Result<Millis, String> {
    let ms = parse_length(s, &['s', 'm', 'h', 'd', 'w'])
        .ok_or_else(|| format!("`{s}` is not a duration: use 90d, 12w or 36h"))?;
    if ms > 20 * 366 * MS_PER_DAY {
        return Err(format!("`{s}` is not a usable duration"));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        use super::parse_duration;
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400_000));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400_000));
        assert!(parse_duration("2026-01-01").is_err());
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
