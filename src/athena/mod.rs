//! Amazon Athena as the scale-out engine: the same reports over an
//! organisation's whole trail, computed where the data is. [`table`] makes
//! the CloudTrail table (partition projection over account × region ×
//! day), [`sql`] writes the query a set of reports needs, [`rows`] turns
//! its result rows back into records for the usual parser; the client is
//! in `aws::athena`, the source in `cmd::source::athena`.

pub mod rows;
pub mod scan;
pub mod sql;
pub mod table;

use std::time::Duration;

/// `--athena` and where the table is: shared by the commands that read
/// events.
#[derive(Debug, Clone, clap::Args)]
pub struct AthenaArgs {
    /// Read the events on Amazon Athena, from the CloudTrail table
    /// `--database`.`--table` (`ctaudit athena table` makes one): only the
    /// rows and fields the reports need, over the window's partitions.
    /// Needs --since.
    #[arg(long)]
    pub athena: bool,

    #[command(flatten)]
    pub place: Place,

    /// With --athena: stop the query (StopQueryExecution) after this many
    /// seconds.
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_S)]
    pub timeout_secs: u64,

    /// With --athena: print the SQL that would be sent, and send nothing.
    #[arg(long)]
    pub show_sql: bool,

    /// With --athena: refuse a query whose partitions hold more than this
    /// (`50GB`, `500MB`, `2TB`; `none` to skip the check), estimated before
    /// it is sent by listing the window's day folders in S3.
    #[arg(long, value_name = "SIZE", default_value = "50GB", value_parser = parse_size)]
    pub max_scan: ScanLimit,
}

/// Where the CloudTrail table is, and where its queries run.
#[derive(Debug, Clone, clap::Args)]
pub struct Place {
    /// The Glue database of the CloudTrail table (with --athena).
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub database: String,

    /// The CloudTrail table (with --athena).
    #[arg(long, value_name = "NAME", default_value = "cloudtrail")]
    pub table: String,

    /// The workgroup queries run in (default: the account's `primary`).
    #[arg(long, value_name = "NAME")]
    pub workgroup: Option<String>,

    /// Where Athena writes the result files (s3://…/), when the workgroup
    /// sets no location.
    #[arg(long, value_name = "S3_URL")]
    pub output_location: Option<String>,
}

impl Default for Place {
    fn default() -> Self {
        Place {
            database: "default".to_string(),
            table: "cloudtrail".to_string(),
            workgroup: None,
            output_location: None,
        }
    }
}

impl Place {
    /// Where a query runs and how long it may take.
    pub fn target(&self, database: &str, timeout: Duration) -> crate::aws::athena::Target {
        crate::aws::athena::Target {
            database: database.to_string(),
            workgroup: self.workgroup.clone(),
            output_location: self.output_location.clone(),
            timeout,
        }
    }
}

/// `--max-scan`: bytes, or no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanLimit(pub Option<u64>);

/// The default of `--max-scan`.
const DEFAULT_MAX_SCAN: u64 = 50_000_000_000;

/// A size: a number with `KB`, `MB`, `GB` or `TB` (powers of 1,000, as
/// Athena bills), or `none`.
pub fn parse_size(text: &str) -> Result<ScanLimit, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(ScanLimit(None));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 50GB (or `none`)"))?;
    let scale = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return Err(format!("`{text}`: the unit is one of B, KB, MB, GB, TB")),
    };
    Ok(ScanLimit(Some((n * scale) as u64)))
}

/// The same as clap's defaults (no --athena), for commands that build
/// their sources in code.
impl Default for AthenaArgs {
    fn default() -> Self {
        AthenaArgs {
            athena: false,
            place: Place::default(),
            timeout_secs: DEFAULT_TIMEOUT_S,
            show_sql: false,
            max_scan: ScanLimit(Some(DEFAULT_MAX_SCAN)),
        }
    }
}

/// The default of `--timeout`.
const DEFAULT_TIMEOUT_S: u64 = 1800;

impl AthenaArgs {
    pub fn target(&self) -> crate::aws::athena::Target {
        self.place.target(
            &self.place.database,
            Duration::from_secs(self.timeout_secs.max(1)),
        )
    }

    /// Whether any of the flags that go with --athena was given.
    pub fn any_given(&self) -> bool {
        self.place.database != "default"
            || self.place.table != "cloudtrail"
            || self.place.workgroup.is_some()
            || self.place.output_location.is_some()
            || self.timeout_secs != DEFAULT_TIMEOUT_S
            || self.show_sql
            || self.max_scan != ScanLimit(Some(DEFAULT_MAX_SCAN))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_are_read_in_billing_units() {
        use super::{ScanLimit, parse_size};
        assert_eq!(parse_size("50GB"), Ok(ScanLimit(Some(50_000_000_000))));
        assert_eq!(parse_size("1.5 tb"), Ok(ScanLimit(Some(1_500_000_000_000))));
        assert_eq!(parse_size("none"), Ok(ScanLimit(None)));
        assert!(parse_size("5 parsecs").is_err());
    }
}

#[cfg(test)]
mod default_tests {
    /// Built in code, the arguments are those clap gives when no flag is
    /// passed (a command that makes its own source must not look as if
    /// --athena flags were given).
    #[test]
    fn the_default_is_clap_s_default() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            athena: super::AthenaArgs,
        }
        let parsed = Cli::parse_from(["x"]).athena;
        let built = super::AthenaArgs::default();
        assert!(!parsed.any_given() && !built.any_given());
        assert_eq!(format!("{parsed:?}"), format!("{built:?}"));
    }
}
