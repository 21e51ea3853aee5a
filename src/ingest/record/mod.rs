//! One CloudTrail record, parsed by borrowing from the file's bytes.
//!
//! This is the single place where a record's JSON becomes typed fields. It is
//! deliberately lenient: real trails carry type drift (`readOnly: "true"`),
//! misspelled keys (`accesKeyId`, `principalid`), `userIdentity: null`, and
//! `requestParameters` given as a JSON-encoded string. None of these fail a
//! record; only JSON that is not well-formed does. It is not the place that
//! decides which records are kept or how they become columns (see `frame`).

mod identity;
mod payload;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use identity::MaybeIdentity;
pub use payload::{AssumeRolePayload, Flat};

/// A JSON scalar as found, without insisting on its type.
///
/// Strings stay borrowed from the input where they carry no escapes.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Loose<'a> {
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
    Bool(bool),
    Num(String),
    /// An object or array where a scalar was expected; its content is skipped.
    Composite,
}

impl<'a> Loose<'a> {
    /// The value as text: strings as they are, booleans and numbers spelled
    /// out, everything else `None`. Empty strings are `None` too: CloudTrail
    /// writes `""` where it means "no value" (`accessKeyId: ""`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) if !s.is_empty() => Some(s),
            Loose::Bool(true) => Some("true"),
            Loose::Bool(false) => Some("false"),
            Loose::Num(n) => Some(n),
            _ => None,
        }
    }

    /// The value as a boolean: `true`/`false` or the strings `"true"`/`"false"`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Loose::Bool(b) => Some(*b),
            Loose::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Loose::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> de::Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Loose::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Loose::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Loose::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Loose::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Loose::Num(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Loose::Num(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Loose::Num(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Loose::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Loose::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::Composite)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose::Composite)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An object key, borrowed where it has no escapes.
pub struct Key<'a>(pub Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The `userIdentity` block, with the keys ctaudit uses.
#[derive(Debug, Default)]
pub struct Identity<'a> {
    pub kind: Loose<'a>,
    pub principal_id: Loose<'a>,
    pub arn: Loose<'a>,
    pub account_id: Loose<'a>,
    pub access_key_id: Loose<'a>,
    pub user_name: Loose<'a>,
    pub invoked_by: Loose<'a>,
    pub identity_provider: Loose<'a>,
    pub session_issuer_arn: Loose<'a>,
    pub session_issuer_type: Loose<'a>,
    pub federated_provider: Loose<'a>,
}

/// One CloudTrail record with the fields ctaudit reads.
///
/// `request_parameters` and `response_elements` stay raw: only a few event
/// names need anything from them, and they are parsed on demand.
#[derive(Debug, Default)]
pub struct RawEvent<'a> {
    pub event_version: Loose<'a>,
    pub event_time: Loose<'a>,
    pub event_id: Loose<'a>,
    pub event_name: Loose<'a>,
    pub event_source: Loose<'a>,
    pub event_type: Loose<'a>,
    pub event_category: Loose<'a>,
    pub aws_region: Loose<'a>,
    pub source_ip: Loose<'a>,
    pub user_agent: Loose<'a>,
    pub error_code: Loose<'a>,
    pub error_message: Loose<'a>,
    pub request_id: Loose<'a>,
    pub recipient_account_id: Loose<'a>,
    pub read_only: Loose<'a>,
    pub management_event: Loose<'a>,
    pub identity: Option<Identity<'a>>,
    pub request_parameters: Option<&'a RawValue>,
    pub response_elements: Option<&'a RawValue>,
    pub resources: Option<&'a RawValue>,
    /// A lookup-events item's `CloudTrailEvent`: the event as a JSON string.
    pub embedded: Option<Cow<'a, str>>,
}

impl RawEvent<'_> {
    /// Whether the object carries any field every CloudTrail event has.
    /// Objects with none of them are not events (a stray config file, say).
    pub fn looks_like_event(&self) -> bool {
        [
            &self.event_time,
            &self.event_name,
            &self.event_source,
            &self.event_id,
            &self.event_version,
        ]
        .iter()
        .any(|v| !matches!(v, Loose::Absent))
            || self.identity.is_some()
    }
}

/// Matches `key` against `name` exactly, or ignoring ASCII case.
fn key_is(key: &str, name: &str) -> bool {
    key.len() == name.len() && key.eq_ignore_ascii_case(name)
}

impl<'de> de::Deserialize<'de> for RawEvent<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

/// Visits an event object. Also used directly on a `MapAccess` by callers
/// that have already seen the opening brace.
pub struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = RawEvent<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ev = RawEvent::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let slot = match key.as_ref() {
                "eventVersion" => &mut ev.event_version,
                "eventTime" => &mut ev.event_time,
                "eventID" => &mut ev.event_id,
                "eventName" => &mut ev.event_name,
                "eventSource" => &mut ev.event_source,
                "eventType" => &mut ev.event_type,
                "eventCategory" => &mut ev.event_category,
                "awsRegion" => &mut ev.aws_region,
                "sourceIPAddress" => &mut ev.source_ip,
                "userAgent" => &mut ev.user_agent,
                "errorCode" => &mut ev.error_code,
                "errorMessage" => &mut ev.error_message,
                "requestID" => &mut ev.request_id,
                "recipientAccountId" => &mut ev.recipient_account_id,
                "readOnly" => &mut ev.read_only,
                "managementEvent" => &mut ev.management_event,
                "userIdentity" => {
                    ev.identity = map.next_value::<MaybeIdentity<'de>>()?.0;
                    continue;
                }
                "CloudTrailEvent" => {
                    if let Loose::Str(s) = map.next_value::<Loose<'de>>()? {
                        ev.embedded = Some(s);
                    }
                    continue;
                }
                "requestParameters" => {
                    ev.request_parameters = Some(map.next_value::<&'de RawValue>()?);
                    continue;
                }
                "responseElements" => {
                    ev.response_elements = Some(map.next_value::<&'de RawValue>()?);
                    continue;
                }
                "resources" => {
                    ev.resources = Some(map.next_value::<&'de RawValue>()?);
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Loose<'de>>()?;
        }
        Ok(ev)
    }
}

#[cfg(test)]
mod tests;
