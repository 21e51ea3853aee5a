//! `ctaudit trust`: find trust policies, lint them, print the findings.

use std::io::Write;
use std::path::PathBuf;

use polars::prelude::*;

use std::collections::BTreeMap;

use super::reading::ReadArgs;
use super::source::{RemoteArgs, SourceArgs};
use super::window::WindowArgs;
use crate::aws::{AwsArgs, roles};
use crate::exit::ExitStatus;
use crate::frame::col as fcol;
use crate::output::escape::terminal;
use crate::output::{self, Format};
use crate::policy::suggest::observe;
use crate::trust::json::Json;
use crate::trust::source::{Unreadable, embedded_policy, read_paths};
use crate::trust::traffic::{self, RoleTraffic};
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

    /// Events to hold the trust policies against (log files or folders):
    /// each role's admitted subjects beside those that assumed it.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub logs: Vec<PathBuf>,

    /// Events from this store (made by `ctaudit ingest`), as with --logs.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub window: WindowArgs,

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
    let traffic = if args.logs.is_empty() && args.store.is_none() {
        None
    } else {
        let source = SourceArgs {
            store: args.store.clone(),
            logs: args.logs.clone(),
            remote: RemoteArgs::default(),
            read: args.read.clone(),
            window: args.window.clone(),
            networks: Default::default(),
        };
        let (events, summary) = source.events(stderr)?;
        if summary.is_some_and(|s| s.has_failures()) {
            errors.push(Unreadable {
                source: "events".into(),
                detail: "some log files could not be read (named above)".into(),
            });
        }
        let events = anyhow::Context::context(events.collect(), "reading the events")?;
        let seen = anyhow::Context::context(observe(&events), "finding the role assumptions")?;
        let denied =
            anyhow::Context::context(denied_subjects(&events), "finding the refused assumptions")?;
        Some(traffic::compare(&docs, &seen, &denied))
    };
    let traffic_rows: &[RoleTraffic] = traffic.as_deref().unwrap_or_default();
    let notable = traffic_rows.iter().filter(|t| t.verdict != "ok").count();
    let statements: usize = docs.iter().map(|d| d.statements.len()).sum();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "ctaudit_version": env!("CARGO_PKG_VERSION"),
                "documents": docs.len(),
                "web_identity_statements": statements,
                "oidc_providers": providers,
                "traffic": traffic,
                "unreadable": errors.iter().map(|e| serde_json::json!({"source": e.source, "detail": e.detail})).collect::<Vec<_>>(),
                "findings": findings,
            });
            serde_json::to_writer_pretty(&mut *stdout, &doc)?;
            writeln!(stdout)?;
        }
        Format::Csv | Format::Html => {
            output::write_frame(stdout, args.format, &frame(&findings)?, args.csv_raw)?
        }
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
            if traffic.is_some() {
                let title = "trust against traffic: what each role admits, and who assumed it";
                if args.format == Format::Markdown {
                    writeln!(stdout, "\n## {title}\n")?;
                } else {
                    writeln!(stdout, "\n{title}")?;
                }
                output::write_frame(
                    stdout,
                    args.format,
                    &traffic_frame(traffic_rows)?,
                    args.csv_raw,
                )?;
            }
        }
    }
    Ok(if !errors.is_empty() {
        ExitStatus::Error
    } else if !findings.is_empty() || notable > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// The subjects refused with `AccessDenied`, by role.
fn denied_subjects(events: &DataFrame) -> PolarsResult<BTreeMap<String, Vec<String>>> {
    let calls = events
        .clone()
        .lazy()
        .filter(col(fcol::EVENT_NAME).eq(lit(crate::ingest::WEB_IDENTITY)))
        .filter(col(fcol::ERROR_CODE).eq(lit("AccessDenied")))
        .select([col(fcol::ROLE_ARN), col(fcol::SUBJECT)])
        .unique(None, UniqueKeepStrategy::First)
        .collect()?;
    let roles = calls.column(fcol::ROLE_ARN)?.str()?;
    let subjects = calls.column(fcol::SUBJECT)?.str()?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (r, s) in roles.iter().zip(subjects.iter()) {
        if let (Some(r), Some(s)) = (r, s) {
            out.entry(r.to_string()).or_default().push(s.to_string());
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

/// The traffic rows as a frame.
fn traffic_frame(rows: &[RoleTraffic]) -> PolarsResult<DataFrame> {
    let col = |name: &str, f: &dyn Fn(&RoleTraffic) -> String| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        rows.len(),
        vec![
            col("role", &|r| r.role.clone()),
            col("verdict", &|r| r.verdict.to_string()),
            col("admits", &|r| r.admits.clone()),
            col("seen", &|r| r.seen.clone()),
            col("suggestion", &|r| r.suggestion.clone()),
        ],
    )
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
