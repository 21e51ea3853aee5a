//! `--format html`: the weekly page. Structural checks on the HTML itself
//! (self-contained, its Content-Security-Policy matching its only style and
//! script, every finding's event id present, hostile strings shown as text)
//! and its figures against `--format json` of the same run. The page in a
//! real browser is tests/browser.rs.

use crate::common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::{SAMPLE_REPORT, ctaudit, hostile_page_trail, html_rows, json, path_str};
use regex::Regex;

use sha2::{Digest, Sha256};

/// The sample's page, or its JSON with the summary beside the findings.
fn sample(format: &str) -> common::Run {
    let extra: &[&str] = match format {
        "json" => &["--report", "all", "--report", "summary"],
        _ => &[],
    };
    ctaudit(&[&SAMPLE_REPORT[..], extra, &["--format", format]].concat())
}

/// The text of the first element `<tag>…</tag>`.
fn inner<'a>(html: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = html.find(&open).unwrap() + open.len();
    let end = start + html[start..].find(&format!("</{tag}>")).unwrap();
    &html[start..end]
}

fn hash(body: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()))
}

#[test]
fn the_page_is_self_contained_and_its_policy_allows_only_itself() {
    let run = sample("html");
    assert_eq!(run.code, 1, "findings exit 1: {}", run.stderr);
    let html = &run.stdout;
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing is fetched: no external references of any kind.
    let fetch = Regex::new(r#"(?i)\s(src|href|srcset|action|xlink:href|poster|data)\s*="#).unwrap();
    assert!(fetch.find(html).is_none(), "{:?}", fetch.find(html));
    for tag in [
        "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!html.contains(tag), "{tag} in the page");
    }
    // Nor inline style attributes or handlers, which the policy would block.
    let inline = Regex::new(r#"\s(style|on[a-z]+)\s*="#).unwrap();
    assert!(inline.find(html).is_none(), "{:?}", inline.find(html));
    assert_eq!(html.matches("<style>").count(), 1);
    assert_eq!(html.matches("<script>").count(), 1);
    let csp = Regex::new(r#"http-equiv="Content-Security-Policy" content="([^"]*)""#)
        .unwrap()
        .captures(html)
        .expect("a Content-Security-Policy")[1]
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let style = inner(html, "style");
    let script = inner(html, "script");
    assert!(
        csp.contains(&format!("style-src 'sha256-{}'", hash(style))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("script-src 'sha256-{}'", hash(script))),
        "{csp}"
    );
    // Print, dark and phone styles.
    for rule in [
        "@media print",
        "prefers-color-scheme: dark",
        "max-width: 640px",
    ] {
        assert!(style.contains(rule), "{rule}");
    }
    assert!(html.contains(r#"name="viewport""#));
    // Three charts, inline SVG.
    for chart in ["per-day", "peak-hours", "key-trend"] {
        let at = html
            .find(&format!("data-chart=\"{chart}\""))
            .unwrap_or_else(|| panic!("no {chart} chart"));
        assert!(html[at..].trim_start_matches(|c| c != '<')[..200].contains("<svg"));
    }
}

#[test]
fn every_finding_is_on_the_page() {
    let (html, doc) = (sample("html"), json(&sample("json")));
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 74);
    for f in findings {
        let id = f["event_id"].as_str().unwrap();
        let table = format!("{}-events", f["report"].as_str().unwrap());
        assert!(
            html_rows(&html.stdout, &table)
                .iter()
                .any(|r| r.iter().any(|c| c == id)),
            "{id} not in {table}"
        );
    }
    // A verdict per report that ran, coloured by its worst finding.
    for (report, count) in doc["summary"].as_object().unwrap() {
        let verdict = Regex::new(&format!(r#"data-report="{report}" data-verdict="(\w+)""#))
            .unwrap()
            .captures(&html.stdout)
            .unwrap_or_else(|| panic!("no verdict for {report}"))[1]
            .to_string();
        let worst = findings
            .iter()
            .filter(|f| f["report"] == *report)
            .map(|f| f["severity"].as_str().unwrap())
            .min_by_key(|s| {
                ["critical", "high", "medium", "low"]
                    .iter()
                    .position(|x| x == s)
            })
            .unwrap_or("");
        let expected = match (count.as_u64().unwrap(), worst) {
            (0, _) => "green",
            (_, "critical" | "high") => "red",
            _ => "amber",
        };
        assert_eq!(verdict, expected, "{report}");
    }
}

#[test]
fn the_figures_are_the_json_figures() {
    let (page, doc) = (sample("html"), json(&sample("json")));
    let html = &page.stdout;
    let s = &doc["summary_stats"];
    // The key figures.
    let kpi = Regex::new(r#"data-kpi="([^"]+)" data-value="([^"]+)""#).unwrap();
    let shown: BTreeMap<String, f64> = kpi
        .captures_iter(html)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    let h = &s["headline"];
    for (name, field) in [
        ("role assumptions", "assumptions"),
        ("failed assumptions", "failed"),
        ("success rate", "success_rate"),
        ("repositories", "repositories"),
        ("workflows", "workflows"),
        ("roles assumed", "roles"),
        ("subjects the policy does not allow", "not_allowed"),
        ("long-lived keys in use", "long_lived_keys"),
        ("identities using them", "key_identities"),
        ("calls with long-lived keys", "key_calls"),
    ] {
        assert_eq!(shown[name], h[field].as_f64().unwrap(), "{name}");
    }
    assert_eq!(h["assumptions"], 67);
    assert_eq!(h["long_lived_keys"], 6);
    // Per day and outcome.
    let per_day: Vec<Vec<String>> = s["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            vec![
                d["day"].as_str().unwrap().to_string(),
                d["outcome"].as_str().unwrap().to_string(),
                d["count"].to_string(),
            ]
        })
        .collect();
    assert_eq!(html_rows(html, "per-day"), per_day);
    // Success rates, per repository and per workflow.
    for (table, field) in [
        ("by-repository", "by_repository"),
        ("by-workflow", "by_workflow"),
    ] {
        let expected: Vec<Vec<String>> = s[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let (ok, bad) = (
                    r["success"].as_u64().unwrap(),
                    r["failed"].as_u64().unwrap(),
                );
                vec![
                    r["name"].as_str().unwrap().to_string(),
                    (ok + bad).to_string(),
                    ok.to_string(),
                    bad.to_string(),
                    format!("{:.1} %", r["success_rate"].as_f64().unwrap() * 100.0),
                ]
            })
            .collect();
        assert_eq!(html_rows(html, table), expected, "{table}");
    }
    // The inventory, with the policy's verdict.
    let inventory: Vec<Vec<String>> = s["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            vec![
                i["role_arn"].as_str().unwrap().to_string(),
                i["repository"].as_str().unwrap().to_string(),
                i["kind"].as_str().unwrap().to_string(),
                i["context"].as_str().unwrap().to_string(),
                i["count"].to_string(),
                i["last_seen"].as_str().unwrap().to_string(),
                if i["allowed"] == true { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    assert_eq!(html_rows(html, "inventory"), inventory);
    // Keys, their weekly trend, and origins.
    let keys: Vec<(String, String)> = html_rows(html, "long-lived-keys")
        .into_iter()
        .map(|r| (r[1].clone(), r[2].clone()))
        .collect();
    let expected: Vec<(String, String)> = s["long_lived_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["access_key_id"].as_str().unwrap().into(),
                k["calls"].to_string(),
            )
        })
        .collect();
    assert_eq!(keys, expected);
    let trend: Vec<String> = html_rows(html, "key-trend")
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    let expected: Vec<String> = s["key_trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["keys"].to_string())
        .collect();
    assert_eq!(trend, expected);
    let calls: u64 = html_rows(html, "origins")
        .iter()
        .map(|r| r[4].parse::<u64>().unwrap())
        .sum();
    let expected: u64 = s["origins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, expected);
    // The heat map's cells carry the numbers of peak_hours.
    let heat: u64 = s["peak_hours"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(heat, 67);
    // Without a store, the page says where the previous period would come from.
    assert!(html.contains(r#"data-note="previous""#) && html.contains("--store"));
    // And without GeoIP, that ASN and country are missing.
    assert!(html.contains(r#"data-note="geoip""#));
}

#[test]
fn hostile_strings_are_text() {
    let dir = tempfile::tempdir().unwrap();
    hostile_page_trail(dir.path());
    let run = ctaudit(&["report", "--logs", path_str(dir.path()), "--format", "html"]);
    let html = &run.stdout;
    assert!(run.code <= 1, "{}", run.stderr);
    // Ours are the only live elements of these kinds.
    assert_eq!(html.matches("<script").count(), 1);
    assert_eq!(html.matches("<style").count(), 1);
    for live in [
        "<img",
        "<svg onload",
        "<svg/onload",
        "<h1>all clear",
        "<b>mallory",
        "</table><h1>",
    ] {
        assert!(!html.contains(live), "{live} is live");
    }
    assert!(!html.contains("SECRET-TOKEN"));
    assert!(!html.contains('\u{1b}'));
    // ... and they are all there, as text.
    for shown in [
        "repo:evil/&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;svg/onload=alert(6)&gt;",
        "user/&lt;b&gt;mallory&lt;/b&gt;",
        "role/&lt;/style&gt;&lt;script&gt;alert(4)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;",
    ] {
        assert!(html.contains(shown), "{shown} not shown");
    }
    // A query's result as HTML escapes the same way.
    let q = ctaudit(&[
        "query",
        "--logs",
        path_str(dir.path()),
        "SELECT user_agent, subject FROM events",
        "--format",
        "html",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert_eq!(q.stdout.matches("<script").count(), 1);
    assert!(!q.stdout.contains("<img"));
}
