//! Helpers shared by the integration tests.
#![allow(dead_code)]

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
    let out = Command::new(env!("CARGO_BIN_EXE_ctaudit"))
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

/// Parses stdout as JSON.
pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}):\n{}", run.stdout))
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
