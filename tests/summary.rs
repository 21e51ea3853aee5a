//! `--report summary`: the KPIs' numbers, checked against the sample's raw
//! records counted here, and where they appear (JSON `summary_stats`;
//! Markdown by default; table when asked).

use crate::common;

use std::collections::BTreeMap;

use common::{SAMPLE_REPORT, ctaudit, json, load_trail, root};
use serde_json::Value;

#[test]
fn the_numbers_agree_with_the_raw_records() {
    let run = ctaudit(
        &[
            &SAMPLE_REPORT[..],
            &["--report", "summary", "--format", "json"],
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "no findings reports ran: {}", run.stderr);
    let s = &json(&run)["summary_stats"];
    let trail = load_trail(&root().join("sample-logs"));
    let calls: Vec<&Value> = trail
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity")
        .collect();
    let failed = calls.iter().filter(|r| r["errorCode"].is_string()).count();
    assert_eq!(s["assumptions"], calls.len() as u64);
    assert_eq!(s["failed"], failed as u64);
    // Per day and outcome.
    let mut per_day: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &calls {
        let day = r["eventTime"].as_str().unwrap()[..10].to_string();
        let outcome = r["errorCode"].as_str().unwrap_or("success").to_string();
        *per_day.entry((day, outcome)).or_default() += 1;
    }
    let got: BTreeMap<(String, String), u64> = s["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                (
                    d["day"].as_str().unwrap().into(),
                    d["outcome"].as_str().unwrap().into(),
                ),
                d["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, per_day);
    // The heat map holds every assumption once.
    let heat: u64 = s["peak_hours"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()))
        .sum();
    assert_eq!(heat, calls.len() as u64);
    assert_eq!(s["peak_hours"]["timezone"], "Europe/Berlin");
    // Long-lived keys: every AKIA key the trail uses, with its calls.
    let mut keys: BTreeMap<String, u64> = BTreeMap::new();
    for r in &trail {
        if let Some(k) = r["userIdentity"]["accessKeyId"]
            .as_str()
            .filter(|k| k.starts_with("AKIA"))
        {
            *keys.entry(k.to_string()).or_default() += 1;
        }
    }
    let got: BTreeMap<String, u64> = s["long_lived_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["access_key_id"].as_str().unwrap().into(),
                k["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, keys);
    // Repositories' rates add up to the calls that name one.
    let repo_calls: u64 = s["by_repository"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["success"].as_u64().unwrap() + r["failed"].as_u64().unwrap())
        .sum();
    assert_eq!(repo_calls, calls.len() as u64);
    // The inventory marks what the policy does not allow.
    let inventory = s["inventory"].as_array().unwrap();
    assert!(
        inventory
            .iter()
            .any(|i| i["repository"] == "acme-contractor/tools" && i["allowed"] == false)
    );
    assert!(inventory.iter().any(|i| i["repository"] == "acme/api"
        && i["context"] == "production"
        && i["allowed"] == true));
}

#[test]
fn markdown_has_the_summary_by_default_and_json_only_when_asked() {
    let md = ctaudit(&[&SAMPLE_REPORT[..], &["--format", "markdown"]].concat());
    assert!(
        md.stdout
            .contains("## summary: the numbers behind the KPIs"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("### Inventory: which repositories assumed which roles")
    );
    let j = ctaudit(&[&SAMPLE_REPORT[..], &["--format", "json"]].concat());
    assert!(json(&j).get("summary_stats").is_none());
    let table = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--report",
        "summary",
        "--report",
        "failures",
    ]);
    assert!(
        table
            .stdout
            .contains("summary: the numbers behind the KPIs")
    );
    assert!(
        table
            .stdout
            .contains("failures: Failed OIDC role assumptions")
    );
}

#[test]
fn markdown_charts_carry_the_same_numbers_and_no_trail_syntax() {
    let md = ctaudit(&[&SAMPLE_REPORT[..], &["--format", "markdown"]].concat());
    let j = ctaudit(
        &[
            &SAMPLE_REPORT[..],
            &["--format", "json", "--report", "summary"],
        ]
        .concat(),
    );
    let s = &json(&j)["summary_stats"];
    let assumptions = s["assumptions"].as_u64().unwrap();
    assert!(
        md.stdout.contains("```mermaid\nxychart-beta"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains(&format!(
        "pie title Outcomes of {assumptions} role assumptions"
    )));
    let success: u64 = s["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "success")
        .map(|d| d["count"].as_u64().unwrap())
        .sum();
    assert!(
        md.stdout
            .contains(&format!("    \"success\" : {success}\n"))
    );

    // An error code written to break out of a Mermaid string stays inside it.
    let dir = tempfile::tempdir().unwrap();
    let hostile = r#"{"Records":[{"eventTime":"2026-11-20T10:00:00Z","eventID":"h1","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com","errorCode":"X\" : 999\n%%{init: {}}%%\n```","errorMessage":"no","requestParameters":{"roleArn":"arn:aws:iam::1:role/r"}}]}"#;
    std::fs::write(dir.path().join("h.json"), hostile).unwrap();
    let md = ctaudit(&[
        "report",
        "--logs",
        common::path_str(dir.path()),
        "--format",
        "markdown",
    ]);
    let charts: Vec<&str> = md.stdout.split("```mermaid").skip(1).collect();
    assert_eq!(charts.len(), 2, "{}", md.stdout);
    for chart in charts {
        let chart = chart.split("\n```").next().unwrap();
        assert!(!chart.contains("%%"), "{chart}");
        // One outcome: its label is one quoted string with no colon in it.
        for line in chart.lines().filter(|l| l.starts_with("    \"")) {
            assert_eq!(line.matches('"').count(), 2, "{line}");
            assert_eq!(line.matches(':').count(), 1, "{line}");
        }
    }
}
