//! One large file read on several threads: a lone `{"Records":[…]}` object
//! cut into runs of whole records ([`split_records`]), each run parsed into
//! a frame of its own. Anything unusual leaves the file to the sequential
//! reader, which locates damage.

use std::sync::LazyLock;

use polars::prelude::*;
use rayon::prelude::*;

use serde_json::value::RawValue;

use super::container::{EventSink, Seen, read_record};
use super::parts::Part;
use super::summary::InputSummary;
use super::{IngestOptions, Sink};
use crate::frame::FrameBuilder;

/// Decompressed files from this size up are read on several threads when
/// they are one `{"Records":[…]}` object: a trail of few, large files (hourly
/// files of a busy account, an export) then uses every core, not one per
/// file. `CTAUDIT_SPLIT_MIN_BYTES` overrides it (the tests set 0 to send
/// every file down this path).
pub static SPLIT_MIN_BYTES: LazyLock<usize> = LazyLock::new(|| {
    std::env::var("CTAUDIT_SPLIT_MIN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16 << 20)
});

/// Reads one large file's records on several threads ([`container::split_records`]),
/// each run into a frame of its own. Returns `false`, having changed
/// nothing, when the content cannot be split or a run turns out not to be
/// whole records: the sequential reader then reads the file and locates any
/// damage.
pub fn read_split(name: &str, text: &str, opts: &IngestOptions, part: &mut Part) -> bool {
    let pieces = rayon::current_num_threads() * 2;
    let Some(runs) = split_records(text, pieces) else {
        return false;
    };
    let read: Option<Vec<(DataFrame, InputSummary)>> = runs
        .into_par_iter()
        .map(|run| {
            let mut builder = FrameBuilder::new(opts.columns);
            let mut summary = InputSummary::default();
            let mut sink = Sink::new(&mut builder, opts, name);
            read_run(run, &mut sink).ok()?;
            sink.flush_into(&mut summary);
            Some((builder.finish().ok()?, summary))
        })
        .collect();
    let Some(read) = read else {
        return false;
    };
    part.summary.files_read += 1;
    part.summary.bytes_read += text.len() as u64;
    for (df, summary) in read {
        part.frames.push(df);
        part.summary.merge(summary);
    }
    true
}

/// Cuts the records of a lone `{"Records":[…]}` object (CloudTrail's
/// delivery format) into about `pieces` runs of whole records that can be
/// read on several threads ([`read_run`]). `None` when `text` is not such an
/// object or no cut was found: the sequential reader then reads it.
///
/// No pre-scan: each cut is placed at the first `},{"eventVersion"` (white
/// space allowed between) after an even share of the text; CloudTrail
/// writes `eventVersion` first. That pattern cannot lie inside a JSON
/// string (its quote is unescaped and followed by a key, so it opens one),
/// but it could join two objects nested in a record; such a cut leaves a
/// run ending inside a record, which [`read_run`] then rejects, so a bad
/// cut is never silently wrong.
fn split_records(text: &str, pieces: usize) -> Option<Vec<&str>> {
    let mut rest = json_ws(text).strip_prefix('{')?;
    rest = json_ws(rest).strip_prefix("\"Records\"")?;
    rest = json_ws(rest).strip_prefix(':')?;
    rest = json_ws(rest).strip_prefix('[')?;
    let body = json_ws_end(json_ws_end(rest).strip_suffix('}')?).strip_suffix(']')?;
    let body = json_ws_end(json_ws(body));
    let share = body.len() / pieces.max(1);
    let mut runs = Vec::with_capacity(pieces);
    let mut start = 0;
    for k in 1..pieces {
        let Some((end, next)) = record_boundary(body, start, k * share) else {
            break;
        };
        runs.push(&body[start..end]);
        start = next;
    }
    if runs.is_empty() {
        return None;
    }
    runs.push(&body[start..]);
    Some(runs)
}

/// The first `}` `,` `{"eventVersion"` at or after `from` that ends a run
/// starting at `start`, as the end of that run (just after its `}`) and the
/// start of the next (its `{`).
fn record_boundary(body: &str, start: usize, from: usize) -> Option<(usize, usize)> {
    static KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\"eventVersion\""));
    let bytes = body.as_bytes();
    let before = |at: usize, c: u8| -> Option<usize> {
        let head = json_ws_end(&body[..at]);
        head.ends_with(c as char).then(|| head.len() - 1)
    };
    let mut from = from.max(start);
    while let Some(found) = KEY.find(&bytes[from..]) {
        let at = from + found;
        let boundary = before(at, b'{').and_then(|open| {
            let comma = before(open, b',')?;
            let close = before(comma, b'}')?;
            Some((close + 1, open))
        });
        if boundary.is_some_and(|(end, _)| end > start) {
            return boundary;
        }
        from = at + 1;
    }
    None
}

/// A run from [`split_records`] was not a list of whole, well-formed records.
#[derive(Debug)]
struct NotWholeRecords;

/// Reads a run of records from [`split_records`]: JSON values separated by
/// commas, each skimmed and parsed as the sequential reader would. Fails,
/// having possibly delivered some records, when the run is not exactly a
/// list of well-formed values (damage, or a cut inside a record).
fn read_run(run: &str, sink: &mut dyn EventSink) -> Result<(), NotWholeRecords> {
    if super::container::scan_enabled() {
        // Validated whole before anything is delivered. A run the scanner
        // leaves to serde (an element that is not an object) is read by
        // serde below; one it finds damaged, serde would reject too.
        match super::scan::values(run) {
            Ok(scanned) => {
                for (range, marks) in scanned.elements_with_marks() {
                    read_record(&run[range], Seen::Scanned(marks), sink);
                }
                return Ok(());
            }
            Err(super::scan::Refused::Invalid) => return Err(NotWholeRecords),
            Err(super::scan::Refused::Unsupported) => {}
        }
    }
    let mut rest = run;
    loop {
        let mut de = serde_json::Deserializer::from_str(rest);
        let raw: &RawValue =
            serde::Deserialize::deserialize(&mut de).map_err(|_| NotWholeRecords)?;
        let text = raw.get();
        let end = text.as_ptr() as usize - rest.as_ptr() as usize + text.len();
        read_record(text, Seen::Unknown, sink);
        rest = json_ws(&rest[end..]);
        if rest.is_empty() {
            return Ok(());
        }
        rest = rest.strip_prefix(',').ok_or(NotWholeRecords)?;
    }
}

/// `s` without its leading JSON white space.
fn json_ws(s: &str) -> &str {
    s.trim_start_matches([' ', '\t', '\n', '\r'])
}

/// `s` without its trailing JSON white space.
fn json_ws_end(s: &str) -> &str {
    s.trim_end_matches([' ', '\t', '\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::super::container::read_events;
    use super::super::parts::assemble;
    use super::*;
    use crate::frame::Columns;
    use crate::time::Window;

    #[derive(Default)]
    struct Names {
        names: Vec<String>,
    }

    impl EventSink for Names {
        fn event(&mut self, ev: &crate::ingest::record::RawEvent<'_>) {
            self.names
                .push(ev.event_name.as_str().unwrap_or("?").to_string());
        }
        fn not_an_event(&mut self) {}
    }

    /// Splits `text` into `pieces` runs and reads them one after another:
    /// the event names, or `None` when it cannot be split or a run is not
    /// whole records (the caller then reads the file sequentially).
    fn split_read(text: &str, pieces: usize) -> Option<Vec<String>> {
        let runs = split_records(text, pieces)?;
        let mut sink = Names::default();
        for run in &runs {
            read_run(run, &mut sink).ok()?;
        }
        Some(sink.names)
    }

    #[test]
    fn records_split_at_record_boundaries_only() {
        let text = concat!(
            r#"{"Records":[{"eventVersion":"1","eventName":"A"},"#,
            r#"{"eventVersion":"1","eventName":"B","x":"},{\"eventVersion\":"},"#,
            r#"{"eventVersion":"1","eventName":"C"} , {"eventVersion":"1","eventName":"D"}]}"#
        );
        let runs = split_records(text, 4).unwrap();
        // Where a share ends in the string, the cut is at the next record.
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert!(runs[0].ends_with(r#""x":"},{\"eventVersion\":"}"#));
        assert!(runs.iter().all(|r| r.starts_with('{') && r.ends_with('}')));
        assert_eq!(split_read(text, 4).unwrap(), ["A", "B", "C", "D"]);
        // Pretty-printed records split too.
        let pretty = "{ \"Records\" : [\n {\n  \"eventVersion\": \"1\", \"eventName\": \"A\"\n },\n {\n  \"eventVersion\": \"1\", \"eventName\": \"B\"\n }\n ]\n}\n";
        assert_eq!(split_records(pretty, 2).unwrap().len(), 2);
        assert_eq!(split_read(pretty, 2).unwrap(), ["A", "B"]);
    }

    #[test]
    fn a_cut_inside_a_record_is_rejected_never_misread() {
        // The pattern also joins two objects nested in a record; cutting
        // there leaves a run ending inside that record.
        let text = concat!(
            r#"{"Records":[{"eventVersion":"1","eventName":"A","x":[{"a":1},{"eventVersion":"2"}]},"#,
            r#"{"eventVersion":"1","eventName":"B"}]}"#
        );
        let mut rejected = 0;
        for pieces in 2..40 {
            match split_read(text, pieces) {
                Some(names) => assert_eq!(names, ["A", "B"], "{pieces} pieces"),
                None => rejected += 1,
            }
        }
        assert!(rejected > 0, "some split cut inside the first record");
    }

    #[test]
    fn only_a_lone_records_object_is_split() {
        let record = r#"{"eventVersion":"1","eventName":"A"}"#;
        for text in [
            format!("[{record},{record}]"),
            r#"{"Records":[]}"#.to_string(),
            format!(r#"{{"Records":[{record}]}}"#),
            format!(r#"{{"Records":[{record},{record}]}}{{"Records":[{record}]}}"#),
            format!(r#"{{"Records":[{record},{record},]}}"#),
            format!(r#"{{"Records":[{record},{record} {record}]}}"#),
            format!(r#"{{"Records":[{record},{record}],"x":[1]}}"#),
        ] {
            assert_eq!(split_read(&text, 3), None, "{text}");
        }
        let two = format!(r#"{{"Records":[{record},{record}]}}"#);
        assert_eq!(split_read(&two, 3).unwrap(), ["A", "A"]);
    }

    fn opts() -> IngestOptions {
        IngestOptions::everything(Window::default())
    }

    /// What the sequential reader makes of `text`.
    fn sequential(text: &str) -> Part {
        let mut part = Part::new(Columns::ALL);
        let options = opts();
        let mut sink = Sink::new(&mut part.builder, &options, "big.json");
        read_events(text.as_bytes(), &mut sink);
        sink.flush_into(&mut part.summary);
        part
    }

    #[test]
    fn a_large_records_file_reads_the_same_on_several_threads() {
        let records: Vec<String> = (0..500)
            .map(|i| {
                format!(
                    r#"{{"eventVersion":"1.10","eventID":"e{i:03}","eventTime":"2026-11-17T10:{:02}:00Z","eventName":"N{i}","requestParameters":{{"list":[{{"a":1}},{{"b":"}},{{\"eventVersion\":"}}]}}}}"#,
                    i % 60
                )
            })
            .collect();
        let text = format!(r#"{{"Records":[{}, 7]}}"#, records.join(","));
        let mut split = Part::new(Columns::ALL);
        assert!(read_split("big.json", &text, &opts(), &mut split));
        assert!(split.frames.len() > 1, "read in several runs");
        let a = assemble(vec![split], &opts()).unwrap();
        let b = assemble(vec![sequential(&text)], &opts()).unwrap();
        assert!(a.frame.equals_missing(&b.frame));
        assert_eq!(a.summary.events_read, 501);
        assert_eq!(a.summary.events_read, b.summary.events_read);
        assert_eq!(a.summary.events_skipped, b.summary.events_skipped);
    }

    #[test]
    fn damage_leaves_the_file_to_the_sequential_reader() {
        let record = r#"{"eventVersion":"1","eventName":"A"}"#;
        for text in [
            format!(r#"{{"Records":[{record},{record},{{"eventVersion" 1}}]}}"#),
            format!(r#"{{"Records":[{record},{record} {record}]}}"#),
        ] {
            let mut part = Part::new(Columns::ALL);
            assert!(!read_split("bad.json", &text, &opts(), &mut part), "{text}");
            assert_eq!(part.summary.events_read, 0, "nothing counted: {text}");
            assert!(part.frames.is_empty() && part.builder.is_empty());
        }
    }
}
