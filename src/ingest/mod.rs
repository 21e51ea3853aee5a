//! Sources → records → the events frame.
//!
//! Reads exported CloudTrail log files in parallel (one rayon task per file,
//! each thread reusing its read and gzip buffers), streams each file's
//! records straight into polars column builders, and accounts for every
//! file and record in an [`InputSummary`]. A damaged file is reported and
//! counted, the records before the damage are kept, and the run goes on.
//! This module does not judge events; reports do.

mod collector;
pub mod container;
pub mod decode;
mod dedupe;
pub mod discover;
pub mod file;
mod inflate;
mod parts;
pub mod record;
pub mod scan;
mod sink;
mod split;
pub mod summary;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use crate::frame::Columns;
use crate::time::Window;
use container::{Container, read_text};
use parts::{Part, read_parallel};
use record::RawEvent;
use sink::Sink;
use summary::{FailReason, FileFailure, InputSummary, SkipFile};

pub use collector::Collector;

/// Which events the frame keeps, beyond the time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFilter {
    /// Keep `AssumeRoleWithWebIdentity` calls.
    pub web_identity: bool,
    /// Keep calls made with a long-lived (`AKIA…`) access key.
    pub long_lived_keys: bool,
    /// Keep changes to roles' trust and OIDC providers
    /// ([`TRUST_CHANGE_EVENTS`]).
    pub trust_changes: bool,
    /// Keep everything (investigation); overrides the two above.
    pub all: bool,
}

impl RowFilter {
    pub const ALL: RowFilter = RowFilter {
        web_identity: true,
        long_lived_keys: true,
        trust_changes: true,
        all: true,
    };

    fn keeps(&self, ev: &RawEvent<'_>) -> bool {
        self.all
            || (self.web_identity && ev.event_name.as_str() == Some(WEB_IDENTITY))
            || (self.long_lived_keys
                && ev
                    .identity
                    .as_ref()
                    .and_then(|i| i.access_key_id.as_str())
                    .is_some_and(is_long_lived_key))
            || (self.trust_changes
                && ev
                    .event_name
                    .as_str()
                    .is_some_and(|n| TRUST_CHANGE_EVENTS.contains(&n)))
    }
}

/// The IAM calls that change who can assume a role or what it may do:
/// trust documents, OIDC providers, and policies attached to roles.
pub const TRUST_CHANGE_EVENTS: &[&str] = &[
    "CreateRole",
    "UpdateAssumeRolePolicy",
    "CreateOpenIDConnectProvider",
    "DeleteOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
    "AddClientIDToOpenIDConnectProvider",
    "RemoveClientIDFromOpenIDConnectProvider",
    "AttachRolePolicy",
    "PutRolePolicy",
];

/// The event name of OIDC role assumptions.
pub const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";

/// How a long-lived IAM user (or root) access key id starts; temporary
/// keys start `ASIA`.
pub const LONG_LIVED_KEY_PREFIX: &str = "AKIA";

/// Whether an access key id is a long-lived IAM user (or root) key.
pub fn is_long_lived_key(key: &str) -> bool {
    key.starts_with(LONG_LIVED_KEY_PREFIX)
}

/// What to read and keep.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    pub window: Window,
    pub filter: RowFilter,
    /// Keep request and response payloads and resources (redacted).
    pub payloads: bool,
    /// The columns to fill; the others are left null.
    pub columns: Columns,
    /// How folders are walked and how large one input may be.
    pub read: ReadOptions,
    /// Sort the frame by time and drop events read twice. The store's
    /// writer does both per day partition itself, and skips this copy.
    pub ordered: bool,
}

impl IngestOptions {
    /// Every event with its payloads: what investigation needs.
    pub fn everything(window: Window) -> Self {
        IngestOptions {
            window,
            filter: RowFilter::ALL,
            payloads: true,
            columns: Columns::ALL,
            read: ReadOptions::default(),
            ordered: true,
        }
    }
}

/// How inputs are found and how much of one is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Read hidden files and folders in walks (`--hidden`).
    pub hidden: bool,
    /// Follow symbolic links in walks (`--follow`).
    pub follow: bool,
    /// The most bytes one input may hold once decompressed
    /// (`--max-file-size`); a larger one is reported as too large.
    pub max_file_size: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            hidden: false,
            follow: false,
            max_file_size: file::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// The events frame and the account of how it was made.
pub struct Ingested {
    pub frame: DataFrame,
    pub summary: InputSummary,
}

/// Reads every log file under `paths` into one events frame.
pub fn ingest_paths(paths: &[PathBuf], opts: &IngestOptions) -> PolarsResult<Ingested> {
    let mut summary = InputSummary::default();
    let files = discover::discover(paths, &opts.read, &opts.window, &mut summary);
    let mut got = ingest_files(&files, opts)?;
    summary.merge(got.summary);
    summary.finish();
    got.summary = summary;
    Ok(got)
}

/// Reads the given files (already discovered) into one events frame.
pub fn ingest_files(files: &[PathBuf], opts: &IngestOptions) -> PolarsResult<Ingested> {
    // A file a task: rayon otherwise stops splitting at a few ranges per
    // thread, and the last range runs on one thread while the other waits
    // (at 4,000 files on two threads, a tenth of a second alone).
    read_parallel(files.par_iter().with_max_len(1), opts, |path, part| {
        read_file(path, opts, part)
    })
}

/// One input fetched whole from elsewhere (an S3 object): its name for
/// messages and the `source_file` column, and its bytes or why they could
/// not be fetched.
pub struct Blob {
    pub name: String,
    /// Its size as listed (an object over `--max-file-size` is not fetched).
    pub size: u64,
    pub bytes: Result<Vec<u8>, String>,
}

/// Reads blobs as they arrive (from downloads running elsewhere) into one
/// events frame, parsing them in parallel: the same path as local files.
pub fn ingest_blobs(
    blobs: impl Iterator<Item = Blob> + Send,
    opts: &IngestOptions,
) -> PolarsResult<Ingested> {
    read_parallel(blobs.par_bridge(), opts, |blob, part| {
        read_blob(blob, opts, part)
    })
}

/// Reads one file into `part`.
fn read_file(path: &Path, opts: &IngestOptions, part: &mut Part) {
    file::with_buffers(|raw, plain| {
        if let Err(e) = file::read_file(path, raw, opts.read.max_file_size) {
            part.summary
                .failed(FileFailure::new(path, e.reason, e.detail));
            return;
        }
        let name = path.display().to_string();
        read_content(&name, raw, plain, opts, part);
    })
}

/// Reads one fetched blob into `part`.
fn read_blob(blob: Blob, opts: &IngestOptions, part: &mut Part) {
    match &blob.bytes {
        Ok(bytes) if blob.size.max(bytes.len() as u64) > opts.read.max_file_size => {
            part.summary.failed(FileFailure::named(
                &blob.name,
                FailReason::TooLarge,
                format!(
                    "{} bytes: more than {} bytes (--max-file-size); not read",
                    blob.size.max(bytes.len() as u64),
                    opts.read.max_file_size
                ),
            ))
        }
        Ok(bytes) => {
            file::with_buffers(|_, plain| read_content(&blob.name, bytes, plain, opts, part))
        }
        Err(e) => {
            let failure = FileFailure::named(&blob.name, FailReason::Unreadable, e);
            part.summary.failed(failure);
        }
    }
}

/// Decompresses (when gzip), decodes ([`decode::decode`]) and parses one
/// input's bytes.
fn read_content(
    name: &str,
    raw: &[u8],
    plain: &mut Vec<u8>,
    opts: &IngestOptions,
    part: &mut Part,
) {
    let (content, damage) = match file::decompress(raw, plain, opts.read.max_file_size) {
        Ok(content) => (content, None),
        Err((unread, _)) if unread.reason == FailReason::TooLarge => {
            let failure = FileFailure::named(name, unread.reason, unread.detail);
            part.summary.failed(failure);
            return;
        }
        Err((unread, partial)) => (partial, Some((unread.reason, unread.detail))),
    };
    let decoded = decode::decode(content);
    part.summary.strings_repaired += decoded.repaired;
    part.summary.files_transcoded += u64::from(decoded.transcoded_from.is_some());
    let content = &*decoded.text;
    if damage.is_none()
        && content.len() >= *split::SPLIT_MIN_BYTES
        && split::read_split(name, content, opts, part)
    {
        return;
    }
    let summary = &mut part.summary;
    let mut sink = Sink::new(&mut part.builder, opts, name);
    let outcome = read_text(content, &mut sink);
    summary.files_read += 1;
    summary.bytes_read += content.len() as u64;
    let events = sink.read;
    sink.flush_into(summary);
    let failure = match (damage, outcome.error) {
        // A broken gzip stream explains any JSON error that follows.
        (Some((reason, detail)), _) => Some((reason, detail)),
        (None, Some(e)) if outcome.container == Container::Empty => {
            Some((FailReason::NotCloudtrail, e.to_string()))
        }
        (None, Some(e)) => Some((FailReason::InvalidJson, e.to_string())),
        (None, None) => None,
    };
    match failure {
        Some((reason, detail)) => summary.failed(FileFailure {
            events_before_damage: events,
            ..FileFailure::named(name, reason, detail)
        }),
        None if outcome.container == Container::Digest => summary.skip_file(SkipFile::Digest, 1),
        None if outcome.container == Container::Empty => summary.skip_file(SkipFile::Empty, 1),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::summary::SkipRecord;
    use super::*;
    use crate::frame::col;
    use crate::time::{Bound, parse_bound};

    /// A file a task, on two threads, with parallel work inside each read
    /// (as a large file's runs are read): every input's rows arrive, once.
    /// (Whether a thread takes another input while it waits is up to
    /// rayon; the test above makes that happen.)
    #[test]
    fn every_input_is_read_once_when_reads_nest() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let opts = IngestOptions::everything(Window::default());
        let texts: Vec<String> = (0..64)
            .map(|i| {
                format!(
                    r#"{{"Records":[{{"eventID":"e{i}","eventName":"X","eventTime":"2026-11-16T00:00:{:02}Z"}}]}}"#,
                    i % 60
                )
            })
            .collect();
        let got = pool
            .install(|| {
                read_parallel(texts.par_iter().with_max_len(1), &opts, |text, part| {
                    // While it waits here, this thread may take other inputs.
                    (0..4)
                        .into_par_iter()
                        .for_each(|_| std::thread::sleep(std::time::Duration::from_micros(300)));
                    read_content("t.json", text.as_bytes(), &mut Vec::new(), &opts, part);
                })
            })
            .unwrap();
        assert_eq!(got.summary.files_read, 64);
        assert_eq!(got.summary.events_kept, 64);
        let column = got
            .frame
            .column(col::EVENT_ID)
            .unwrap()
            .str()
            .unwrap()
            .clone();
        let ids: std::collections::HashSet<&str> = column.iter().flatten().collect();
        assert_eq!((got.frame.height(), ids.len()), (64, 64));
    }

    /// Regression (hostile input 1), API pages: a lone surrogate escape in
    /// a `CloudTrailEvent` string (as LookupEvents returns it) hides nothing.
    #[test]
    fn api_events_with_lone_surrogates_are_kept() {
        let opts = IngestOptions {
            filter: RowFilter {
                web_identity: true,
                long_lived_keys: true,
                trust_changes: false,
                all: false,
            },
            ..IngestOptions::everything(Window::default())
        };
        let mut c = Collector::new(opts);
        c.push(
            "cloudtrail-api:us-east-1",
            r#"{"eventName":"AssumeRoleWith\u0057ebIdentity","eventID":"x","userAgent":"a\udc00"}"#,
        );
        c.push(
            "cloudtrail-api:us-east-1",
            r#"{"eventName":"Other","eventID":"y"}"#,
        );
        let got = c.take().unwrap();
        assert_eq!(got.frame.height(), 1);
        assert_eq!(got.summary.events_read, 2);
        assert_eq!(got.summary.strings_repaired, 1);
    }

    /// Skimming must count every record under the same reason as parsing
    /// it would, and keep the same rows.
    #[test]
    fn skimming_and_parsing_agree() {
        let records = [
            // kept: web identity in the window; AKIA key in the window
            r#"{"eventTime":"2026-11-17T10:00:00Z","eventName":"AssumeRoleWithWebIdentity","eventID":"1"}"#,
            r#"{"eventTime":"2026-11-17T10:00:00Z","eventName":"GetObject","eventID":"2","userIdentity":{"accessKeyId":"AKIAEXAMPLE"}}"#,
            // outside the window, needed or not
            r#"{"eventTime":"2026-11-10T10:00:00Z","eventName":"AssumeRoleWithWebIdentity","eventID":"3"}"#,
            r#"{"eventTime":"2026-11-10T10:00:00Z","eventName":"GetObject","eventID":"4"}"#,
            // not needed: in the window, time after the payload, no time, odd time
            r#"{"eventTime":"2026-11-17T11:00:00Z","eventName":"GetObject","eventID":"5"}"#,
            r#"{"requestParameters":{"a":1},"eventName":"GetObject","eventID":"6","eventTime":"2026-11-10T10:00:00Z"}"#,
            r#"{"eventName":"GetObject","eventID":"7"}"#,
            r#"{"eventName":"GetObject","eventID":"8","eventTime":"yesterday"}"#,
            // an AKIA key mentioned in a payload only: parsed, then not needed
            r#"{"eventTime":"2026-11-17T10:00:00Z","eventName":"CreateAccessKey","eventID":"9","responseElements":{"accessKey":{"accessKeyId":"AKIANEW"}}}"#,
            // not an event
            "42",
        ];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.json");
        std::fs::write(&file, format!(r#"{{"Records":[{}]}}"#, records.join(","))).unwrap();
        let window = Window {
            since: Some(parse_bound("2026-11-16", Bound::Since, 0).unwrap()),
            until: Some(parse_bound("2026-11-18", Bound::Until, 0).unwrap()),
        };
        let report = IngestOptions {
            window,
            filter: RowFilter {
                web_identity: true,
                long_lived_keys: true,
                trust_changes: false,
                all: false,
            },
            payloads: false,
            columns: Columns::ALL,
            read: ReadOptions::default(),
            ordered: true,
        };
        let got = ingest_files(std::slice::from_ref(&file), &report).unwrap();
        let s = &got.summary;
        assert_eq!((s.events_read, s.events_kept), (10, 2));
        assert_eq!(s.events_skipped[&SkipRecord::OutsideWindow], 3);
        assert_eq!(s.events_skipped[&SkipRecord::NotNeeded], 4);
        assert_eq!(s.events_skipped[&SkipRecord::NotAnEvent], 1);
        // The same without skimming (every record parsed), rows filtered after.
        let everything = ingest_files(
            std::slice::from_ref(&file),
            &IngestOptions::everything(window),
        )
        .unwrap();
        assert_eq!(
            everything.summary.events_skipped[&SkipRecord::OutsideWindow],
            3
        );
        assert_eq!(everything.summary.events_read, 10);
        let ids = |df: &DataFrame| -> Vec<String> {
            df.column(col::EVENT_ID)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids(&got.frame), ["1", "2"]);
        // With no window, no record's time is looked at: the same records
        // are kept as after a full parse, and the rest are not needed.
        let open = IngestOptions {
            window: Window::default(),
            ..report
        };
        let got = ingest_files(std::slice::from_ref(&file), &open).unwrap();
        let s = &got.summary;
        assert_eq!((s.events_read, s.events_kept), (10, 3));
        assert_eq!(s.events_skipped[&SkipRecord::NotNeeded], 6);
        assert_eq!(s.events_skipped[&SkipRecord::NotAnEvent], 1);
        assert!(!s.events_skipped.contains_key(&SkipRecord::OutsideWindow));
        assert_eq!(ids(&got.frame), ["3", "1", "2"]);
    }
}
