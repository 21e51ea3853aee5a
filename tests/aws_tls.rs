//! The SDK's HTTPS client (`ctaudit::aws::https_client`: rustls on ring)
//! against the loopback CloudTrail endpoint behind a TLS front
//! (`common/tls_front.py`, certificates by trustme): the same findings as
//! over plain HTTP when its authority is trusted (`SSL_CERT_FILE`), a clear
//! refusal when it is not.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

fn report(endpoint: &str, ca: Option<&str>) -> Run {
    let mut env = aws_env(endpoint);
    if let Some(ca) = ca {
        env.push(("SSL_CERT_FILE", ca.to_string()));
    }
    let args = [
        &["report", "--api", "--policy", "sample-logs/policy.toml"][..],
        &["--format", "json"],
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
    let mut port = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut port)
        .expect("the front's port");
    let _front = Front(child);
    let https = format!("https://127.0.0.1:{}", port.trim());

    let plain = report(&fake.url(), None);
    assert_eq!(plain.code, 1, "findings → exit 1\n{}", plain.stderr);
    let secure = report(&https, Some(path_str(&ca)));
    assert_eq!(secure.code, 1, "{}", secure.stderr);
    assert_eq!(findings(&secure), findings(&plain));
    assert!(findings(&secure).0.as_array().is_some_and(|f| f.len() > 10));

    // Not retried: another attempt would be refused the same way.
    let refused = report(&https, Some(path_str(&other)));
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("invalid peer certificate")
            && !refused.stderr.contains("gave up after"),
        "{}",
        refused.stderr
    );
}
