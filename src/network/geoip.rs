//! `--geoip FILE.mmdb` (repeatable): the caller's autonomous system and
//! country from MaxMind DB files, read with the `maxminddb` crate. MaxMind's
//! GeoLite2/GeoIP2 Country, City and ASN databases and the public-domain
//! ip-location-db databases (`country_code`; `autonomous_system_number`,
//! `autonomous_system_organization`) all work: each field is taken from the
//! first database that has it for the address.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Deserialize;

/// What the databases say of one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub country: Option<String>,
}

/// The shapes of the databases' records, all optional.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<Country<'a>>,
    #[serde(borrow)]
    registered_country: Option<Country<'a>>,
    /// ip-location-db's country databases.
    country_code: Option<&'a str>,
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

#[derive(Deserialize)]
struct Country<'a> {
    iso_code: Option<&'a str>,
}

/// The opened databases.
pub struct GeoIp {
    readers: Vec<(PathBuf, Reader<Vec<u8>>)>,
}

impl GeoIp {
    pub fn open(paths: &[PathBuf]) -> anyhow::Result<GeoIp> {
        let readers = paths
            .iter()
            .map(|p| {
                Reader::open_readfile(p)
                    .map(|r| (p.clone(), r))
                    .map_err(|e| {
                        anyhow::anyhow!("--geoip {}: not a MaxMind DB file: {e}", p.display())
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(GeoIp { readers })
    }

    /// The databases, named with their type and build date.
    pub fn describe(&self) -> Vec<String> {
        self.readers
            .iter()
            .map(|(p, r)| {
                let built = chrono::DateTime::from_timestamp(r.metadata.build_epoch as i64, 0)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                format!("{} ({}, built {built})", name(p), r.metadata.database_type)
            })
            .collect()
    }

    /// Looks an address up in every database. A database that cannot decode
    /// its record for the address is passed over.
    pub fn place(&self, ip: IpAddr) -> Place {
        let mut out = Place::default();
        for (_, reader) in &self.readers {
            let Ok(found) = reader.lookup(ip) else {
                continue;
            };
            let Ok(Some(rec)) = found.decode::<Record<'_>>() else {
                continue;
            };
            if out.country.is_none() {
                out.country = rec
                    .country
                    .and_then(|c| c.iso_code)
                    .or(rec.country_code)
                    .or(rec.registered_country.and_then(|c| c.iso_code))
                    .map(str::to_owned);
            }
            if out.asn.is_none() {
                out.asn = rec.autonomous_system_number;
                out.as_org = rec.autonomous_system_organization.map(str::to_owned);
            }
        }
        out
    }
}

fn name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
