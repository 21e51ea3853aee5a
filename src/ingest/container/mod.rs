//! Finds the events inside one decoded file, whatever container holds them.
//!
//! Accepted: CloudTrail's `{"Records":[...]}` (also several such objects one
//! after another), a bare JSON array of events, JSON lines, and the output of
//! `aws cloudtrail lookup-events` (`{"Events":[{"CloudTrailEvent":"..."}]}`,
//! or its `Events` array alone). Digest files are recognised and reported as
//! such. Events are handed to an [`EventSink`] while the file is being read,
//! so a damaged file still delivers every record before the damage. This
//! module knows nothing about columns or time windows.

mod seeds;

use std::fmt;

use serde::de::DeserializeSeed;

use super::record::RawEvent;
use super::scan::MarkSet;
use seeds::{Counter, MaybeEvent, TopKind, TopSeed};

/// Receives events as they are parsed.
pub trait EventSink {
    /// One event object.
    fn event(&mut self, ev: &RawEvent<'_>);
    /// An element where an event was expected that is not one (a number,
    /// `null`, an object with no CloudTrail field, an unparseable embedded
    /// `CloudTrailEvent` string).
    fn not_an_event(&mut self);
    /// Whether the sink wants to look at records' raw text before they are
    /// parsed ([`EventSink::skim`]).
    fn skims(&self) -> bool {
        false
    }
    /// Looks at one record's raw JSON text; returns `false` when the sink
    /// has accounted for it already and it need not be parsed. `seen` is
    /// what the reader already knows of it.
    fn skim(&mut self, _record: &str, _seen: Seen) -> bool {
        true
    }
    /// Counts strings repaired (lone surrogate escapes made U+FFFD) in a
    /// record found inside another (a lookup-events `CloudTrailEvent`).
    fn repaired(&mut self, _n: u64) {}
}

/// What a reader knows of a record before it is skimmed: the scanner notes
/// what the skim looks for ([`super::scan::Mark`]), serde's readers do not
/// look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not looked at: the skim searches the text itself.
    Unknown,
    /// As the scanner found them: every mark in the record.
    Scanned(MarkSet),
}

/// What kind of container a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `{"Records":[...]}`, CloudTrail's S3 delivery format.
    Records,
    /// A bare JSON array of events.
    Array,
    /// One event object per line.
    JsonLines,
    /// Event objects one after another, not one per line (pretty-printed).
    Concatenated,
    /// `aws cloudtrail lookup-events` output.
    LookupEvents,
    /// A CloudTrail digest file: no events.
    Digest,
    /// Nothing but white space.
    Empty,
}

/// Why a file's content could not be read to its end.
#[derive(Debug, Clone)]
pub struct ContainerError {
    /// Zero-based index of the record being read when the damage was met,
    /// where the container has records.
    pub record: Option<usize>,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = self.record {
            write!(f, "record {r}, ")?;
        }
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl ContainerError {
    fn from_json(e: &serde_json::Error, record: Option<usize>, line_offset: usize) -> Self {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; we print those ourselves.
        let message = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        ContainerError {
            record,
            line: e.line() + line_offset,
            column: e.column(),
            message,
        }
    }

    fn other(message: impl Into<String>) -> Self {
        ContainerError {
            record: None,
            line: 1,
            column: 1,
            message: message.into(),
        }
    }
}

/// The outcome of reading one file's content.
#[derive(Debug)]
pub struct Outcome {
    pub container: Container,
    /// Set when the content was damaged; every event before the damage has
    /// been delivered to the sink.
    pub error: Option<ContainerError>,
}

/// Reads every event in `bytes` into `sink`.
pub fn read_events(bytes: &[u8], sink: &mut dyn EventSink) -> Outcome {
    read_checked(bytes, simdutf8::basic::from_utf8(bytes).ok(), sink)
}

/// [`read_events`] on text already known to be UTF-8 (decoded by
/// [`super::decode`]): not checked again.
pub fn read_text(text: &str, sink: &mut dyn EventSink) -> Outcome {
    read_checked(text.as_bytes(), Some(text), sink)
}

/// Reads `bytes`, which are `text` when valid UTF-8.
fn read_checked(bytes: &[u8], text: Option<&str>, sink: &mut dyn EventSink) -> Outcome {
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Outcome {
            container: Container::Empty,
            error: None,
        };
    };
    // Nearly every file is valid UTF-8: checked once with SIMD, the parser
    // can then skip checking each string again (a tenth of its time).
    // Invalid UTF-8 takes the checking path, which says where the damage is.
    // Where the scanner is on (see `scan_enabled`), CloudTrail's own
    // format, read for reports, goes to the scanner, which validates the
    // whole file before a record is delivered; anything it does not accept
    // is read by serde below, which locates damage.
    if let (b'{', Some(text), true) = (bytes[first], text, sink.skims() && scan_enabled())
        && let Ok(scanned) = super::scan::records(text)
    {
        for (range, marks) in scanned.elements_with_marks() {
            read_record(&text[range], Seen::Scanned(marks), sink);
        }
        return Outcome {
            container: Container::Records,
            error: None,
        };
    }
    match (bytes[first], text) {
        (b'[', Some(text)) => read_top_level(
            serde_json::Deserializer::from_str(text),
            Counter::default(),
            sink,
            Container::Array,
        ),
        (b'[', None) => read_top_level(
            serde_json::Deserializer::from_slice(bytes),
            Counter::default(),
            sink,
            Container::Array,
        ),
        (b'{', Some(text)) => read_objects(serde_json::Deserializer::from_str(text), bytes, sink),
        (b'{', None) => read_objects(serde_json::Deserializer::from_slice(bytes), bytes, sink),
        _ => Outcome {
            container: Container::Empty,
            error: Some(ContainerError::other(
                "not CloudTrail JSON: the file starts with neither an object nor an array",
            )),
        },
    }
}

/// Whether the SIMD scanner reads `Records` files: by default where the
/// processor has AVX2 (there it validates with about a quarter fewer
/// instructions than serde_json's skipping; with SSE2 alone it takes about
/// as many, so serde reads); `CTAUDIT_SCAN=simd` or `=serde` chooses, and
/// `=avx2` or `=avx512` keeps a faster processor to that implementation
/// ([`super::scan::Kind::detect`]).
pub(super) fn scan_enabled() -> bool {
    static ON: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| match std::env::var("CTAUDIT_SCAN").as_deref() {
            Ok("simd") => true,
            Ok("serde") => false,
            _ => super::scan::classify::Kind::detect().has_avx2(),
        });
    *ON
}

/// Reads one well-formed element of a `Records` array: skimmed first when
/// the sink skims, then parsed if still wanted.
pub(super) fn read_record(text: &str, seen: Seen, sink: &mut dyn EventSink) {
    if sink.skims() && text.starts_with('{') && !sink.skim(text, seen) {
        return;
    }
    match serde_json::from_str::<MaybeEvent<'_>>(text) {
        Ok(MaybeEvent::Event(ev)) => deliver(&ev, sink, false),
        _ => sink.not_an_event(),
    }
}

/// A file that starts with `{`: container objects, or events one after another.
fn read_objects<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    bytes: &'de [u8],
    sink: &mut dyn EventSink,
) -> Outcome {
    let mut counter = Counter::default();
    let first = TopSeed {
        sink: &mut *sink,
        counter: &mut counter,
    }
    .deserialize(&mut de);
    match first {
        Ok(TopKind::Plain) => read_lines(bytes, sink),
        Ok(kind) => read_top_level(de, counter, sink, container_of(kind)),
        Err(e) => Outcome {
            // The first object is damaged. If it was a container, its good
            // records have been delivered already.
            container: Container::Records,
            error: Some(ContainerError::from_json(&e, Some(counter.seen), 0)),
        },
    }
}

fn container_of(kind: TopKind) -> Container {
    match kind {
        TopKind::Records => Container::Records,
        TopKind::Lookup => Container::LookupEvents,
        TopKind::Digest => Container::Digest,
        TopKind::Array => Container::Array,
        TopKind::Plain => Container::Concatenated,
    }
}

/// Reads the remaining top-level values of a file of containers (arrays or
/// container objects, possibly several one after another).
fn read_top_level<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    mut counter: Counter,
    sink: &mut dyn EventSink,
    mut container: Container,
) -> Outcome {
    loop {
        if de.end().is_ok() {
            return Outcome {
                container,
                error: None,
            };
        }
        let res = TopSeed {
            sink: &mut *sink,
            counter: &mut counter,
        }
        .deserialize(&mut de);
        match res {
            Ok(TopKind::Lookup) => container = Container::LookupEvents,
            Ok(TopKind::Digest) if container == Container::Empty => container = Container::Digest,
            // A lone object among containers: not something we can read as one.
            Ok(TopKind::Plain) => sink.not_an_event(),
            Ok(_) => {}
            Err(e) => {
                return Outcome {
                    container,
                    error: Some(ContainerError::from_json(&e, Some(counter.seen), 0)),
                };
            }
        }
    }
}

/// Event objects one after another, not one per line (pretty-printed).
/// Reading stops at the first damage.
fn read_concatenated(bytes: &[u8], sink: &mut dyn EventSink) -> Outcome {
    for (index, item) in serde_json::Deserializer::from_slice(bytes)
        .into_iter::<MaybeEvent<'_>>()
        .enumerate()
    {
        match item {
            Ok(MaybeEvent::Event(ev)) => deliver(&ev, sink, true),
            Ok(MaybeEvent::NotAnEvent) => sink.not_an_event(),
            Err(e) => {
                return Outcome {
                    container: Container::Concatenated,
                    error: Some(ContainerError::from_json(&e, Some(index), 0)),
                };
            }
        }
    }
    Outcome {
        container: Container::Concatenated,
        error: None,
    }
}

/// JSON lines: each line on its own, so one damaged line does not hide the
/// lines after it. Falls back to [`read_concatenated`] when the first
/// object spans several lines (pretty-printed events one after another).
fn read_lines(bytes: &[u8], sink: &mut dyn EventSink) -> Outcome {
    let mut first_error: Option<ContainerError> = None;
    let mut index = 0usize;
    for (lineno, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        match serde_json::from_slice::<MaybeEvent<'_>>(line) {
            Ok(MaybeEvent::Event(ev)) => deliver(&ev, sink, true),
            Ok(MaybeEvent::NotAnEvent) => sink.not_an_event(),
            Err(_) if index == 0 => return read_concatenated(bytes, sink),
            Err(e) => {
                let err = ContainerError::from_json(&e, Some(index), lineno);
                if first_error.is_none() {
                    first_error = Some(err);
                }
            }
        }
        index += 1;
    }
    Outcome {
        container: Container::JsonLines,
        error: first_error,
    }
}

/// Hands an event to the sink, unwrapping a lookup-events item's
/// `CloudTrailEvent` string first. Every object of a `Records` array or an
/// array is a record, however odd its keys; a loose object (JSON lines)
/// must carry at least one CloudTrail field to count as one.
fn deliver(ev: &RawEvent<'_>, sink: &mut dyn EventSink, loose: bool) {
    if let Some(inner) = ev.embedded.as_deref() {
        deliver_embedded(inner, sink);
    } else if !loose || ev.looks_like_event() {
        sink.event(ev);
    } else {
        sink.not_an_event();
    }
}

/// Hands one `CloudTrailEvent` string (a lookup-events result, from a file
/// or from the API) to the sink: the same parser as every other record.
pub fn deliver_embedded(inner: &str, sink: &mut dyn EventSink) {
    // The string's own escapes are decoded by now: a lone surrogate escape
    // inside it (`\\udc00` outside) would hide the event.
    let (inner, repaired) = super::decode::repair_surrogate_escapes(inner.as_bytes());
    if repaired > 0 {
        sink.repaired(repaired);
    }
    match serde_json::from_slice::<MaybeEvent<'_>>(&inner) {
        Ok(MaybeEvent::Event(ev)) if ev.embedded.is_none() => sink.event(&ev),
        _ => sink.not_an_event(),
    }
}

#[cfg(test)]
mod tests;
