//! One record's values, as the frame's columns hold them: borrowed from the
//! record where they can be, derived (GitHub claims, a stable id for records
//! without one) where they must be.

use std::borrow::Cow;

use super::subject::{parse_github_subject, split_web_identity_principal};
use super::{S, STRING_COLUMNS, payload};
use crate::ingest::record::{AssumeRolePayload, Identity, Loose, RawEvent};
use crate::time::Millis;

/// One event's values, borrowed from the record where possible.
pub struct Row<'a> {
    pub time: Option<Millis>,
    pub read_only: Option<bool>,
    pub(super) strs: [Option<Cow<'a, str>>; STRING_COLUMNS.len()],
}

impl<'a> Row<'a> {
    fn set(&mut self, slot: S, v: Option<Cow<'a, str>>) {
        self.strs[slot as usize] = v;
    }

    pub(super) fn get(&self, slot: S) -> Option<&str> {
        self.strs[slot as usize].as_deref()
    }

    /// The event's name, if any.
    pub fn event_name(&self) -> Option<&str> {
        self.get(S::EventName)
    }

    /// The access key that made the call, if any.
    pub fn access_key_id(&self) -> Option<&str> {
        self.get(S::AccessKeyId)
    }

    /// Builds the row for one record. `time` is the already parsed event
    /// time; `source` names the file it came from; `payloads` keeps the
    /// request, response and resources (redacted).
    pub fn from_event(
        ev: &'a RawEvent<'a>,
        time: Option<Millis>,
        source: &'a str,
        payloads: bool,
    ) -> Row<'a> {
        let mut row = Row {
            time,
            read_only: ev.read_only.as_bool(),
            strs: std::array::from_fn(|_| None),
        };
        let id = ev.identity.as_ref();
        let idf = |f: fn(&'a Identity<'a>) -> &'a Loose<'a>| id.map(f).and_then(text);
        row.set(
            S::EventId,
            text(&ev.event_id).or_else(|| Some(Cow::Owned(derived_event_id(ev)))),
        );
        row.set(S::EventName, text(&ev.event_name));
        row.set(S::EventSource, text(&ev.event_source));
        row.set(S::EventType, text(&ev.event_type));
        row.set(S::AwsRegion, text(&ev.aws_region));
        row.set(
            S::AccountId,
            text(&ev.recipient_account_id).or_else(|| idf(|i| &i.account_id)),
        );
        row.set(S::SourceIp, text(&ev.source_ip));
        row.set(S::UserAgent, text(&ev.user_agent).map(scrubbed));
        row.set(S::ErrorCode, text(&ev.error_code));
        row.set(S::ErrorMessage, text(&ev.error_message).map(scrubbed));
        row.set(S::RequestId, text(&ev.request_id));
        row.set(S::IdentityType, idf(|i| &i.kind));
        row.set(S::IdentityArn, idf(|i| &i.arn));
        row.set(S::IdentityUserName, idf(|i| &i.user_name));
        row.set(S::IdentityPrincipalId, idf(|i| &i.principal_id));
        row.set(S::AccessKeyId, idf(|i| &i.access_key_id));
        row.set(S::SessionIssuerArn, idf(|i| &i.session_issuer_arn));
        row.set(
            S::IdentityProvider,
            idf(|i| &i.identity_provider).or_else(|| idf(|i| &i.federated_provider)),
        );
        row.set(S::InvokedBy, idf(|i| &i.invoked_by));
        row.set(S::SourceFile, Some(Cow::Borrowed(source)));
        if let Some(ua) = ev.user_agent.as_str() {
            let (run, attempt) = payload::github_run(ua);
            row.set(S::GhRunId, run.map(Cow::Borrowed));
            row.set(S::GhRunAttempt, attempt.map(Cow::Borrowed));
        }
        if payloads {
            row.set(
                S::RequestParameters,
                ev.request_parameters
                    .and_then(payload::payload_text)
                    .map(Cow::Owned),
            );
            row.set(
                S::ResponseElements,
                ev.response_elements
                    .and_then(payload::payload_text)
                    .map(Cow::Owned),
            );
            row.set(
                S::Resources,
                ev.resources
                    .and_then(payload::resource_arns)
                    .map(Cow::Owned),
            );
        }
        if row
            .event_name()
            .is_some_and(|n| n.starts_with("AssumeRole"))
        {
            row.fill_assume_role(ev);
        }
        row
    }

    /// Role, session, issued key and web-identity subject of an `AssumeRole*` call.
    fn fill_assume_role(&mut self, ev: &RawEvent<'_>) {
        let p = AssumeRolePayload::from_event(ev);
        let mut subject = p.subject;
        let mut audience = p.audience;
        let mut provider = p.provider;
        if self
            .event_name()
            .is_some_and(|n| n.starts_with("AssumeRoleWith"))
        {
            // Failed calls carry no response: CloudTrail puts the caller's
            // subject in `userName` and `<provider>:<aud>:<sub>` in `principalId`.
            let from_principal = self
                .get(S::IdentityPrincipalId)
                .and_then(split_web_identity_principal);
            if subject.is_none() {
                subject = self
                    .get(S::IdentityUserName)
                    .map(str::to_owned)
                    .or_else(|| from_principal.map(|(_, _, s)| s.to_owned()));
            }
            if audience.is_none() {
                audience = from_principal.map(|(_, a, _)| a.to_owned());
            }
            if provider.is_none() {
                provider = self
                    .get(S::IdentityProvider)
                    .map(str::to_owned)
                    .or_else(|| from_principal.map(|(p, _, _)| p.to_owned()));
            }
        }
        if let Some(gh) = subject
            .as_deref()
            .and_then(|s| parse_github_subject(s, provider.as_deref()))
        {
            self.set(S::GhOwner, gh.owner.map(Cow::Owned));
            self.set(S::GhRepository, gh.repository.map(Cow::Owned));
            self.set(S::GhRef, gh.git_ref.map(Cow::Owned));
            self.set(S::GhRefType, gh.ref_type.map(|t| Cow::Borrowed(t.as_str())));
            self.set(S::GhEnvironment, gh.environment.map(Cow::Owned));
            self.set(S::GhJobWorkflowRef, gh.job_workflow_ref.map(Cow::Owned));
        }
        self.set(S::RoleArn, p.role_arn.map(Cow::Owned));
        self.set(S::RoleSessionName, p.role_session_name.map(Cow::Owned));
        self.set(S::SessionDuration, p.duration_seconds.map(Cow::Owned));
        self.set(S::IssuedAccessKeyId, p.issued_access_key_id.map(Cow::Owned));
        self.set(S::AssumedRoleArn, p.assumed_role_arn.map(Cow::Owned));
        self.set(S::Subject, subject.map(Cow::Owned));
        self.set(S::Audience, audience.map(Cow::Owned));
        self.set(S::Provider, provider.map(Cow::Owned));
    }
}

fn text<'a>(v: &'a Loose<'a>) -> Option<Cow<'a, str>> {
    v.as_str().map(Cow::Borrowed)
}

/// Free text (a user agent, an error message) with any secret in it
/// replaced ([`crate::redact::scrub_text`]).
fn scrubbed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => crate::redact::scrub_text(t),
        Cow::Owned(t) => Cow::Owned(crate::redact::scrub_text(&t).into_owned()),
    }
}

/// A stable id for a record without `eventID`, from the fields that identify
/// it. Payloads are hashed without insignificant white space, so the same
/// record pretty-printed or compact gets the same id.
fn derived_event_id(ev: &RawEvent<'_>) -> String {
    let mut h = Fnv::default();
    for v in [
        &ev.event_time,
        &ev.event_name,
        &ev.event_source,
        &ev.aws_region,
        &ev.source_ip,
        &ev.user_agent,
        &ev.request_id,
        &ev.error_code,
        &ev.recipient_account_id,
    ] {
        h.write(v.as_str().unwrap_or("").as_bytes());
        h.write(&[0xff]);
    }
    if let Some(id) = &ev.identity {
        for v in [
            &id.kind,
            &id.arn,
            &id.principal_id,
            &id.access_key_id,
            &id.user_name,
        ] {
            h.write(v.as_str().unwrap_or("").as_bytes());
            h.write(&[0xfe]);
        }
    }
    for raw in [ev.request_parameters, ev.response_elements]
        .into_iter()
        .flatten()
    {
        h.write_json_compact(raw.get().as_bytes());
        h.write(&[0xfd]);
    }
    format!("derived-{:032x}", h.finish())
}

/// Two FNV-1a hashes with different offsets: 128 bits, stable across
/// versions and platforms (unlike `std`'s hasher): derived event ids are
/// stored, so they must not change.
struct Fnv {
    a: u64,
    b: u64,
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv {
            a: 0xcbf2_9ce4_8422_2325,
            b: 0x6c62_272e_07bb_0142,
        }
    }
}

impl Fnv {
    /// The 128-bit digest.
    fn finish(&self) -> u128 {
        ((self.a as u128) << 64) | self.b as u128
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.a = (self.a ^ byte as u64).wrapping_mul(0x100_0000_01b3);
            self.b = (self.b ^ byte as u64)
                .wrapping_mul(0x100_0000_01b3)
                .rotate_left(5);
        }
    }

    /// Hashes JSON text skipping white space outside strings.
    fn write_json_compact(&mut self, json: &[u8]) {
        let (mut in_str, mut escaped) = (false, false);
        for &c in json {
            if in_str {
                if escaped {
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == b'"' {
                    in_str = false;
                }
            } else if c == b'"' {
                in_str = true;
            } else if c.is_ascii_whitespace() {
                continue;
            }
            self.write(&[c]);
        }
    }
}
