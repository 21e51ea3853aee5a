//! `ctaudit athena table`: the CloudTrail table ctaudit queries on Athena,
//! printed (to review, or to run elsewhere) and, with `--apply`, created.

use std::io::Write;
use std::time::Duration;

use crate::athena::table::{TableSpec, check_values, hive_identifier};
use crate::aws::AwsArgs;
use crate::aws::s3::{self, S3Url, Scope};
use crate::exit::ExitStatus;
use crate::ingest::summary::InputSummary;
use crate::output::escape::terminal;
use crate::time::{Window, now_millis};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print (and with --apply create) the CloudTrail table, with partition
    /// projection over account × region × day.
    Table(TableArgs),
}

#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// The trail in S3: an organisation's `s3://bucket/AWSLogs/o-…/`, or
    /// `s3://bucket/AWSLogs/` for account folders directly under it.
    #[arg(long, value_name = "S3_URL", value_parser = parse_s3_url)]
    pub s3: S3Url,

    /// An account to project (repeatable). Default: the account folders
    /// listed under --s3.
    #[arg(long = "account", value_name = "ID", action = clap::ArgAction::Append)]
    pub accounts: Vec<String>,

    /// A region to project (repeatable). Default: the region folders listed.
    #[arg(long = "region", value_name = "REGION", action = clap::ArgAction::Append)]
    pub regions: Vec<String>,

    /// The first day the table projects (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", default_value = "2020-01-01")]
    pub first_day: chrono::NaiveDate,

    #[command(flatten)]
    pub place: crate::athena::Place,

    /// Create the database (if missing) and the table on Athena.
    #[arg(long)]
    pub apply: bool,

    /// The named profile of the shared config and credentials files.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

fn parse_s3_url(s: &str) -> Result<S3Url, String> {
    s.parse()
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let Command::Table(t) = &args.command;
    let aws = AwsArgs {
        profile: t.profile.clone(),
        ..Default::default()
    };
    let listed = t.accounts.is_empty() || t.regions.is_empty();
    let connected = if listed || t.apply {
        Some(aws.connect()?)
    } else {
        None
    };
    let (mut accounts, mut regions) = (t.accounts.clone(), t.regions.clone());
    if listed {
        let (rt, sdk) = connected.as_ref().expect("connected to list");
        let now = now_millis();
        let scope = Scope {
            // One day is enough to find every account and region folder.
            window: Window {
                since: Some(now - 86_400_000),
                until: Some(now),
            },
            now,
            accounts: t.accounts.clone(),
            regions: t.regions.clone(),
        };
        let client = rt
            .block_on(s3::bucket_client(sdk, &t.s3))
            .map_err(|e| anyhow::anyhow!("{}: {e}", t.s3))?;
        let mut summary = InputSummary::default();
        let listing = rt.block_on(s3::list(&client, &t.s3, &scope, &mut summary));
        for failure in &summary.files_failed {
            writeln!(stderr, "ctaudit: {}", terminal(&failure.to_string()))?;
        }
        if accounts.is_empty() {
            accounts = listing.accounts.into_iter().collect();
        }
        if regions.is_empty() {
            regions = listing.regions.into_iter().collect();
        }
    }
    check_values(&accounts, &regions).map_err(|e| anyhow::anyhow!("{}: {e}", t.s3))?;
    let spec = TableSpec {
        database: t.place.database.clone(),
        table: t.place.table.clone(),
        location: t.s3.to_string(),
        accounts,
        regions,
        first_day: t.first_day.format("%Y/%m/%d").to_string(),
    };
    let ddl = spec.ddl();
    writeln!(stdout, "{ddl};")?;
    if t.apply {
        let (rt, sdk) = connected.as_ref().expect("connected to apply");
        let target = t.place.target("default", Duration::from_secs(300));
        let mut ignore = |_: &[String], _| Ok(());
        for sql in [
            format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                hive_identifier(&t.place.database)
            ),
            ddl,
        ] {
            let done = rt.block_on(crate::aws::athena::run(sdk, &target, &sql, &mut ignore))?;
            writeln!(
                stderr,
                "ctaudit: Athena query {}: {}",
                terminal(&done.query_id),
                terminal(sql.lines().next().unwrap_or(""))
            )?;
        }
    }
    Ok(ExitStatus::Clean)
}
