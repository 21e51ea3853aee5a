//! The run's account of its input: every file and record read, kept,
//! skipped or failed, and why. Nothing is dropped without a count here.
//! Source-neutral: remote sources (the API, S3) report what they did into
//! it in their own terms; nothing here knows their types.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

/// Why a file or folder was passed over without being an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipFile {
    /// A CloudTrail digest file (integrity chain, no events).
    Digest,
    /// A year/month/day folder of the S3 layout wholly outside the window.
    PrunedFolder,
    /// A file in a walked directory that is neither gzip nor JSON.
    NotALog,
    /// A file with nothing but white space.
    Empty,
    /// A file or folder whose name starts with a dot (read with `--hidden`).
    Hidden,
    /// A symbolic link met in a walk (followed with `--follow`).
    Symlink,
    /// With `--follow`, a folder reached a second time through a link
    /// (a loop, or two links to one folder): walked once.
    AlreadyWalked,
    /// A FIFO, socket or device met in a walk: never opened, since opening
    /// one can block forever.
    NotARegularFile,
    /// A file or S3 object an earlier run read whole (`--state`), unchanged.
    AlreadyRead,
}

impl SkipFile {
    pub fn describe(self) -> &'static str {
        match self {
            SkipFile::Digest => "digest files",
            SkipFile::PrunedFolder => "date folders outside the window (not opened)",
            SkipFile::NotALog => "files that are not logs (neither gzip nor JSON)",
            SkipFile::Empty => "empty files",
            SkipFile::Hidden => "hidden files and folders (read with --hidden)",
            SkipFile::Symlink => "symbolic links (followed with --follow)",
            SkipFile::AlreadyWalked => "folders reached again through a link (walked once)",
            SkipFile::NotARegularFile => "not regular files (FIFOs, sockets, devices; not opened)",
            SkipFile::AlreadyRead => "already read by an earlier run (--state)",
        }
    }
}

/// Why a record read from a file was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipRecord {
    /// Its `eventTime` is outside `--since`/`--until`.
    OutsideWindow,
    /// None of the selected reports looks at it.
    NotNeeded,
    /// An array element or line that is not an event object.
    NotAnEvent,
    /// The same event (id, time, name and source) was already read.
    Duplicate,
    /// Read by an earlier run (`--state`), asked for again in the overlap.
    AlreadyRead,
    /// Before the window, read as the baseline `new-subjects` compares with.
    Baseline,
}

impl SkipRecord {
    pub fn describe(self) -> &'static str {
        match self {
            SkipRecord::OutsideWindow => "outside the time window",
            SkipRecord::NotNeeded => "not needed by the selected reports",
            SkipRecord::NotAnEvent => "not an event object",
            SkipRecord::Duplicate => "duplicates",
            SkipRecord::AlreadyRead => "already read by an earlier run (--state)",
            SkipRecord::Baseline => "before the window, read as the new-subjects baseline",
        }
    }
}

/// Why a file could not be read, or not to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailReason {
    /// Missing, a permission problem, or another I/O error.
    Unreadable,
    /// A gzip stream that ends early.
    TruncatedGzip,
    /// A gzip stream with bad data or a bad checksum.
    CorruptGzip,
    /// Content that is not well-formed JSON.
    InvalidJson,
    /// Well-formed JSON that is not a CloudTrail container.
    NotCloudtrail,
    /// An AWS API call that failed (after retries where they help).
    Request,
    /// Larger than `--max-file-size` once decompressed (a gzip bomb, or a
    /// file far larger than CloudTrail writes): not read.
    TooLarge,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailReason::Unreadable => "unreadable",
            FailReason::TruncatedGzip => "truncated gzip",
            FailReason::CorruptGzip => "corrupt gzip",
            FailReason::InvalidJson => "invalid JSON",
            FailReason::NotCloudtrail => "not CloudTrail JSON",
            FailReason::Request => "request failed",
            FailReason::TooLarge => "too large",
        })
    }
}

/// One file that could not be read to its end.
#[derive(Debug, Clone, Serialize)]
pub struct FileFailure {
    pub path: String,
    pub reason: FailReason,
    /// What went wrong, with the record index and position where known.
    pub detail: String,
    /// Events read from the file before the damage (they are kept).
    pub events_before_damage: u64,
}

impl FileFailure {
    pub fn new(path: &Path, reason: FailReason, detail: impl Into<String>) -> Self {
        Self::named(&path.display().to_string(), reason, detail)
    }

    /// A failure of something that is not a local path (`s3://…`, an API call).
    pub fn named(name: &str, reason: FailReason, detail: impl Into<String>) -> Self {
        FileFailure {
            path: name.to_string(),
            reason,
            detail: detail.into(),
            events_before_damage: 0,
        }
    }
}

impl fmt::Display for FileFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.path, self.reason, self.detail)?;
        if self.events_before_damage > 0 {
            write!(
                f,
                " (kept the {} events before the damage)",
                self.events_before_damage
            )?;
        }
        Ok(())
    }
}

/// Counts for the whole input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InputSummary {
    /// Files opened and read (including damaged ones).
    pub files_read: u64,
    pub files_skipped: BTreeMap<SkipFile, u64>,
    pub files_failed: Vec<FileFailure>,
    /// Every event object met, kept or not.
    pub events_read: u64,
    pub events_kept: u64,
    pub events_skipped: BTreeMap<SkipRecord, u64>,
    /// Kept events whose `eventTime` is missing or unparseable (their time is null).
    pub events_without_time: u64,
    /// Uncompressed bytes parsed.
    pub bytes_read: u64,
    /// Invalid text replaced by U+FFFD so that the records holding it are
    /// kept: lone surrogate escapes (`\udc00`) and undecodable UTF-16/32.
    pub strings_repaired: u64,
    /// Files transcoded from UTF-16 or UTF-32 before parsing.
    pub files_transcoded: u64,
    /// What remote sources say of their reading, in their own terms and
    /// filled in by each ([`InputSummary::set_source`]): `api` for the
    /// CloudTrail API, `s3` (one entry per URL) for S3. Written into the
    /// JSON `input` object under those keys.
    #[serde(flatten)]
    pub sources: BTreeMap<&'static str, serde_json::Value>,
    /// The sources' lines for the report header, in the order given.
    #[serde(skip)]
    pub source_lines: Vec<String>,
}

impl InputSummary {
    pub fn skip_file(&mut self, why: SkipFile, n: u64) {
        if n > 0 {
            *self.files_skipped.entry(why).or_default() += n;
        }
    }

    /// `n` records counted as kept were dropped after all, for `why`.
    pub fn unkeep(&mut self, why: SkipRecord, n: u64) {
        self.events_kept -= n;
        self.skip_records(why, n);
    }

    pub fn skip_records(&mut self, why: SkipRecord, n: u64) {
        if n > 0 {
            *self.events_skipped.entry(why).or_default() += n;
        }
    }

    pub fn failed(&mut self, failure: FileFailure) {
        self.files_failed.push(failure);
    }

    /// Records what a source says of its reading under `key` (replacing an
    /// earlier account under the same key), with its header lines.
    pub fn set_source(
        &mut self,
        key: &'static str,
        account: serde_json::Value,
        lines: Vec<String>,
    ) {
        self.sources.insert(key, account);
        self.source_lines.extend(lines);
    }

    /// Like [`InputSummary::set_source`], for a source read several times
    /// (one S3 URL after another): `key` holds a list of accounts.
    pub fn push_source(
        &mut self,
        key: &'static str,
        account: serde_json::Value,
        lines: Vec<String>,
    ) {
        let list = self
            .sources
            .entry(key)
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(items) = list {
            items.push(account);
        }
        self.source_lines.extend(lines);
    }

    /// Adds another part's counts (files read in parallel).
    pub fn merge(&mut self, other: InputSummary) {
        self.files_read += other.files_read;
        for (k, v) in other.files_skipped {
            self.skip_file(k, v);
        }
        self.files_failed.extend(other.files_failed);
        self.events_read += other.events_read;
        self.events_kept += other.events_kept;
        for (k, v) in other.events_skipped {
            self.skip_records(k, v);
        }
        self.events_without_time += other.events_without_time;
        self.bytes_read += other.bytes_read;
        self.strings_repaired += other.strings_repaired;
        self.files_transcoded += other.files_transcoded;
        // A source read in both parts (two Athena queries, two API
        // pulls) keeps both accounts, as a list.
        for (key, theirs) in other.sources {
            let joined = match self.sources.remove(key) {
                None => theirs,
                Some(mine) => {
                    let items = |v: serde_json::Value| match v {
                        serde_json::Value::Array(items) => items,
                        one => vec![one],
                    };
                    let mut all = items(mine);
                    all.extend(items(theirs));
                    serde_json::Value::Array(all)
                }
            };
            self.sources.insert(key, joined);
        }
        self.source_lines.extend(other.source_lines);
    }

    /// Sorts failures by path so output is stable.
    pub fn finish(&mut self) {
        self.files_failed.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// The names of the files and objects that failed (as [`FileFailure`]
    /// names them): what a state must not record as read.
    pub fn failed_names(&self) -> std::collections::HashSet<&str> {
        self.files_failed.iter().map(|f| f.path.as_str()).collect()
    }

    /// Whether anything failed (which makes the exit status 2).
    pub fn has_failures(&self) -> bool {
        !self.files_failed.is_empty()
    }

    /// One line per fact, for the report header.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = self.source_lines.clone();
        lines.push(format!(
            "files: {} read, {} failed",
            self.files_read,
            self.files_failed.len()
        ));
        for (k, v) in &self.files_skipped {
            lines.push(format!("  skipped, {}: {v}", k.describe()));
        }
        if self.files_transcoded > 0 {
            lines.push(format!(
                "  transcoded from UTF-16 or UTF-32: {}",
                self.files_transcoded
            ));
        }
        lines.push(format!(
            "events: {} read, {} kept",
            self.events_read, self.events_kept
        ));
        for (k, v) in &self.events_skipped {
            lines.push(format!("  skipped, {}: {v}", k.describe()));
        }
        if self.strings_repaired > 0 {
            lines.push(format!(
                "  strings repaired (invalid escapes or text replaced by U+FFFD, records kept): {}",
                self.strings_repaired
            ));
        }
        if self.events_without_time > 0 {
            lines.push(format!(
                "  kept with no usable eventTime: {}",
                self.events_without_time
            ));
        }
        lines
    }
}
