//! How fast the record scanner finds and validates records, beside serde_json
//! doing the same (`&RawValue` per element), on one core, inputs in memory:
//!
//!   cargo run --release --example scan_speed -- DIR [MAX_FILES]
//!
//! Reads up to MAX_FILES (default 400) gzip or JSON CloudTrail files under
//! DIR, then times both readers over all of them five times. The scanner
//! classifies with AVX-512 where the processor has it, and checks the
//! grammar by token pairs where it has VBMI2 too; `CTAUDIT_SCAN=avx512` or
//! `=avx2` keeps it to those, to compare them.
use std::io::Read;
use std::time::Instant;

use serde_json::value::RawValue;

#[derive(serde::Deserialize)]
struct Top<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let max: usize = args.get(2).and_then(|m| m.parse().ok()).unwrap_or(400);
    let mut paths = Vec::new();
    files(std::path::Path::new(&args[1]), &mut paths);
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .take(max)
        .filter_map(|p| {
            let raw = std::fs::read(p).ok()?;
            let mut s = String::new();
            if raw.starts_with(&[0x1f, 0x8b]) {
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_string(&mut s)
                    .ok()?;
            } else {
                s = String::from_utf8(raw).ok()?;
            }
            Some(s)
        })
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("{} files, {:.1} MB", texts.len(), bytes as f64 / 1e6);
    // `scan` or `serde` as a third argument: that reader alone, once (for
    // valgrind, which counts instructions where timings are noisy).
    match args.get(3).map(String::as_str) {
        Some("scan") => {
            let n: usize = texts
                .iter()
                .map(|t| ctaudit::ingest::scan::records(t).map_or(0, |r| r.elements.len()))
                .sum();
            println!("{n} records");
            return;
        }
        Some("serde") => {
            let n: usize = texts
                .iter()
                .map(|t| serde_json::from_str::<Top>(t).map_or(0, |t| t.records.len()))
                .sum();
            println!("{n} records");
            return;
        }
        _ => {}
    }
    for _ in 0..5 {
        let t = Instant::now();
        let mut n = 0;
        for text in &texts {
            n += ctaudit::ingest::scan::records(text).map_or(0, |r| r.elements.len());
        }
        let scan = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut m = 0;
        for text in &texts {
            m += serde_json::from_str::<Top>(text).map_or(0, |t| t.records.len());
        }
        let serde = t.elapsed().as_secs_f64();
        println!(
            "scanner {:.0} MB/s ({n} records), serde {:.0} MB/s ({m} records)",
            bytes as f64 / 1e6 / scan,
            bytes as f64 / 1e6 / serde
        );
    }
}
