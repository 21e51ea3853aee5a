//! The command line: one subcommand per module in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd;

/// Audit how CI systems get into AWS: GitHub Actions OIDC role assumptions
/// and long-lived IAM user keys, from CloudTrail.
#[derive(Debug, Parser)]
#[command(name = "ctaudit", version, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 no findings, 1 findings, 2 error (the report is still written)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the audit reports over CloudTrail logs.
    Report(cmd::report::Args),
    /// List the reports, with their documentation.
    ListReports(cmd::list_reports::Args),
    /// Parse logs once into a local Parquet store for fast investigation.
    Ingest(cmd::ingest::Args),
    /// Amazon Athena: the CloudTrail table ctaudit's `--athena` queries.
    Athena(cmd::athena::Args),
    /// Merge the part files daily ingests leave into one file per day.
    Compact(cmd::compact::Args),
    /// Run SQL over the events (table `events`), from a store or from logs.
    Query(cmd::query::Args),
    /// Follow sessions to everything they did: by repository, subject, role, key or event.
    Trace(cmd::trace::Args),
    /// Lint OIDC trust policies: who can assume each role, and how to tighten it.
    Trust(cmd::trust::Args),
    /// Draft a policy file from what was seen (`policy suggest`).
    Policy(cmd::policy::Args),
}
