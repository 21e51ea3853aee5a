//! `--api`: the CloudTrail LookupEvents API, only what the selected
//! reports need, resumed from a state where one is kept.

use std::sync::Arc;

use anyhow::Context;

use super::{HandOver, Wanted, to_json};
use crate::aws::lookup::{self, ApiSummary, Lookup, Plan};
use crate::aws::{AwsArgs, keys};
use crate::ingest::summary::{FailReason, FileFailure, InputSummary, SkipRecord};
use crate::ingest::{Collector, WEB_IDENTITY};
use crate::state::Marks;
use crate::state::remote::ApiMark;
use crate::time::Millis;

pub(super) fn read_api(
    aws: &AwsArgs,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    summary: &mut InputSummary,
    marks: &mut Marks,
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
    let targeted = wanted.lookups.is_some();
    if filter.trust_changes && !filter.all && !targeted && !regions.iter().any(|r| r == "us-east-1")
    {
        // IAM is global: its events are logged in us-east-1 only.
        regions.push("us-east-1".to_string());
    }
    let mut lookups = Vec::new();
    let mut inventory = None;
    if let Some(given) = &wanted.lookups {
        lookups.extend(given.iter().cloned().map(Some));
    } else if filter.all {
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
    // With a state, each region resumes where the last run's newest event
    // was (less the overlap), and events already read are passed over.
    let start = window.since.unwrap_or(oldest);
    let account = match wanted.seen {
        Some(_) => Some(rt.block_on(crate::aws::account_id(&sdk))?),
        None => None,
    };
    let mark_key = |region: &str| format!("{}/{region}", account.as_deref().unwrap_or("?"));
    let previous: std::collections::BTreeMap<String, &ApiMark> = regions
        .iter()
        .filter_map(|r| Some((r.clone(), wanted.seen?.api.get(&mark_key(r))?)))
        .collect();
    let starts = previous
        .iter()
        .map(|(r, m)| (r.clone(), m.resume_from().max(start)))
        .collect();
    let plan = Arc::new(Plan {
        regions,
        lookups,
        start,
        starts,
        end: window.until.unwrap_or(wanted.now),
        interval: lookup::DEFAULT_INTERVAL,
    });
    let mut read: std::collections::BTreeMap<String, Vec<(String, Millis)>> = Default::default();

    let (tx, mut rx) = tokio::sync::mpsc::channel::<lookup::Page>(64);
    let pull = {
        let (sdk, plan) = (sdk.clone(), plan.clone());
        rt.spawn(async move { lookup::pull(&sdk, plan, tx).await })
    };
    let mut collector = Collector::new(wanted.opts);
    while let Some(page) = rx.blocking_recv() {
        let region = page
            .source
            .strip_prefix("cloudtrail-api:")
            .unwrap_or(&page.source);
        for event in &page.events {
            if account.is_some() {
                let (id, time) = lookup::id_and_time(event);
                let seen =
                    !id.is_empty() && previous.get(region).is_some_and(|m| m.recent.contains(&id));
                read.entry(region.to_string()).or_default().push((id, time));
                if seen {
                    summary.events_read += 1;
                    summary.skip_records(SkipRecord::AlreadyRead, 1);
                    continue;
                }
            }
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
    if account.is_some() {
        for o in &outcomes {
            // A region whose pull failed keeps its mark: the next run asks
            // again from there.
            if o.error.is_none() {
                let events = read.remove(&o.region).unwrap_or_default();
                if let Some(m) = ApiMark::after(previous.get(&o.region).copied(), &events) {
                    marks.api.insert(mark_key(&o.region), m);
                }
            }
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
        .retry_classifier(crate::aws::TlsRefusal)
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
