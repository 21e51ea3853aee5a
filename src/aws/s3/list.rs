//! Listing a trail's bucket one level of CloudTrail's layout at a time,
//! narrowed by the scope (see the module above).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::Client;
use tokio::sync::Semaphore;

use super::super::describe_error;
use super::{CONCURRENCY, Listing, Object, S3Url, Scope};
use crate::ingest::discover::{DELIVERY_LAG_MS, folder_outside_window};
use crate::ingest::summary::{FailReason, FileFailure, InputSummary, SkipFile};
use crate::time::Millis;

/// Lists the objects of `url` that the scope needs. Folders that cannot be
/// listed are reported in `summary` and the rest goes on.
pub async fn list(
    client: &Client,
    url: &S3Url,
    scope: &Scope,
    summary: &mut InputSummary,
) -> Listing {
    let lister = Lister {
        client: client.clone(),
        bucket: url.bucket.clone(),
        requests: Arc::new(AtomicU64::new(0)),
        limit: Arc::new(Semaphore::new(CONCURRENCY)),
    };
    let mut listing = Listing {
        url: url.to_string(),
        ..Default::default()
    };
    let mut failures = Vec::new();
    let mut objects = Vec::new();

    let prefix = normalize(&url.prefix);
    let parts: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
    let base = match parts.iter().position(|p| *p == "AWSLogs") {
        Some(i) => Some((parts[..=i].join("/") + "/", parts[i + 1..].to_vec())),
        None => match lister.children(&prefix).await {
            Ok((dirs, _)) => dirs
                .into_iter()
                .find(|d| d.ends_with("AWSLogs/"))
                .map(|d| (d, Vec::new())),
            Err(e) => {
                failures.push((prefix.clone(), e));
                None
            }
        },
    };
    let regions = match &base {
        Some((base, fixed)) => {
            lister
                .regions(base, fixed, scope, &mut listing, &mut failures)
                .await
        }
        None => None,
    };
    match regions {
        Some(regions) => {
            let days: Vec<String> = regions
                .iter()
                .flat_map(|r| day_prefixes(r, scope))
                .collect();
            // Without --since, the region folders are walked year by year.
            let walked: Vec<String> = if scope.window.since.is_none() {
                lister.walk_dates(&regions, scope, &mut failures).await
            } else {
                Vec::new()
            };
            listing.days_listed = (days.len() + walked.len()) as u64;
            for (prefix, got) in lister
                .list_many(days.into_iter().chain(walked), false)
                .await
            {
                match got {
                    Ok((_, found)) => objects.extend(found),
                    Err(e) => failures.push((prefix, e)),
                }
            }
        }
        // Not CloudTrail's layout, or deeper than a region: as it is.
        None if failures.is_empty() => match lister.list_flat(&prefix).await {
            Ok(found) => objects.extend(found),
            Err(e) => failures.push((prefix.clone(), e)),
        },
        None => {}
    }

    for (prefix, e) in failures {
        summary.failed(FileFailure::named(
            &format!("s3://{}/{prefix}", url.bucket),
            FailReason::Unreadable,
            e,
        ));
    }
    for o in objects {
        if o.key.contains("/CloudTrail-Digest/") {
            summary.skip_file(SkipFile::Digest, 1);
        } else if o.key.ends_with('/') || !looks_like_log_name(&o.key) {
            summary.skip_file(SkipFile::NotALog, 1);
        } else {
            listing.objects += 1;
            listing.bytes += o.size;
            listing.keys.push(o);
        }
    }
    listing.keys.sort_by(|a, b| a.key.cmp(&b.key));
    listing.list_requests = lister.requests.load(Ordering::Relaxed);
    listing
}

/// Object names a trail's logs have: `.json.gz` (CloudTrail), `.json`,
/// JSON lines, gzip.
pub(super) fn looks_like_log_name(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    [".json", ".gz", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn normalize(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    }
}

/// The day folders of a region folder that can hold events of the window
/// (a day folder holds files delivered that day, so it may hold events of
/// the hours before). `None` when the window has no start.
pub(super) fn day_prefixes(region_prefix: &str, scope: &Scope) -> Vec<String> {
    let Some(since) = scope.window.since else {
        return Vec::new();
    };
    let until = scope.window.until.unwrap_or(scope.now);
    let day = |ms: Millis| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.date_naive())
            .unwrap_or_default()
    };
    let (first, last) = (day(since), day(until + DELIVERY_LAG_MS));
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| format!("{region_prefix}{}/", d.format("%Y/%m/%d")))
        .filter(|p| !folder_outside_window(Path::new(p), &scope.window))
        .collect()
}

#[derive(Clone)]
struct Lister {
    client: Client,
    bucket: String,
    requests: Arc<AtomicU64>,
    limit: Arc<Semaphore>,
}

type Failures = Vec<(String, String)>;

impl Lister {
    /// One level below `prefix`: its sub-folders and its objects.
    async fn children(&self, prefix: &str) -> Result<(Vec<String>, Vec<Object>), String> {
        self.list(prefix, true).await
    }

    /// Every object under `prefix`, however deep.
    async fn list_flat(&self, prefix: &str) -> Result<Vec<Object>, String> {
        self.list(prefix, false).await.map(|(_, o)| o)
    }

    async fn list(
        &self,
        prefix: &str,
        delimited: bool,
    ) -> Result<(Vec<String>, Vec<Object>), String> {
        let _permit = self.limit.acquire().await.expect("semaphore open");
        let mut dirs = Vec::new();
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix);
            if delimited {
                req = req.delimiter("/");
            }
            if let Some(t) = &token {
                req = req.continuation_token(t);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let page = req.send().await.map_err(|e| describe_error(&e))?;
            dirs.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            objects.extend(page.contents().iter().filter_map(|o| {
                Some(Object {
                    key: o.key()?.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: o.e_tag().map(str::to_owned),
                })
            }));
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() || page.is_truncated() == Some(false) {
                break;
            }
        }
        Ok((dirs, objects))
    }

    /// Lists many prefixes concurrently (at most [`CONCURRENCY`] at once):
    /// one level below each (`delimited`), or everything under each.
    async fn list_many(
        &self,
        prefixes: impl Iterator<Item = String>,
        delimited: bool,
    ) -> Vec<(String, Result<(Vec<String>, Vec<Object>), String>)> {
        let handles: Vec<_> = prefixes
            .map(|p| {
                let me = self.clone();
                tokio::spawn(async move {
                    let got = me.list(&p, delimited).await;
                    (p, got)
                })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.expect("listing task"));
        }
        out
    }

    /// Folder names one level below each prefix, concurrently.
    async fn children_of(&self, prefixes: Vec<String>, failures: &mut Failures) -> Vec<String> {
        let mut dirs = Vec::new();
        for (p, got) in self.list_many(prefixes.into_iter(), true).await {
            match got {
                Ok((d, _)) => dirs.extend(d),
                Err(e) => failures.push((p, e)),
            }
        }
        dirs
    }

    /// The region folders (`…/CloudTrail/<region>/`) under `AWSLogs/`,
    /// `fixed` being the parts the user's prefix already names.
    async fn regions(
        &self,
        base: &str,
        fixed: &[&str],
        scope: &Scope,
        listing: &mut Listing,
        failures: &mut Failures,
    ) -> Option<Vec<String>> {
        let last = |p: &str| {
            p.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        };
        let is_org = |name: &str| name.starts_with("o-");
        let wanted_account =
            |name: &str| scope.accounts.is_empty() || scope.accounts.iter().any(|a| a == name);
        let wanted_region =
            |name: &str| scope.regions.is_empty() || scope.regions.iter().any(|r| r == name);

        // AWSLogs/ → [o-org/] → <account>/
        let mut rest = fixed;
        let mut roots = vec![base.to_string()];
        if let Some((first, tail)) = rest.split_first()
            && is_org(first)
        {
            roots = vec![format!("{base}{first}/")];
            rest = tail;
        }
        let accounts: Vec<String> = match rest.split_first() {
            Some((account, tail)) => {
                rest = tail;
                roots.iter().map(|r| format!("{r}{account}/")).collect()
            }
            None => {
                let found = self.children_of(roots.clone(), failures).await;
                let (orgs, mut found): (Vec<String>, Vec<String>) =
                    found.into_iter().partition(|p| is_org(&last(p)));
                if !orgs.is_empty() && roots[0] == base {
                    found.extend(self.children_of(orgs, failures).await);
                }
                found
            }
        };
        let accounts: Vec<String> = accounts
            .into_iter()
            .filter(|p| {
                let name = last(p);
                name.bytes().all(|b| b.is_ascii_digit()) && wanted_account(&name)
            })
            .collect();
        // <account>/ → CloudTrail/ → <region>/
        let regions = match rest {
            [] | ["CloudTrail"] => {
                let services: Vec<String> =
                    accounts.iter().map(|a| format!("{a}CloudTrail/")).collect();
                self.children_of(services, failures).await
            }
            ["CloudTrail", region] => accounts
                .iter()
                .map(|a| format!("{a}CloudTrail/{region}/"))
                .collect(),
            _ => return None,
        };
        let regions: Vec<String> = regions
            .into_iter()
            .filter(|r| wanted_region(&last(r)))
            .collect();
        for r in &regions {
            let parts: Vec<&str> = r.trim_end_matches('/').split('/').collect();
            if let [.., account, "CloudTrail", region] = parts.as_slice() {
                listing.accounts.insert(account.to_string());
                listing.regions.insert(region.to_string());
            }
        }
        Some(regions)
    }

    /// Year → month → day folders of each region folder, passing over those
    /// outside the window.
    async fn walk_dates(
        &self,
        regions: &[String],
        scope: &Scope,
        failures: &mut Failures,
    ) -> Vec<String> {
        let mut level = regions.to_vec();
        for _ in 0..3 {
            let below = self.children_of(level, failures).await;
            level = below
                .into_iter()
                .filter(|p| !folder_outside_window(Path::new(p), &scope.window))
                .collect();
        }
        level
    }
}
