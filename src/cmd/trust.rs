//! `ctaudit trust`: find trust policies, lint them, print the findings.

use std::io::Write;
use std::path::PathBuf;

use polars::prelude::*;

use crate::exit::ExitStatus;
use crate::output::escape::terminal;
use crate::output::{self, Format};
use crate::trust::source::read_paths;
use crate::trust::{CHECKS, Finding, lint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trust policy documents, `aws iam get-role`/`list-roles`/
    /// `get-account-authorization-details` output, or Terraform JSON
    /// (`terraform show -json`, state files); folders are walked.
    #[arg(value_name = "PATH", required_unless_present = "list")]
    pub paths: Vec<PathBuf>,

    /// List the checks (with --long, each one's documentation).
    #[arg(long)]
    pub list: bool,

    /// With --list: what each check flags, what an attacker can do, the fix.
    #[arg(long, requires = "list")]
    pub long: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// With --format csv, write cells as they are.
    #[arg(long)]
    pub csv_raw: bool,
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    if args.list {
        for c in CHECKS {
            writeln!(stdout, "{:<21}{:<10}{}", c.id(), c.severity(), c.title())?;
            if args.long {
                for line in c.doc().lines() {
                    writeln!(stdout, "    {line}")?;
                }
                writeln!(stdout)?;
            }
        }
        return Ok(ExitStatus::Clean);
    }
    let (docs, errors) = read_paths(&args.paths);
    for e in &errors {
        writeln!(stderr, "ctaudit: {}", terminal(&e.to_string()))?;
    }
    let findings: Vec<Finding> = docs.iter().flat_map(lint).collect();
    let statements: usize = docs.iter().map(|d| d.statements.len()).sum();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "ctaudit_version": env!("CARGO_PKG_VERSION"),
                "documents": docs.len(),
                "web_identity_statements": statements,
                "unreadable": errors.iter().map(|e| serde_json::json!({"source": e.source, "detail": e.detail})).collect::<Vec<_>>(),
                "findings": findings,
            });
            serde_json::to_writer_pretty(&mut *stdout, &doc)?;
            writeln!(stdout)?;
        }
        Format::Csv => output::write_frame(stdout, args.format, &frame(&findings)?, args.csv_raw)?,
        Format::Table | Format::Markdown => {
            let line = format!(
                "ctaudit trust: {} documents, {} web-identity statements, {} findings",
                docs.len(),
                statements,
                findings.len()
            );
            if args.format == Format::Markdown {
                writeln!(stdout, "# {line}\n")?;
            } else {
                writeln!(stdout, "{line}")?;
            }
            if !findings.is_empty() {
                output::write_frame(stdout, args.format, &frame(&findings)?, args.csv_raw)?;
            }
        }
    }
    Ok(if !errors.is_empty() {
        ExitStatus::Error
    } else if !findings.is_empty() {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// The findings as a frame, one row each, for the table, Markdown and CSV
/// writers (which escape every cell).
fn frame(findings: &[Finding]) -> PolarsResult<DataFrame> {
    let col = |name: &str, f: &dyn Fn(&Finding) -> Option<String>| {
        Column::new(name.into(), findings.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        findings.len(),
        vec![
            col("severity", &|f| Some(f.severity.to_string())),
            col("check", &|f| Some(f.check.to_string())),
            col("source", &|f| Some(f.source.clone())),
            col("role", &|f| f.role.clone()),
            col("statement", &|f| Some(f.statement.clone())),
            col("condition", &|f| Some(f.condition.clone())),
            col("problem", &|f| Some(f.problem.clone())),
            col("fix", &|f| Some(f.fix.clone())),
        ],
    )
}
