//! Where commands get their events: log files, the local store, the
//! CloudTrail API or S3. Every source but the store yields batches of the
//! same events frame through [`read_batches`]; the store is read by
//! [`crate::store`].

mod api;
pub mod athena;
mod s3;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

use super::reading::ReadArgs;
use super::window::WindowArgs;
use crate::aws::AwsArgs;
use crate::aws::s3::S3Url;
use crate::ingest::summary::{InputSummary, SkipFile};
use crate::ingest::{self, IngestOptions, Ingested};
use crate::output::escape::terminal;
use crate::policy::Policy;
use crate::state::{Marks, Saved};
use crate::store::Store;
use crate::time::Millis;

/// `--api`, `--s3` and how to reach AWS: shared by every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RemoteArgs {
    /// Pull events from the CloudTrail LookupEvents API: the last 90 days
    /// of management events, 100 events/s per region at the API's limit.
    /// Only what the selected reports need is asked for.
    #[arg(long)]
    pub api: bool,

    /// Read a trail delivered to S3 (repeatable): s3://bucket/prefix. Only
    /// the day folders of the window are listed.
    #[arg(long, value_name = "S3_URL", value_parser = parse_s3_url, action = clap::ArgAction::Append)]
    pub s3: Vec<S3Url>,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub athena: crate::athena::AthenaArgs,
}

fn parse_s3_url(s: &str) -> Result<S3Url, String> {
    s.parse()
}

/// The one source a command reads.
pub enum Input<'a> {
    Logs(&'a [PathBuf]),
    Store(&'a Path),
    Api(&'a AwsArgs),
    S3(&'a [S3Url], &'a AwsArgs),
    Athena(&'a crate::athena::AthenaArgs, &'a AwsArgs),
}

impl<'a> Input<'a> {
    /// Picks the source among the flags given: exactly one.
    pub fn pick(
        logs: &'a [PathBuf],
        store: Option<&'a Path>,
        remote: &'a RemoteArgs,
    ) -> anyhow::Result<Input<'a>> {
        let mut given = Vec::new();
        if !logs.is_empty() {
            given.push(Input::Logs(logs));
        }
        if let Some(dir) = store {
            given.push(Input::Store(dir));
        }
        if remote.api {
            given.push(Input::Api(&remote.aws));
        }
        if !remote.s3.is_empty() {
            given.push(Input::S3(&remote.s3, &remote.aws));
        }
        if remote.athena.athena {
            given.push(Input::Athena(&remote.athena, &remote.aws));
        }
        let aws = &remote.aws;
        let aws_flags = !aws.regions.is_empty()
            || aws.all_regions
            || aws.profile.is_some()
            || !aws.accounts.is_empty();
        if aws_flags && !remote.api && remote.s3.is_empty() && !remote.athena.athena {
            anyhow::bail!("--region, --all-regions, --profile and --account go with --api or --s3");
        }
        if remote.athena.athena
            && (!aws.regions.is_empty() || aws.all_regions || !aws.accounts.is_empty())
        {
            anyhow::bail!(
                "with --athena, the table's projection says which accounts and regions are read (Athena runs in the profile's or AWS_REGION's region)"
            );
        }
        if remote.athena.any_given() && !remote.athena.athena {
            anyhow::bail!(
                "--database, --table, --workgroup, --output-location, --timeout, --show-sql and --max-scan go with --athena"
            );
        }
        if aws.all_regions && !remote.s3.is_empty() {
            anyhow::bail!(
                "--all-regions goes with --api (--s3 reads every region unless --region narrows it)"
            );
        }
        if !aws.accounts.is_empty() && remote.api {
            anyhow::bail!("--account goes with --s3 (--api reads the account of the credentials)");
        }
        match given.len() {
            1 => Ok(given.pop().expect("one")),
            0 => anyhow::bail!(
                "where are the events? pass --logs PATH, --s3 s3://bucket/prefix, --api, --athena, or --store DIR (see `ctaudit ingest`)"
            ),
            _ => anyhow::bail!("pass only one of --logs, --store, --api, --s3 and --athena"),
        }
    }
}

/// What a command wants read: the window, rows, payloads, and the policy
/// (whose allowed IAM users need no key lookups).
pub struct Wanted<'a> {
    pub opts: IngestOptions,
    pub policy: Option<&'a Policy>,
    /// What relative and open-ended windows count from.
    pub now: Millis,
    /// What earlier runs read (`--state`): not read again.
    pub seen: Option<&'a Saved>,
    /// Classes callers' addresses (the `source_*` columns), when given.
    pub enricher: Option<&'a crate::network::Enricher>,
    /// With `--api`: exactly these lookups, instead of those the reports
    /// need (`trace`'s targeted pull).
    pub lookups: Option<Vec<crate::aws::lookup::Lookup>>,
}

/// Reads the whole input into one events frame (not the store).
pub fn read_all(
    input: &Input<'_>,
    wanted: &Wanted<'_>,
    marks: &mut Marks,
) -> anyhow::Result<Ingested> {
    let mut frame: Option<DataFrame> = None;
    let summary = read_batches(input, wanted, u64::MAX, marks, &mut |df| {
        frame = Some(match frame.take() {
            None => df,
            Some(mut f) => {
                f.vstack_mut_owned(df)?;
                f
            }
        });
        Ok(())
    })?;
    Ok(Ingested {
        frame: frame.unwrap_or_else(crate::frame::empty),
        summary,
    })
}

/// Reads the input in batches of about `batch_bytes` of input (files and
/// S3 objects as stored, API results as JSON text), handing each batch's
/// frame to `each` before reading the next, so that memory is bounded by
/// the batch, not the trail. Returns the account of all of it; `marks`
/// gets what was read whole (for `--state`): damaged or unreadable inputs
/// are never among them.
pub fn read_batches(
    input: &Input<'_>,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    marks: &mut Marks,
    each: &mut dyn FnMut(DataFrame) -> anyhow::Result<()>,
) -> anyhow::Result<InputSummary> {
    let mut summary = InputSummary::default();
    let mut hand_over = |mut got: Ingested, summary: &mut InputSummary| {
        summary.merge(std::mem::take(&mut got.summary));
        if let Some(e) = wanted.enricher {
            e.apply(&mut got.frame)?;
        }
        each(got.frame)
    };
    if let Some(e) = wanted.enricher {
        let (json, lines) = e.describe();
        summary.set_source("networks", json, lines);
    }
    match input {
        Input::Logs(paths) => {
            let files = ingest::discover::discover(
                paths,
                &wanted.opts.read,
                &wanted.opts.window,
                &mut summary,
            );
            let (found, already) =
                crate::state::files::unread(files, wanted.seen.map(|s| &s.files));
            summary.skip_file(SkipFile::AlreadyRead, already);
            let sizes: Vec<u64> = found.iter().map(|f| f.mark.size).collect();
            for range in batches(&sizes, batch_bytes) {
                let found = &found[range];
                let paths: Vec<PathBuf> = found.iter().map(|f| f.path.clone()).collect();
                let got = ingest::ingest_files(&paths, &wanted.opts).context("reading logs")?;
                let failed = got.summary.failed_names();
                marks.files.extend(
                    found
                        .iter()
                        .filter(|f| !failed.contains(f.path.display().to_string().as_str()))
                        .map(|f| (f.key.clone(), f.mark)),
                );
                hand_over(got, &mut summary)?;
            }
        }
        Input::Store(dir) => anyhow::bail!(
            "internal: the store {} is read by the store module",
            dir.display()
        ),
        Input::Api(aws) => api::read_api(
            aws,
            wanted,
            batch_bytes,
            &mut summary,
            marks,
            &mut hand_over,
        )?,
        Input::Athena(athena, aws) => athena::read_athena(
            athena,
            aws,
            wanted,
            batch_bytes,
            &mut summary,
            &mut hand_over,
        )?,
        Input::S3(urls, aws) => s3::read_s3(
            urls,
            aws,
            wanted,
            batch_bytes,
            &mut summary,
            marks,
            &mut hand_over,
        )?,
    }
    summary.finish();
    Ok(summary)
}

/// Consecutive runs of items whose sizes add up to about `budget` (at
/// least one item each).
fn batches(sizes: &[u64], budget: u64) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut acc) = (0, 0u64);
    for (i, size) in sizes.iter().enumerate() {
        if i > start && acc.saturating_add(*size) > budget {
            out.push(start..i);
            (start, acc) = (i, 0);
        }
        acc = acc.saturating_add(*size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_follow_the_byte_budget() {
        assert_eq!(
            super::batches(&[5, 5, 5, 20, 1], 10),
            [0..2, 2..3, 3..4, 4..5]
        );
        assert_eq!(
            super::batches(&[5, 5, 5], u64::MAX),
            vec![std::ops::Range { start: 0, end: 3 }]
        );
        assert!(super::batches(&[], 10).is_empty());
    }
}

type HandOver<'f> = dyn FnMut(Ingested, &mut InputSummary) -> anyhow::Result<()> + 'f;

/// A source's account as JSON (plain data: it always serializes).
fn to_json(account: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(account).unwrap_or(serde_json::Value::Null)
}

/// Where `query` and `trace` get their events: any source, every event,
/// with payloads.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Read events from this store (made by `ctaudit ingest`).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Read events straight from this log file or directory (repeat for
    /// several): every event, with its payloads.
    #[arg(long, value_name = "PATH", action = clap::ArgAction::Append)]
    pub logs: Vec<PathBuf>,

    #[command(flatten)]
    pub remote: RemoteArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub window: WindowArgs,

    #[command(flatten)]
    pub networks: super::networks::NetworkArgs,
}

impl SourceArgs {
    /// The events, and for sources other than the store the account of
    /// what was read (failures are reported on `stderr`).
    pub fn events(
        &self,
        stderr: &mut dyn Write,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        self.events_since(stderr, None, &mut Marks::default())
    }

    /// The sessions table of the store read, when the source is a store
    /// that has one: every session it holds, inside the window or not, so
    /// that calls made with keys issued before the window are attributed.
    pub fn stored_sessions(&self) -> anyhow::Result<Option<LazyFrame>> {
        match Input::pick(&self.logs, self.store.as_deref(), &self.remote)? {
            Input::Store(dir) => Ok(Store::sessions(dir)?),
            _ => Ok(None),
        }
    }

    /// [`SourceArgs::events`], passing over what `seen` (a state) says was
    /// read, and noting in `marks` what this read.
    pub fn events_since(
        &self,
        stderr: &mut dyn Write,
        seen: Option<&Saved>,
        marks: &mut Marks,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        self.read_events(stderr, seen, marks, None)
    }

    /// Whether the source answers targeted lookups: the CloudTrail API, or
    /// Athena (as SQL).
    pub fn is_targeted(&self) -> bool {
        self.remote.api || self.remote.athena.athena
    }

    /// With `--api` or `--athena`: the events these lookups find (in every
    /// region asked; in every partition of the window), over the window
    /// (no state).
    pub fn lookups(
        &self,
        stderr: &mut dyn Write,
        lookups: Vec<crate::aws::lookup::Lookup>,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        self.read_events(stderr, None, &mut Marks::default(), Some(lookups))
    }

    /// With `--athena --show-sql`: the SQL `query` would send.
    pub fn athena_sql(&self) -> anyhow::Result<Option<String>> {
        if !(self.remote.athena.athena && self.remote.athena.show_sql) {
            return Ok(None);
        }
        let wanted = Wanted {
            opts: IngestOptions::everything(self.window.window()?),
            policy: None,
            now: self.window.now()?,
            seen: None,
            enricher: None,
            lookups: None,
        };
        athena::report_sql(&self.remote.athena, &wanted).map(Some)
    }

    fn read_events(
        &self,
        stderr: &mut dyn Write,
        seen: Option<&Saved>,
        marks: &mut Marks,
        lookups: Option<Vec<crate::aws::lookup::Lookup>>,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        let window = self.window.window()?;
        let input = Input::pick(&self.logs, self.store.as_deref(), &self.remote)?;
        if let Input::Store(dir) = input {
            anyhow::ensure!(
                seen.is_none(),
                "--state goes with --logs, --s3 or --api: a store is read whole (`ingest` keeps the store's own state)"
            );
            let lf = crate::store::within(Store::scan(dir)?, &window);
            return Ok((lf, None));
        }
        let enricher = self.networks.enricher()?;
        let wanted = Wanted {
            opts: IngestOptions {
                read: self.read.options(),
                ..IngestOptions::everything(window)
            },
            policy: None,
            now: self.window.now()?,
            seen,
            enricher: Some(&enricher),
            lookups,
        };
        let got = read_all(&input, &wanted, marks)?;
        for failure in &got.summary.files_failed {
            writeln!(stderr, "ctaudit: {}", terminal(&failure.to_string()))?;
        }
        Ok((got.frame.lazy(), Some(got.summary)))
    }
}
