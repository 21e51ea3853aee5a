//! Finds the events inside one decoded file, whatever container holds them.
//!
//! Accepted: CloudTrail's `{"Records":[...]}` (also several such objects one
//! after another), a bare JSON array of events, JSON lines, and the output of
//! `aws cloudtrail lookup-events` (`{"Events":[{"CloudTrailEvent":"..."}]}`,
//! or its `Events` array alone). Digest files are recognised and reported as
//! such. Events are handed to an [`EventSink`] while the file is being read,
//! so a damaged file still delivers every record before the damage. This
//! module knows nothing about columns or time windows.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::record::{EventVisitor, Key, RawEvent};

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
    /// has accounted for it already and it need not be parsed.
    fn skim(&mut self, _record: &str) -> bool {
        true
    }
    /// Counts strings repaired (lone surrogate escapes made U+FFFD) in a
    /// record found inside another (a lookup-events `CloudTrailEvent`).
    fn repaired(&mut self, _n: u64) {}
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
        && let Ok(elements) = super::scan::records(text)
    {
        for range in elements {
            read_record(&text[range], sink);
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
/// as many, so serde reads); `CTAUDIT_SCAN=simd` or `=serde` chooses.
pub(super) fn scan_enabled() -> bool {
    static ON: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| match std::env::var("CTAUDIT_SCAN").as_deref() {
            Ok("simd") => true,
            Ok("serde") => false,
            _ => super::scan::classify::Kind::detect() == super::scan::classify::Kind::Avx2,
        });
    *ON
}

/// Reads one well-formed element of a `Records` array: skimmed first when
/// the sink skims, then parsed if still wanted.
pub(super) fn read_record(text: &str, sink: &mut dyn EventSink) {
    if sink.skims() && text.starts_with('{') && !sink.skim(text) {
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

#[derive(Default)]
struct Counter {
    /// Array elements seen so far in this file.
    seen: usize,
}

enum TopKind {
    Records,
    Lookup,
    Digest,
    /// An object with none of the container keys: an event on its own.
    Plain,
    Array,
}

/// One top-level value: a container object, an array of events, or a plain
/// object (which the caller then re-reads as an event).
struct TopSeed<'s, 'c> {
    sink: &'s mut dyn EventSink,
    counter: &'c mut Counter,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = TopKind;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TopKind, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = TopKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log object or an array of events")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKind, A::Error> {
        let mut kind = TopKind::Plain;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "Records" => {
                    map.next_value_seed(EventsSeed {
                        sink: &mut *self.sink,
                        counter: &mut *self.counter,
                        skim: true,
                    })?;
                    kind = TopKind::Records;
                }
                "Events" => {
                    map.next_value_seed(EventsSeed {
                        sink: &mut *self.sink,
                        counter: &mut *self.counter,
                        skim: false,
                    })?;
                    kind = TopKind::Lookup;
                }
                "digestStartTime"
                | "digestEndTime"
                | "logFiles"
                | "digestS3Bucket"
                | "previousDigestSignature" => {
                    map.next_value::<IgnoredAny>()?;
                    if matches!(kind, TopKind::Plain) {
                        kind = TopKind::Digest;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(kind)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TopKind, A::Error> {
        EventsSeed {
            sink: self.sink,
            counter: self.counter,
            skim: true,
        }
        .visit_seq(seq)?;
        Ok(TopKind::Array)
    }
}

/// An array of events (or of lookup-events items), delivered one by one.
struct EventsSeed<'s, 'c> {
    sink: &'s mut dyn EventSink,
    counter: &'c mut Counter,
    /// Whether the elements are events themselves (not lookup-events items
    /// wrapping them), so that their raw text can be skimmed.
    skim: bool,
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.skim && self.sink.skims() {
            // Capture each record's text without building anything (a fast
            // scan); parse only those the sink still wants.
            while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                self.counter.seen += 1;
                read_record(raw.get(), self.sink);
            }
            return Ok(());
        }
        while let Some(item) = seq.next_element::<MaybeEvent<'de>>()? {
            self.counter.seen += 1;
            match item {
                MaybeEvent::Event(ev) => deliver(&ev, self.sink, false),
                MaybeEvent::NotAnEvent => self.sink.not_an_event(),
            }
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An array element or a line: an event object, or something else.
// Lives on the stack for one record at a time; boxing it would allocate per event.
#[allow(clippy::large_enum_variant)]
enum MaybeEvent<'a> {
    Event(RawEvent<'a>),
    NotAnEvent,
}

impl<'de> de::Deserialize<'de> for MaybeEvent<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeEvent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                EventVisitor.visit_map(map).map(MaybeEvent::Event)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeEvent::NotAnEvent)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeEvent::NotAnEvent)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeEvent::NotAnEvent)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeEvent::NotAnEvent)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeEvent::NotAnEvent)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeEvent::NotAnEvent)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeEvent::NotAnEvent)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Names {
        names: Vec<String>,
        not_events: usize,
    }

    impl EventSink for Names {
        fn event(&mut self, ev: &RawEvent<'_>) {
            self.names
                .push(ev.event_name.as_str().unwrap_or("?").to_string());
        }
        fn not_an_event(&mut self) {
            self.not_events += 1;
        }
    }

    fn read(text: &str) -> (Names, Outcome) {
        let mut sink = Names::default();
        let out = read_events(text.as_bytes(), &mut sink);
        (sink, out)
    }

    #[test]
    fn invalid_utf8_keeps_the_records_before_it_and_says_where() {
        let mut bytes = "{\"Records\":[{\"eventName\":\"Aé\"},{\"eventName\":\"B"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"\xff\"}]}");
        let mut sink = Names::default();
        let out = read_events(&bytes, &mut sink);
        assert_eq!(sink.names, ["Aé"]);
        let err = out.error.expect("damage reported");
        assert_eq!(err.record, Some(1));
        assert!(err.message.contains("unicode"), "{}", err.message);
        assert_eq!((err.line, err.column), (1, 48));
    }

    #[test]
    fn records_object() {
        let (s, o) = read(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#);
        assert_eq!(s.names, ["A", "B"]);
        assert_eq!(o.container, Container::Records);
        assert!(o.error.is_none());
    }

    #[test]
    fn concatenated_records_objects() {
        let (s, o) =
            read("{\"Records\":[{\"eventName\":\"A\"}]}\n{\"Records\":[{\"eventName\":\"B\"}]}\n");
        assert_eq!(s.names, ["A", "B"]);
        assert_eq!(o.container, Container::Records);
    }

    #[test]
    fn bare_array_with_junk_elements() {
        let (s, o) =
            read(r#"[{"eventName":"A"}, 3, null, {"eventNameWrong":1}, {"eventName":"B"}]"#);
        // An object in an array is a record, whatever its keys.
        assert_eq!(s.names, ["A", "?", "B"]);
        assert_eq!(s.not_events, 2);
        assert_eq!(o.container, Container::Array);
    }

    #[test]
    fn json_lines_keep_lines_after_a_damaged_one() {
        let (s, o) = read("{\"eventName\":\"A\"}\n{\"eventName\":\n\n{\"eventName\":\"C\"}\n");
        assert_eq!(s.names, ["A", "C"]);
        assert_eq!(o.container, Container::JsonLines);
        let e = o.error.unwrap();
        assert_eq!((e.record, e.line), (Some(1), 2));
    }

    #[test]
    fn loose_objects_without_cloudtrail_fields_are_not_events() {
        let (s, _) = read("{\"eventName\":\"A\"}\n{\"name\":\"my-package\"}\n");
        assert_eq!(s.names, ["A"]);
        assert_eq!(s.not_events, 1);
    }

    #[test]
    fn pretty_printed_objects_one_after_another() {
        let (s, o) = read("{\n \"eventName\": \"A\"\n}\n{\n \"eventName\": \"B\"\n}\n");
        assert_eq!(s.names, ["A", "B"]);
        assert_eq!(o.container, Container::Concatenated);
    }

    #[test]
    fn lookup_events_output() {
        let inner = r#"{\"eventName\":\"AssumeRoleWithWebIdentity\",\"eventTime\":\"2026-01-01T00:00:00Z\"}"#;
        let text = format!(
            r#"{{"Events":[{{"EventId":"x","CloudTrailEvent":"{inner}"}}],"NextToken":"t"}}"#
        );
        let (s, o) = read(&text);
        assert_eq!(s.names, ["AssumeRoleWithWebIdentity"]);
        assert_eq!(o.container, Container::LookupEvents);
        // The `Events` array alone (`--query Events`).
        let (s, _) = read(&format!(r#"[{{"CloudTrailEvent":"{inner}"}}]"#));
        assert_eq!(s.names, ["AssumeRoleWithWebIdentity"]);
    }

    #[test]
    fn digest_file_is_recognised() {
        let (s, o) =
            read(r#"{"awsAccountId":"1","digestStartTime":"2026-01-01T00:00:00Z","logFiles":[]}"#);
        assert!(s.names.is_empty());
        assert_eq!(o.container, Container::Digest);
    }

    #[test]
    fn damaged_records_keep_what_came_before() {
        let (s, o) = read(r#"{"Records":[{"eventName":"A"},{"eventName":"B"} {"eventName":"C"}]}"#);
        assert_eq!(s.names, ["A", "B"]);
        let e = o.error.unwrap();
        assert_eq!(e.record, Some(2));
        assert!(e.to_string().starts_with("record 2, line 1 column"), "{e}");
    }

    #[test]
    fn truncated_file_keeps_what_came_before() {
        let (s, o) = read(r#"{"Records":[{"eventName":"A"},{"eventName":"B"},{"eventNa"#);
        assert_eq!(s.names, ["A", "B"]);
        assert!(o.error.is_some());
    }

    #[test]
    fn empty_and_non_json() {
        assert_eq!(read("  \n").1.container, Container::Empty);
        assert!(read("hello").1.error.is_some());
    }
}
