//! Where callers come from: each event's `source_ip` classed as
//! `github-actions`, `aws`, `private`, `aws-service` or `other`
//! ([`classes`]), and with `--geoip` its autonomous system and country
//! ([`geoip`]).
//!
//! Every distinct address is looked up once per frame (a frame of millions
//! of calls from a few thousand runners costs a few thousand lookups), and
//! each lookup is a binary search in a merged interval table per family
//! ([`ranges`]), never a scan of the blocks.

pub mod classes;
pub mod geoip;
pub mod ranges;

use std::net::IpAddr;

use polars::prelude::*;

use crate::frame::col;
use classes::{Classes, NetClass};
use geoip::{GeoIp, Place};

/// The enrichment's columns, in frame order.
pub const COLUMNS: [&str; 4] = [
    col::SOURCE_NETWORK,
    col::SOURCE_ASN,
    col::SOURCE_AS_ORG,
    col::SOURCE_COUNTRY,
];

/// The ranges and databases of one run.
pub struct Enricher {
    pub classes: Classes,
    pub geoip: Option<GeoIp>,
}

/// One distinct address's answers.
#[derive(Clone)]
struct Answer {
    class: NetClass,
    place: Place,
}

impl Enricher {
    /// What a caller's address says.
    fn answer(&self, source: &str) -> Answer {
        match source.trim().parse::<IpAddr>() {
            Ok(ip) => Answer {
                class: self.classes.of_ip(ip),
                place: self.geoip.as_ref().map(|g| g.place(ip)).unwrap_or_default(),
            },
            Err(_) => Answer {
                class: self.classes.classify(source),
                place: Place::default(),
            },
        }
    }

    /// Fills the enrichment columns of `frame` (the events frame's schema)
    /// from `source_ip`, where the frame has them.
    pub fn apply(&self, frame: &mut DataFrame) -> PolarsResult<()> {
        if frame.height() == 0 || frame.column(col::SOURCE_NETWORK).is_err() {
            return Ok(());
        }
        let ips = frame.column(col::SOURCE_IP)?.str()?.clone();
        // foldhash, seeded per process: addresses are attacker-chosen.
        let mut seen: PlHashMap<&str, u32> = PlHashMap::new();
        let mut answers: Vec<Answer> = Vec::new();
        let index: IdxCa = ips
            .iter()
            .map(|ip| {
                let ip = ip?;
                Some(*seen.entry(ip).or_insert_with(|| {
                    answers.push(self.answer(ip));
                    (answers.len() - 1) as IdxSize
                }))
            })
            .collect();
        // One value per distinct address, then taken row by row: a take
        // copies views, where building the column row by row copies text.
        let pick = |f: &dyn Fn(&Answer) -> Option<String>| -> PolarsResult<StringChunked> {
            let values: StringChunked = answers.iter().map(f).collect();
            if values.null_count() == values.len() {
                // Without GeoIP, three of the four columns: no row to visit.
                return Ok(StringChunked::full_null(PlSmallStr::EMPTY, index.len()));
            }
            values.take(&index)
        };
        let geo = self.geoip.is_some();
        let columns = [
            pick(&|a| Some(a.class.as_str().to_string()))?,
            pick(&|a| geo.then(|| a.place.asn.map(|n| n.to_string())).flatten())?,
            pick(&|a| a.place.as_org.clone())?,
            pick(&|a| a.place.country.clone())?,
        ];
        // Cut like the frame's other columns: a column whose chunks differ
        // makes polars copy the whole frame into one chunk later.
        let lengths: Vec<usize> = ips.chunk_lengths().collect();
        for (name, ca) in COLUMNS.iter().zip(columns) {
            let mut ca = ca.rechunk().into_owned();
            if lengths.len() > 1 {
                ca = ca.match_chunks(lengths.iter().copied());
            }
            frame.with_column(ca.with_name((*name).into()).into_column())?;
        }
        Ok(())
    }

    /// What the run classed callers by, for the report header and JSON.
    pub fn describe(&self) -> (serde_json::Value, Vec<String>) {
        let c = &self.classes;
        let geo = self.geoip.as_ref().map(GeoIp::describe);
        let mut lines = vec![format!(
            "networks: GitHub Actions ranges {} ({} blocks; Azure-wide: a match means GitHub-hosted or elsewhere on Azure), AWS ranges {} ({} blocks)",
            c.github_source.name, c.github_source.blocks, c.aws_source.name, c.aws_source.blocks
        )];
        lines.push(match &geo {
            Some(dbs) => format!("  GeoIP: {}", dbs.join(", ")),
            None => "  GeoIP: none (--geoip FILE.mmdb adds ASN and country)".to_string(),
        });
        let json = serde_json::json!({
            "github_actions": c.github_source,
            "aws": c.aws_source,
            "geoip": geo,
        });
        (json, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row gets its address's answer, however often the address comes
    /// back; a row without one gets none; the columns are cut like
    /// `source_ip`; without GeoIP the place columns are null.
    #[test]
    fn every_row_gets_its_address_s_answer() {
        let ips = [
            Some("10.0.0.1"),
            None,
            Some("s3.amazonaws.com"),
            Some("10.0.0.1"),
            Some("not an address"),
            None,
            Some("s3.amazonaws.com"),
        ];
        let mut first = StringChunked::from_iter(ips[..3].iter().copied());
        first
            .append(&StringChunked::from_iter(ips[3..].iter().copied()))
            .unwrap();
        let mut frame =
            DataFrame::new(
                ips.len(),
                std::iter::once(first.with_name(col::SOURCE_IP.into()).into_column())
                    .chain(COLUMNS.iter().map(|name| {
                        Column::full_null((*name).into(), ips.len(), &DataType::String)
                    }))
                    .collect(),
            )
            .unwrap();
        let enricher = Enricher {
            classes: Classes::load(None, None).unwrap(),
            geoip: None,
        };
        enricher.apply(&mut frame).unwrap();
        let network = frame.column(col::SOURCE_NETWORK).unwrap().str().unwrap();
        let got: Vec<Option<&str>> = network.iter().collect();
        let private = Some("private");
        let service = Some("aws-service");
        assert_eq!(
            got,
            [
                private,
                None,
                service,
                private,
                Some("other"),
                None,
                service
            ]
        );
        assert_eq!(network.chunk_lengths().collect::<Vec<_>>(), [3, 4]);
        for name in &COLUMNS[1..] {
            assert_eq!(
                frame.column(name).unwrap().null_count(),
                ips.len(),
                "{name}"
            );
        }
    }
}
