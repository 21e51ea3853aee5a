//! `ctaudit trace`: a timeline of the sessions a selector picks and
//! everything done with them, oldest first.

use std::io::Write;

use polars::prelude::IntoLazy;

use super::source::SourceArgs;
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::policy::Pattern;
use crate::trace::{Selector, keys_for, timeline, with_attribution};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("select").required(true).args(["repo", "subject", "role", "access_key", "event_id"])))]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Sessions issued to this repository (owner/name).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,

    /// Sessions whose subject matches this pattern (* and ?).
    #[arg(long, value_name = "PATTERN")]
    pub subject: Option<String>,

    /// Sessions of roles matching this ARN pattern (* and ?).
    #[arg(long, value_name = "ARN")]
    pub role: Option<String>,

    /// The session that issued this key, or this long-lived (AKIA…) key.
    #[arg(long, value_name = "KEY")]
    pub access_key: Option<String>,

    /// The session (or key) behind this event.
    #[arg(long, value_name = "ID")]
    pub event_id: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// With --format csv, write cells as they are: no `'` before cells a
    /// spreadsheet would run as formulas, control characters as bytes.
    #[arg(long)]
    pub csv_raw: bool,
}

impl Args {
    fn selector(&self) -> Selector {
        if let Some(r) = &self.repo {
            Selector::Repository(r.clone())
        } else if let Some(s) = &self.subject {
            Selector::Subject(Pattern::new(s.clone()))
        } else if let Some(r) = &self.role {
            Selector::Role(Pattern::new(r.clone()))
        } else if let Some(k) = &self.access_key {
            Selector::AccessKey(k.clone())
        } else {
            Selector::EventId(self.event_id.clone().expect("clap requires a selector"))
        }
    }
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let (events, summary) = args.source.events(stderr)?;
    let attributed = anyhow::Context::context(
        with_attribution(events).collect(),
        "attributing events to sessions",
    )?;
    let keys = keys_for(&attributed, &args.selector())?;
    if keys.is_empty() {
        writeln!(stderr, "ctaudit: no session or key matches")?;
    }
    let df = anyhow::Context::context(
        timeline(attributed.lazy(), &keys).collect(),
        "building the timeline",
    )?;
    output::write_frame(stdout, args.format, &df, args.csv_raw)?;
    Ok(match summary {
        Some(s) if s.has_failures() => ExitStatus::Error,
        _ if keys.is_empty() => ExitStatus::Clean,
        _ => ExitStatus::Findings,
    })
}
