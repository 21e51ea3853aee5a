//! A second trail, unlike the sample in every way that matters (another
//! organisation and time zone across a daylight-saving change, lookup-events
//! output and JSON lines beside the S3 layout, custom claim templates, `*`
//! and `?` in role ARNs and user patterns, a re-delivered file, unparseable
//! times), with its own policy. Each event's id names the reports that must
//! flag it: the run must flag exactly those, no more, no fewer.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{ctaudit, json};

const TRAIL: &str = "tests/fixtures/second_trail";

/// Every event id in the trail. The letters before the dash are the reports
/// that must flag it: F failures, U unexpected-subjects, O off-hours,
/// K iam-user-keys; N none; X outside the window.
const IDS: &[&str] = &[
    "N-1", "N-2", "O-3", "N-4", "O-5", "O-6", "O-7", "U-8", "U-9", "UO-10", "U-11", "N-12", "U-13",
    "N-14", "U-15", "U-16", "F-17", "F-18", "F-19", "N-20", "U-21", "K-22", "K-23", "N-24", "K-25",
    "N-26", "N-27", "K-28", "N-29", "X-30",
];

fn expected(letter: char) -> BTreeSet<String> {
    IDS.iter()
        .filter(|id| id.split('-').next().unwrap().contains(letter))
        .map(|id| id.to_string())
        .collect()
}

fn run() -> serde_json::Value {
    let run = ctaudit(&[
        "report",
        "--logs",
        TRAIL,
        "--policy",
        &format!("{TRAIL}/policy.toml"),
        "--since",
        "2026-10-29",
        "--until",
        "2026-11-30",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    json(&run)
}

/// The flagged event ids per report.
fn flagged(v: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let report = f["report"].as_str().unwrap().to_string();
        let id = f["event_id"].as_str().unwrap().to_string();
        assert!(
            out.entry(report).or_default().insert(id.clone()),
            "{id} flagged twice"
        );
    }
    out
}

#[test]
fn exactly_the_findings_the_rules_define() {
    let v = run();
    let got = flagged(&v);
    for (report, letter) in [
        ("failures", 'F'),
        ("unexpected-subjects", 'U'),
        ("off-hours", 'O'),
        ("iam-user-keys", 'K'),
    ] {
        assert_eq!(
            got.get(report).cloned().unwrap_or_default(),
            expected(letter),
            "{report}"
        );
    }
}

#[test]
fn unexpected_subjects_say_what_was_unexpected() {
    let v = run();
    let kinds: BTreeMap<&str, &str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["report"] == "unexpected-subjects")
        .map(|f| (f["event_id"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    let want: BTreeMap<&str, &str> = [
        ("U-8", "branch"),
        ("U-9", "subject"),
        ("UO-10", "repository"),
        ("U-11", "branch"),
        ("U-13", "no-policy-entry"),
        ("U-15", "subject"),
        ("U-16", "audience"),
        ("U-21", "pull_request"),
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, want);
}

#[test]
fn off_hours_reasons_follow_los_angeles_time() {
    let v = run();
    let reasons: BTreeMap<&str, (&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["report"] == "off-hours")
        .map(|f| {
            (
                f["event_id"].as_str().unwrap(),
                (
                    f["reason"].as_str().unwrap(),
                    f["local_time"].as_str().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(reasons["O-3"], ("before 08:00", "2026-11-02 07:30 Mon PST"));
    assert_eq!(
        reasons["O-5"],
        ("Sat is not a working day", "2026-10-31 13:00 Sat PDT")
    );
    assert_eq!(
        reasons["O-6"],
        ("2026-11-26 is a holiday", "2026-11-26 11:00 Thu PST")
    );
    assert_eq!(reasons["O-7"], ("after 18:00", "2026-11-23 18:30 Mon PST"));
    assert_eq!(reasons["UO-10"].0, "Sun is not a working day");
}

#[test]
fn failures_and_keys_carry_their_context() {
    let v = run();
    let by_id: BTreeMap<&str, &serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["event_id"].as_str().unwrap(), f))
        .collect();
    // No userName: the subject and audience come from principalId.
    assert_eq!(
        by_id["F-18"]["subject"],
        "repo:globex/billing:environment:prod"
    );
    assert_eq!(by_id["F-18"]["audience"], "globex-ci");
    assert!(
        by_id["F-18"]["cause"]
            .as_str()
            .unwrap()
            .contains("audience (globex-ci)")
    );
    assert!(
        by_id["F-17"]["cause"]
            .as_str()
            .unwrap()
            .contains("trust policy is wrong, not the caller")
    );
    assert!(
        by_id["F-19"]["cause"]
            .as_str()
            .unwrap()
            .contains("rejected the token's claims")
    );
    assert_eq!(by_id["K-23"]["severity"], "critical");
    assert_eq!(by_id["K-22"]["ci_hint"], "GitLab CI");
}

#[test]
fn input_accounting() {
    let v = run();
    let input = &v["input"];
    // lookup-events.json, stream.jsonl, the re-delivered file; policy.toml is not a log.
    assert_eq!(input["files_read"], 3);
    assert_eq!(input["files_skipped"]["pruned-folder"], 1);
    assert_eq!(input["files_skipped"]["not-a-log"], 1);
    assert_eq!(input["events_read"], 7 + 22 + 1);
    assert_eq!(input["events_skipped"]["duplicate"], 1);
    assert_eq!(input["events_without_time"], 2);
    let kept = input["events_kept"].as_u64().unwrap();
    let skipped: u64 = input["events_skipped"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(kept + skipped, 30);
}
