//! `ctaudit policy suggest`: a `policy.toml` drafted from the events.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::source::SourceArgs;
use crate::exit::ExitStatus;
use crate::output::escape::terminal;
use crate::policy::suggest::{observe, suggest};
use crate::trust::source::read_paths;
use crate::trust::traffic;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Draft a policy from what was seen: one [[roles]] entry per role
    /// assumed, with the exact subjects that assumed it; nobody allowed to
    /// keep IAM user keys; a commented [business_hours] template.
    Suggest(SuggestArgs),
}

#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Trust policies (files or folders, as `ctaudit trust` reads them):
    /// each role's entry is commented with what its trust policy admits.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,

    /// Write the policy to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let Command::Suggest(args) = &args.command;
    let (events, summary) = args.source.events(stderr)?;
    let events = events.collect().context("reading the events")?;
    let seen = observe(&events).context("finding the role assumptions")?;
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failed = summary.as_ref().is_some_and(|s| s.has_failures());
    if !args.trust.is_empty() {
        let (docs, errors) = read_paths(&args.trust);
        for e in &errors {
            writeln!(stderr, "ctaudit: {}", terminal(&e.to_string()))?;
        }
        failed |= !errors.is_empty();
        for doc in &docs {
            let Some(role) = &doc.role else { continue };
            notes.entry(role.clone()).or_default().extend(
                traffic::admits(doc)
                    .into_iter()
                    .map(|a| format!("trust policy: {a}")),
            );
        }
    }
    let about = match &args.source.store {
        Some(dir) => format!("store {}", dir.display()),
        None => format!(
            "{} events read",
            summary.as_ref().map_or(0, |s| s.events_read)
        ),
    };
    let text = suggest(&seen, &about, &notes);
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => stdout.write_all(text.as_bytes())?,
    }
    Ok(if failed {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}
