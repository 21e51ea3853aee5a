//! One CloudTrail record, parsed by borrowing from the file's bytes.
//!
//! This is the single place where a record's JSON becomes typed fields. It is
//! deliberately lenient: real trails carry type drift (`readOnly: "true"`),
//! misspelled keys (`accesKeyId`, `principalid`), `userIdentity: null`, and
//! `requestParameters` given as a JSON-encoded string. None of these fail a
//! record; only JSON that is not well-formed does. It is not the place that
//! decides which records are kept or how they become columns (see `frame`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

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

/// `userIdentity` as found: an object, or anything else (null, a string),
/// which counts as no identity.
struct MaybeIdentity<'a>(Option<Identity<'a>>);

impl<'de> de::Deserialize<'de> for MaybeIdentity<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeIdentity<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a userIdentity object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut id = Identity::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let k = key.as_ref();
                    let slot = if k == "type" {
                        &mut id.kind
                    } else if key_is(k, "principalId") {
                        &mut id.principal_id
                    } else if k == "arn" || k == "ARN" {
                        &mut id.arn
                    } else if key_is(k, "accountId") {
                        &mut id.account_id
                    } else if key_is(k, "accessKeyId") || key_is(k, "accesKeyId") {
                        &mut id.access_key_id
                    } else if key_is(k, "userName") {
                        &mut id.user_name
                    } else if key_is(k, "invokedBy") {
                        &mut id.invoked_by
                    } else if key_is(k, "identityProvider") {
                        &mut id.identity_provider
                    } else if k == "sessionContext" {
                        map.next_value_seed(SessionContextSeed(&mut id))?;
                        continue;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    *slot = map.next_value::<Loose<'de>>()?;
                }
                Ok(MaybeIdentity(Some(id)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeIdentity(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Reads `sessionContext.sessionIssuer` and `sessionContext.webIdFederationData`
/// into the identity; everything else in it is skipped.
struct SessionContextSeed<'i, 'a>(&'i mut Identity<'a>);

impl<'de> DeserializeSeed<'de> for SessionContextSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SessionContextSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sessionContext object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "sessionIssuer" => {
                    let fields = map.next_value::<Flat<'de>>()?;
                    self.0.session_issuer_arn = fields.get("arn");
                    self.0.session_issuer_type = fields.get("type");
                }
                "webIdFederationData" => {
                    let fields = map.next_value::<Flat<'de>>()?;
                    self.0.federated_provider = fields.get("federatedProvider");
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// The scalar members of one JSON object (nested objects are skipped).
/// Anything that is not an object reads as empty.
#[derive(Debug, Default)]
pub struct Flat<'a>(Vec<(Cow<'a, str>, Loose<'a>)>);

impl<'a> Flat<'a> {
    /// The value under `name` (first occurrence), `Absent` if missing.
    pub fn get(&self, name: &str) -> Loose<'a> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

impl<'de: 'a, 'a> de::Deserialize<'de> for Flat<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Flat<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    let v = map.next_value::<Loose<'de>>()?;
                    if !matches!(v, Loose::Composite) {
                        out.push((k, v));
                    }
                }
                Ok(Flat(out))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Flat::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Flat::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Flat::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Flat::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Flat::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Flat::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Flat::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The parts of an `AssumeRole*` call's payloads that the frame keeps.
#[derive(Debug, Default)]
pub struct AssumeRolePayload {
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// `requestParameters.durationSeconds`, as written.
    pub duration_seconds: Option<String>,
    pub issued_access_key_id: Option<String>,
    pub subject: Option<String>,
    pub audience: Option<String>,
    pub provider: Option<String>,
    pub assumed_role_arn: Option<String>,
}

/// Parses a payload (`requestParameters`/`responseElements`) that may be an
/// object, `null`, or an object encoded as a JSON string.
fn payload_object<T>(raw: Option<&RawValue>, f: impl FnOnce(&str) -> Option<T>) -> Option<T> {
    let text = raw?.get().trim_start();
    if text.starts_with('"') {
        let inner: String = serde_json::from_str(text).ok()?;
        f(&inner)
    } else if text.starts_with('{') {
        f(text)
    } else {
        None
    }
}

fn owned(v: Loose<'_>) -> Option<String> {
    v.as_str().map(str::to_owned)
}

impl AssumeRolePayload {
    /// Extracts role, session and issued-credential fields from an
    /// `AssumeRole*` event. Session tokens and secret keys are never read.
    pub fn from_event(ev: &RawEvent<'_>) -> Self {
        #[derive(serde::Deserialize)]
        struct Response<'a> {
            #[serde(borrow, default)]
            credentials: Flat<'a>,
            #[serde(borrow, default, rename = "subjectFromWebIdentityToken")]
            subject: Loose<'a>,
            #[serde(borrow, default)]
            audience: Loose<'a>,
            #[serde(borrow, default)]
            provider: Loose<'a>,
            #[serde(borrow, default, rename = "assumedRoleUser")]
            assumed_role_user: Flat<'a>,
        }
        let mut out = AssumeRolePayload::default();
        payload_object(ev.request_parameters, |text| {
            let req: Flat<'_> = serde_json::from_str(text).ok()?;
            out.role_arn = owned(req.get("roleArn"));
            out.role_session_name = owned(req.get("roleSessionName"));
            out.duration_seconds = owned(req.get("durationSeconds"));
            Some(())
        });
        payload_object(ev.response_elements, |text| {
            let resp: Response<'_> = serde_json::from_str(text).ok()?;
            out.issued_access_key_id = owned(resp.credentials.get("accessKeyId"));
            out.subject = owned(resp.subject);
            out.audience = owned(resp.audience);
            out.provider = owned(resp.provider);
            out.assumed_role_arn = owned(resp.assumed_role_user.get("arn"));
            Some(())
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RawEvent<'_> {
        serde_json::from_str(text).expect("parses")
    }

    #[test]
    fn type_drift_is_tolerated() {
        let ev = parse(
            r#"{"eventTime":"2022-01-03T19:03:00Z","readOnly":"true","managementEvent":false,
                "userIdentity":null,"requestParameters":null,"errorCode":200,"extra":{"a":[1,2]}}"#,
        );
        assert_eq!(ev.read_only.as_bool(), Some(true));
        assert_eq!(ev.management_event.as_bool(), Some(false));
        assert!(ev.identity.is_none());
        assert_eq!(ev.error_code.as_str(), Some("200"));
        assert_eq!(ev.request_parameters.map(|r| r.get()), Some("null"));
    }

    #[test]
    fn misspelled_identity_keys_are_read() {
        let ev = parse(
            r#"{"userIdentity":{"type":"IAMUser","accesKeyId":"AKIAX","principalid":"AIDA1"}}"#,
        );
        let id = ev.identity.unwrap();
        assert_eq!(id.access_key_id.as_str(), Some("AKIAX"));
        assert_eq!(id.principal_id.as_str(), Some("AIDA1"));
    }

    #[test]
    fn empty_strings_read_as_missing() {
        let ev = parse(r#"{"userIdentity":{"arn":"","accessKeyId":""}}"#);
        let id = ev.identity.unwrap();
        assert_eq!(id.arn.as_str(), None);
        assert_eq!(id.access_key_id.as_str(), None);
    }

    #[test]
    fn session_context_issuer_is_read() {
        let ev = parse(
            r#"{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/r"},"webIdFederationData":{"federatedProvider":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com","attributes":{}},"attributes":{"mfaAuthenticated":"false"}}}}"#,
        );
        let id = ev.identity.unwrap();
        assert_eq!(
            id.session_issuer_arn.as_str(),
            Some("arn:aws:iam::1:role/r")
        );
        assert_eq!(id.session_issuer_type.as_str(), Some("Role"));
        assert!(
            id.federated_provider
                .as_str()
                .unwrap()
                .ends_with("githubusercontent.com")
        );
    }

    #[test]
    fn assume_role_payload_from_objects_and_strings() {
        let ev = parse(
            r#"{"requestParameters":{"roleArn":"arn:aws:iam::1:role/r","roleSessionName":"GitHubActions"},
                "responseElements":{"credentials":{"accessKeyId":"ASIA1","sessionToken":"SECRET","expiration":"Apr 16, 2025, 3:46:56 AM"},
                "subjectFromWebIdentityToken":"repo:a/b:ref:refs/heads/main","audience":"sts.amazonaws.com",
                "provider":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
                "assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/r/GitHubActions"}}}"#,
        );
        let p = AssumeRolePayload::from_event(&ev);
        assert_eq!(p.role_arn.as_deref(), Some("arn:aws:iam::1:role/r"));
        assert_eq!(p.issued_access_key_id.as_deref(), Some("ASIA1"));
        assert_eq!(p.subject.as_deref(), Some("repo:a/b:ref:refs/heads/main"));
        assert_eq!(p.audience.as_deref(), Some("sts.amazonaws.com"));

        let ev = parse(
            r#"{"requestParameters":"{\"roleArn\":\"arn:aws:iam::1:role/s\"}","responseElements":"not json"}"#,
        );
        let p = AssumeRolePayload::from_event(&ev);
        assert_eq!(p.role_arn.as_deref(), Some("arn:aws:iam::1:role/s"));
        assert_eq!(p.subject, None);
    }
}
