//! End-to-end tests of the `ctaudit` command line on the bundled sample trail:
//! exit codes, every output format, filters, and bad input.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;

use common::{ctaudit, json, path_str};
use serde_json::Value;

const SAMPLE: &[&str] = &[
    "report",
    "--logs",
    "sample-logs",
    "--policy",
    "sample-logs/policy.toml",
];

fn sample(extra: &[&str]) -> common::Run {
    let args: Vec<&str> = SAMPLE.iter().chain(extra).copied().collect();
    ctaudit(&args)
}

/// Findings per report, from JSON output.
fn summary(v: &Value) -> BTreeMap<String, u64> {
    v["summary"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

#[test]
fn sample_table_shows_every_report_and_exits_1() {
    let run = sample(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    for line in [
        "failures: Failed OIDC role assumptions: 12 findings in 7 groups",
        "unexpected-subjects: Role assumptions from unexpected subjects or audiences: 7 findings in 7 groups",
        "off-hours: Role assumptions outside business hours: 5 findings in 5 groups",
        "iam-user-keys: Long-lived IAM user access keys in use: 12 findings in 5 groups",
        "events: 215 read, 84 kept",
        "findings: failures 12, unexpected-subjects 7, off-hours 5, iam-user-keys 12, trust-changes 4, new-subjects 0, unexpected-network 2, long-sessions 2, shared-roles 30",
        "unexpected-network: Callers outside their expected networks: 2 findings in 2 groups",
        "long-sessions: Role sessions asked for longer than allowed: 2 findings in 2 groups",
        "shared-roles: Roles shared by repositories, or by production and other contexts: 30 findings in 1 groups",
    ] {
        assert!(
            run.stdout.contains(line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn sample_json_has_findings_summary_and_input() {
    let run = sample(&["--format", "json"]);
    assert_eq!(run.code, 1);
    let v = json(&run);
    let expected: BTreeMap<String, u64> = [
        ("failures", 12),
        ("unexpected-subjects", 7),
        ("off-hours", 5),
        ("iam-user-keys", 12),
        ("trust-changes", 4),
        // A run with no history builds the baseline: nothing is new.
        ("new-subjects", 0),
        ("unexpected-network", 2),
        ("long-sessions", 2),
        ("shared-roles", 30),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(summary(&v), expected);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 74);
    for f in findings {
        for key in ["report", "severity", "event_id", "event_time"] {
            assert!(f[key].is_string(), "{key} missing in {f}");
        }
    }
    assert_eq!(v["input"]["files_read"], 103);
    assert_eq!(v["input"]["events_read"], 215);
    assert_eq!(v["input"]["events_kept"], 84);
    assert_eq!(v["input"]["events_skipped"]["not-needed"], 131);
    assert_eq!(v["input"]["files_skipped"]["digest"], 1);
    // The root key is the one critical key finding; AdministratorAccess on
    // the OIDC role the one critical trust change.
    let critical: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "critical")
        .collect();
    assert_eq!(critical.len(), 2);
    assert_eq!(critical[0]["identity"], "arn:aws:iam::111122223333:root");
    assert_eq!(critical[1]["event_name"], "AttachRolePolicy");
    // The allowed backup user and the key in CreateAccessKey's response are not findings.
    let keys: Vec<&str> = findings
        .iter()
        .filter(|f| f["report"] == "iam-user-keys")
        .filter_map(|f| f["access_key_id"].as_str())
        .collect();
    assert_eq!(keys.len(), 12);
    assert!(
        findings
            .iter()
            .all(|f| f["identity"] != "arn:aws:iam::111122223333:user/legacy-backup")
    );
}

#[test]
fn every_format_redacts_session_tokens() {
    for format in ["table", "json", "csv", "markdown"] {
        let run = sample(&["--format", format]);
        assert_eq!(run.code, 1, "{format}");
        for secret in ["IQoJb3JpZ2lu", "SECRET"] {
            assert!(
                !run.stdout.contains(secret),
                "{format} output leaks {secret}"
            );
        }
    }
}

#[test]
fn csv_has_one_row_per_finding() {
    let run = sample(&["--format", "csv"]);
    assert_eq!(run.code, 1);
    let mut rdr = csv::Reader::from_reader(run.stdout.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "report");
    assert_eq!(&headers[1], "severity");
    assert_eq!(&headers[2], "event_id");
    assert_eq!(&headers[3], "event_time");
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 74);
    // The input summary goes to stderr, the data to stdout.
    assert!(
        run.stderr.contains("events: 215 read, 84 kept"),
        "{}",
        run.stderr
    );
}

#[test]
fn markdown_has_a_section_per_report() {
    let run = sample(&["--format", "markdown"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("# ctaudit report\n"));
    for id in [
        "failures",
        "unexpected-subjects",
        "off-hours",
        "iam-user-keys",
    ] {
        assert!(run.stdout.contains(&format!("\n## {id}: ")), "{id}");
    }
    assert!(
        run.stdout.contains("| severity | role_arn"),
        "{}",
        run.stdout
    );
}

#[test]
fn report_flag_selects_reports_and_output_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let run = sample(&[
        "--report",
        "iam-user-keys",
        "--format",
        "json",
        "--output",
        path_str(&out),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(summary(&v).keys().collect::<Vec<_>>(), ["iam-user-keys"]);
    // Only the events that report needs were kept.
    assert_eq!(v["input"]["events_kept"], 13);
}

#[test]
fn without_a_policy_the_reports_that_need_one_say_so() {
    let run = ctaudit(&["report", "--logs", "sample-logs", "--format", "json"]);
    assert_eq!(run.code, 1);
    let v = json(&run);
    assert!(
        v["not_run"]["unexpected-subjects"]
            .as_str()
            .unwrap()
            .contains("--policy")
    );
    assert!(
        v["not_run"]["off-hours"]
            .as_str()
            .unwrap()
            .contains("--policy")
    );
    // Without a policy nobody is exempt from iam-user-keys.
    assert_eq!(summary(&v)["iam-user-keys"], 13);
    assert_eq!(summary(&v)["failures"], 12);
    let table = ctaudit(&["report", "--logs", "sample-logs"]);
    assert!(
        table.stdout.contains(
            "off-hours: Role assumptions outside business hours: not run: needs a policy"
        )
    );
}

#[test]
fn no_findings_exits_0() {
    let run = sample(&["--report", "failures", "--since", "2026-11-22"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("failures: Failed OIDC role assumptions: no findings")
    );
}

#[test]
fn window_prunes_day_folders_and_filters_events() {
    let run = sample(&[
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-20",
        "--format",
        "json",
    ]);
    let v = json(&run);
    // 16..=18 and 22 are pruned; the 19th and 21st may hold late deliveries.
    let pruned = v["input"]["files_skipped"]["pruned-folder"]
        .as_u64()
        .unwrap();
    assert!(pruned >= 4, "{pruned}");
    for f in v["findings"].as_array().unwrap() {
        assert!(
            f["event_time"].as_str().unwrap().starts_with("2026-11-20"),
            "{f}"
        );
    }
    assert!(
        v["input"]["events_skipped"]["outside-window"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Relative windows count back from now.
    let run = sample(&[
        "--since",
        "2d",
        "--now",
        "2026-11-22T12:00:00Z",
        "--format",
        "json",
    ]);
    let v = json(&run);
    assert_eq!(v["window"]["since"], "2026-11-20T12:00:00Z");
}

#[test]
fn bad_arguments_exit_2() {
    let run = sample(&["--since", "last tuesday"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--since: `last tuesday` is not a time"),
        "{}",
        run.stderr
    );
    let run = sample(&["--report", "nope"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'nope'"),
        "{}",
        run.stderr
    );
    let run = sample(&["--since", "2026-11-20", "--until", "2026-11-19"]);
    assert_eq!(run.code, 2);
}

#[test]
fn a_bad_policy_is_named_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[business_hours]\ntimezone = \"Europe/Berlln\"\n").unwrap();
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        path_str(&policy),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "{}:2:12: unknown time zone `Europe/Berlln`",
            policy.display()
        )),
        "{}",
        run.stderr
    );
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        "no-such-policy.toml",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot read policy no-such-policy.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn damaged_files_are_named_and_the_rest_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    // The sample's file holding the root-key call.
    let day =
        common::root().join("sample-logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22");
    let root_file = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("_20261122T0320Z_"))
        .expect("the sample root-key file");
    let good = std::fs::read(root_file).unwrap();
    std::fs::write(dir.path().join("good.json.gz"), &good).unwrap();
    // A gzip cut in half.
    let mut big = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let records: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"eventTime":"2026-11-16T10:{:02}:00Z","eventID":"t{i}","eventName":"GetObject","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u","accessKeyId":"AKIATRUNCATED"}}}}"#, i % 60))
        .collect();
    big.write_all(format!(r#"{{"Records":[{}]}}"#, records.join(",")).as_bytes())
        .unwrap();
    let big = big.finish().unwrap();
    std::fs::write(dir.path().join("truncated.json.gz"), &big[..big.len() / 2]).unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        r#"{"Records":[{"eventName":"A"},{"eventName":}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("lines.jsonl"),
        "{\"eventName\":\"A\"}\nnot json\n{\"eventName\":\"B\"}\n",
    )
    .unwrap();

    let run = ctaudit(&["report", "--logs", path_str(dir.path()), "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for (file, what) in [
        ("truncated.json.gz", "truncated gzip"),
        ("broken.json", "invalid JSON: record 1, line 1 column"),
        ("lines.jsonl", "invalid JSON: record 1, line 2 column 2"),
    ] {
        assert!(
            run.stderr
                .contains(&format!("{}: {what}", dir.path().join(file).display())),
            "{file}: {what}\n{}",
            run.stderr
        );
    }
    let v = json(&run);
    // The root key in the good file is still reported...
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "critical")
    );
    // ...and so are the records before the damage in the truncated file.
    let truncated = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["access_key_id"] == "AKIATRUNCATED")
        .count();
    assert!(truncated > 0 && truncated < 200, "{truncated}");
    let failed = v["input"]["files_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[2]["reason"], "truncated-gzip");
    assert_eq!(failed[2]["events_before_damage"], truncated);
}

#[test]
fn list_reports_prints_the_registry_with_docs() {
    let run = ctaudit(&["list-reports"]);
    assert_eq!(run.code, 0);
    let ids: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "failures",
            "unexpected-subjects",
            "off-hours",
            "iam-user-keys",
            "trust-changes",
            "new-subjects",
            "unexpected-network",
            "long-sessions",
            "shared-roles"
        ]
    );
    let run = ctaudit(&["list-reports", "--long"]);
    assert!(run.stdout.contains("**How to fix it.**"));
    assert_eq!(run.stdout.matches("**Why it matters.**").count(), 9);
}

#[test]
fn help_lists_report_names_from_the_registry() {
    let run = ctaudit(&["report", "--help"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("failures, unexpected-subjects, off-hours, iam-user-keys"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_path_is_an_error_but_the_rest_is_reported() {
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "no-such-dir",
        "--report",
        "failures",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no-such-dir: unreadable: No such file or directory"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("failures: Failed OIDC role assumptions: 12 findings"),
        "{}",
        run.stdout
    );
}

/// Large files are read on several threads; sending every file down that
/// path (`CTAUDIT_SPLIT_MIN_BYTES=0`) changes nothing in the output, on the
/// sample trail and on the real corpus (damaged files included).
#[test]
fn reading_within_files_in_parallel_gives_the_same_output() {
    let split = [("CTAUDIT_SPLIT_MIN_BYTES", "0".to_string())];
    let mut inputs = vec![common::root().join("sample-logs")];
    inputs.extend(common::real_corpus(
        "reading_within_files_in_parallel_gives_the_same_output",
    ));
    for input in inputs {
        let logs = path_str(&input);
        for args in [
            vec![
                "report",
                "--logs",
                logs,
                "--policy",
                "sample-logs/policy.toml",
                "--format",
                "json",
            ],
            vec![
                "query",
                "--logs",
                logs,
                "SELECT * FROM events ORDER BY event_id, source_file",
                "--format",
                "csv",
            ],
        ] {
            let one = common::ctaudit_env(&args, &[]);
            let many = common::ctaudit_env(&args, &split);
            assert_eq!(one.code, many.code, "{args:?}");
            assert_eq!(one.stdout, many.stdout, "{args:?}");
            assert_eq!(one.stderr, many.stderr, "{args:?}");
            assert!(one.stdout.len() > 1000);
        }
    }
}

/// `--fail-on` sets the severity that fails a run; lower findings are still
/// printed. `--output` placeholders name one file per run; in GitHub
/// Actions the Markdown report is appended to the job summary.
#[test]
fn unattended_runs_fail_on_output_names_and_job_summary() {
    let base = [
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        "sample-logs/policy.toml",
    ];
    let low_only =
        ctaudit(&[&base[..], &["--report", "off-hours", "--fail-on", "medium"]].concat());
    assert_eq!(low_only.code, 0, "{}", low_only.stderr);
    assert!(
        low_only.stdout.contains("5 findings"),
        "{}",
        low_only.stdout
    );
    let low = ctaudit(&[&base[..], &["--report", "off-hours"]].concat());
    assert_eq!(low.code, 1, "the default fails on any finding");
    let critical = ctaudit(&[&base[..], &["--fail-on", "critical"]].concat());
    assert_eq!(
        critical.code, 1,
        "the root key and the admin grant are critical"
    );

    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("weekly-{since}_{until}_{date}.md");
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let run = common::ctaudit_env(
        &[
            &base[..],
            &[
                "--since",
                "2026-11-16",
                "--until",
                "2026-11-22",
                "--now",
                "2026-11-23T00:00:00Z",
                "--output",
                path_str(&pattern),
                "-q",
            ],
        ]
        .concat(),
        &[("GITHUB_STEP_SUMMARY", path_str(&summary).to_string())],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let written = dir
        .path()
        .join("weekly-2026-11-16_2026-11-22_2026-11-23.md");
    assert!(written.exists());
    let job = std::fs::read_to_string(&summary).unwrap();
    assert!(job.starts_with("earlier step\n# ctaudit report"), "{job}");
    assert!(job.contains("## trust-changes"));
}
