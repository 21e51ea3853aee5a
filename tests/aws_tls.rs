//! The SDK's HTTPS client (`ctaudit::aws::https_client`: rustls on ring)
//! against the loopback CloudTrail endpoint behind a TLS front
//! (`common/tls_front.py`, certificates by trustme): the same findings as
//! over plain HTTP when its authority is trusted (`SSL_CERT_FILE`), a clear
//! refusal when it is not, after one attempt per API: the front counts the
//! handshakes refused, whether ctaudit paces the API (LookupEvents) or the
//! SDK retries it (IAM, Account, STS; `ctaudit::aws::TlsRefusal`).

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::fake_aws::FakeAws;
use common::{Run, SAMPLE_WINDOW, aws_env, ctaudit_env, findings, load_trail, path_str, root};

/// The TLS front, stopped when dropped.
struct Front(Child);

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `report --api` on the sample's window, JSON out, with `extra` arguments.
fn report(endpoint: &str, ca: Option<&str>, extra: &[&str]) -> Run {
    let mut env = aws_env(endpoint);
    if let Some(ca) = ca {
        env.push(("SSL_CERT_FILE", ca.to_string()));
    }
    let args = [
        &["report", "--api", "--policy", "sample-logs/policy.toml"][..],
        &["--format", "json"],
        extra,
        &SAMPLE_WINDOW,
    ]
    .concat();
    ctaudit_env(&args, &env)
}

#[test]
fn the_api_is_read_over_tls_and_an_untrusted_certificate_is_refused() {
    if !common::python_has("aws_tls", "trustme") {
        return;
    }
    let trail = load_trail(&root().join("sample-logs"));
    let fake = FakeAws::start(&trail, &[], &[]);
    let upstream = fake.url().rsplit(':').next().expect("a port").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, other) = (dir.path().join("ca.pem"), dir.path().join("other.pem"));
    let mut child = Command::new("python3")
        .arg(root().join("tests/common/tls_front.py"))
        .args([upstream.as_str(), path_str(&ca), path_str(&other)])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut front_out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut port = String::new();
    front_out.read_line(&mut port).expect("the front's port");
    let _front = Front(child);
    // The handshakes the client broke off, as the front prints them.
    let (tx, refusals) = mpsc::channel();
    std::thread::spawn(move || {
        for line in front_out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Once ctaudit has exited, its attempts are over: a refusal not yet
    // printed two seconds later is not coming.
    let attempts = || {
        std::iter::from_fn(|| refusals.recv_timeout(Duration::from_secs(2)).ok())
            .filter(|line| line == "refused")
            .count()
    };
    let https = format!("https://127.0.0.1:{}", port.trim());

    let plain = report(&fake.url(), None, &[]);
    assert_eq!(plain.code, 1, "findings → exit 1\n{}", plain.stderr);
    let secure = report(&https, Some(path_str(&ca)), &[]);
    assert_eq!(secure.code, 1, "{}", secure.stderr);
    assert_eq!(findings(&secure), findings(&plain));
    assert!(findings(&secure).0.as_array().is_some_and(|f| f.len() > 10));

    // With the other authority: refused (exit 2) with rustls' reason, never
    // after retries, in `expected` handshakes: one attempt per API, since
    // another would be refused the same way.
    let refused = |extra: &[&str], expected: usize, apis: &str| -> Run {
        let run = report(&https, Some(path_str(&other)), extra);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert!(
            run.stderr.contains("invalid peer certificate")
                && !run.stderr.contains("gave up after"),
            "{}",
            run.stderr
        );
        assert_eq!(attempts(), expected, "{apis}\n{}", run.stderr);
        run
    };
    // LookupEvents (paced by ctaudit) and IAM's ListUsers (the key
    // inventory, retried by the SDK but for TlsRefusal).
    refused(&[], 2, "lookup-events and iam:ListUsers once each");
    // The Account API (`--all-regions`) is retried by the SDK itself, which
    // takes a connector error for transient: TlsRefusal stops it at one.
    refused(&["--all-regions"], 1, "account:ListRegions once");
    // With a state, the account is asked of STS before any LookupEvents:
    // one attempt for IAM's key inventory, which fails and is reported,
    // then one for STS's GetCallerIdentity, which ends the run.
    let state = dir.path().join("state.json");
    let stated = refused(
        &["--state", path_str(&state)],
        2,
        "iam:ListUsers and sts:GetCallerIdentity once each",
    );
    assert!(
        stated.stderr.contains("GetCallerIdentity failed"),
        "{}",
        stated.stderr
    );
}
