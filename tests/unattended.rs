//! Unattended runs: `--state` reads only what is new, `new-subjects`
//! reports what was never seen, `[[accept]]` silences exactly what it
//! matches until its date, `--webhook` delivers, and a run killed at any
//! point loses nothing and counts nothing twice.

use crate::common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::{ctaudit, json, path_str, root};
use serde_json::Value;

/// Copies `from` into `to`, keeping the files `keep` says yes to.
fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target, keep);
        } else if keep(&path) {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn day_of(path: &Path) -> Option<u32> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let i = parts.iter().position(|p| p == "2026")?;
    parts.get(i + 2)?.parse().ok()
}

/// Successful web-identity (role, subject) pairs and CloudTrail files of
/// the sample trail, by the day folder they were delivered in.
fn sample_pairs(days: std::ops::RangeInclusive<u32>) -> (BTreeSet<(String, String)>, usize) {
    let mut pairs = BTreeSet::new();
    let mut files = 0;
    let mut stack = vec![root().join("sample-logs/AWSLogs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("CloudTrail-Digest") {
                    stack.push(path);
                }
                continue;
            }
            if !day_of(&path).is_some_and(|d| days.contains(&d)) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let text = if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut s = String::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut s)
                    .unwrap();
                s
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            let Ok(doc) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let Some(records) = doc["Records"].as_array() else {
                continue;
            };
            files += 1;
            for r in records {
                if r["eventName"] == "AssumeRoleWithWebIdentity" && r["errorCode"].is_null() {
                    let role = r["requestParameters"]["roleArn"].as_str();
                    let subject = r["responseElements"]["subjectFromWebIdentityToken"].as_str();
                    if let (Some(role), Some(subject)) = (role, subject) {
                        pairs.insert((role.to_string(), subject.to_string()));
                    }
                }
            }
        }
    }
    (pairs, files)
}

fn report(logs: &Path, state: &Path, extra: &[&str]) -> common::Run {
    ctaudit(
        &[
            &[
                "report",
                "--logs",
                path_str(logs),
                "--policy",
                "sample-logs/policy.toml",
                "--state",
                path_str(state),
                "--format",
                "json",
            ][..],
            extra,
        ]
        .concat(),
    )
}

#[test]
fn a_new_day_is_read_alone_and_its_never_seen_pairs_are_new_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let state = dir.path().join("state.json");
    let sample = root().join("sample-logs");
    // Days 16 to 19 first; the 20th is the new day.
    copy_tree(&sample, &trail, &|p| day_of(p).is_none_or(|d| d <= 19));
    let first = report(&trail, &state, &[]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let doc = json(&first);
    assert_eq!(doc["summary"]["new-subjects"], 0);
    assert!(
        doc["notes"]["new-subjects"]
            .as_str()
            .unwrap()
            .contains("building the baseline"),
        "{doc}"
    );

    copy_tree(&sample, &trail, &|p| day_of(p) == Some(20));
    let second = report(&trail, &state, &[]);
    let doc = json(&second);
    let (before, before_files) = sample_pairs(16..=19);
    let (day, day_files) = sample_pairs(20..=20);
    assert_eq!(
        doc["input"]["files_read"], day_files as u64,
        "{}",
        doc["input"]
    );
    assert_eq!(
        doc["input"]["files_skipped"]["already-read"], before_files as u64,
        "{}",
        doc["input"]
    );
    let expected: BTreeSet<(String, String)> = day.difference(&before).cloned().collect();
    assert!(!expected.is_empty(), "the sample's 20th has new pairs");
    let found: BTreeSet<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["report"] == "new-subjects")
        .filter(|f| matches!(f["kind"].as_str(), Some("new-subject" | "new-repository")))
        .map(|f| {
            (
                f["role_arn"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(found, expected);
    // A repository that never used the role is the more severe kind.
    for f in doc["findings"].as_array().unwrap() {
        if f["kind"] == "new-repository" {
            assert_eq!(f["severity"], "high", "{f}");
        }
    }

    // Nothing new: nothing read, nothing new.
    let third = report(&trail, &state, &[]);
    let doc = json(&third);
    assert_eq!(doc["input"]["files_read"], 0);
    assert_eq!(doc["summary"]["new-subjects"], 0);
    assert!(doc["notes"].get("new-subjects").is_none());
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["runs"], 3);
    assert_eq!(
        saved["files"].as_object().unwrap().len(),
        before_files + day_files
    );
}

#[test]
fn the_store_before_the_window_is_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let store = path_str(dir.path());
    let ingest = ctaudit(&["ingest", "--logs", "sample-logs", "--store", store]);
    assert_eq!(ingest.code, 0, "{}", ingest.stderr);
    let run = ctaudit(&[
        "report",
        "--store",
        store,
        "--report",
        "new-subjects",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-21",
        "--format",
        "json",
    ]);
    let doc = json(&run);
    let (before, _) = sample_pairs(16..=19);
    let (day, _) = sample_pairs(20..=20);
    let expected: BTreeSet<(String, String)> = day.difference(&before).cloned().collect();
    let found: BTreeSet<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["kind"].as_str(), Some("new-subject" | "new-repository")))
        .map(|f| {
            (
                f["role_arn"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    // Event times and delivery folders agree on the sample's 20th.
    assert_eq!(found, expected, "{}", run.stderr);
    // No window start: no history, the baseline is being built.
    let open = ctaudit(&[
        "report",
        "--store",
        store,
        "--report",
        "new-subjects",
        "--format",
        "json",
    ]);
    assert!(json(&open)["notes"]["new-subjects"].is_string());
}

#[test]
fn a_damaged_file_is_not_marked_read_and_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    std::fs::create_dir_all(&trail).unwrap();
    let good = r#"{"Records":[{"eventTime":"2026-11-20T10:00:00Z","eventID":"g1","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAGOOD000000000001","arn":"arn:aws:iam::1:user/u"}}]}"#;
    std::fs::write(trail.join("good.json"), good).unwrap();
    std::fs::write(trail.join("damaged.json"), &good[..60]).unwrap();
    let state = dir.path().join("state.json");
    let args = |extra: &[&str]| {
        ctaudit(
            &[
                &[
                    "report",
                    "--logs",
                    path_str(&trail),
                    "--state",
                    path_str(&state),
                    "--format",
                    "json",
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let first = args(&[]);
    assert_eq!(
        first.code, 2,
        "a damaged file is an error: {}",
        first.stderr
    );
    assert!(first.stderr.contains("damaged.json"), "{}", first.stderr);
    let second = args(&[]);
    assert_eq!(second.code, 2, "and it is reported again");
    let doc = json(&second);
    assert_eq!(
        doc["input"]["files_read"], 1,
        "only the damaged file is read again"
    );
    assert_eq!(doc["input"]["files_skipped"]["already-read"], 1);
    assert_eq!(
        doc["summary"]["iam-user-keys"], 0,
        "the good file's use is not counted twice"
    );
}

#[test]
fn two_runs_on_one_state_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let lock = std::fs::File::create(dir.path().join("state.json.lock")).unwrap();
    lock.lock().unwrap();
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--state",
        path_str(&state),
        "--no-wait",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("in use by another run"),
        "{}",
        run.stderr
    );
    assert!(!state.exists());
    drop(lock);
    std::fs::write(&state, "{\"version\":1,\"files\":{").unwrap();
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--state",
        path_str(&state),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is damaged") && run.stderr.contains("move it aside"),
        "{}",
        run.stderr
    );
}

fn policy_with(dir: &Path, accept: &str) -> PathBuf {
    let base = std::fs::read_to_string(root().join("sample-logs/policy.toml")).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(&path, format!("{base}\n{accept}")).unwrap();
    path
}

const NOW: [&str; 2] = ["--now", "2026-11-23T00:00:00Z"];

#[test]
fn an_acceptance_silences_exactly_what_it_matches_until_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_with(
        dir.path(),
        r#"
[[accept]]
report = "iam-user-keys"
key = "AKIACCF20117CD3A14E6"
reason = "legacy CI user, replaced by OIDC in Q1 (TICKET-1)"
until = "2027-03-31"

[[accept]]
report = "failures"
role = "arn:aws:iam::111122223333:role/gha-staging-deploy"
error_code = "AccessDenied"
reason = "staging trust is being reworked"
until = "2026-11-30"

[[accept]]
report = "iam-user-keys"
user = "arn:aws:iam::111122223333:user/contractor"
reason = "contract ended"
until = "2026-11-01"

[[accept]]
report = "iam-user-keys"
key = "AKIANOTUSED000000000"
source_ip = "10.0.0.0/8"
reason = "nothing matches this"
until = "2027-01-01"
"#,
    );
    let run = ctaudit(
        &[
            &[
                "report",
                "--logs",
                "sample-logs",
                "--policy",
                path_str(&policy),
                "--format",
                "json",
            ][..],
            &NOW,
        ]
        .concat(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = json(&run);
    assert_eq!(doc["summary"]["iam-user-keys"], 12 - 6);
    // Three of the failures are the staging role's AccessDenied (one in the burst).
    assert_eq!(doc["summary"]["failures"], 12 - 3);
    let accepted = doc["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 9);
    assert!(accepted.iter().all(|a| a["accepted_reason"].is_string()));
    assert!(
        !doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["access_key_id"] == "AKIACCF20117CD3A14E6"),
        "accepted findings leave the findings"
    );
    let standing: Vec<(u64, &str, u64)> = doc["acceptances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["entry"].as_u64().unwrap(),
                a["standing"].as_str().unwrap(),
                a["findings"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        standing,
        [
            (1, "active", 6),
            (2, "expiring", 3),
            (3, "expired", 2),
            (4, "unused", 0)
        ]
    );
    // The contractor's acceptance expired: their findings are back.
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["access_key_id"] == "AKIAE21CA61ED0496D90")
    );

    // Table output lists the acceptances in their own section.
    let table = ctaudit(
        &[
            &[
                "report",
                "--logs",
                "sample-logs",
                "--policy",
                path_str(&policy),
            ][..],
            &NOW,
        ]
        .concat(),
    );
    assert!(
        table
            .stdout
            .contains("accepted findings: 9 findings accepted by 4 entries"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("expired (what they covered is reported above again)")
    );

    // The exit status follows what is left. Accepting the root key leaves
    // only high findings: --fail-on critical passes, the default fails.
    let keys_only = |accept: &str, fail_on: &str| {
        let policy = policy_with(dir.path(), accept);
        let args = [
            "report",
            "--logs",
            "sample-logs",
            "--policy",
            path_str(&policy),
            "--report",
            "iam-user-keys",
            "--fail-on",
            fail_on,
        ];
        ctaudit(&[&args[..], &NOW].concat()).code
    };
    let root_key = "[[accept]]\nreport = \"iam-user-keys\"\nuser = \"*:root\"\nreason = \"break-glass, rotated\"\nuntil = \"2027-01-01\"\n";
    assert_eq!(keys_only("", "critical"), 1, "the root key is critical");
    assert_eq!(keys_only(root_key, "critical"), 0);
    assert_eq!(keys_only(root_key, "low"), 1);
    let every_key = root_key.replace("*:root", "arn:aws:iam::111122223333:*");
    assert_eq!(keys_only(&every_key, "low"), 0, "everything accepted");
    // Expired, the same entry silences nothing.
    let expired = every_key.replace("2027-01-01", "2026-11-01");
    assert_eq!(keys_only(&expired, "critical"), 1);
}

#[test]
fn acceptances_that_cannot_match_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (entry, says) in [
        (
            "report = \"iam-user-keys\"\nkey = \"AKIA1\"\nuntil = \"2027-01-01\"",
            "no `reason`",
        ),
        (
            "report = \"iam-user-keys\"\nkey = \"AKIA1\"\nreason = \"r\"",
            "no `until`",
        ),
        (
            "report = \"iam-user-keys\"\nreason = \"r\"\nuntil = \"2027-01-01\"",
            "matches every finding",
        ),
        (
            "report = \"iam-user-keys\"\nkey = \"AKIA1\"\nreason = \"r\"\nuntil = \"next year\"",
            "not a date",
        ),
        (
            "report = \"no-such\"\nkey = \"AKIA1\"\nreason = \"r\"\nuntil = \"2027-01-01\"",
            "there is no report `no-such`",
        ),
        (
            "report = \"trust-changes\"\nerror_code = \"X\"\nreason = \"r\"\nuntil = \"2027-01-01\"",
            "have no `error_code`",
        ),
        (
            "report = \"failures\"\nsource_ip = \"10.0.0.0/99\"\nreason = \"r\"\nuntil = \"2027-01-01\"",
            "source_ip",
        ),
    ] {
        let policy = policy_with(dir.path(), &format!("[[accept]]\n{entry}\n"));
        let run = ctaudit(&[
            "report",
            "--logs",
            "sample-logs",
            "--policy",
            path_str(&policy),
        ]);
        assert_eq!(run.code, 2, "{entry}");
        assert!(run.stderr.contains(says), "{entry}: {}", run.stderr);
        assert!(run.stderr.contains("policy.toml"), "{}", run.stderr);
    }
}

/// A loopback HTTP server answering each request with the next status of
/// `statuses` (the last one again when they run out), recording bodies.
struct Hook {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

fn hook(statuses: &[u16]) -> Hook {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/secret",
        listener.local_addr().unwrap()
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (seen, statuses) = (bodies.clone(), statuses.to_vec());
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen.lock().unwrap().push(String::from_utf8(body).unwrap());
            let status = statuses[n.min(statuses.len() - 1)];
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    Hook { url, bodies }
}

#[test]
fn the_webhook_gets_a_short_summary_and_a_failed_delivery_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("weekly.md");
    let ok = hook(&[200]);
    let args = |url: &str| {
        [
            "report",
            "--logs",
            "sample-logs",
            "--policy",
            "sample-logs/policy.toml",
            "--format",
            "markdown",
            "-o",
            path_str(&out),
            "-q",
            "--webhook",
            url,
        ]
        .map(str::to_string)
        .to_vec()
    };
    let a = args(&ok.url);
    let run = ctaudit(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 1, "findings, delivered: {}", run.stderr);
    let bodies = ok.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let msg: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(msg["ctaudit"]["findings"], 74);
    assert_eq!(msg["ctaudit"]["per_report"]["iam-user-keys"], 12);
    assert_eq!(msg["ctaudit"]["top"][0]["severity"], "critical");
    assert!(
        msg["ctaudit"]["report_file"]
            .as_str()
            .unwrap()
            .ends_with("weekly.md")
    );
    let text = msg["text"].as_str().unwrap();
    assert!(text.starts_with("*ctaudit*: 74 findings"), "{text}");
    assert!(
        !text.contains('<'),
        "trail strings cannot mention or link: {text}"
    );

    // A server that keeps failing: three attempts, exit 2, the report written.
    std::fs::remove_file(&out).unwrap();
    let failing = hook(&[500, 503, 502]);
    let a = args(&failing.url);
    let run = ctaudit(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("webhook was not delivered")
            && run.stderr.contains("gave up after 3 attempts"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("secret"),
        "the webhook's path is its secret: {}",
        run.stderr
    );
    assert_eq!(failing.bodies.lock().unwrap().len(), 3);
    assert!(out.exists(), "the report is still written");

    // Recovers on the second attempt.
    let flaky = hook(&[503, 200]);
    let a = args(&flaky.url);
    assert_eq!(
        ctaudit(&a.iter().map(String::as_str).collect::<Vec<_>>()).code,
        1
    );
    assert_eq!(flaky.bodies.lock().unwrap().len(), 2);

    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let a = args(&url);
    let run = ctaudit(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// A generated trail of 40 files, made once for the kill tests.
fn generated_trail(dir: &Path) -> PathBuf {
    let trail = dir.join("trail");
    common::gen_trail(&trail, 20000, "lean", None);
    trail
}

fn spawn_and_kill(args: &[&str], after_ms: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctaudit"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(after_ms));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_run_killed_at_any_point_loses_nothing_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let trail = generated_trail(dir.path());
    let whole = ctaudit(&["report", "--logs", path_str(&trail), "--format", "json"]);
    let whole = json(&whole);
    let files = whole["input"]["files_read"].as_u64().unwrap();
    let events = whole["input"]["events_read"].as_u64().unwrap();
    for (i, after) in [0, 5, 20, 60, 150, 300, 600, 1200].into_iter().enumerate() {
        let state = dir.path().join(format!("state-{i}.json"));
        let args = [
            "report",
            "--logs",
            path_str(&trail),
            "--state",
            path_str(&state),
            "--format",
            "json",
        ];
        spawn_and_kill(&args, after);
        // The state is whole or absent, never half written.
        let before: Option<Value> = std::fs::read(&state)
            .ok()
            .map(|b| serde_json::from_slice(&b).expect("the state is valid JSON"));
        let recorded = before
            .as_ref()
            .map_or(0, |s| s["files"].as_object().unwrap().len() as u64);
        assert!(
            recorded == 0 || recorded == files,
            "all or nothing: {recorded}"
        );
        let again = ctaudit(&args);
        let doc = json(&again);
        assert_eq!(
            doc["input"]["files_read"].as_u64().unwrap() + recorded,
            files,
            "killed after {after} ms"
        );
        if recorded == 0 {
            assert_eq!(doc["input"]["events_read"].as_u64().unwrap(), events);
            assert_eq!(
                doc["summary"]["iam-user-keys"],
                whole["summary"]["iam-user-keys"]
            );
            assert_eq!(doc["summary"]["failures"], whole["summary"]["failures"]);
        } else {
            assert_eq!(doc["summary"]["iam-user-keys"], 0);
        }
        let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        assert_eq!(saved["files"].as_object().unwrap().len() as u64, files);
    }

    // An ingest killed part-way: the next one completes the store, and no
    // event is in it twice.
    for (i, after) in [30, 200, 700].into_iter().enumerate() {
        let store = dir.path().join(format!("store-{i}"));
        let args = [
            "ingest",
            "--logs",
            path_str(&trail),
            "--store",
            path_str(&store),
            "--batch-kib",
            "512",
        ];
        spawn_and_kill(&args, after);
        let run = ctaudit(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let q = ctaudit(&[
            "query",
            "--store",
            path_str(&store),
            "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events",
            "--format",
            "json",
        ]);
        assert_eq!(
            json(&q)[0],
            serde_json::json!({"n": events, "d": events}),
            "killed after {after} ms"
        );
    }
}

#[test]
fn trace_with_a_state_still_attributes_keys_issued_in_an_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    std::fs::create_dir_all(&trail).unwrap();
    let provider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
    let subject = "repo:acme/api:ref:refs/heads/main";
    let assume = format!(
        r#"{{"Records":[{{"eventTime":"2026-11-20T10:00:00Z","eventID":"assume-1","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com","sourceIPAddress":"4.148.0.1",
        "userIdentity":{{"type":"WebIdentityUser","principalId":"{provider}:sts.amazonaws.com:{subject}","userName":"{subject}","identityProvider":"{provider}"}},
        "requestParameters":{{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"GitHubActions"}},
        "responseElements":{{"credentials":{{"accessKeyId":"ASIAEARLIERRUN000001","sessionToken":"SECRET"}},"subjectFromWebIdentityToken":"{subject}","audience":"sts.amazonaws.com","provider":"{provider}"}}}}]}}"#
    );
    let call = |id: &str, t: &str| {
        format!(
            r#"{{"eventTime":"{t}","eventID":"{id}","eventName":"PutObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"4.148.0.1","userIdentity":{{"type":"AssumedRole","accessKeyId":"ASIAEARLIERRUN000001","arn":"arn:aws:sts::111122223333:assumed-role/deploy/GitHubActions"}}}}"#
        )
    };
    std::fs::write(trail.join("a.json"), &assume).unwrap();
    std::fs::write(
        trail.join("b.json"),
        format!(
            r#"{{"Records":[{}]}}"#,
            call("call-1", "2026-11-20T10:05:00Z")
        ),
    )
    .unwrap();
    let state = dir.path().join("trace-state.json");
    let trace = || {
        ctaudit(&[
            "trace",
            "--logs",
            path_str(&trail),
            "--repo",
            "acme/api",
            "--state",
            path_str(&state),
            "--format",
            "json",
        ])
    };
    let first = trace();
    assert_eq!(first.code, 1, "{}", first.stderr);
    let ids: Vec<String> = json(&first)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["assume-1", "call-1"]);
    // A later delivery: only it is read, and its call is still acme/api's.
    std::fs::write(
        trail.join("c.json"),
        format!(
            r#"{{"Records":[{}]}}"#,
            call("call-2", "2026-11-20T10:40:00Z")
        ),
    )
    .unwrap();
    let second = trace();
    assert_eq!(second.code, 1, "{}", second.stderr);
    let rows = json(&second);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["event_id"], "call-2");
    assert_eq!(rows[0]["via_repository"], "acme/api");
    assert_eq!(
        rows[0]["via_role_arn"],
        "arn:aws:iam::111122223333:role/deploy"
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(
        saved["sessions"]["ASIAEARLIERRUN000001"].is_object(),
        "{saved}"
    );
    assert!(!saved.to_string().contains("SECRET"));
}
