//! `report` fills only the columns its reports declare they read
//! (`Report::columns`). These tests hold every report to its declaration:
//! on the sample trail and the real corpus, findings from the narrow frame
//! are exactly those from the frame with every column, for all reports
//! together and for each alone.

use crate::common;

use std::path::PathBuf;

use ctaudit::frame::{Columns, col};
use ctaudit::ingest::{IngestOptions, Ingested, ingest_paths};
use ctaudit::policy::Policy;
use ctaudit::reports::{self, REPORTS, Report, ReportRun};
use ctaudit::time::Window;
use polars::prelude::*;

fn read(input: &PathBuf, selected: &[&'static dyn Report], columns: Columns) -> Ingested {
    let opts = IngestOptions {
        window: Window::default(),
        filter: reports::row_filter(selected),
        payloads: false,
        columns,
        read: Default::default(),
        ordered: true,
    };
    ingest_paths(std::slice::from_ref(input), &opts).expect("ingest")
}

fn run(frame: &DataFrame, selected: &[&'static dyn Report], policy: &Policy) -> Vec<ReportRun> {
    reports::run_all(selected, frame, &Some(policy).into()).expect("reports run")
}

fn inputs() -> Vec<PathBuf> {
    let mut inputs = vec![common::root().join("sample-logs")];
    if let Some(corpus) = common::real_corpus("narrow_frames_give_the_same_findings") {
        let mut folders: Vec<PathBuf> = std::fs::read_dir(corpus)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        folders.sort();
        inputs.extend(folders);
    }
    inputs
}

#[test]
fn narrow_frames_give_the_same_findings() {
    let policy = Policy::load(&common::root().join("sample-logs/policy.toml")).unwrap();
    let mut selections: Vec<Vec<&'static dyn Report>> = vec![REPORTS.to_vec()];
    selections.extend(REPORTS.iter().map(|r| vec![*r]));
    let mut findings = 0;
    let inputs = inputs();
    // The sample alone has about 70 findings (each report counted twice:
    // alone and with the others); the real corpus adds hundreds.
    let least = if inputs.len() > 1 { 100 } else { 50 };
    for input in inputs {
        for selected in &selections {
            let names: Vec<&str> = selected.iter().map(|r| r.id()).collect();
            let wide = read(&input, selected, Columns::ALL);
            let narrow = read(&input, selected, reports::columns(selected));
            let account = |i: &Ingested| serde_json::to_string(&i.summary).unwrap();
            assert_eq!(account(&wide), account(&narrow), "{input:?} {names:?}");
            assert_eq!(wide.frame.schema(), narrow.frame.schema());
            let a = run(&wide.frame, selected, &policy);
            let b = run(&narrow.frame, selected, &policy);
            for (a, b) in a.iter().zip(&b) {
                let (a, b) = (a.result.as_ref().unwrap(), b.result.as_ref().unwrap());
                let what = format!("{input:?}, {names:?}");
                assert!(a.events.equals_missing(&b.events), "{what}: events differ");
                assert!(a.groups.equals_missing(&b.groups), "{what}: groups differ");
                findings += a.count();
            }
        }
    }
    assert!(
        findings > least,
        "the inputs have findings to compare: {findings}"
    );
}

#[test]
fn columns_no_report_reads_are_left_empty() {
    let input = common::root().join("sample-logs");
    let narrow = read(&input, REPORTS, reports::columns(REPORTS));
    let wide = read(&input, REPORTS, Columns::ALL);
    for name in [
        col::REQUEST_ID,
        col::ROLE_SESSION_NAME,
        col::ASSUMED_ROLE_ARN,
    ] {
        let all_null = |f: &DataFrame| {
            let c = f.column(name).unwrap();
            c.null_count() == c.len()
        };
        assert!(all_null(&narrow.frame), "{name} left empty");
        assert!(!all_null(&wide.frame), "{name} is filled in a full frame");
    }
    // What every frame needs to order and deduplicate rows is always there.
    let columns = reports::columns(&[reports::by_id("failures").unwrap()]);
    for name in [col::EVENT_ID, col::SOURCE_FILE, col::USER_AGENT] {
        assert!(columns.has(name), "{name}");
    }
    assert!(!columns.has(col::IDENTITY_PRINCIPAL_ID));
}
