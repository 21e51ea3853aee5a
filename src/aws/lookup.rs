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

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsError, LookupEventsOutput};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

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

/// How one region's pull went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegionOutcome {
    pub region: String,
    /// Requests sent, retries included.
    pub requests: u64,
    pub pages: u64,
    /// Results per lookup, in the plan's order.
    pub events: Vec<u64>,
    /// Retried answers by kind (`throttled`, `server-error`, `network`).
    pub retried: BTreeMap<&'static str, u64>,
    /// Why the region was given up, if it was (its pages so far are kept).
    pub error: Option<String>,
}

/// What was asked of the API, for the run's summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApiSummary {
    pub start: String,
    pub end: String,
    /// The lookups, in the order each region was asked.
    pub lookups: Vec<String>,
    pub regions: Vec<RegionOutcome>,
    /// The IAM inventory behind the `AccessKeyId` lookups, when the
    /// IAM-user-key report ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<super::keys::KeyInventory>,
}

impl ApiSummary {
    pub fn new(
        plan: &Plan,
        regions: Vec<RegionOutcome>,
        keys: Option<super::keys::KeyInventory>,
    ) -> Self {
        ApiSummary {
            start: crate::time::format_millis(plan.start),
            end: crate::time::format_millis(plan.end),
            lookups: plan
                .lookups
                .iter()
                .map(|l| Lookup::describe(l.as_ref()))
                .collect(),
            regions,
            keys,
        }
    }

    /// One line per fact, for the report header.
    pub fn describe(&self) -> Vec<String> {
        let sum = |f: &dyn Fn(&RegionOutcome) -> u64| self.regions.iter().map(f).sum::<u64>();
        let names: Vec<&str> = self.regions.iter().map(|r| r.region.as_str()).collect();
        let mut lines = vec![format!(
            "CloudTrail API: {} to {}, {} region(s) ({}), {} requests, {} pages",
            self.start,
            self.end,
            names.len(),
            names.join(", "),
            sum(&|r| r.requests),
            sum(&|r| r.pages),
        )];
        let mut retried: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &self.regions {
            for (k, v) in &r.retried {
                *retried.entry(k).or_default() += v;
            }
        }
        if !retried.is_empty() {
            let parts: Vec<String> = retried.iter().map(|(k, v)| format!("{k} {v}")).collect();
            lines.push(format!("  retried: {}", parts.join(", ")));
        }
        let key_owner = |value: &str| {
            self.keys
                .as_ref()
                .and_then(|k| k.keys.iter().find(|k| k.access_key_id == value))
                .map(|k| format!(" ({}, {})", k.user, k.status.to_lowercase()))
                .unwrap_or_default()
        };
        for (i, lookup) in self.lookups.iter().enumerate() {
            let events: u64 = sum(&|r| r.events.get(i).copied().unwrap_or(0));
            let owner = lookup
                .strip_prefix("AccessKeyId=")
                .map(key_owner)
                .unwrap_or_default();
            lines.push(format!("  looked up {lookup}{owner}: {events} events"));
        }
        if let Some(keys) = &self.keys {
            if keys.keys.is_empty() {
                lines.push("  IAM lists no long-lived user keys".to_string());
            }
            if keys.root_has_keys {
                lines.push(
                    "  the root user has access keys (looked up by user name: their ids cannot be listed)"
                        .to_string(),
                );
            }
            for user in &keys.allowed_users {
                lines.push(format!(
                    "  not looked up: keys of {user} (allowed by the policy)"
                ));
            }
            lines.push(
                "  keys deleted before this run cannot be listed: read the trail (--s3, --logs) to see their use"
                    .to_string(),
            );
        }
        lines
    }
}

/// Spaces one region's requests at least `interval` apart.
pub struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's turn.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
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
                Some(_) => {
                    return Err(format!(
                        "{} (gave up after {MAX_ATTEMPTS} attempts)",
                        describe_error(&e)
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
        SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout() => Some("network"),
        _ => None,
    }
}

/// Pages and events per region on stderr, redrawn on one line, when stderr
/// is a terminal.
#[derive(Clone)]
struct Progress {
    shared: Option<Arc<ProgressShared>>,
}

struct ProgressShared {
    regions: Mutex<BTreeMap<String, (u64, u64)>>,
    stop: Mutex<Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

impl Progress {
    fn start(regions: &[String]) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress { shared: None };
        }
        let shared = Arc::new(ProgressShared {
            regions: Mutex::new(regions.iter().map(|r| (r.clone(), (0, 0))).collect()),
            stop: Mutex::new(None),
        });
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let drawing = shared.clone();
        let handle = std::thread::spawn(move || {
            while stop_rx.recv_timeout(Duration::from_millis(500)).is_err() {
                let regions = drawing.regions.lock().expect("progress lock");
                let parts: Vec<String> = regions
                    .iter()
                    .map(|(r, (p, e))| format!("{r}: {p} pages, {e} events"))
                    .collect();
                eprint!("\r\x1b[Kctaudit: LookupEvents {}", parts.join(" · "));
            }
            eprint!("\r\x1b[K");
        });
        *shared.stop.lock().expect("progress lock") = Some((stop_tx, handle));
        Progress {
            shared: Some(shared),
        }
    }

    fn page(&self, region: &str, events: usize) {
        if let Some(shared) = &self.shared {
            let mut regions = shared.regions.lock().expect("progress lock");
            let entry = regions.entry(region.to_string()).or_default();
            entry.0 += 1;
            entry.1 += events as u64;
        }
    }

    /// Clears the line (before the report is printed).
    fn stop(&self) {
        let taken = self
            .shared
            .as_ref()
            .and_then(|s| s.stop.lock().expect("progress lock").take());
        if let Some((tx, handle)) = taken {
            let _ = tx.send(());
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spaces_requests() {
        let pacer = Pacer::new(Duration::from_millis(500));
        let t0 = Instant::now();
        let mut times = Vec::new();
        for _ in 0..5 {
            pacer.wait().await;
            times.push(Instant::now() - t0);
        }
        assert_eq!(
            times,
            (0..5)
                .map(|i| Duration::from_millis(500 * i))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn lookups_describe_themselves() {
        assert_eq!(
            Lookup::describe(Some(&Lookup::event_name("AssumeRoleWithWebIdentity"))),
            "EventName=AssumeRoleWithWebIdentity"
        );
        assert_eq!(Lookup::describe(None), "all events");
    }
}
