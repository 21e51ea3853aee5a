//! The exit status of a run, documented in the README.

use std::process::ExitCode;

/// 0 clean, 1 findings, 2 error. An error outranks findings: a run that
/// could not read some input exits 2 even though it still wrote its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// The run completed and found nothing.
    Clean = 0,
    /// The run completed and reported findings.
    Findings = 1,
    /// Bad arguments, a bad policy, or input that could not be read.
    Error = 2,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s as u8)
    }
}
