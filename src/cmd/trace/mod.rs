//! `ctaudit trace`: a timeline of the sessions a selector picks and
//! everything done with them, oldest first.

use std::io::Write;

use polars::prelude::IntoLazy;

mod targeted;

use super::source::SourceArgs;
use crate::exit::ExitStatus;
use crate::lockfile::Wait;
use crate::output::{self, Format};
use crate::policy::Pattern;
use crate::state::{Marks, State, sessions};
use crate::trace::{Selector, keys_for, timeline, with_attribution_from};

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

    /// Remember in this file what was read and the sessions that may still
    /// be in use: the next run reads only new input, and still attributes
    /// calls made with keys issued before it.
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,

    /// When another run holds the state, refuse at once instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
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
    let mut state = match &args.state {
        Some(path) => Some(State::open(path, Wait::unless(args.no_wait, &mut *stderr))?),
        None => None,
    };
    anyhow::ensure!(
        args.source.athena_sql()?.is_none(),
        "--show-sql goes with `report` and `query`: trace's second query depends on the keys the first finds"
    );
    let mut marks = Marks::default();
    let (events, summary) = if args.source.is_targeted() && state.is_none() {
        targeted::pull(&args.source, &args.selector(), stderr)?
    } else {
        args.source
            .events_since(stderr, state.as_ref().map(State::saved), &mut marks)?
    };
    // Sessions that started before what was read: a store's sessions
    // table, or those a state remembers.
    let earlier = match (&state, args.source.stored_sessions()?) {
        (_, Some(stored)) => Some(crate::store::sessions::as_via(stored)),
        (Some(s), None) if !s.saved().sessions.is_empty() => {
            Some(sessions::frame_of(&s.saved().sessions)?.lazy())
        }
        _ => None,
    };
    let attributed = anyhow::Context::context(
        with_attribution_from(events.clone(), earlier).collect(),
        "attributing events to sessions",
    )?;
    let keys = keys_for(&attributed, &args.selector())?;
    if keys.is_empty() {
        writeln!(stderr, "ctaudit: no session or key matches")?;
    }
    let df = anyhow::Context::context(
        timeline(attributed.clone().lazy(), &keys).collect(),
        "building the timeline",
    )?;
    output::write_frame(stdout, args.format, &df, args.csv_raw)?;
    stdout.flush()?;
    // The timeline is out: the state may now say what was read.
    if let Some(state) = &mut state {
        let mut kept = state.saved().sessions.clone();
        kept.extend(sessions::marks_of(
            &crate::trace::sessions(events).collect()?,
        )?);
        let newest = attributed
            .column(crate::frame::col::EVENT_TIME)?
            .as_materialized_series()
            .to_physical_repr()
            .i64()?
            .iter()
            .flatten()
            .max();
        if let Some(newest) = newest {
            sessions::prune(&mut kept, newest);
        }
        marks.sessions = Some(kept);
        state.record(marks, None, &[]);
        state.save(crate::time::now_millis())?;
    }
    Ok(match summary {
        Some(s) if s.has_failures() => ExitStatus::Error,
        _ if keys.is_empty() => ExitStatus::Clean,
        _ => ExitStatus::Findings,
    })
}
