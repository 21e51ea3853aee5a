//! The CloudTrail `LookupEvents` API: 90 days of management events, 50 per
//! page, at most 2 requests per second per account and region.
//!
//! Regions are pulled side by side, each behind its own [`Pacer`] so that a
//! run never provokes throttling on purpose. Throttling, 5xx answers and
//! network failures are still retried with jittered exponential backoff,
//! each retry paced like any other request; the SDK's own retries are off
//! for this client so that every attempt goes through the pacer. Pages go
//! out on a bounded channel as they arrive, so memory follows what the
//! reports keep, not the history's length.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsError, LookupEventsOutput};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use serde::Serialize;
use tokio::sync::mpsc;

mod pace;
mod summary;

pub use pace::Pacer;
use pace::Progress;
pub use summary::{ApiSummary, RegionOutcome};

use super::{backoff, describe_error};
use crate::time::Millis;

/// The API's page size and history.
pub const PAGE_SIZE: i32 = 50;
pub const HISTORY_DAYS: i64 = 90;

/// Time between two requests to one region: the API allows 2 per second;
/// this stays a little under, so network jitter cannot push two requests
/// into the same half second at the server.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(525);

/// Attempts per request before a region is given up: throttling and 5xx
/// pass, so they are tried longer than a connection that fails (which
/// usually means a wrong endpoint or no network).
const MAX_ATTEMPTS: u32 = 8;
const MAX_NETWORK_ATTEMPTS: u32 = 4;

/// One lookup attribute (the API takes one per request), or none: every
/// management event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookup {
    /// `EventName`, `AccessKeyId`, `EventSource`, `EventId` or `Username`.
    pub attribute: &'static str,
    pub value: String,
}

impl Lookup {
    pub fn event_name(v: &str) -> Self {
        Lookup {
            attribute: "EventName",
            value: v.to_string(),
        }
    }
    pub fn access_key(v: &str) -> Self {
        Lookup {
            attribute: "AccessKeyId",
            value: v.to_string(),
        }
    }
    pub fn event_source(v: &str) -> Self {
        Lookup {
            attribute: "EventSource",
            value: v.to_string(),
        }
    }
    pub fn event_id(v: &str) -> Self {
        Lookup {
            attribute: "EventId",
            value: v.to_string(),
        }
    }
    pub fn user_name(v: &str) -> Self {
        Lookup {
            attribute: "Username",
            value: v.to_string(),
        }
    }

    fn to_sdk(&self) -> LookupAttribute {
        let key = match self.attribute {
            "EventName" => LookupAttributeKey::EventName,
            "AccessKeyId" => LookupAttributeKey::AccessKeyId,
            "Username" => LookupAttributeKey::Username,
            "EventSource" => LookupAttributeKey::EventSource,
            "EventId" => LookupAttributeKey::EventId,
            other => LookupAttributeKey::from(other),
        };
        LookupAttribute::builder()
            .attribute_key(key)
            .attribute_value(&self.value)
            .build()
            .expect("key and value are set")
    }

    /// `EventName=AssumeRoleWithWebIdentity`, or `all events`.
    pub fn describe(lookup: Option<&Lookup>) -> String {
        match lookup {
            Some(l) => format!("{}={}", l.attribute, l.value),
            None => "all events".to_string(),
        }
    }
}

/// What to ask every region for.
#[derive(Debug, Clone)]
pub struct Plan {
    pub regions: Vec<String>,
    /// Asked one after another in each region; `None` is every event.
    pub lookups: Vec<Option<Lookup>>,
    pub start: Millis,
    /// Regions that start later than `start` (resumed from a state).
    pub starts: std::collections::BTreeMap<String, Millis>,
    pub end: Millis,
    /// Time between two requests to one region.
    pub interval: Duration,
}

/// An event's id and time, read from its `CloudTrailEvent` text (for
/// passing over events a previous run read). A missing id or time reads as
/// empty or 0: such an event is never taken for one already read.
pub fn id_and_time(event: &str) -> (String, Millis) {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "eventID")]
        id: Option<String>,
        #[serde(rename = "eventTime")]
        time: Option<String>,
    }
    match serde_json::from_str::<Head>(event) {
        Ok(h) => (
            h.id.unwrap_or_default(),
            h.time
                .as_deref()
                .and_then(crate::time::parse_event_time)
                .unwrap_or(0),
        ),
        Err(_) => (String::new(), 0),
    }
}

/// One page of results.
pub struct Page {
    /// Names the page's events in the `source_file` column and in errors:
    /// `cloudtrail-api:<region>`.
    pub source: Arc<str>,
    /// Each result's `CloudTrailEvent` string.
    pub events: Vec<String>,
}

/// Pulls every region of the plan side by side, sending pages on `tx` as
/// they arrive. Returns each region's outcome, in the plan's order.
pub async fn pull(sdk: &SdkConfig, plan: Arc<Plan>, tx: mpsc::Sender<Page>) -> Vec<RegionOutcome> {
    let progress = Progress::start(&plan.regions);
    let handles: Vec<_> = plan
        .regions
        .iter()
        .map(|region| {
            let conf = aws_sdk_cloudtrail::config::Builder::from(sdk)
                .region(aws_config::Region::new(region.clone()))
                .retry_config(RetryConfig::disabled())
                .build();
            let client = aws_sdk_cloudtrail::Client::from_conf(conf);
            tokio::spawn(pull_region(
                client,
                region.clone(),
                plan.clone(),
                tx.clone(),
                progress.clone(),
            ))
        })
        .collect();
    drop(tx);
    let mut outcomes = Vec::with_capacity(handles.len());
    for (region, handle) in plan.regions.iter().zip(handles) {
        outcomes.push(handle.await.unwrap_or_else(|e| RegionOutcome {
            region: region.clone(),
            error: Some(format!("LookupEvents in {region}: the task failed: {e}")),
            ..Default::default()
        }));
    }
    progress.stop();
    outcomes
}

async fn pull_region(
    client: aws_sdk_cloudtrail::Client,
    region: String,
    plan: Arc<Plan>,
    tx: mpsc::Sender<Page>,
    progress: Progress,
) -> RegionOutcome {
    let pacer = Pacer::new(plan.interval);
    let source: Arc<str> = Arc::from(format!("cloudtrail-api:{region}"));
    let mut out = RegionOutcome {
        region: region.clone(),
        events: vec![0; plan.lookups.len()],
        ..Default::default()
    };
    for (i, lookup) in plan.lookups.iter().enumerate() {
        let mut token: Option<String> = None;
        loop {
            let page = request(
                &client,
                &pacer,
                &plan,
                lookup.as_ref(),
                token.as_deref(),
                &mut out,
            )
            .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    out.error = Some(format!(
                        "LookupEvents {} in {region}: {e} (stopped querying this region)",
                        Lookup::describe(lookup.as_ref())
                    ));
                    return out;
                }
            };
            out.pages += 1;
            let events: Vec<String> = page
                .events()
                .iter()
                .filter_map(|e| e.cloud_trail_event().map(str::to_owned))
                .collect();
            out.events[i] += events.len() as u64;
            progress.page(&region, events.len());
            if !events.is_empty()
                && tx
                    .send(Page {
                        source: source.clone(),
                        events,
                    })
                    .await
                    .is_err()
            {
                // The reader stopped: nothing more is wanted.
                return out;
            }
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    out
}

/// One page, paced, retried on throttling, 5xx and network failures.
async fn request(
    client: &aws_sdk_cloudtrail::Client,
    pacer: &Pacer,
    plan: &Plan,
    lookup: Option<&Lookup>,
    token: Option<&str>,
    out: &mut RegionOutcome,
) -> Result<LookupEventsOutput, String> {
    let mut attempt = 0;
    loop {
        pacer.wait().await;
        out.requests += 1;
        let mut req = client
            .lookup_events()
            .start_time(DateTime::from_millis(
                plan.starts.get(&out.region).copied().unwrap_or(plan.start),
            ))
            .end_time(DateTime::from_millis(plan.end))
            .max_results(PAGE_SIZE);
        if let Some(l) = lookup {
            req = req.lookup_attributes(l.to_sdk());
        }
        if let Some(t) = token {
            req = req.next_token(t);
        }
        match req.send().await {
            Ok(page) => return Ok(page),
            Err(e) => match retry_kind(&e) {
                Some(kind) if attempt + 1 < max_attempts(kind) => {
                    *out.retried.entry(kind).or_default() += 1;
                    let delay =
                        backoff(attempt, Duration::from_millis(500), Duration::from_secs(20));
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Some(kind) => {
                    return Err(format!(
                        "{} (gave up after {} attempts)",
                        describe_error(&e),
                        max_attempts(kind)
                    ));
                }
                None => return Err(describe_error(&e)),
            },
        }
    }
}

fn max_attempts(kind: &str) -> u32 {
    if kind == "network" {
        MAX_NETWORK_ATTEMPTS
    } else {
        MAX_ATTEMPTS
    }
}

/// Whether an error is worth another attempt, and what kind it is.
fn retry_kind(err: &SdkError<LookupEventsError>) -> Option<&'static str> {
    match err {
        SdkError::ServiceError(_) => {
            let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
            let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            if matches!(
                code,
                "ThrottlingException"
                    | "Throttling"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded"
            ) || status == 429
            {
                Some("throttled")
            } else if status >= 500 {
                Some("server-error")
            } else {
                None
            }
        }
        SdkError::ResponseError(_) => Some("server-error"),
        SdkError::TimeoutError(_) => Some("network"),
        SdkError::DispatchFailure(f)
            if f.as_connector_error()
                .is_some_and(|c| super::is_tls_failure(c)) =>
        {
            None
        }
        SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout() => Some("network"),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
