//! `--since`/`--until`, shared by every subcommand that reads events.

use anyhow::Context;

use crate::time::{Bound, Millis, Window, now_millis, parse_bound, parse_event_time};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct WindowArgs {
    /// Only events at or after this time: RFC 3339, a date (UTC), or a
    /// duration before now (90m, 24h, 7d, 2w).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events before this time (a date includes that whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// The time relative windows count back from (for reproducible runs).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
}

impl WindowArgs {
    /// The time relative and open-ended windows count from.
    pub fn now(&self) -> anyhow::Result<Millis> {
        Ok(match &self.now {
            Some(t) => parse_event_time(t)
                .with_context(|| format!("--now `{t}` is not an RFC 3339 time"))?,
            None => now_millis(),
        })
    }

    /// The window the flags describe.
    pub fn window(&self) -> anyhow::Result<Window> {
        let now = self.now()?;
        let bound = |v: &Option<String>, b: Bound, flag: &str| -> anyhow::Result<Option<Millis>> {
            v.as_deref()
                .map(|t| parse_bound(t, b, now).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
                .transpose()
        };
        let window = Window {
            since: bound(&self.since, Bound::Since, "--since")?,
            until: bound(&self.until, Bound::Until, "--until")?,
        };
        if let (Some(s), Some(u)) = (window.since, window.until) {
            anyhow::ensure!(s < u, "--since must be earlier than --until");
        }
        Ok(window)
    }
}
