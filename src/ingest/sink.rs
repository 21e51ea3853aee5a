//! Receives one input's events as the container reader finds them, keeps
//! those the options ask for, and counts every record under its reason.
//! In report mode it first skims each record's raw text and settles, without
//! parsing, the records no report can need; it may only settle what it can
//! prove unneeded, so anything unusual goes to the full parser.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::IngestOptions;
use super::container::{EventSink, Seen};
use super::record::RawEvent;
use super::scan::Mark;
use super::summary::{InputSummary, SkipRecord};
use super::{LONG_LIVED_KEY_PREFIX, TRUST_CHANGE_EVENTS, WEB_IDENTITY};
use crate::frame::{FrameBuilder, Row};
use crate::time::parse_event_time;

/// Receives one file's events, keeps those the options ask for, and counts.
pub struct Sink<'b, 'o> {
    builder: &'b mut FrameBuilder,
    opts: &'o IngestOptions,
    source: &'o str,
    pub read: u64,
    kept: u64,
    outside_window: u64,
    not_needed: u64,
    not_an_event: u64,
    without_time: u64,
    repaired: u64,
}

impl<'b, 'o> Sink<'b, 'o> {
    pub fn new(builder: &'b mut FrameBuilder, opts: &'o IngestOptions, source: &'o str) -> Self {
        Sink {
            builder,
            opts,
            source,
            read: 0,
            kept: 0,
            outside_window: 0,
            not_needed: 0,
            not_an_event: 0,
            without_time: 0,
            repaired: 0,
        }
    }

    pub fn flush_into(self, summary: &mut InputSummary) {
        summary.events_read += self.read + self.not_an_event;
        summary.events_kept += self.kept;
        summary.events_without_time += self.without_time;
        summary.strings_repaired += self.repaired;
        summary.skip_records(SkipRecord::OutsideWindow, self.outside_window);
        summary.skip_records(SkipRecord::NotNeeded, self.not_needed);
        summary.skip_records(SkipRecord::NotAnEvent, self.not_an_event);
    }
}

impl Sink<'_, '_> {
    /// Whether this kept event's payloads are wanted: every event's when
    /// everything is kept (investigation); in report mode only the trust
    /// changes', which are the only payloads a report reads (redacting the
    /// others would cost time for nothing).
    fn payloads(&self, ev: &RawEvent<'_>) -> bool {
        let filter = self.opts.filter;
        self.opts.payloads
            && (filter.all
                || ev
                    .event_name
                    .as_str()
                    .is_some_and(|n| TRUST_CHANGE_EVENTS.contains(&n)))
    }
}

impl EventSink for Sink<'_, '_> {
    fn event(&mut self, ev: &RawEvent<'_>) {
        self.read += 1;
        let time = ev.event_time.as_str().and_then(parse_event_time);
        if let Some(t) = time
            && !self.opts.window.contains(t)
        {
            self.outside_window += 1;
            return;
        }
        if !self.opts.filter.keeps(ev) {
            self.not_needed += 1;
            return;
        }
        if time.is_none() {
            self.without_time += 1;
        }
        self.kept += 1;
        self.builder
            .push(&Row::from_event(ev, time, self.source, self.payloads(ev)));
    }

    fn not_an_event(&mut self) {
        self.not_an_event += 1;
    }

    fn repaired(&mut self, n: u64) {
        self.repaired += n;
    }

    fn skims(&self) -> bool {
        !self.opts.filter.all
    }

    /// Most records are not needed by the reports: what a kept record must
    /// contain (the web-identity event name, a string starting `AKIA`) is
    /// looked for in their raw text, which settles them without parsing,
    /// and their `eventTime` is read straight from the text so they are
    /// counted under the same reason as after a full parse. Anything
    /// unusual is parsed: a record with a `\u` escape anywhere may spell
    /// the event name or the key in escapes (`AssumeRoleWith\u0057ebIdentity`),
    /// which no look at the raw bytes sees, so it always goes to the
    /// parser. The scanner has noted all three already (`seen`); only
    /// serde's readers leave the search to this skim.
    fn skim(&mut self, record: &str, seen: Seen) -> bool {
        static WEB_IDENTITY_TEXT: LazyLock<Finder<'static>> =
            LazyLock::new(|| Finder::new(WEB_IDENTITY));
        static QUOTED_AKIA: LazyLock<Finder<'static>> =
            LazyLock::new(|| Finder::new(&format!("\"{LONG_LIVED_KEY_PREFIX}")).into_owned());
        static ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\\u"));
        let filter = self.opts.filter;
        let bytes = record.as_bytes();
        let needed = match seen {
            Seen::Scanned(marks) => {
                marks.contains(Mark::UnicodeEscape)
                    || (filter.web_identity && marks.contains(Mark::WebIdentity))
                    || (filter.long_lived_keys && marks.contains(Mark::LongLivedKey))
            }
            Seen::Unknown => {
                (filter.web_identity && WEB_IDENTITY_TEXT.find(bytes).is_some())
                    || (filter.long_lived_keys && QUOTED_AKIA.find(bytes).is_some())
                    || ESCAPE.find(bytes).is_some()
            }
        };
        if needed {
            return true;
        }
        if filter.trust_changes {
            match raw_string(record, &EVENT_NAME_KEY) {
                Some(name) if !TRUST_CHANGE_EVENTS.contains(&name) => {}
                // A trust change, or no findable name: let the parser decide.
                _ => return true,
            }
        }
        // Nothing is outside an open window: then the time cannot matter.
        let outside = !self.opts.window.is_open()
            && match raw_string(record, &EVENT_TIME_KEY).map(parse_event_time) {
                Some(Some(t)) => !self.opts.window.contains(t),
                // No findable time: let the parser decide.
                _ => return true,
            };
        self.read += 1;
        if outside {
            self.outside_window += 1;
        } else {
            self.not_needed += 1;
        }
        false
    }
}

/// The text of a record's first `"<key>": "…"` value (`key` finds the key
/// with its quotes), found without parsing. CloudTrail writes `eventTime` and
/// `eventName` before the payloads, and no nested CloudTrail object has
/// either. Only which reason a record not needed is counted under, or
/// whether it is worth parsing, can depend on it.
fn raw_string<'r>(record: &'r str, key: &Finder<'static>) -> Option<&'r str> {
    let at = key.find(record.as_bytes())?;
    let rest = record[at + key.needle().len()..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.find('"').map(|end| &rest[..end])
}

static EVENT_TIME_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\"eventTime\""));
static EVENT_NAME_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\"eventName\""));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_event_time_is_found_in_the_text() {
        assert_eq!(
            raw_string(
                r#"{"userIdentity":{"type":"Root"},"eventTime" : "2026-11-16T00:00:07Z","x":1}"#,
                &EVENT_TIME_KEY
            ),
            Some("2026-11-16T00:00:07Z")
        );
        assert_eq!(raw_string(r#"{"eventName":"X"}"#, &EVENT_TIME_KEY), None);
        assert_eq!(
            raw_string(r#"{"eventName":"X"}"#, &EVENT_NAME_KEY),
            Some("X")
        );
        assert_eq!(raw_string(r#"{"eventTime":null}"#, &EVENT_TIME_KEY), None);
    }
}
