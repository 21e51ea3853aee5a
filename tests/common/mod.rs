//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod athena;
pub mod fake_athena;
pub mod fake_aws;
pub mod http;
pub mod moto;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The outcome of one `ctaudit` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built `ctaudit` binary from the repository root.
pub fn ctaudit(args: &[&str]) -> Run {
    ctaudit_env(args, &[])
}

/// Runs `ctaudit` with these environment variables and no AWS settings
/// inherited from the machine (no profile, config file or metadata service).
pub fn ctaudit_env(args: &[&str], env: &[(&str, String)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctaudit"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/ctaudit-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/ctaudit-test/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .current_dir(root())
        .output()
        .expect("ctaudit runs");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus/real`, which CI always has beside the clone. In a clone
/// without it, says that the test is skipped and why, and returns `None`.
pub fn real_corpus(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/corpus/real");
    if dir.is_dir() {
        Some(dir.canonicalize().expect("corpus path"))
    } else {
        eprintln!(
            "SKIPPED {test}: the real CloudTrail corpus is not at {} (it sits beside the clone in CI)",
            dir.display()
        );
        None
    }
}

/// How many cases a property test runs: `PROPTEST_CASES` when set (to
/// fuzz longer than CI does), else `ci`, the bounded count CI runs.
pub fn proptest_cases(ci: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci)
}

/// Parses stdout as JSON.
pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}):\n{}", run.stdout))
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Test credentials and an endpoint for every AWS service.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIDCTAUDITTEST".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "ctaudit-test-secret".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
    ]
}

/// Whether python3 can import `modules` (`"duckdb, sqlglot"`); when it
/// cannot, says that `test` is skipped, or fails when CTAUDIT_REQUIRE_PYDATA
/// is set (`.ci/run` installs them and sets it).
pub fn python_has(test: &str, modules: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CTAUDIT_REQUIRE_PYDATA").is_none(),
            "CTAUDIT_REQUIRE_PYDATA is set but python3 cannot import {modules}"
        );
        eprintln!("SKIPPED {test}: python3 with {modules} is not installed (.ci/run installs it)");
    }
    ok
}

/// The names `query --list` printed (its unindented lines): all of
/// `queries/`, eight or more.
pub fn named_queries(list: &Run) -> Vec<&str> {
    assert_eq!(list.code, 0, "{}", list.stderr);
    let names: Vec<&str> = list
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    names
}

/// `--param`s that every named query in `queries/` takes on the sample.
pub const QUERY_PARAMS: [&str; 6] = [
    "--param",
    "since=2026-11-19 00:00:00",
    "--param",
    "repo=acme/api",
    "--param",
    "prefix=20.",
];

/// `ingest --logs LOGS… --store STORE`, which must succeed.
pub fn ingest_logs(logs: &[&str], store: &Path) -> Run {
    let mut args = vec!["ingest", "--store", path_str(store), "--logs"];
    args.extend(logs);
    let run = ctaudit(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// A trail from the benchmark's generator (`scripts/gen-trail.py`, one
/// job) in `out`, with the policy it is judged by written to `policy` when
/// given; the generator must succeed.
pub fn gen_trail(out: &Path, events: u32, mix: &str, policy: Option<&Path>) {
    let mut command = Command::new("python3");
    command
        .args(["scripts/gen-trail.py", path_str(out), "--jobs", "1"])
        .args(["--events", &events.to_string(), "--mix", mix])
        .current_dir(root());
    if let Some(policy) = policy {
        command.args(["--policy", path_str(policy)]);
    }
    let made = command.output().expect("python3 runs the generator");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

/// The sample trail's log files (digests and the policy left out), sorted.
pub fn sample_log_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root().join("sample-logs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().contains("/CloudTrail/") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Every record of the sample trail, read independently of ctaudit.
pub fn sample_records() -> Vec<serde_json::Value> {
    load_trail(&root().join("sample-logs"))
}

/// Every record of the CloudTrail files (`.json`, `.json.gz`) under `dir`,
/// digest files left out.
pub fn load_trail(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let path = entry.expect("entry").path();
            let name = path.to_string_lossy().to_string();
            if path.is_dir() {
                if !name.ends_with("CloudTrail-Digest") {
                    stack.push(path);
                }
                continue;
            }
            let bytes = std::fs::read(&path).expect("readable file");
            let text = if name.ends_with(".gz") {
                let mut s = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut s,
                )
                .expect("gzip");
                s
            } else if name.ends_with(".json") {
                String::from_utf8(bytes).expect("utf-8")
            } else {
                continue;
            };
            let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if let Some(records) = doc["Records"].as_array() {
                out.extend(records.iter().cloned());
            }
        }
    }
    out
}

/// The window that holds the whole sample trail; `--now` keeps the
/// CloudTrail API's 90 days of history around it whatever the date of the
/// test run.
pub const SAMPLE_WINDOW: [&str; 6] = [
    "--since",
    "2026-11-16",
    "--until",
    "2026-11-23",
    "--now",
    "2026-11-23T00:00:00Z",
];

/// `report` on the sample trail with its policy (tests/summary.rs,
/// tests/html.rs, tests/browser.rs); the format and reports follow.
pub const SAMPLE_REPORT: [&str; 5] = [
    "report",
    "--logs",
    "sample-logs",
    "--policy",
    "sample-logs/policy.toml",
];

/// `findings` and `summary` of a JSON report: what must not depend on
/// where the events came from.
pub fn findings(run: &Run) -> (serde_json::Value, serde_json::Value) {
    let doc = json(run);
    (doc["findings"].clone(), doc["summary"].clone())
}

/// A trail whose every string is an attack on an HTML page (tests/html.rs,
/// tests/browser.rs).
#[allow(dead_code)]
pub fn hostile_page_trail(dir: &Path) {
    let subject = "repo:evil/<script>alert(1)</script>:ref:refs/heads/main";
    let ua = r#""><img src=x onerror=alert(2)>' onmouseover='alert(3)"#;
    let ok = |id: &str, t: &str| {
        serde_json::json!({
            "eventVersion": "1.09", "eventTime": t, "eventID": id,
            "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
            "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
            "sourceIPAddress": "203.0.113.9", "userAgent": ua,
            "userIdentity": {"type": "WebIdentityUser", "userName": subject,
                "identityProvider": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
            "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/</style><script>alert(4)</script>",
                "roleSessionName": "</title><svg onload=alert(5)>"},
            "responseElements": {"credentials": {"accessKeyId": "ASIAHOSTILE000000001", "sessionToken": "SECRET-TOKEN",
                "expiration": "Nov 17, 2026, 11:00:00 AM"}}
        })
    };
    let mut failed = ok("f1", "2026-11-17T10:05:00Z");
    failed["errorCode"] = serde_json::json!("<svg/onload=alert(6)>");
    failed["errorMessage"] = serde_json::json!("\u{1b}[2J</td></tr></table><h1>all clear</h1>");
    failed["responseElements"] = serde_json::Value::Null;
    let key = serde_json::json!({
        "eventVersion": "1.09", "eventTime": "2026-11-17T11:00:00Z", "eventID": "k1",
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333", "sourceIPAddress": "203.0.113.9", "userAgent": ua,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/<b>mallory</b>",
            "accountId": "111122223333", "accessKeyId": "AKIAMALLORY000000001", "userName": "<b>mallory</b>"}
    });
    let records = serde_json::json!({"Records": [ok("s1", "2026-11-17T10:00:00Z"), failed, key]});
    std::fs::write(dir.join("hostile.json"), records.to_string()).unwrap();
}

/// The body rows of the table `data-table="name"`, as cell texts (tags
/// stripped, entities left as they are).
pub fn html_rows(html: &str, name: &str) -> Vec<Vec<String>> {
    let open = format!("data-table=\"{name}\"");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no table {name}"));
    let end = start + html[start..].find("</table>").unwrap();
    let body = &html[start..end];
    let body = &body[body.find("<tbody>").unwrap()..];
    let tr = regex::Regex::new(r"(?s)<tr>(.*?)</tr>").unwrap();
    let td = regex::Regex::new(r"(?s)<td[^>]*>(.*?)</td>").unwrap();
    let tag = regex::Regex::new(r"<[^>]*>").unwrap();
    tr.captures_iter(body)
        .map(|r| {
            td.captures_iter(&r[1])
                .map(|c| tag.replace_all(&c[1], "").trim().to_string())
                .collect()
        })
        .collect()
}
