//! The request and response payloads, parsed on demand: only `AssumeRole*`
//! calls need anything from them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{Key, Loose, RawEvent};

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
