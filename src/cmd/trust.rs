//! `ctaudit trust`: find trust policies, lint them, print the findings.

use std::io::Write;
use std::path::PathBuf;

use polars::prelude::*;

use crate::aws::{AwsArgs, roles};
use crate::exit::ExitStatus;
use crate::output::escape::terminal;
use crate::output::{self, Format};
use crate::trust::json::Json;
use crate::trust::source::{Unreadable, embedded_policy, read_paths};
use crate::trust::{CHECKS, Document, Finding, lint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trust policy documents, `aws iam get-role`/`list-roles`/
    /// `get-account-authorization-details` output, or Terraform JSON
    /// (`terraform show -json`, state files); folders are walked.
    #[arg(value_name = "PATH", required_unless_present_any = ["list", "api"])]
    pub paths: Vec<PathBuf>,

    /// Read every role's trust policy and the OIDC providers from the
    /// account (IAM ListRoles, ListOpenIDConnectProviders,
    /// GetOpenIDConnectProvider), with the usual credential chain.
    #[arg(long)]
    pub api: bool,

    /// The named profile of the shared config and credentials files.
    #[arg(long, value_name = "NAME", requires = "api")]
    pub profile: Option<String>,

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
    let (mut docs, mut errors) = read_paths(&args.paths);
    let mut providers = Vec::new();
    if args.api {
        let aws = AwsArgs {
            profile: args.profile.clone(),
            ..AwsArgs::default()
        };
        let (rt, sdk) = aws.connect()?;
        match rt.block_on(roles::inventory(&sdk)) {
            Ok((roles, found)) => {
                providers = found;
                for role in roles {
                    let read = embedded_policy(&Json::Str(role.document)).and_then(|json| {
                        Document::new(role.arn.clone(), Some(role.arn.clone()), json)
                    });
                    match read {
                        Ok(doc) => docs.push(doc),
                        Err(detail) => errors.push(Unreadable {
                            source: role.arn,
                            detail,
                        }),
                    }
                }
            }
            Err(detail) => errors.push(Unreadable {
                source: "iam".into(),
                detail,
            }),
        }
    }
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
                "oidc_providers": providers,
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
            for p in &providers {
                let text = format!(
                    "OIDC provider {}: client IDs {}, thumbprints {}",
                    p.url,
                    p.client_ids.join(", "),
                    p.thumbprints.join(", ")
                );
                if args.format == Format::Markdown {
                    writeln!(stdout, "- {}", output::escape::markdown(&text))?;
                } else {
                    writeln!(stdout, "  {}", terminal(&text))?;
                }
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
