//! `--api`: the real CloudTrail, IAM and Account clients against a loopback
//! endpoint that serves a fixture trail as the API does (see
//! `common/fake_aws.rs`). No AWS account, no network.

use crate::common;

use std::collections::BTreeSet;

use common::SAMPLE_WINDOW as WINDOW;
use common::fake_aws::{FakeAws, Fault};
use common::{Run, aws_env, ctaudit_env, findings, json, load_trail, path_str, root};
use serde_json::{Value, json};

/// Every lookup the endpoint was asked for (`EventName=…`, `all`, …).
fn asked_for<T: FromIterator<String>>(fake: &FakeAws) -> T {
    fake.stats(|s| {
        s.lookups
            .values()
            .flatten()
            .map(|(_, l)| l.clone())
            .collect()
    })
}

fn run_api(fake: &FakeAws, args: &[&str]) -> Run {
    ctaudit_env(args, &aws_env(&fake.url()))
}

#[test]
fn api_and_logs_give_identical_findings() {
    let trail = load_trail(&root().join("sample-logs"));
    let fake = FakeAws::start(&trail, &["ap-south-1"], &[]);
    let report = [
        "report",
        "--policy",
        "sample-logs/policy.toml",
        "--format",
        "json",
    ];

    let from_logs = ctaudit_env(
        &[&report[..], &["--logs", "sample-logs"], &WINDOW].concat(),
        &[],
    );
    let from_api = run_api(
        &fake,
        &[&report[..], &["--api", "--all-regions"], &WINDOW].concat(),
    );
    assert_eq!(from_api.code, 1, "findings → exit 1\n{}", from_api.stderr);
    assert_eq!(findings(&from_api), findings(&from_logs));
    assert!(findings(&from_api).0.as_array().unwrap().len() > 20);

    // Only what the reports need was asked for: web-identity calls, then
    // each long-lived key, then root by user name; never every event.
    let asked: BTreeSet<String> = asked_for(&fake);
    assert!(asked.contains("EventName=AssumeRoleWithWebIdentity"));
    assert!(asked.contains("Username=root"));
    assert!(asked.iter().all(|l| l != "all"), "{asked:?}");
    let keys: Vec<&String> = asked
        .iter()
        .filter(|l| l.starts_with("AccessKeyId=AKIA"))
        .collect();
    assert!(!keys.is_empty());
    // The allowed legacy user's key is not looked up.
    let doc = json(&from_api);
    let api = &doc["input"]["api"];
    assert_eq!(
        api["keys"]["allowed_users"],
        json!(["arn:aws:iam::111122223333:user/legacy-backup"])
    );
    // Every region enabled for the account was asked, the empty one too.
    let regions: Vec<&str> = api["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["ap-south-1", "eu-central-1", "us-east-1"]);
    assert_eq!(fake.stats(|s| s.throttled), 0);
    assert_eq!(
        fake.stats(|s| s.other.get("account:ListRegions").copied()),
        Some(1)
    );

    // The table names the keys that were looked up.
    let table = run_api(
        &fake,
        &[
            &[
                "report",
                "--api",
                "--region",
                "us-east-1",
                "--report",
                "iam-user-keys",
                "--policy",
                "sample-logs/policy.toml",
            ][..],
            &WINDOW,
        ]
        .concat(),
    );
    assert!(
        table.stdout.contains("looked up AccessKeyId=AKIA"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("not looked up: keys of arn:aws:iam::111122223333:user/legacy-backup"),
        "{}",
        table.stdout
    );
}

/// `n` management events per region (three per second, so that pages end
/// between events of the same second), plus data events the API never
/// returns.
fn generated_trail(regions: &[&str], n: usize) -> Vec<Value> {
    let names = [
        "AssumeRoleWithWebIdentity",
        "DescribeInstances",
        "GetCallerIdentity",
        "PutObject",
    ];
    let mut out = Vec::new();
    for region in regions {
        for i in 0..n {
            let t = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap()
                + chrono::Duration::seconds((i / 3) as i64);
            let name = names[i % names.len()];
            let data = name == "PutObject";
            out.push(json!({
                "eventVersion": "1.09",
                "eventID": format!("{region}-{i:05}"),
                "eventTime": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "eventName": name,
                "eventSource": if data { "s3.amazonaws.com" } else { "ec2.amazonaws.com" },
                "awsRegion": region,
                "eventCategory": if data { "Data" } else { "Management" },
                "managementEvent": !data,
                "readOnly": true,
                "recipientAccountId": "111122223333",
                "userIdentity": {
                    "type": "IAMUser",
                    "userName": format!("user{}", i % 3),
                    "arn": format!("arn:aws:iam::111122223333:user/user{}", i % 3),
                    "accessKeyId": format!("AKIAUSER{}EXAMPLE", i % 3),
                },
            }));
        }
    }
    out
}

fn ids_of(run: &Run) -> Vec<String> {
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.lines().skip(1).map(str::to_string).collect()
}

fn management_ids(trail: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = trail
        .iter()
        .filter(|e| e["managementEvent"] == true)
        .map(|e| e["eventID"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

const ALL_IDS: &str = "SELECT event_id FROM events ORDER BY event_id";

#[test]
fn a_multi_page_multi_region_pull_is_complete_and_never_throttled() {
    let regions = ["eu-west-1", "us-east-1", "us-west-2"];
    // 160 events, 120 of them management: three pages, the last short.
    let trail = generated_trail(&regions, 160);
    let fake = FakeAws::start(&trail, &[], &[]);
    let mut args = vec!["query", "--api", "--format", "csv"];
    for r in regions {
        args.extend(["--region", r]);
    }
    args.extend(WINDOW);
    args.push(ALL_IDS);
    let run = run_api(&fake, &args);
    let ids = ids_of(&run);
    assert_eq!(ids, management_ids(&trail), "none lost, none twice");

    fake.stats(|s| {
        assert_eq!(s.throttled, 0, "the pacing never provokes throttling");
        assert!(s.max_per_second() <= 2, "{}", s.max_per_second());
        for r in regions {
            assert_eq!(s.lookups[r].len(), 3, "{r}: 120 events in pages of 50");
            assert!(s.lookups[r].iter().all(|(_, l)| l == "all"));
        }
    });
}

#[test]
fn throttles_and_server_errors_are_retried_and_the_result_is_complete() {
    let regions = ["eu-west-1", "us-east-1"];
    let trail = generated_trail(&regions, 160);
    let faults = [
        (1, Fault::Throttle),
        (2, Fault::Throttle),
        (4, Fault::Status(500)),
        (6, Fault::Status(503)),
    ];
    let fake = FakeAws::start(&trail, &[], &faults);
    let base = [
        "query",
        "--api",
        "--region",
        "eu-west-1",
        "--region",
        "us-east-1",
    ];
    let run = run_api(
        &fake,
        &[&base[..], &["--format", "csv"], &WINDOW, &[ALL_IDS]].concat(),
    );
    assert_eq!(ids_of(&run), management_ids(&trail));
    assert_eq!(fake.stats(|s| s.injected), 4);
    assert_eq!(fake.stats(|s| s.throttled), 0);
    // 6 pages and 4 retries.
    assert_eq!(fake.stats(|s| s.lookup_requests()), 10);
}

#[test]
fn the_account_summary_counts_requests_pages_and_retries() {
    let trail = generated_trail(&["us-east-1"], 80);
    let fake = FakeAws::start(
        &trail,
        &[],
        &[(0, Fault::Throttle), (2, Fault::Status(502))],
    );
    let run = run_api(
        &fake,
        &[
            &[
                "report",
                "--api",
                "--format",
                "json",
                "--report",
                "iam-user-keys",
            ][..],
            &WINDOW,
        ]
        .concat(),
    );
    let doc = json(&run);
    let region = &doc["input"]["api"]["regions"][0];
    assert_eq!(region["region"], "us-east-1");
    assert_eq!(
        region["retried"],
        json!({"throttled": 1, "server-error": 1})
    );
    // Three keys, looked up one by one: 20 events each, one page each.
    assert_eq!(region["events"], json!([20, 20, 20]));
    assert_eq!(region["pages"], 3);
    assert_eq!(region["requests"], 5);
    assert_eq!(doc["summary"]["iam-user-keys"], 60);
    assert_eq!(
        doc["input"]["api"]["lookups"],
        json!([
            "AccessKeyId=AKIAUSER0EXAMPLE",
            "AccessKeyId=AKIAUSER1EXAMPLE",
            "AccessKeyId=AKIAUSER2EXAMPLE"
        ])
    );
}

#[test]
fn iam_user_keys_are_found_key_by_key_exactly_as_in_the_files() {
    // The sample trail's key uses, plus noise the lookups must not bring:
    // temporary keys and other events.
    let trail = load_trail(&root().join("sample-logs"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trail.json");
    std::fs::write(&file, json!({ "Records": trail }).to_string()).unwrap();
    let fake = FakeAws::start(&trail, &[], &[]);
    let report = ["report", "--report", "iam-user-keys", "--format", "json"];
    let from_logs = ctaudit_env(
        &[&report[..], &["--logs", path_str(&file)], &WINDOW].concat(),
        &[],
    );
    let from_api = run_api(
        &fake,
        &[
            &report[..],
            &["--api", "--region", "us-east-1", "--region", "eu-central-1"],
            &WINDOW,
        ]
        .concat(),
    );
    assert_eq!(findings(&from_api), findings(&from_logs));
    let expected_uses = trail
        .iter()
        .filter(|e| {
            e["userIdentity"]["accessKeyId"]
                .as_str()
                .is_some_and(|k| k.starts_with("AKIA"))
        })
        .count() as u64;
    let doc = json(&from_api);
    // Every AKIA event came back, and nothing but key lookups were asked.
    assert_eq!(doc["input"]["events_kept"].as_u64().unwrap(), expected_uses);
    let lookups = doc["input"]["api"]["lookups"].as_array().unwrap();
    assert!(lookups.iter().all(|l| {
        let l = l.as_str().unwrap();
        l.starts_with("AccessKeyId=AKIA") || l == "Username=root"
    }));
    assert!(fake.stats(|s| s.other.contains_key("iam:ListUsers")));
    assert!(fake.stats(|s| s.other.contains_key("iam:GetAccountSummary")));
}

#[test]
fn since_older_than_the_api_history_is_an_error() {
    let fake = FakeAws::start(&[], &[], &[]);
    let run = run_api(
        &fake,
        &[
            "report",
            "--api",
            "--since",
            "2026-07-01",
            "--now",
            "2026-11-23T00:00:00Z",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("older than the 90 days"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--s3"), "{}", run.stderr);
    assert_eq!(fake.stats(|s| s.lookup_requests()), 0);
}

#[test]
fn a_region_that_fails_is_named_and_the_others_are_still_reported() {
    let regions = ["eu-west-1", "us-east-1"];
    let trail = generated_trail(&regions, 40);
    // The first request gets a client error: not retried.
    let fake = FakeAws::start(&trail, &[], &[(0, Fault::Status(400))]);
    let args = [
        &[
            "query",
            "--api",
            "--region",
            "eu-west-1",
            "--region",
            "us-east-1",
            "--format",
            "csv",
        ][..],
        &WINDOW,
        &[ALL_IDS],
    ]
    .concat();
    let run = run_api(&fake, &args);
    assert_eq!(run.code, 2, "a failed region makes the exit status 2");
    assert!(run.stderr.contains("cloudtrail-api:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("stopped querying this region"),
        "{}",
        run.stderr
    );
    let ids: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(ids.len(), 30, "the other region's 30 management events");
}

#[test]
fn no_region_and_no_credentials_are_clear_errors() {
    let fake = FakeAws::start(&[], &[], &[]);
    let env: Vec<_> = aws_env(&fake.url())
        .into_iter()
        .filter(|(k, _)| *k != "AWS_REGION")
        .collect();
    let run = ctaudit_env(&["report", "--api", "--since", "1d"], &env);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("which regions?"), "{}", run.stderr);

    let run = ctaudit_env(
        &["report", "--api", "--region", "us-east-1", "--since", "1d"],
        &[("AWS_ENDPOINT_URL", fake.url())],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.to_lowercase().contains("credentials"),
        "{}",
        run.stderr
    );
}

/// Not a test of speed (tests never time): prints how long a pull of many
/// pages takes, for the README:
/// `cargo test --test integration aws_api:: -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_api_pull_rate() {
    let regions = ["eu-west-1", "us-east-1", "us-west-2"];
    let per_region = 2_500 * 4 / 3; // 2,500 management events per region
    let trail = generated_trail(&regions, per_region);
    let fake = FakeAws::start(&trail, &[], &[]);
    for n in [1, 3] {
        // The endpoint's rate limit spans processes, as AWS's does.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let mut args = vec!["query", "--api", "--format", "csv"];
        for r in &regions[..n] {
            args.extend(["--region", r]);
        }
        args.extend(WINDOW);
        args.push("SELECT count(*) AS n FROM events");
        let t = std::time::Instant::now();
        let run = run_api(&fake, &args);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let events: f64 = run.stdout.lines().nth(1).unwrap().parse().unwrap();
        println!(
            "{n} region(s): {events} events in {secs:.1} s; N/50/2 per region = {:.1} s; {:.0} events/s",
            events / n as f64 / 50.0 / 2.0,
            events / secs
        );
    }
    println!("throttled: {}", fake.stats(|s| s.throttled));
}

#[test]
fn ingest_from_the_api_fills_the_store() {
    let regions = ["eu-west-1", "us-east-1"];
    let trail = generated_trail(&regions, 80);
    let fake = FakeAws::start(&trail, &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let store = path_str(dir.path());
    let ingest = [
        &[
            "ingest",
            "--api",
            "--region",
            "eu-west-1",
            "--region",
            "us-east-1",
            "--store",
            store,
        ][..],
        &WINDOW,
    ]
    .concat();
    let run = run_api(&fake, &ingest);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("120 events added"), "{}", run.stdout);
    let run = ctaudit_env(
        &["query", "--store", store, "--format", "csv", ALL_IDS],
        &[],
    );
    assert_eq!(ids_of(&run), management_ids(&trail));
    // Pulling again reads only the overlap before the newest event of
    // each region (the store's state says where), and passes over the
    // events it holds: nothing is added or counted twice.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = run_api(&fake, &ingest);
    assert!(
        run.stdout.contains("0 events added, 0 already stored"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("skipped, already read by an earlier run (--state): "),
        "{}",
        run.stdout
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    let marks = state["api"].as_object().unwrap();
    assert_eq!(
        marks.keys().collect::<Vec<_>>(),
        ["111122223333/eu-west-1", "111122223333/us-east-1"]
    );
    // --reread asks for everything again; the store still adds nothing.
    let reread = [&ingest[..], &["--reread"]].concat();
    let run = run_api(&fake, &reread);
    assert!(
        run.stdout.contains("0 events added, 120 already stored"),
        "{}",
        run.stdout
    );
}

#[test]
fn progress_is_shown_on_a_terminal() {
    // util-linux's `script` runs ctaudit on a pseudo-terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED progress_is_shown_on_a_terminal: `script` (util-linux) is not installed"
        );
        return;
    }
    let trail = generated_trail(&["us-east-1"], 200);
    let fake = FakeAws::start(&trail, &[], &[]);
    let cmd = format!(
        "{} query --api --region us-east-1 {} 'SELECT count(*) AS n FROM events'",
        env!("CARGO_BIN_EXE_ctaudit"),
        WINDOW.join(" ")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .envs(aws_env(&fake.url()))
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ctaudit: LookupEvents us-east-1:"), "{text}");
    assert!(
        text.contains("150"),
        "the count is printed after the progress line: {text}"
    );
    // Without a terminal there is no progress line.
    let run = run_api(
        &fake,
        &[
            "query",
            "--api",
            "--region",
            "us-east-1",
            "--now",
            "2026-11-23T00:00:00Z",
            "--since",
            "2026-11-16",
            "SELECT 1 AS x",
        ],
    );
    assert!(
        !run.stderr.contains("LookupEvents us-east-1:"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_profile_of_the_shared_files_gives_credentials_and_region() {
    let trail = generated_trail(&["eu-west-1", "us-east-1"], 40);
    let fake = FakeAws::start(&trail, &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let (config, credentials) = (dir.path().join("config"), dir.path().join("credentials"));
    std::fs::write(&config, "[profile audit]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[audit]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n",
    )
    .unwrap();
    let env = [
        ("AWS_ENDPOINT_URL", fake.url()),
        ("AWS_CONFIG_FILE", path_str(&config).to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            path_str(&credentials).to_string(),
        ),
    ];
    let args = [
        &["query", "--api", "--profile", "audit", "--format", "csv"][..],
        &WINDOW,
        &[ALL_IDS],
    ]
    .concat();
    let run = ctaudit_env(&args, &env);
    let ids = ids_of(&run);
    assert_eq!(ids.len(), 30);
    assert!(
        ids.iter().all(|id| id.starts_with("eu-west-1-")),
        "the profile's region"
    );
    // Without the profile there are no credentials.
    let args = [
        &["query", "--api", "--region", "eu-west-1"][..],
        &WINDOW,
        &[ALL_IDS],
    ]
    .concat();
    let run = ctaudit_env(&args, &env);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no AWS credentials"), "{}", run.stderr);
}

#[test]
fn a_report_with_a_state_resumes_each_region_and_counts_nothing_twice() {
    let trail = load_trail(&root().join("sample-logs"));
    let fake = FakeAws::start(&trail, &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let report = [
        &[
            "report",
            "--api",
            "--all-regions",
            "--policy",
            "sample-logs/policy.toml",
            "--state",
            path_str(&state),
            "--format",
            "json",
        ][..],
        &WINDOW,
    ]
    .concat();
    let first = run_api(&fake, &report);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(json(&first)["summary"]["iam-user-keys"], 12);
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let marks = saved["api"].as_object().unwrap().clone();
    assert!(!marks.is_empty());
    let requests_before = fake.stats(|s| s.starts.len());

    let second = run_api(&fake, &report);
    let doc = json(&second);
    assert_eq!(second.code, 0, "nothing new: {}", second.stderr);
    for (report, n) in doc["summary"].as_object().unwrap() {
        assert_eq!(n, 0, "{report} counted an event twice");
    }
    assert!(
        doc["input"]["events_skipped"]["already-read"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Each region was asked from 30 minutes before its newest event on.
    let starts = fake.stats(|s| s.starts[requests_before..].to_vec());
    assert!(!starts.is_empty());
    for (region, start) in starts {
        let mark = &marks[&format!("111122223333/{region}")];
        let newest = chrono::DateTime::parse_from_rfc3339(mark["newest"].as_str().unwrap())
            .unwrap()
            .timestamp() as f64;
        assert!(
            (start - (newest - 1800.0)).abs() < 1.0,
            "{region}: asked from {start}, newest {newest}"
        );
    }
}

/// `trace --api` asks for the assumptions, then for each selected key: the
/// timeline `trace --logs` gives on the same trail, with a handful of
/// requests where paging through every event would take dozens.
#[test]
fn trace_api_looks_up_only_the_sessions_and_their_keys() {
    let regions = ["eu-central-1", "us-east-1"];
    // The sample, in a trail of 2,000 other management events per region
    // (and 1,000 data events, which the API never returns).
    let mut trail = load_trail(&root().join("sample-logs"));
    trail.extend(
        generated_trail(&regions, 4_000)
            .into_iter()
            .filter(|e| e["eventName"] != "AssumeRoleWithWebIdentity"),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trail.json");
    std::fs::write(&file, json!({ "Records": trail }).to_string()).unwrap();
    let fake = FakeAws::start(&trail, &[], &[]);
    for selector in [
        vec!["--repo", "acme-contractor/tools"],
        vec!["--subject", "repo:acme/api:environment:*"],
    ] {
        let trace = ["trace", "--format", "json"];
        let from_logs = ctaudit_env(
            &[&trace[..], &selector, &["--logs", path_str(&file)], &WINDOW].concat(),
            &[],
        );
        let before = fake.stats(|s| s.lookup_requests());
        let from_api = run_api(
            &fake,
            &[&trace[..], &selector, &["--api", "--all-regions"], &WINDOW].concat(),
        );
        let asked = fake.stats(|s| s.lookup_requests()) - before;
        assert_eq!(from_api.code, 1, "{}", from_api.stderr);
        assert_eq!(json(&from_api), json(&from_logs), "{selector:?}");
        assert!(json(&from_api).as_array().unwrap().len() > 2);
        // It says how many requests it made: those the endpoint counted.
        assert!(
            from_api
                .stderr
                .contains(&format!("CloudTrail API: {asked} requests")),
            "{asked}: {}",
            from_api.stderr
        );
        // Every event, 50 a page, would take at least this many.
        let full: usize = regions
            .iter()
            .map(|r| {
                let n = trail
                    .iter()
                    .filter(|e| e["managementEvent"] != false && e["awsRegion"] == *r)
                    .count();
                n.div_ceil(50)
            })
            .sum();
        eprintln!("trace --api {selector:?}: {asked} requests, {full} to page through every event");
        assert!(asked * 4 < full, "{asked} requests, {full} for every event");
    }
    // Only the assumptions and keys were asked for, never every event.
    let asked: BTreeSet<String> = asked_for(&fake);
    assert!(
        asked.iter().all(
            |l| l == "EventName=AssumeRoleWithWebIdentity" || l.starts_with("AccessKeyId=ASIA")
        ),
        "{asked:?}"
    );
}

/// A long-lived key is looked up by itself; an event by its id.
#[test]
fn trace_api_by_key_and_by_event() {
    let trail = load_trail(&root().join("sample-logs"));
    let fake = FakeAws::start(&trail, &[], &[]);
    let key = trail
        .iter()
        .find_map(|e| {
            e["userIdentity"]["accessKeyId"]
                .as_str()
                .filter(|k| k.starts_with("AKIA"))
        })
        .unwrap();
    let call = trail
        .iter()
        .find(|e| {
            e["userIdentity"]["accessKeyId"]
                .as_str()
                .is_some_and(|k| k.starts_with("ASIA"))
        })
        .unwrap()["eventID"]
        .as_str()
        .unwrap();
    for selector in [["--access-key", key], ["--event-id", call]] {
        let trace = ["trace", "--format", "json"];
        let from_logs = ctaudit_env(
            &[&trace[..], &selector, &["--logs", "sample-logs"], &WINDOW].concat(),
            &[],
        );
        let from_api = run_api(
            &fake,
            &[&trace[..], &selector, &["--api", "--all-regions"], &WINDOW].concat(),
        );
        assert_eq!(from_api.code, 1, "{}", from_api.stderr);
        assert_eq!(json(&from_api), json(&from_logs), "{selector:?}");
    }
    let asked: Vec<String> = asked_for(&fake);
    assert!(asked.contains(&format!("AccessKeyId={key}")));
    assert!(asked.contains(&format!("EventId={call}")));
    assert!(!asked.iter().any(|l| l == "all"), "{asked:?}");
}
