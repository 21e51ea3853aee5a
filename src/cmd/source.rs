//! Where commands get their events: log files, the local store, the
//! CloudTrail API or S3. Every source but the store yields batches of the
//! same events frame through [`read_batches`]; the store is read by
//! [`crate::store`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

use super::reading::ReadArgs;
use super::window::WindowArgs;
use crate::aws::lookup::{self, ApiSummary, Lookup, Plan};
use crate::aws::s3::{self, S3Url, Scope};
use crate::aws::{AwsArgs, keys};
use crate::ingest::summary::{FailReason, FileFailure, InputSummary};
use crate::ingest::{self, Collector, IngestOptions, Ingested, WEB_IDENTITY};
use crate::output::escape::terminal;
use crate::policy::Policy;
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
        let aws = &remote.aws;
        let aws_flags = !aws.regions.is_empty()
            || aws.all_regions
            || aws.profile.is_some()
            || !aws.accounts.is_empty();
        if aws_flags && !remote.api && remote.s3.is_empty() {
            anyhow::bail!("--region, --all-regions, --profile and --account go with --api or --s3");
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
                "where are the events? pass --logs PATH, --s3 s3://bucket/prefix, --api, or --store DIR (see `ctaudit ingest`)"
            ),
            _ => anyhow::bail!("pass only one of --logs, --store, --api and --s3"),
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
}

/// Reads the whole input into one events frame (not the store).
pub fn read_all(input: &Input<'_>, wanted: &Wanted<'_>) -> anyhow::Result<Ingested> {
    let mut frame: Option<DataFrame> = None;
    let summary = read_batches(input, wanted, u64::MAX, &mut |df| {
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
/// the batch, not the trail. Returns the account of all of it.
pub fn read_batches(
    input: &Input<'_>,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    each: &mut dyn FnMut(DataFrame) -> anyhow::Result<()>,
) -> anyhow::Result<InputSummary> {
    let mut summary = InputSummary::default();
    let mut hand_over = |mut got: Ingested, summary: &mut InputSummary| {
        summary.merge(std::mem::take(&mut got.summary));
        each(got.frame)
    };
    match input {
        Input::Logs(paths) => {
            let files = ingest::discover::discover(
                paths,
                &wanted.opts.read,
                &wanted.opts.window,
                &mut summary,
            );
            let sizes: Vec<u64> = files
                .iter()
                .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
                .collect();
            for range in batches(&sizes, batch_bytes) {
                let got =
                    ingest::ingest_files(&files[range], &wanted.opts).context("reading logs")?;
                hand_over(got, &mut summary)?;
            }
        }
        Input::Store(dir) => anyhow::bail!(
            "internal: the store {} is read by the store module",
            dir.display()
        ),
        Input::Api(aws) => read_api(aws, wanted, batch_bytes, &mut summary, &mut hand_over)?,
        Input::S3(urls, aws) => {
            read_s3(urls, aws, wanted, batch_bytes, &mut summary, &mut hand_over)?
        }
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

fn read_api(
    aws: &AwsArgs,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    summary: &mut InputSummary,
    hand_over: &mut HandOver<'_>,
) -> anyhow::Result<()> {
    let window = wanted.opts.window;
    let oldest = wanted.now - lookup::HISTORY_DAYS * 86_400_000;
    if let Some(since) = window.since {
        // A minute of slack: `--since 90d` means the whole history.
        anyhow::ensure!(
            since >= oldest - 60_000,
            "--since {} is older than the {} days of event history the CloudTrail API keeps (it reaches back to {}); read the trail from S3 (--s3) or from files (--logs) instead",
            crate::time::format_millis(since),
            lookup::HISTORY_DAYS,
            crate::time::format_millis(oldest),
        );
    }
    let (rt, sdk) = aws.connect()?;
    let regions = if aws.all_regions {
        rt.block_on(enabled_regions(&sdk))?
    } else if !aws.regions.is_empty() {
        aws.regions.clone()
    } else {
        match sdk.region() {
            Some(r) => vec![r.to_string()],
            None => anyhow::bail!(
                "which regions? pass --region R (repeatable) or --all-regions, or set AWS_REGION or a profile's region"
            ),
        }
    };

    let filter = wanted.opts.filter;
    let mut regions = regions;
    if filter.trust_changes && !filter.all && !regions.iter().any(|r| r == "us-east-1") {
        // IAM is global: its events are logged in us-east-1 only.
        regions.push("us-east-1".to_string());
    }
    let mut lookups = Vec::new();
    let mut inventory = None;
    if filter.all {
        lookups.push(None);
    } else {
        if filter.web_identity {
            lookups.push(Some(Lookup::event_name(WEB_IDENTITY)));
        }
        if filter.trust_changes {
            lookups.push(Some(Lookup::event_source("iam.amazonaws.com")));
        }
        if filter.long_lived_keys {
            match rt.block_on(keys::inventory(&sdk, wanted.policy)) {
                Ok(inv) => {
                    lookups.extend(inv.keys.iter().map(|k| Some(Lookup::access_key(&k.access_key_id))));
                    if inv.root_has_keys {
                        lookups.push(Some(Lookup::user_name("root")));
                    }
                    inventory = Some(inv);
                }
                Err(e) => summary.failed(FileFailure::named(
                    "iam",
                    FailReason::Request,
                    format!("{e}: the account's long-lived keys could not be listed, so their use was not looked up"),
                )),
            }
        }
    }
    let plan = Arc::new(Plan {
        regions,
        lookups,
        start: window.since.unwrap_or(oldest),
        end: window.until.unwrap_or(wanted.now),
        interval: lookup::DEFAULT_INTERVAL,
    });

    let (tx, mut rx) = tokio::sync::mpsc::channel::<lookup::Page>(64);
    let pull = {
        let (sdk, plan) = (sdk.clone(), plan.clone());
        rt.spawn(async move { lookup::pull(&sdk, plan, tx).await })
    };
    let mut collector = Collector::new(wanted.opts);
    while let Some(page) = rx.blocking_recv() {
        for event in &page.events {
            collector.push(&page.source, event);
        }
        if collector.pending_bytes() >= batch_bytes {
            hand_over(collector.take()?, summary)?;
        }
    }
    hand_over(collector.take()?, summary)?;
    let outcomes = rt.block_on(pull).context("the API pull failed")?;
    for o in &outcomes {
        if let Some(e) = &o.error {
            summary.failed(FileFailure::named(
                &format!("cloudtrail-api:{}", o.region),
                FailReason::Request,
                e,
            ));
        }
    }
    let api = ApiSummary::new(&plan, outcomes, inventory);
    summary.set_source("api", to_json(&api), api.describe());
    Ok(())
}

/// The regions enabled for the account (Account `ListRegions`).
async fn enabled_regions(sdk: &aws_config::SdkConfig) -> anyhow::Result<Vec<String>> {
    use aws_sdk_account::types::RegionOptStatus;
    let conf = aws_sdk_account::config::Builder::from(sdk)
        .region(crate::aws::home_region(sdk))
        .build();
    let client = aws_sdk_account::Client::from_conf(conf);
    let pages: Vec<_> = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "--all-regions: Account ListRegions failed ({}); grant account:ListRegions or name the regions with --region",
                crate::aws::describe_error(&e)
            )
        })?;
    let mut regions: Vec<String> = pages
        .iter()
        .flat_map(|p| p.regions())
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    regions.dedup();
    anyhow::ensure!(
        !regions.is_empty(),
        "--all-regions: the account lists no enabled region"
    );
    Ok(regions)
}

fn read_s3(
    urls: &[S3Url],
    aws: &AwsArgs,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    summary: &mut InputSummary,
    hand_over: &mut HandOver<'_>,
) -> anyhow::Result<()> {
    let (rt, sdk) = aws.connect()?;
    let scope = Scope {
        window: wanted.opts.window,
        now: wanted.now,
        accounts: aws.accounts.clone(),
        regions: aws.regions.clone(),
    };
    for url in urls {
        let client = match rt.block_on(s3::bucket_client(&sdk, url)) {
            Ok(c) => c,
            Err(e) => {
                summary.failed(FileFailure::named(&url.to_string(), FailReason::Request, e));
                continue;
            }
        };
        let mut listing = rt.block_on(s3::list(&client, url, &scope, summary));
        let objects = std::mem::take(&mut listing.keys);
        let sizes: Vec<u64> = objects.iter().map(|o| o.size).collect();
        for range in batches(&sizes, batch_bytes) {
            let (tx, mut rx) = tokio::sync::mpsc::channel(8);
            let chunk = objects[range].to_vec();
            let max = wanted.opts.read.max_file_size;
            rt.spawn(s3::fetch(
                client.clone(),
                url.bucket.clone(),
                chunk,
                max,
                tx,
            ));
            let blobs = std::iter::from_fn(move || rx.blocking_recv());
            let got = ingest::ingest_blobs(blobs, &wanted.opts).context("reading S3 objects")?;
            hand_over(got, summary)?;
        }
        summary.push_source("s3", to_json(&listing), listing.describe());
    }
    Ok(())
}

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
}

impl SourceArgs {
    /// The events, and for sources other than the store the account of
    /// what was read (failures are reported on `stderr`).
    pub fn events(
        &self,
        stderr: &mut dyn Write,
    ) -> anyhow::Result<(LazyFrame, Option<InputSummary>)> {
        let window = self.window.window()?;
        let input = Input::pick(&self.logs, self.store.as_deref(), &self.remote)?;
        if let Input::Store(dir) = input {
            let lf = crate::store::within(Store::scan(dir)?, &window);
            return Ok((lf, None));
        }
        let wanted = Wanted {
            opts: IngestOptions {
                read: self.read.options(),
                ..IngestOptions::everything(window)
            },
            policy: None,
            now: self.window.now()?,
        };
        let got = read_all(&input, &wanted)?;
        for failure in &got.summary.files_failed {
            writeln!(stderr, "ctaudit: {}", terminal(&failure.to_string()))?;
        }
        Ok((got.frame.lazy(), Some(got.summary)))
    }
}
