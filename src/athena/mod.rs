//! Amazon Athena as the scale-out engine: the same reports over an
//! organisation's whole trail, computed where the data is. [`table`] makes
//! the CloudTrail table (partition projection over account × region ×
//! day), [`sql`] writes the query a set of reports needs, [`rows`] turns
//! its result rows back into records for the usual parser; the client is
//! in `aws::athena`, the source in `cmd::source::athena`.

pub mod rows;
pub mod sql;
pub mod table;

use std::time::Duration;

/// `--athena` and where the table is: shared by the commands that read
/// events.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AthenaArgs {
    /// Read the events on Amazon Athena, from the CloudTrail table
    /// `--database`.`--table` (`ctaudit athena table` makes one): only the
    /// rows and fields the reports need, over the window's partitions.
    /// Needs --since.
    #[arg(long)]
    pub athena: bool,

    /// With --athena: the Glue database of the table.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub database: String,

    /// With --athena: the CloudTrail table.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail")]
    pub table: String,

    /// With --athena: the workgroup the query runs in (default: the
    /// account's `primary`).
    #[arg(long, value_name = "NAME")]
    pub workgroup: Option<String>,

    /// With --athena: where Athena writes the result files (s3://…/), when
    /// the workgroup sets no location.
    #[arg(long, value_name = "S3_URL")]
    pub output_location: Option<String>,

    /// With --athena: stop the query (StopQueryExecution) after this many
    /// seconds.
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = 1800)]
    pub timeout_secs: u64,

    /// With --athena: print the SQL that would be sent, and send nothing.
    #[arg(long)]
    pub show_sql: bool,
}

impl AthenaArgs {
    pub fn target(&self) -> crate::aws::athena::Target {
        crate::aws::athena::Target {
            database: self.database.clone(),
            workgroup: self.workgroup.clone(),
            output_location: self.output_location.clone(),
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
        }
    }

    /// Whether any of the flags that go with --athena was given.
    pub fn any_given(&self) -> bool {
        self.database != "default"
            || self.table != "cloudtrail"
            || self.workgroup.is_some()
            || self.output_location.is_some()
            || self.timeout_secs != 1800
            || self.show_sql
    }
}
