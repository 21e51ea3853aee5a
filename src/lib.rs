//! ctaudit: audit how CI systems get into AWS, from CloudTrail.
//!
//! The data travels `ingest` (sources → records) → `frame` (records → the
//! events DataFrame) → `reports` (frame → findings) → `output` (findings →
//! table, JSON, CSV, Markdown). `cmd` holds one module per subcommand;
//! `main.rs` only parses arguments and turns the outcome into an exit code.

pub mod athena;
pub mod aws;
pub mod cli;
pub mod cmd;
pub mod deliver;
pub mod exit;
pub mod frame;
pub mod ingest;
pub mod kpi;
pub mod lockfile;
pub mod network;
pub mod output;
pub mod policy;
pub mod redact;
pub mod reports;
pub mod state;
pub mod store;
#[cfg(test)]
mod test_rng;
pub mod time;
pub mod trace;
pub mod trust;

use std::io::Write;

pub use exit::ExitStatus;

/// Runs one command line, writing results to `stdout` and everything else
/// to `stderr`.
pub fn run(
    cli: cli::Cli,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        cli::Command::Report(args) => cmd::report::run(args, stdout, stderr),
        cli::Command::ListReports(args) => cmd::list_reports::run(args, stdout),
        cli::Command::Ingest(args) => cmd::ingest::run(args, stdout, stderr),
        cli::Command::Athena(args) => cmd::athena::run(args, stdout, stderr),
        cli::Command::Compact(args) => cmd::compact::run(args, stdout, stderr),
        cli::Command::Query(args) => cmd::query::run(args, stdout, stderr),
        cli::Command::Trace(args) => cmd::trace::run(args, stdout, stderr),
        cli::Command::Trust(args) => cmd::trust::run(args, stdout, stderr),
        cli::Command::Policy(args) => cmd::policy::run(args, stdout, stderr),
    }
}
