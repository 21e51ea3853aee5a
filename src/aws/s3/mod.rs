//! Trails delivered to S3: list only what the window needs, then download
//! and parse concurrently.
//!
//! Listing walks CloudTrail's layout,
//! `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/`, one level
//! at a time with `/` as the delimiter, narrowed by `--account` and
//! `--region`. With `--since`, each region's day folders are named
//! directly (one listing per day, never the whole bucket); without it, the
//! year, month and day folders are listed and those outside the window are
//! passed over, as for local folders. `CloudTrail-Digest/` is never
//! listed. A prefix outside the layout is listed as it is.
//!
//! Objects are fetched (bounded concurrency) and handed, whole, to the same
//! gzip/JSON path as local files ([`crate::ingest::ingest_blobs`]).

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::Client;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};

mod list;

pub use list::list;

use super::describe_error;
use crate::ingest::Blob;
use crate::time::{Millis, Window};

/// Listings (and downloads) in flight at once.
const CONCURRENCY: usize = 16;

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Without a leading `/`; empty for the whole bucket.
    pub prefix: String,
}

impl FromStr for S3Url {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{s}` is not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("`{s}` names no bucket"));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.trim_start_matches('/').to_string(),
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// What to list: the window and the narrowing flags.
#[derive(Debug, Clone)]
pub struct Scope {
    pub window: Window,
    /// What an open-ended window ends at.
    pub now: Millis,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// One object to read.
#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    pub size: u64,
    /// The object's ETag as listed (it changes when the object does).
    pub etag: Option<String>,
}

/// How the listing of one bucket went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Listing {
    pub url: String,
    /// `ListObjectsV2` requests sent (one per page).
    pub list_requests: u64,
    pub accounts: BTreeSet<String>,
    pub regions: BTreeSet<String>,
    /// Day folders listed.
    pub days_listed: u64,
    pub objects: u64,
    pub bytes: u64,
    #[serde(skip)]
    pub keys: Vec<Object>,
}

impl Listing {
    /// One line per fact, for the report header.
    pub fn describe(&self) -> Vec<String> {
        let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut lines = vec![format!(
            "S3 {}: {} objects ({} bytes) in {} day folders, {} list requests",
            self.url, self.objects, self.bytes, self.days_listed, self.list_requests
        )];
        if !self.accounts.is_empty() {
            lines.push(format!(
                "  accounts: {}; regions: {}",
                join(&self.accounts),
                join(&self.regions)
            ));
        }
        lines
    }
}

/// A client for one bucket, in the bucket's own region (asked with
/// `HeadBucket`, which also tells a missing bucket from a forbidden one).
pub async fn bucket_client(sdk: &SdkConfig, url: &S3Url) -> Result<Client, String> {
    let client = client(sdk, super::home_region(sdk));
    let head = client.head_bucket().bucket(&url.bucket).send().await;
    let region = match head {
        Ok(out) => out.bucket_region().map(str::to_owned),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let region = e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match (status, region) {
                (Some(301 | 400), Some(region)) => Some(region),
                (Some(404), _) => return Err(format!("bucket {} does not exist", url.bucket)),
                (Some(403), _) => {
                    return Err(format!(
                        "access denied to bucket {} (needs s3:ListBucket and s3:GetObject)",
                        url.bucket
                    ));
                }
                _ => return Err(format!("bucket {}: {}", url.bucket, describe_error(&e))),
            }
        }
    };
    Ok(match region {
        Some(r) if Some(r.as_str()) != client.config().region().map(|r| r.as_ref()) => {
            self::client(sdk, Region::new(r))
        }
        _ => client,
    })
}

fn client(sdk: &SdkConfig, region: Region) -> Client {
    // An S3-compatible endpoint on a host name of its own (loopback, MinIO)
    // cannot take the bucket as a subdomain.
    let custom_endpoint =
        sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .region(region)
        .force_path_style(custom_endpoint)
        .retry_classifier(crate::aws::TlsRefusal)
        .build();
    Client::from_conf(conf)
}

/// Downloads the objects (at most [`CONCURRENCY`] at once) and sends each,
/// whole, on `tx`; a failed download is sent as a failed blob.
pub async fn fetch(
    client: Client,
    bucket: String,
    objects: Vec<Object>,
    max_bytes: u64,
    tx: mpsc::Sender<Blob>,
) {
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut handles = Vec::with_capacity(objects.len());
    for o in objects {
        let permit = limit.clone().acquire_owned().await.expect("semaphore open");
        let (client, bucket, tx) = (client.clone(), bucket.clone(), tx.clone());
        handles.push(tokio::spawn(async move {
            let name = format!("s3://{bucket}/{}", o.key);
            // An object larger than the cap is not downloaded: the reader
            // reports it as too large by its listed size.
            let bytes = if o.size > max_bytes {
                Ok(Vec::new())
            } else {
                get(&client, &bucket, &o.key).await
            };
            drop(permit);
            let _ = tx
                .send(Blob {
                    name,
                    size: o.size,
                    bytes,
                })
                .await;
        }));
    }
    for h in handles {
        let _ = h.await;
    }
}

/// One object, whole.
pub async fn get(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| describe_error(&e))?;
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| format!("reading the object: {e}"))?;
    Ok(body.into_bytes().to_vec())
}

#[cfg(test)]
mod tests;
