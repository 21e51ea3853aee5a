//! The serde visitors that walk a file's top level and its arrays of
//! events, handing each record to the sink as it is read.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::super::record::{EventVisitor, Key, RawEvent};
use super::{EventSink, Seen, deliver, read_record};

#[derive(Default)]
pub(super) struct Counter {
    /// Array elements seen so far in this file.
    pub(super) seen: usize,
}

pub(super) enum TopKind {
    Records,
    Lookup,
    Digest,
    /// An object with none of the container keys: an event on its own.
    Plain,
    Array,
}

/// One top-level value: a container object, an array of events, or a plain
/// object (which the caller then re-reads as an event).
pub(super) struct TopSeed<'s, 'c> {
    pub(super) sink: &'s mut dyn EventSink,
    pub(super) counter: &'c mut Counter,
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
                read_record(raw.get(), Seen::Unknown, self.sink);
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
pub(super) enum MaybeEvent<'a> {
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
