//! The weekly HTML page in a real browser: Debian's headless Chromium,
//! driven by playwright-core (tests/browser/check.mjs). The page loads with
//! no console message, no script error and no request of any kind; every
//! chart and table is there, the figures are the JSON's, sorting works,
//! the page fits a phone, and the dark and print styles apply. A hostile
//! trail's page runs nothing of the trail's.
//!
//! Needs node, playwright-core (`target/test-data/npm`, installed by
//! .ci/run) and /usr/bin/chromium (or $CHROMIUM). Without them the tests
//! say they skipped, unless CTAUDIT_REQUIRE_BROWSER is set (CI), where that
//! is a failure.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{SAMPLE_REPORT, ctaudit, hostile_page_trail, json, path_str, root};
use serde_json::Value;

/// playwright-core's folder and the browser, or why not.
fn browser(test: &str) -> Option<(PathBuf, PathBuf)> {
    let core = root().join("target/test-data/npm/node_modules/playwright-core");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node = Command::new("node").arg("--version").output().is_ok();
    let missing = [
        (!node).then(|| "node".to_string()),
        (!core.exists()).then(|| format!("{} (npm playwright-core)", core.display())),
        (!chromium.exists()).then(|| format!("{} (Debian chromium)", chromium.display())),
    ];
    let missing: Vec<String> = missing.into_iter().flatten().collect();
    if missing.is_empty() {
        return Some((core, chromium));
    }
    let why = format!(
        "SKIPPED {test}: not installed: {} (.ci/run installs them)",
        missing.join(", ")
    );
    assert!(std::env::var("CTAUDIT_REQUIRE_BROWSER").is_err(), "{why}");
    eprintln!("{why}");
    None
}

/// Loads `page` in Chromium; the check script's findings.
fn check(page: &Path, core: &Path, chromium: &Path, screenshot: Option<&Path>) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("tests/browser/check.mjs"))
        .arg(page)
        .env("PLAYWRIGHT_CORE_DIR", core)
        .env("CHROMIUM", chromium);
    if let Some(s) = screenshot {
        cmd.arg(s);
    }
    let out = cmd.output().expect("node runs");
    assert!(
        out.status.success(),
        "check.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("check.mjs prints JSON")
}

/// Nothing on the console, no script error, no request.
fn quiet(got: &Value) {
    for key in ["console", "page_errors", "requests"] {
        assert_eq!(got[key], serde_json::json!([]), "{key}: {}", got[key]);
    }
}

#[test]
fn the_sample_page_loads_cleanly_with_every_chart_and_table() {
    let Some((core, chromium)) = browser("the_sample_page_loads_cleanly") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("weekly.html");
    let args = SAMPLE_REPORT;
    let run = ctaudit(&[&args[..], &["--format", "html", "-o", path_str(&page)]].concat());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = check(&page, &core, &chromium, None);
    quiet(&got);

    let charts = got["charts"].as_array().unwrap();
    for name in ["per-day", "peak-hours", "key-trend"] {
        let c = charts
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} chart"));
        assert_eq!(c["svg"], true, "{name}");
        assert!(
            c["shapes"].as_u64().unwrap() > 7,
            "{name} draws nothing: {c}"
        );
    }
    let all = ["--report", "all", "--report", "summary", "--format", "json"];
    let doc = json(&ctaudit(&[&args[..], &all[..]].concat()));
    let tables: Vec<(&str, u64)> = got["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["rows"].as_u64().unwrap()))
        .collect();
    let rows = |name: &str| {
        tables
            .iter()
            .find(|t| t.0 == name)
            .unwrap_or_else(|| panic!("no table {name}"))
            .1
    };
    let s = &doc["summary_stats"];
    for (table, field) in [
        ("per-day", "per_day"),
        ("by-repository", "by_repository"),
        ("by-workflow", "by_workflow"),
        ("inventory", "inventory"),
        ("long-lived-keys", "long_lived_keys"),
        ("key-trend", "key_trend"),
        ("origins", "origins"),
    ] {
        assert_eq!(
            rows(table),
            s[field].as_array().unwrap().len() as u64,
            "{table}"
        );
    }
    for (report, count) in doc["summary"].as_object().unwrap() {
        if count.as_u64().unwrap() > 0 {
            assert_eq!(rows(&format!("{report}-events")), count.as_u64().unwrap());
        }
        assert!(
            got["verdicts"].get(report).is_some(),
            "no verdict for {report}"
        );
    }
    // The figures the browser shows are the JSON's.
    let kpis = &got["kpis"];
    assert_eq!(kpis["role assumptions"]["value"], s["assumptions"]);
    assert_eq!(kpis["failed assumptions"]["value"], s["failed"]);
    assert_eq!(
        kpis["long-lived keys in use"]["value"],
        s["headline"]["long_lived_keys"]
    );
    // Sorting by calls, up then down.
    let (asc, desc) = (&got["sort"]["asc"], &got["sort"]["desc"]);
    let asc: Vec<u64> = serde_json::from_value(asc.clone()).unwrap();
    let mut desc: Vec<u64> = serde_json::from_value(desc.clone()).unwrap();
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    desc.reverse();
    assert_eq!(asc, desc);
    // A phone: no sideways scrolling of the page; dark and print styles.
    assert!(
        got["phone_overflow"].as_i64().unwrap() <= 0,
        "{}",
        got["phone_overflow"]
    );
    assert_ne!(got["dark_background"], got["light_background"]);
    assert_eq!(got["print_font_size"], "11px");
    assert_eq!(got["script_elements"], 1);
}

#[test]
fn a_hostile_trail_runs_nothing_in_the_page() {
    let Some((core, chromium)) = browser("a_hostile_trail_runs_nothing_in_the_page") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    hostile_page_trail(dir.path());
    let page = dir.path().join("hostile.html");
    let run = ctaudit(&[
        "report",
        "--logs",
        path_str(dir.path()),
        "--format",
        "html",
        "-o",
        path_str(&page),
    ]);
    assert!(run.code <= 1, "{}", run.stderr);
    let got = check(&page, &core, &chromium, None);
    // An <img onerror> would have requested "x"; an alert, a console line.
    quiet(&got);
    assert_eq!(got["script_elements"], 1);
    let text = got["text"].as_str().unwrap();
    assert!(
        text.contains("repo:evil/<script>alert(1)</script>"),
        "{text}"
    );
    assert!(text.contains("<svg/onload=alert(6)>"));
}
