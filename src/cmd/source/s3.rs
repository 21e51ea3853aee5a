//! `--s3`: a trail delivered to S3, listing only the day folders needed
//! and, with a state, downloading only objects not read before.

use anyhow::Context;

use super::{HandOver, Wanted, batches, to_json};
use crate::aws::AwsArgs;
use crate::aws::s3::{self, S3Url, Scope};
use crate::ingest;
use crate::ingest::summary::{FailReason, FileFailure, InputSummary, SkipFile};
use crate::state::Marks;
use crate::state::remote::S3Mark;

pub(super) fn read_s3(
    urls: &[S3Url],
    aws: &AwsArgs,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    summary: &mut InputSummary,
    marks: &mut Marks,
    hand_over: &mut HandOver<'_>,
) -> anyhow::Result<()> {
    let (rt, sdk) = aws.connect()?;
    let until = wanted.opts.window.until.unwrap_or(wanted.now);
    for url in urls {
        // With a state, only the day folders since the last listing (less
        // a day for late deliveries) are listed; the events' own window is
        // unchanged.
        let previous = wanted.seen.and_then(|s| s.s3.get(&url.to_string()));
        let mut listed = wanted.opts.window;
        if let Some(from) = previous.and_then(S3Mark::relist_from) {
            listed.since = Some(listed.since.map_or(from, |s| s.max(from)));
        }
        let scope = Scope {
            window: listed,
            now: wanted.now,
            accounts: aws.accounts.clone(),
            regions: aws.regions.clone(),
        };
        let client = match rt.block_on(s3::bucket_client(&sdk, url)) {
            Ok(c) => c,
            Err(e) => {
                summary.failed(FileFailure::named(&url.to_string(), FailReason::Request, e));
                continue;
            }
        };
        let mut listing = rt.block_on(s3::list(&client, url, &scope, summary));
        let mut mark = S3Mark {
            listed_until: Some(until),
            objects: Default::default(),
        };
        let (objects, already): (Vec<s3::Object>, Vec<s3::Object>) =
            std::mem::take(&mut listing.keys)
                .into_iter()
                .partition(|o| {
                    !previous.is_some_and(|p| {
                        o.etag.is_some() && p.objects.get(&o.key) == o.etag.as_ref()
                    })
                });
        summary.skip_file(SkipFile::AlreadyRead, already.len() as u64);
        mark.objects
            .extend(already.into_iter().filter_map(|o| Some((o.key, o.etag?))));
        let sizes: Vec<u64> = objects.iter().map(|o| o.size).collect();
        for range in batches(&sizes, batch_bytes) {
            let (tx, mut rx) = tokio::sync::mpsc::channel(8);
            let chunk = objects[range.clone()].to_vec();
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
            let failed = got.summary.failed_names();
            for o in &objects[range] {
                let name = format!("s3://{}/{}", url.bucket, o.key);
                if let Some(etag) = &o.etag
                    && !failed.contains(name.as_str())
                {
                    mark.objects.insert(o.key.clone(), etag.clone());
                }
            }
            hand_over(got, summary)?;
        }
        // After a failure (a folder not listed, an object not read) the
        // next run lists from where this one started, and still passes
        // over what either run read.
        let bucket = format!("s3://{}/", url.bucket);
        if summary
            .files_failed
            .iter()
            .any(|f| f.path.starts_with(&bucket))
        {
            mark.listed_until = previous.and_then(|p| p.listed_until);
            if let Some(p) = previous {
                for (k, e) in &p.objects {
                    mark.objects.entry(k.clone()).or_insert_with(|| e.clone());
                }
            }
        }
        marks.s3.insert(url.to_string(), mark);
        summary.push_source("s3", to_json(&listing), listing.describe());
    }
    Ok(())
}
