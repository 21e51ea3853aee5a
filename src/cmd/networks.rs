//! `--github-meta`, `--aws-ranges` and `--geoip`: what callers' addresses
//! are classed by, shared by every command that reads events.

use std::path::PathBuf;

use crate::network::Enricher;
use crate::network::classes::Classes;
use crate::network::geoip::GeoIp;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct NetworkArgs {
    /// GitHub's Actions ranges: a fresh download of
    /// https://api.github.com/meta, or a plain CIDR list. Default: the
    /// snapshot built into ctaudit (its date is in every report).
    #[arg(long, value_name = "FILE")]
    pub github_meta: Option<PathBuf>,

    /// AWS's ranges: https://ip-ranges.amazonaws.com/ip-ranges.json, or a
    /// plain CIDR list. Default: the built-in snapshot.
    #[arg(long, value_name = "FILE")]
    pub aws_ranges: Option<PathBuf>,

    /// A MaxMind DB file (repeatable: a country and an ASN database) for
    /// each caller's autonomous system and country.
    #[arg(long, value_name = "FILE.mmdb", action = clap::ArgAction::Append)]
    pub geoip: Vec<PathBuf>,
}

impl NetworkArgs {
    /// Loads the ranges and opens the databases (once per run).
    pub fn enricher(&self) -> anyhow::Result<Enricher> {
        self.enricher_for(None)
    }

    /// Like [`NetworkArgs::enricher`], with the policy's `[network]` range
    /// files where no flag names one.
    pub fn enricher_for(&self, policy: Option<&crate::policy::Policy>) -> anyhow::Result<Enricher> {
        let (github, aws) = policy.map(|p| p.range_files.clone()).unwrap_or_default();
        let classes = Classes::load(
            self.github_meta.as_deref().or(github.as_deref()),
            self.aws_ranges.as_deref().or(aws.as_deref()),
        )?;
        let geoip = if self.geoip.is_empty() {
            None
        } else {
            Some(GeoIp::open(&self.geoip)?)
        };
        Ok(Enricher { classes, geoip })
    }
}
