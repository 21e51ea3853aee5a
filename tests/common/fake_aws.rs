//! A loopback AWS endpoint for the tests: CloudTrail `LookupEvents`, IAM
//! `ListUsers`/`ListAccessKeys`/`GetAccountSummary` and Account
//! `ListRegions`, served honestly from a fixture trail.
//!
//! moto implements S3 and IAM but not `LookupEvents`, and its IAM invents its
//! own key ids, so this endpoint serves all three from the same events. It
//! speaks the real wire protocols (JSON 1.1 with `X-Amz-Target`, IAM's query
//! protocol with XML answers, Account's REST JSON), tells regions apart by
//! the SigV4 credential scope, and behaves as the API does: one lookup
//! attribute, start and end time (inclusive), management events only,
//! newest first, at most 50 results per page with a `NextToken`, and
//! `ThrottlingException` (HTTP 400) when a region is asked more than twice
//! in one second. Faults can be injected by request number.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http::{Request, scope};

/// An answer forced on one `LookupEvents` request, by its number (from 0,
/// over all regions, in arrival order).
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    Throttle,
    Status(u16),
}

#[derive(Debug, Default)]
pub struct Stats {
    /// `LookupEvents` requests per region, in arrival order: (time, lookup).
    pub lookups: BTreeMap<String, Vec<(Instant, String)>>,
    /// Requests answered with `ThrottlingException` because they came too fast.
    pub throttled: u64,
    /// Faults served as injected.
    pub injected: u64,
    /// Other operations by name (`iam:ListUsers`, `account:ListRegions`).
    pub other: BTreeMap<String, u64>,
    /// Each `LookupEvents` request's region and `StartTime` (epoch seconds).
    pub starts: Vec<(String, f64)>,
}

impl Stats {
    /// The most requests one region received within any one second.
    pub fn max_per_second(&self) -> usize {
        self.lookups
            .values()
            .map(|reqs| {
                let times: Vec<Instant> = reqs.iter().map(|(t, _)| *t).collect();
                (0..times.len())
                    .map(|i| {
                        times[i..]
                            .iter()
                            .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
                            .count()
                    })
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }

    pub fn lookup_requests(&self) -> usize {
        self.lookups.values().map(Vec::len).sum()
    }
}

struct State {
    /// Management events by region, newest first.
    by_region: BTreeMap<String, Vec<Value>>,
    /// Regions `ListRegions` reports as enabled.
    enabled_regions: Vec<String>,
    faults: HashMap<usize, Fault>,
    requests: usize,
    stats: Stats,
    /// Arrivals per region in the last second (the rate limit).
    recent: HashMap<String, Vec<Instant>>,
}

pub struct FakeAws {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl FakeAws {
    /// Serves `events` on a free loopback port until the process ends.
    pub fn start(events: &[Value], extra_regions: &[&str], faults: &[(usize, Fault)]) -> FakeAws {
        let mut by_region: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for ev in events {
            if !is_management(ev) {
                continue;
            }
            let region = ev["awsRegion"].as_str().unwrap_or("us-east-1").to_string();
            by_region.entry(region).or_default().push(ev.clone());
        }
        for list in by_region.values_mut() {
            // Newest first; ties in a stable order so pages never overlap.
            list.sort_by(|a, b| {
                let key = |e: &Value| (epoch(e), e["eventID"].as_str().unwrap_or("").to_string());
                key(b).cmp(&key(a))
            });
        }
        let mut enabled: BTreeSet<String> = by_region.keys().cloned().collect();
        enabled.extend(extra_regions.iter().map(|r| r.to_string()));
        let state = Arc::new(Mutex::new(State {
            by_region,
            enabled_regions: enabled.into_iter().collect(),
            faults: faults.iter().copied().collect(),
            requests: 0,
            stats: Stats::default(),
            recent: HashMap::new(),
        }));
        let shared = state.clone();
        let port = super::http::listen(move |req| answer(req, &shared));
        FakeAws { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Reads the statistics.
    pub fn stats<T>(&self, f: impl FnOnce(&Stats) -> T) -> T {
        f(&self.state.lock().unwrap().stats)
    }
}

fn is_management(ev: &Value) -> bool {
    ev["managementEvent"].as_bool() != Some(false)
        && ev["eventCategory"]
            .as_str()
            .is_none_or(|c| c == "Management")
}

fn epoch(ev: &Value) -> i64 {
    ev["eventTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

fn answer(req: &Request, state: &Mutex<State>) -> (u16, &'static str, String) {
    const JSON: &str = "application/x-amz-json-1.1";
    let (region, service) = scope(req);
    if let Some(target) = req.headers.get("x-amz-target") {
        if target.ends_with("LookupEvents") {
            return lookup_events(req, &region, state);
        }
        if target.ends_with("GetCallerIdentity") {
            count(state, "sts:GetCallerIdentity");
            return (
                200,
                JSON,
                json!({"Account": ACCOUNT, "Arn": format!("arn:aws:iam::{ACCOUNT}:user/auditor"), "UserId": "AIDAFAKE"}).to_string(),
            );
        }
        return (400, JSON, error_json("UnknownOperationException", target));
    }
    if service == "iam" {
        return iam(req, state);
    }
    if service == "sts" {
        count(state, "sts:GetCallerIdentity");
        return (
            200,
            "text/xml",
            format!(
                r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/auditor</Arn><UserId>AIDAFAKE</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#
            ),
        );
    }
    if req.path.starts_with("/listRegions") {
        let mut st = state.lock().unwrap();
        *st.stats
            .other
            .entry("account:ListRegions".into())
            .or_default() += 1;
        let regions: Vec<Value> = st
            .enabled_regions
            .iter()
            .map(|r| json!({"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"}))
            .collect();
        return (
            200,
            "application/json",
            json!({ "Regions": regions }).to_string(),
        );
    }
    (
        404,
        JSON,
        error_json(
            "UnknownOperationException",
            &format!("{} {}", req.method, req.path),
        ),
    )
}

/// The account the fake's credentials belong to.
const ACCOUNT: &str = "111122223333";

fn count(state: &Mutex<State>, what: &str) {
    *state
        .lock()
        .unwrap()
        .stats
        .other
        .entry(what.into())
        .or_default() += 1;
}

fn error_json(code: &str, message: &str) -> String {
    json!({"__type": code, "message": message}).to_string()
}

fn lookup_events(req: &Request, region: &str, state: &Mutex<State>) -> (u16, &'static str, String) {
    const JSON: &str = "application/x-amz-json-1.1";
    let input: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let attrs = input["LookupAttributes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lookup = attrs
        .first()
        .map(|a| {
            format!(
                "{}={}",
                a["AttributeKey"].as_str().unwrap_or(""),
                a["AttributeValue"].as_str().unwrap_or("")
            )
        })
        .unwrap_or_else(|| "all".into());

    let mut st = state.lock().unwrap();
    let now = Instant::now();
    let n = st.requests;
    st.requests += 1;
    st.stats
        .lookups
        .entry(region.to_string())
        .or_default()
        .push((now, lookup.clone()));
    let start = input["StartTime"].as_f64().unwrap_or(0.0);
    st.stats.starts.push((region.to_string(), start));
    // The API's limit: 2 requests per second per region.
    let recent = st.recent.entry(region.to_string()).or_default();
    recent.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
    let too_fast = recent.len() >= 2;
    recent.push(now);
    if too_fast {
        st.stats.throttled += 1;
        return (
            400,
            JSON,
            error_json("ThrottlingException", "Rate exceeded"),
        );
    }
    match st.faults.get(&n).copied() {
        Some(Fault::Throttle) => {
            st.stats.injected += 1;
            return (
                400,
                JSON,
                error_json("ThrottlingException", "Rate exceeded"),
            );
        }
        Some(Fault::Status(code)) => {
            st.stats.injected += 1;
            return (code, JSON, error_json("InternalFailure", "injected fault"));
        }
        None => {}
    }

    if attrs.len() > 1 {
        return (
            400,
            JSON,
            error_json(
                "InvalidLookupAttributesException",
                "one attribute per request",
            ),
        );
    }
    let max = input["MaxResults"].as_i64().unwrap_or(50);
    if !(1..=50).contains(&max) {
        return (
            400,
            JSON,
            error_json("InvalidMaxResultsException", "MaxResults is 1 to 50"),
        );
    }
    let start = input["StartTime"].as_f64().map(|t| t.floor() as i64);
    let end = input["EndTime"].as_f64().map(|t| t.ceil() as i64);
    let fingerprint = format!("{lookup}|{start:?}|{end:?}");
    let offset = match input["NextToken"].as_str() {
        None => 0,
        Some(token) => match token.split_once(':') {
            Some((off, fp)) if fp == fingerprint => off.parse::<usize>().unwrap_or(0),
            _ => {
                return (
                    400,
                    JSON,
                    error_json(
                        "InvalidNextTokenException",
                        "the token does not belong to this query",
                    ),
                );
            }
        },
    };
    let matches = |ev: &Value| -> bool {
        let t = epoch(ev);
        if start.is_some_and(|s| t < s) || end.is_some_and(|e| t > e) {
            return false;
        }
        let Some(a) = attrs.first() else { return true };
        let value = a["AttributeValue"].as_str().unwrap_or("");
        let identity = &ev["userIdentity"];
        match a["AttributeKey"].as_str().unwrap_or("") {
            "EventName" => ev["eventName"] == value,
            "EventSource" => ev["eventSource"] == value,
            "EventId" => ev["eventID"] == value,
            "ReadOnly" => ev["readOnly"].as_bool().map(|b| b.to_string()).as_deref() == Some(value),
            "AccessKeyId" => identity["accessKeyId"] == value,
            "Username" => {
                identity["userName"] == value || (identity["type"] == "Root" && value == "root")
            }
            _ => false,
        }
    };
    let events = st.by_region.get(region).map(Vec::as_slice).unwrap_or(&[]);
    let hits: Vec<&Value> = events.iter().filter(|e| matches(e)).collect();
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max as usize)
        .map(|e| {
            json!({
                "EventId": e["eventID"],
                "EventName": e["eventName"],
                "EventSource": e["eventSource"],
                "EventTime": epoch(e),
                "Username": e["userIdentity"]["userName"],
                "AccessKeyId": e["userIdentity"]["accessKeyId"],
                "ReadOnly": e["readOnly"].to_string(),
                "Resources": [],
                "CloudTrailEvent": e.to_string(),
            })
        })
        .collect();
    let next = offset + page.len();
    let mut body = json!({ "Events": page });
    if next < hits.len() {
        body["NextToken"] = json!(format!("{next}:{fingerprint}"));
    }
    (200, JSON, body.to_string())
}

fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2F", "/").replace("%3A", ":")))
        .collect()
}

/// IAM users and their long-lived keys, as the fixture's events show them.
fn iam_users(st: &State) -> (BTreeMap<String, (String, BTreeSet<String>)>, bool) {
    let mut users: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    let mut root_keys = false;
    for ev in st.by_region.values().flatten() {
        let id = &ev["userIdentity"];
        let key = id["accessKeyId"].as_str().unwrap_or("");
        if !key.starts_with("AKIA") {
            continue;
        }
        match (
            id["type"].as_str(),
            id["userName"].as_str(),
            id["arn"].as_str(),
        ) {
            (Some("IAMUser"), Some(name), Some(arn)) => {
                let entry = users
                    .entry(name.to_string())
                    .or_insert_with(|| (arn.to_string(), BTreeSet::new()));
                entry.1.insert(key.to_string());
            }
            (Some("Root"), ..) => root_keys = true,
            _ => {}
        }
    }
    (users, root_keys)
}

fn iam(req: &Request, state: &Mutex<State>) -> (u16, &'static str, String) {
    const XML: &str = "text/xml";
    let params = form(&req.body);
    let action = params.get("Action").cloned().unwrap_or_default();
    let mut st = state.lock().unwrap();
    *st.stats.other.entry(format!("iam:{action}")).or_default() += 1;
    let (users, root_keys) = iam_users(&st);
    let wrap = |action: &str, result: String| {
        format!(
            r#"<{action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></{action}Response>"#
        )
    };
    match action.as_str() {
        "ListUsers" => {
            let members: String = users
                .iter()
                .enumerate()
                .map(|(i, (name, (arn, _)))| {
                    format!(
                        "<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDA{i:016}</UserId><Arn>{arn}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>"
                    )
                })
                .collect();
            (
                200,
                XML,
                wrap(
                    "ListUsers",
                    format!("<Users>{members}</Users><IsTruncated>false</IsTruncated>"),
                ),
            )
        }
        "ListAccessKeys" => {
            let user = params.get("UserName").cloned().unwrap_or_default();
            let members: String = users
                .get(&user)
                .map(|(_, keys)| {
                    keys.iter()
                        .enumerate()
                        .map(|(i, k)| {
                            // Every other key is inactive now: it was used earlier.
                            let status = if i % 2 == 1 { "Inactive" } else { "Active" };
                            format!(
                                "<member><UserName>{user}</UserName><AccessKeyId>{k}</AccessKeyId><Status>{status}</Status><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>"
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                200,
                XML,
                wrap(
                    "ListAccessKeys",
                    format!(
                        "<AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
                    ),
                ),
            )
        }
        "GetAccountSummary" => {
            let entries = format!(
                "<entry><key>Users</key><value>{}</value></entry><entry><key>AccountAccessKeysPresent</key><value>{}</value></entry>",
                users.len(),
                u8::from(root_keys)
            );
            (
                200,
                XML,
                wrap(
                    "GetAccountSummary",
                    format!("<SummaryMap>{entries}</SummaryMap>"),
                ),
            )
        }
        _ => (
            400,
            XML,
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{action}</Message></Error></ErrorResponse>"
            ),
        ),
    }
}
