//! `ctaudit list-reports`: the report registry, with each report's docs.

use std::io::Write;

use crate::exit::ExitStatus;
use crate::reports::{PolicyNeed, REPORTS};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print each report's full documentation: what it flags, why it
    /// matters, how to fix it.
    #[arg(long)]
    pub long: bool,
}

pub fn run(args: &Args, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    for r in REPORTS {
        let needs = match r.policy_need() {
            PolicyNeed::Optional => "policy optional",
            PolicyNeed::Roles => "needs [[roles]]",
            PolicyNeed::BusinessHours => "needs [business_hours]",
        };
        writeln!(out, "{:<22}{} ({needs})", r.id(), r.title())?;
        if args.long {
            for line in r.doc().lines() {
                writeln!(out, "    {line}")?;
            }
            writeln!(out)?;
        }
    }
    Ok(ExitStatus::Clean)
}
