//! `ctaudit report`: logs → events frame → reports → output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::builder::PossibleValuesParser;

use super::baseline;
use super::compare::{self, Compare};
use super::reading::ReadArgs;
use super::source::{Input, RemoteArgs, Wanted, read_all};
use super::state::StateArgs;
use super::window::WindowArgs;
use crate::exit::ExitStatus;
use crate::frame::Columns;
use crate::ingest::{self, IngestOptions};
use crate::output::escape::terminal;
use crate::output::{self, Format, RunOutput};
use crate::policy::Policy;
use crate::reports::{self, Context, REPORTS, Report, Severity};
use crate::state::history;
use crate::state::{Marks, State};
use crate::store::Store;
use crate::time::{Millis, Window, format_millis};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CloudTrail log files or directories (walked recursively): `.json` or
    /// gzip, as `{"Records":[…]}`, a JSON array, JSON lines, or
    /// `aws cloudtrail lookup-events` output.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub logs: Vec<PathBuf>,

    /// Read events from this store (made by `ctaudit ingest`) instead of logs.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    #[command(flatten)]
    pub remote: RemoteArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub networks: super::networks::NetworkArgs,

    /// The policy file (TOML): allowed subjects per role, business hours,
    /// IAM users allowed to keep keys.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Run only this report (repeatable). Default: all. `summary` is the
    /// numbers behind the KPIs (in JSON under `summary_stats`), included by
    /// default with --format markdown and html; `all` is every findings
    /// report (`--report all --report summary`: everything, in any format).
    #[arg(long = "report", value_name = "NAME", value_parser = report_names())]
    pub reports: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// What the summary's figures are shown beside: the period of the same
    /// length before the window (read from --store), or nothing.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = Compare::Previous)]
    pub compare: Compare,

    /// With --format csv, write cells as they are: no `'` before cells a
    /// spreadsheet would run as formulas, control characters as bytes.
    #[arg(long)]
    pub csv_raw: bool,

    /// Write the report to this file instead of standard output. `{date}`
    /// (today, UTC), `{since}` and `{until}` (the window's bounds as dates)
    /// are replaced, so a scheduled job can keep one report per run.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 only when a finding at or above this severity exists; lower
    /// findings are still printed, and the run exits 0.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Low)]
    pub fail_on: Severity,

    #[command(flatten)]
    pub state: StateArgs,

    /// POST a short JSON summary (counts per report, the top findings, the
    /// report file's name) to this Slack- or Teams-compatible incoming
    /// webhook. A failed delivery exits 2; the report is still written.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,

    /// How long one webhook attempt may take, in seconds (3 attempts).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, hide = true)]
    pub webhook_timeout: u64,

    /// Print nothing on standard error but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `path` with `{date}`, `{since}` and `{until}` replaced (UTC dates; an
/// open bound is `start` or the date of `now`).
fn output_path(path: &std::path::Path, window: &Window, now: Millis) -> PathBuf {
    let day = |t: Millis| format_millis(t)[..10].to_string();
    let text = path
        .to_string_lossy()
        .replace("{date}", &day(now))
        .replace("{since}", &window.since.map_or("start".to_string(), day))
        .replace("{until}", &day(window.until.map_or(now, |u| u - 1)));
    PathBuf::from(text)
}

/// The name `--report` gives the KPIs' numbers.
const SUMMARY: &str = "summary";
/// The name `--report` gives every findings report.
const ALL: &str = "all";

fn report_names() -> PossibleValuesParser {
    PossibleValuesParser::new(REPORTS.iter().map(|r| r.id()).chain([SUMMARY, ALL]))
}

impl Args {
    /// Whether the KPIs' numbers are wanted: asked for, or by default in
    /// Markdown and HTML.
    fn wants_summary(&self) -> bool {
        self.reports.iter().any(|r| r == SUMMARY)
            || (self.reports.is_empty() && matches!(self.format, Format::Markdown | Format::Html))
    }

    fn selected(&self) -> Vec<&'static dyn Report> {
        if self.reports.is_empty() || self.reports.iter().any(|r| r == ALL) {
            return REPORTS.to_vec();
        }
        REPORTS
            .iter()
            .copied()
            .filter(|r| self.reports.iter().any(|n| n == r.id()))
            .collect()
    }
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let window = args.window.window()?;
    let now = args.window.now()?;
    let policy = args.policy.as_deref().map(Policy::load).transpose()?;
    if let (Some(p), Some(path)) = (&policy, &args.policy) {
        reports::accept::check(p, now).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let selected = args.selected();
    let ids: Vec<&str> = selected.iter().map(|r| r.id()).collect();
    let mut state = args.state.open(stderr)?;
    if let Some(s) = &state {
        s.warn_other_reports(&ids, stderr)?;
    }
    // A state keeps the history `new-subjects` needs whichever reports run,
    // since what it reads is not read again.
    let mut filter = reports::row_filter(&selected);
    let mut names: Vec<&str> = selected.iter().flat_map(|r| r.columns()).collect();
    if state.is_some() {
        filter.web_identity = true;
        filter.long_lived_keys = true;
        names.extend(history::COLUMNS);
    }
    if args.wants_summary() {
        filter.web_identity = true;
        filter.long_lived_keys = true;
        names.extend(crate::kpi::COLUMNS);
    }
    let columns = Columns::of(names);
    let input = Input::pick(&args.logs, args.store.as_deref(), &args.remote)?;
    let wants_baseline =
        ids.contains(&"new-subjects") && state.as_ref().is_none_or(|s| s.saved().history.is_none());
    // Without a history kept in a state, the baseline is the source itself
    // before the window: read in the same pass, split off below.
    let widened = match input {
        Input::Store(_) => None,
        _ if wants_baseline => args
            .state
            .baseline
            .and_then(|length| baseline::widened(&window, length, &input, now)),
        _ => None,
    };
    let opts = IngestOptions {
        window: widened.unwrap_or(window),
        filter,
        // Payloads (redacted) only where a report reads them.
        payloads: columns.has(crate::frame::col::REQUEST_PARAMETERS),
        columns,
        read: args.read.options(),
        ordered: true,
    };
    let enricher = args.networks.enricher_for(policy.as_ref())?;
    let mut marks = Marks::default();
    let mut source_history = None;
    let ingested = match input {
        Input::Store(dir) => {
            let (mut frame, mut summary) =
                Store::load(dir, &opts.window, &opts.filter, opts.columns)?;
            // Classed again with this run's ranges and databases.
            enricher.apply(&mut frame)?;
            let (json, lines) = enricher.describe();
            summary.set_source("networks", json, lines);
            if let Some(since) = window.since.filter(|_| wants_baseline) {
                source_history = baseline::from_store(dir, since, args.state.baseline(), &opts)?;
            }
            ingest::Ingested { frame, summary }
        }
        input => {
            let wanted = Wanted {
                opts,
                policy: policy.as_ref(),
                now,
                seen: state.as_ref().map(State::saved),
                enricher: Some(&enricher),
                lookups: None,
            };
            if let Input::Athena(athena, _) = &input
                && athena.show_sql
            {
                writeln!(
                    stdout,
                    "{}",
                    super::source::athena::report_sql(athena, &wanted)?
                )?;
                return Ok(ExitStatus::Clean);
            }
            let got = read_all(&input, &wanted, &mut marks).context("building the events frame")?;
            match (widened, window.since) {
                (Some(_), Some(since)) => {
                    let (got, h) = baseline::split_off(got, since)?;
                    source_history = h;
                    got
                }
                _ => got,
            }
        }
    };
    for failure in &ingested.summary.files_failed {
        writeln!(stderr, "ctaudit: {}", terminal(&failure.to_string()))?;
    }
    let cutoff = window.since.unwrap_or(now) - args.state.baseline();
    let mut prior = state
        .as_ref()
        .and_then(|s| s.saved().history.clone())
        .or(source_history);
    if let Some(h) = &mut prior {
        h.forget_before(cutoff);
    }
    // Keys issued in the longest session before the window starts (so
    // possibly still in use in it), from a store's sessions table.
    let earlier_keys = match (args.store.as_deref(), window.since) {
        (Some(dir), Some(since)) => match Store::sessions(dir)? {
            Some(table) => Some(crate::store::sessions::repositories_by_key(
                table,
                since - crate::state::sessions::MAX_SESSION_MS..since,
            )?),
            None => None,
        },
        _ => None,
    };
    let ctx = Context {
        policy: policy.as_ref(),
        history: prior.as_ref(),
        now,
        earlier_keys: earlier_keys.as_ref(),
    };
    let runs = reports::run_all(&selected, &ingested.frame, &ctx).context("running reports")?;
    let reviews = policy
        .as_ref()
        .map(|p| reports::accept::review(&p.accept, &runs, now))
        .unwrap_or_default();

    let sources = compare::Sources {
        store: args.store.as_deref(),
        compare: args.compare,
        window,
        now,
        policy: policy.as_ref(),
        enricher: &enricher,
    };
    let stats = args
        .wants_summary()
        .then(|| compare::summary(&ingested.frame, &sources))
        .transpose()?;
    let policy_name = args.policy.as_ref().map(|p| p.display().to_string());
    let run = RunOutput {
        stats: stats.as_ref(),
        business_hours: policy.as_ref().and_then(|p| p.business_hours.as_ref()),
        window,
        csv_raw: args.csv_raw,
        policy: policy_name.as_deref(),
        input: &ingested.summary,
        runs: &runs,
        acceptances: &reviews,
    };
    let output = args.output.as_ref().map(|p| output_path(p, &window, now));
    match &output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = BufWriter::new(file);
            output::write_run(&mut w, args.format, &run)?;
            w.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            output::write_run(stdout, args.format, &run)?;
            stdout.flush()?;
        }
    }
    // In GitHub Actions, the Markdown report goes on the job's summary page.
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let append = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&summary);
        let written = append.and_then(|f| {
            let mut w = BufWriter::new(f);
            output::write_run(&mut w, Format::Markdown, &run)?;
            w.flush()
        });
        if let Err(e) = written {
            writeln!(
                stderr,
                "ctaudit: cannot append to the job summary {}: {e}",
                terminal(&summary.to_string_lossy())
            )?;
        }
    }
    if !args.quiet && (args.format == Format::Csv || output.is_some()) {
        for line in ingested.summary.describe() {
            writeln!(stderr, "ctaudit: {}", terminal(&line))?;
        }
    }
    // The report is out: now, and only now, the state may say it was read.
    if let Some(state) = &mut state {
        let mut seen = prior.unwrap_or_default();
        seen.observe(&ingested.frame)?;
        seen.forget_before(now - args.state.baseline());
        state.record(marks, Some(seen), &ids);
        state.save(now)?;
    }
    let mut status = if ingested.summary.has_failures() {
        ExitStatus::Error
    } else if runs
        .iter()
        .any(|r| r.worst().is_some_and(|w| w <= args.fail_on))
    {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    };
    if let Some(url) = &args.webhook {
        let message = crate::deliver::webhook::message(&run, output.as_deref());
        if let Err(e) = crate::deliver::webhook::post(url, &message, args.webhook_timeout) {
            writeln!(
                stderr,
                "ctaudit: the webhook was not delivered: {}",
                terminal(&e)
            )?;
            status = ExitStatus::Error;
        }
    }
    Ok(status)
}
