//! Week over week: a three-week trail ingested into a store in two weekly
//! runs, reported for its last week. The previous week's figures sit beside
//! this week's (JSON, Markdown, HTML), and the long-lived keys per week
//! fall from 3 to 2 to 1, as the trail was written.

use crate::common;

use std::path::Path;

use common::{ctaudit, html_rows, json, path_str};
use serde_json::{Value, json};

fn assume(id: &str, t: &str, repo: &str, failed: bool) -> Value {
    let subject = format!("repo:{repo}:ref:refs/heads/main");
    let mut e = json!({
        "eventVersion": "1.09", "eventTime": t, "eventID": id,
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
        "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
        "sourceIPAddress": "20.1.2.3", "userAgent": "aws-sdk-js/3",
        "userIdentity": {"type": "WebIdentityUser", "userName": subject,
            "identityProvider": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
        "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/deploy", "roleSessionName": "GitHubActions"},
        "responseElements": {"credentials": {"accessKeyId": format!("ASIA{id:0>16}"), "expiration": "Nov 17, 2026, 11:00:00 AM"}}
    });
    if failed {
        e["errorCode"] = json!("AccessDenied");
        e["responseElements"] = Value::Null;
    }
    e
}

fn key_call(id: &str, t: &str, key: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": t, "eventID": id,
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{key}"),
            "accountId": "111122223333", "accessKeyId": format!("AKIA{key:0>16}"), "userName": key}
    })
}

fn write(dir: &Path, name: &str, events: &[Value]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), json!({ "Records": events }).to_string()).unwrap();
}

/// Week 1 (from 2026-10-26): keys A, B, C; 4 assumptions. Week 2 (from
/// 11-02): keys A, B; 8 assumptions, 2 refused. Week 3 (from 11-09): key
/// A; 5 assumptions, one from a repository new that week.
fn trail(dir: &Path) {
    let mut first = Vec::new();
    for (i, k) in ["A", "B", "C"].iter().enumerate() {
        first.push(key_call(&format!("k1{i}"), "2026-10-27T10:00:00Z", k));
    }
    for i in 0..4 {
        first.push(assume(
            &format!("a1{i}"),
            "2026-10-28T10:00:00Z",
            "acme/api",
            false,
        ));
    }
    for (i, k) in ["A", "B"].iter().enumerate() {
        first.push(key_call(&format!("k2{i}"), "2026-11-03T10:00:00Z", k));
    }
    for i in 0..8 {
        first.push(assume(
            &format!("a2{i}"),
            "2026-11-04T10:00:00Z",
            "acme/api",
            i < 2,
        ));
    }
    write(&dir.join("weeks-1-2"), "trail.json", &first);
    let mut last = vec![key_call("k30", "2026-11-10T10:00:00Z", "A")];
    for i in 0..4 {
        last.push(assume(
            &format!("a3{i}"),
            "2026-11-11T10:00:00Z",
            "acme/api",
            false,
        ));
    }
    last.push(assume("a34", "2026-11-12T10:00:00Z", "acme/new", false));
    write(&dir.join("week-3"), "trail.json", &last);
}

/// 2026-11-09 up to the end of 2026-11-15 (`--until` takes the whole day).
const WEEK_3: [&str; 6] = [
    "--since",
    "2026-11-09",
    "--until",
    "2026-11-15",
    "--now",
    "2026-11-16T06:00:00Z",
];

#[test]
fn a_store_gives_the_previous_week_and_the_key_trend() {
    let logs = tempfile::tempdir().unwrap();
    trail(logs.path());
    let store = tempfile::tempdir().unwrap();
    let store = path_str(store.path());
    // Two weekly ingests.
    for week in ["weeks-1-2", "week-3"] {
        let logs = logs.path().join(week);
        let run = ctaudit(&["ingest", "--logs", path_str(&logs), "--store", store]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let report = |extra: &[&str]| {
        let base = ["report", "--store", store];
        ctaudit(&[&base[..], &WEEK_3[..], extra].concat())
    };
    let doc = json(&report(&["--report", "summary", "--format", "json"]));
    let s = &doc["summary_stats"];
    let (now, before) = (&s["headline"], &s["previous"]["headline"]);
    assert_eq!(
        (now["assumptions"].as_u64(), now["failed"].as_u64()),
        (Some(5), Some(0))
    );
    assert_eq!(
        (before["assumptions"].as_u64(), before["failed"].as_u64()),
        (Some(8), Some(2))
    );
    assert_eq!(
        (
            now["long_lived_keys"].as_u64(),
            before["long_lived_keys"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(
        (
            now["repositories"].as_u64(),
            before["repositories"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(s["previous"]["since"], "2026-11-02T00:00:00Z");
    assert_eq!(s["previous"]["until"], "2026-11-09T00:00:00Z");
    assert!(s["previous_note"].is_null(), "{}", s["previous_note"]);
    let trend: Vec<(String, u64, bool)> = s["key_trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["week_start"].as_str().unwrap().to_string(),
                w["keys"].as_u64().unwrap(),
                w["partial"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        trend,
        [
            // The store's first day is 10-27: it holds part of that week.
            ("2026-10-26".to_string(), 3, true),
            ("2026-11-02".to_string(), 2, false),
            ("2026-11-09".to_string(), 1, false),
        ]
    );

    // The page shows both, and the trend's sentence.
    let html = report(&["--format", "html"]).stdout;
    assert!(
        html.contains(r#"data-kpi="role assumptions" data-value="5""#),
        "{html}"
    );
    assert!(html.contains(r#"data-previous="8""#));
    assert!(html.contains(r#"data-trend-first="3" data-trend-last="1""#));
    assert!(
        html.contains("<b>3</b> long-lived keys in use 2 weeks ago, <b>1</b> in the last week.")
    );
    // Tables carry the previous period's counts; what it lacked is new.
    let repos = html_rows(&html, "by-repository");
    let new = repos.iter().find(|r| r[0] == "acme/new").unwrap();
    assert_eq!(new[5..], ["0", "new"]);
    let api = repos.iter().find(|r| r[0] == "acme/api").unwrap();
    assert_eq!(api[1..], ["4", "4", "0", "100.0 %", "8", "75.0 %"]);
    let keys = html_rows(&html, "long-lived-keys");
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0][2].as_str(), keys[0][5].as_str()), ("1", "1"));
    // Markdown: the comparison table and the weekly keys.
    let md = report(&["--format", "markdown"]).stdout;
    assert!(
        md.contains("### Compared with the previous period (2026-11-02 to 2026-11-09)"),
        "{md}"
    );
    let row = md
        .lines()
        .find(|l| l.starts_with("| long-lived keys in use"))
        .unwrap();
    assert_eq!(
        row.split('|').map(str::trim).collect::<Vec<_>>()[2..5],
        ["1", "2", "-1"]
    );
    assert!(md.contains("### Long-lived keys in use per week"));

    // --compare none: the window alone.
    let doc = json(&report(&[
        "--report",
        "summary",
        "--format",
        "json",
        "--compare",
        "none",
    ]));
    assert!(doc["summary_stats"]["previous"].is_null());
    assert_eq!(
        doc["summary_stats"]["key_trend"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn without_a_store_or_a_start_the_page_says_why_there_is_no_previous_period() {
    let logs = tempfile::tempdir().unwrap();
    trail(logs.path());
    let all = path_str(logs.path());
    let doc = json(&ctaudit(
        &[
            &[
                "report", "--logs", all, "--report", "summary", "--format", "json",
            ][..],
            &WEEK_3[..],
        ]
        .concat(),
    ));
    let s = &doc["summary_stats"];
    assert!(s["previous"].is_null());
    assert!(s["previous_note"].as_str().unwrap().contains("--store"));
    // The trend of what was read: the window's one week.
    assert_eq!(s["key_trend"].as_array().unwrap().len(), 1);

    let store = tempfile::tempdir().unwrap();
    let store = path_str(store.path());
    let week3 = logs.path().join("week-3");
    assert_eq!(
        ctaudit(&["ingest", "--logs", path_str(&week3), "--store", store]).code,
        0
    );
    // A store that begins inside the window has no previous period.
    let doc = json(&ctaudit(
        &[
            &[
                "report", "--store", store, "--report", "summary", "--format", "json",
            ][..],
            &WEEK_3[..],
        ]
        .concat(),
    ));
    let note = doc["summary_stats"]["previous_note"].as_str().unwrap();
    assert!(note.contains("holds nothing before 2026-11-09"), "{note}");
    // No --since: no period of the same length to speak of.
    let doc = json(&ctaudit(&[
        "report", "--store", store, "--report", "summary", "--format", "json",
    ]));
    let note = doc["summary_stats"]["previous_note"].as_str().unwrap();
    assert!(note.contains("give --since"), "{note}");
}
