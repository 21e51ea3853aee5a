//! Any bytes as one input file, read as `ingest` reads it and as `report`
//! reads it: nothing panics or aborts, every record is counted, and the two
//! agree on what was read and kept. Seed the corpus with
//! `sample-logs/` and `../shared/corpus/real/` files.
#![no_main]

use ctaudit::frame::col;
use ctaudit::ingest::summary::InputSummary;
use ctaudit::ingest::{Blob, IngestOptions, RowFilter, ingest_blobs};
use ctaudit::time::Window;
use libfuzzer_sys::fuzz_target;
use polars::prelude::DataFrame;

fn read(bytes: &[u8], opts: &IngestOptions) -> (DataFrame, InputSummary) {
    let blob = Blob {
        name: "fuzz.json".into(),
        size: bytes.len() as u64,
        bytes: Ok(bytes.to_vec()),
    };
    let got = ingest_blobs(std::iter::once(blob), opts).expect("a frame");
    (got.frame, got.summary)
}

fuzz_target!(|bytes: &[u8]| {
    let everything = IngestOptions::everything(Window::default());
    let report = IngestOptions {
        filter: RowFilter {
            web_identity: true,
            long_lived_keys: true,
            trust_changes: true,
            all: false,
        },
        payloads: false,
        ..everything
    };
    let (full, a) = read(bytes, &everything);
    let (kept, b) = read(bytes, &report);
    for (frame, s) in [(&full, &a), (&kept, &b)] {
        let skipped: u64 = s.events_skipped.values().sum();
        assert_eq!(s.events_kept + skipped, s.events_read);
        assert_eq!(frame.height() as u64, s.events_kept);
    }
    assert_eq!(a.events_read, b.events_read);
    let names = full.column(col::EVENT_NAME).unwrap().str().unwrap();
    let keys = full.column(col::ACCESS_KEY_ID).unwrap().str().unwrap();
    let wanted = names
        .iter()
        .zip(keys.iter())
        .filter(|(n, k)| {
            *n == Some("AssumeRoleWithWebIdentity")
                || k.is_some_and(|k| k.starts_with("AKIA"))
                || n.is_some_and(|n| ctaudit::ingest::TRUST_CHANGE_EVENTS.contains(&n))
        })
        .count();
    assert_eq!(wanted, kept.height());
});
