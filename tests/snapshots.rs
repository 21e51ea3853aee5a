//! Snapshots of each report's output on the bundled sample trail, one per
//! report, named after it (`tests/snapshots/integration__snapshots__<report>.snap`).
//! Review changes with `cargo insta review` (or delete the file and re-run).

use crate::common;

use common::ctaudit;

fn report(id: &str, format: &str) -> String {
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        "sample-logs/policy.toml",
        "--report",
        id,
        "--format",
        format,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.stdout
}

#[test]
fn failures() {
    insta::assert_snapshot!("failures", report("failures", "markdown"));
}

#[test]
fn unexpected_subjects() {
    insta::assert_snapshot!(
        "unexpected-subjects",
        report("unexpected-subjects", "markdown")
    );
}

#[test]
fn off_hours() {
    insta::assert_snapshot!("off-hours", report("off-hours", "markdown"));
}

#[test]
fn iam_user_keys() {
    insta::assert_snapshot!("iam-user-keys", report("iam-user-keys", "markdown"));
}

#[test]
fn off_hours_as_csv() {
    insta::assert_snapshot!("off-hours-csv", report("off-hours", "csv"));
}

#[test]
fn trust_changes() {
    insta::assert_snapshot!("trust-changes", report("trust-changes", "markdown"));
}
