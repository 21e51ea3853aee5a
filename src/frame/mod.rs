//! The events frame: one polars DataFrame, one row per CloudTrail event, with
//! the schema documented here once.
//!
//! Records become rows through [`FrameBuilder`], which writes polars columns
//! directly (no intermediate JSON or row structs). Which records are kept
//! is decided by `ingest`; what the rows mean is decided by `reports`.
//! Session tokens and secret keys are never read into the frame.
//!
//! # Schema
//!
//! | column | type | from |
//! |---|---|---|
//! | `event_time` | Datetime(ms), UTC (no zone attached) | `eventTime`; null when unparseable |
//! | `event_id` | str | `eventID`, or `derived-<hash of the record's content>` |
//! | `event_name` | str | `eventName` |
//! | `event_source` | str | `eventSource` |
//! | `event_type` | str | `eventType` |
//! | `aws_region` | str | `awsRegion` |
//! | `account_id` | str | `recipientAccountId`, else `userIdentity.accountId` |
//! | `source_ip` | str | `sourceIPAddress` (as written: may be a host name) |
//! | `source_network` | str | `github-actions`, `aws`, `private`, `aws-service` or `other` ([`crate::network`]) |
//! | `source_asn` | str | the caller's autonomous system number, with `--geoip` |
//! | `source_as_org` | str | its organisation, with `--geoip` |
//! | `source_country` | str | the caller's country (ISO 3166 alpha-2), with `--geoip` |
//! | `user_agent` | str | `userAgent` |
//! | `error_code` | str | `errorCode` |
//! | `error_message` | str | `errorMessage` |
//! | `read_only` | bool | `readOnly` (boolean or `"true"`/`"false"`) |
//! | `request_id` | str | `requestID` |
//! | `identity_type` | str | `userIdentity.type` |
//! | `identity_arn` | str | `userIdentity.arn` |
//! | `identity_user_name` | str | `userIdentity.userName` |
//! | `identity_principal_id` | str | `userIdentity.principalId` |
//! | `access_key_id` | str | `userIdentity.accessKeyId`: the key that made the call |
//! | `session_issuer_arn` | str | `userIdentity.sessionContext.sessionIssuer.arn` |
//! | `identity_provider` | str | `userIdentity.identityProvider`, or `sessionContext.webIdFederationData.federatedProvider` |
//! | `invoked_by` | str | `userIdentity.invokedBy` |
//! | `role_arn` | str | `AssumeRole*`: `requestParameters.roleArn` |
//! | `role_session_name` | str | `AssumeRole*`: `requestParameters.roleSessionName` |
//! | `session_duration` | str | `AssumeRole*`: `requestParameters.durationSeconds` (seconds asked for; absent: the default, 3600) |
//! | `issued_access_key_id` | str | `AssumeRole*`: `responseElements.credentials.accessKeyId` |
//! | `assumed_role_arn` | str | `AssumeRole*`: `responseElements.assumedRoleUser.arn` |
//! | `subject` | str | `AssumeRoleWith*`: `responseElements.subjectFromWebIdentityToken`; for failed calls `userIdentity.userName` or the tail of `principalId` |
//! | `audience` | str | `responseElements.audience`, or from a failed call's `principalId` |
//! | `provider` | str | `responseElements.provider`, or `userIdentity.identityProvider` |
//! | `gh_owner` | str | GitHub subject: repository owner |
//! | `gh_repository` | str | GitHub subject: `owner/name` |
//! | `gh_ref` | str | GitHub subject: `refs/heads/…`, `refs/tags/…` |
//! | `gh_ref_type` | str | `branch`, `tag`, `pull_request` or `environment` |
//! | `gh_environment` | str | GitHub subject: environment name |
//! | `gh_job_workflow_ref` | str | GitHub subject: `job_workflow_ref` claim |
//! | `gh_run_id` | str | the workflow run id in the user agent (`md/run_id#…`) |
//! | `gh_run_attempt` | str | the run attempt in the user agent (`md/attempt#…`) |
//! | `resources` | str | the ARNs of `resources`, comma-separated (full ingest only) |
//! | `request_parameters` | str | `requestParameters` as minified JSON, secrets redacted (full ingest only) |
//! | `response_elements` | str | `responseElements` as minified JSON, secrets redacted (full ingest only) |
//! | `source_file` | str | the file (or object) the record was read from |
//!
//! "Full ingest only": filled when every event is kept (`ingest`, `query`,
//! `trace`). `report` fills only the columns its reports read ([`Columns`])
//! and leaves the others null, which costs nothing whatever the row count.

pub mod payload;
pub mod subject;

use std::borrow::Cow;

use polars::prelude::*;
use polars_arrow::array::MutableBinaryViewArray;

use crate::ingest::record::{AssumeRolePayload, Identity, Loose, RawEvent};
use crate::time::Millis;
use subject::{parse_github_subject, split_web_identity_principal};

/// Column names of the events frame.
pub mod col {
    pub const EVENT_TIME: &str = "event_time";
    pub const EVENT_ID: &str = "event_id";
    pub const EVENT_NAME: &str = "event_name";
    pub const EVENT_SOURCE: &str = "event_source";
    pub const EVENT_TYPE: &str = "event_type";
    pub const AWS_REGION: &str = "aws_region";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const SOURCE_IP: &str = "source_ip";
    pub const SOURCE_NETWORK: &str = "source_network";
    pub const SOURCE_ASN: &str = "source_asn";
    pub const SOURCE_AS_ORG: &str = "source_as_org";
    pub const SOURCE_COUNTRY: &str = "source_country";
    pub const USER_AGENT: &str = "user_agent";
    pub const ERROR_CODE: &str = "error_code";
    pub const ERROR_MESSAGE: &str = "error_message";
    pub const READ_ONLY: &str = "read_only";
    pub const REQUEST_ID: &str = "request_id";
    pub const IDENTITY_TYPE: &str = "identity_type";
    pub const IDENTITY_ARN: &str = "identity_arn";
    pub const IDENTITY_USER_NAME: &str = "identity_user_name";
    pub const IDENTITY_PRINCIPAL_ID: &str = "identity_principal_id";
    pub const ACCESS_KEY_ID: &str = "access_key_id";
    pub const SESSION_ISSUER_ARN: &str = "session_issuer_arn";
    pub const IDENTITY_PROVIDER: &str = "identity_provider";
    pub const INVOKED_BY: &str = "invoked_by";
    pub const ROLE_ARN: &str = "role_arn";
    pub const ROLE_SESSION_NAME: &str = "role_session_name";
    pub const SESSION_DURATION: &str = "session_duration";
    pub const ISSUED_ACCESS_KEY_ID: &str = "issued_access_key_id";
    pub const ASSUMED_ROLE_ARN: &str = "assumed_role_arn";
    pub const SUBJECT: &str = "subject";
    pub const AUDIENCE: &str = "audience";
    pub const PROVIDER: &str = "provider";
    pub const GH_OWNER: &str = "gh_owner";
    pub const GH_REPOSITORY: &str = "gh_repository";
    pub const GH_REF: &str = "gh_ref";
    pub const GH_REF_TYPE: &str = "gh_ref_type";
    pub const GH_ENVIRONMENT: &str = "gh_environment";
    pub const GH_JOB_WORKFLOW_REF: &str = "gh_job_workflow_ref";
    pub const GH_RUN_ID: &str = "gh_run_id";
    pub const GH_RUN_ATTEMPT: &str = "gh_run_attempt";
    pub const RESOURCES: &str = "resources";
    pub const REQUEST_PARAMETERS: &str = "request_parameters";
    pub const RESPONSE_ELEMENTS: &str = "response_elements";
    pub const SOURCE_FILE: &str = "source_file";
}

/// The string columns, in frame order (after `event_time`). The index of a
/// name here is its slot in [`Row`].
const STRING_COLUMNS: [&str; 43] = [
    col::EVENT_ID,
    col::EVENT_NAME,
    col::EVENT_SOURCE,
    col::EVENT_TYPE,
    col::AWS_REGION,
    col::ACCOUNT_ID,
    col::SOURCE_IP,
    col::SOURCE_NETWORK,
    col::SOURCE_ASN,
    col::SOURCE_AS_ORG,
    col::SOURCE_COUNTRY,
    col::USER_AGENT,
    col::ERROR_CODE,
    col::ERROR_MESSAGE,
    col::REQUEST_ID,
    col::IDENTITY_TYPE,
    col::IDENTITY_ARN,
    col::IDENTITY_USER_NAME,
    col::IDENTITY_PRINCIPAL_ID,
    col::ACCESS_KEY_ID,
    col::SESSION_ISSUER_ARN,
    col::IDENTITY_PROVIDER,
    col::INVOKED_BY,
    col::ROLE_ARN,
    col::ROLE_SESSION_NAME,
    col::SESSION_DURATION,
    col::ISSUED_ACCESS_KEY_ID,
    col::ASSUMED_ROLE_ARN,
    col::SUBJECT,
    col::AUDIENCE,
    col::PROVIDER,
    col::GH_OWNER,
    col::GH_REPOSITORY,
    col::GH_REF,
    col::GH_REF_TYPE,
    col::GH_ENVIRONMENT,
    col::GH_JOB_WORKFLOW_REF,
    col::GH_RUN_ID,
    col::GH_RUN_ATTEMPT,
    col::RESOURCES,
    col::REQUEST_PARAMETERS,
    col::RESPONSE_ELEMENTS,
    col::SOURCE_FILE,
];

/// Slots of [`Row::strs`], one per entry of [`STRING_COLUMNS`].
#[derive(Clone, Copy)]
#[repr(usize)]
enum S {
    EventId,
    EventName,
    EventSource,
    EventType,
    AwsRegion,
    AccountId,
    SourceIp,
    // Filled after the frame is built, by `network::Enricher`.
    SourceNetwork,
    #[allow(dead_code)]
    SourceAsn,
    #[allow(dead_code)]
    SourceAsOrg,
    SourceCountry,
    UserAgent,
    ErrorCode,
    ErrorMessage,
    RequestId,
    IdentityType,
    IdentityArn,
    IdentityUserName,
    IdentityPrincipalId,
    AccessKeyId,
    SessionIssuerArn,
    IdentityProvider,
    InvokedBy,
    RoleArn,
    RoleSessionName,
    SessionDuration,
    IssuedAccessKeyId,
    AssumedRoleArn,
    Subject,
    Audience,
    Provider,
    GhOwner,
    GhRepository,
    GhRef,
    GhRefType,
    GhEnvironment,
    GhJobWorkflowRef,
    GhRunId,
    GhRunAttempt,
    Resources,
    RequestParameters,
    ResponseElements,
    SourceFile,
}

/// The frame's schema, in column order.
pub fn schema() -> Schema {
    column_names()
        .map(|name| {
            let dtype = match name {
                col::EVENT_TIME => time_dtype(),
                col::READ_ONLY => DataType::Boolean,
                _ => DataType::String,
            };
            (name.into(), dtype)
        })
        .collect()
}

/// Every column's name, in frame order: `event_time`, then the string
/// columns with `read_only` after `error_message`.
fn column_names() -> impl Iterator<Item = &'static str> {
    let strings = STRING_COLUMNS.iter().flat_map(|name| {
        std::iter::once(*name).chain((*name == col::ERROR_MESSAGE).then_some(col::READ_ONLY))
    });
    std::iter::once(col::EVENT_TIME).chain(strings)
}

/// The type of `event_time`: milliseconds, UTC by convention, with no time
/// zone attached (so SQL compares it with plain timestamp literals).
pub fn time_dtype() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, None)
}

/// One event's values, borrowed from the record where possible.
pub struct Row<'a> {
    pub time: Option<Millis>,
    pub read_only: Option<bool>,
    strs: [Option<Cow<'a, str>>; STRING_COLUMNS.len()],
}

impl<'a> Row<'a> {
    fn set(&mut self, slot: S, v: Option<Cow<'a, str>>) {
        self.strs[slot as usize] = v;
    }

    fn get(&self, slot: S) -> Option<&str> {
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

/// The columns that identify an event: two rows are the same event read
/// twice (a trail delivered to two buckets, overlapping exports) when all of
/// these match. Real CloudTrail ids are unique, but hand-written trails
/// reuse ids for different events, so the id alone is not enough.
pub const EVENT_KEY_COLUMNS: [&str; 9] = [
    col::EVENT_ID,
    col::EVENT_TIME,
    col::EVENT_NAME,
    col::EVENT_SOURCE,
    col::IDENTITY_ARN,
    col::ACCESS_KEY_ID,
    col::ERROR_CODE,
    col::SOURCE_IP,
    col::USER_AGENT,
];

/// `event_time` as milliseconds since the epoch (null where unknown).
pub fn event_times(df: &DataFrame) -> PolarsResult<Int64Chunked> {
    let times = df
        .column(col::EVENT_TIME)?
        .as_materialized_series()
        .to_physical_repr();
    Ok(times.i64()?.clone())
}

/// A 128-bit digest of each row's [`EVENT_KEY_COLUMNS`] (XXH3), to tell
/// events read twice apart. Only ever compared within one run, never stored.
///
/// Expects those columns with the events frame's types.
pub fn event_keys(df: &DataFrame) -> PolarsResult<Vec<u128>> {
    let times = event_times(df)?;
    let strs = EVENT_KEY_COLUMNS
        .iter()
        .filter(|c| **c != col::EVENT_TIME)
        .map(|c| df.column(c)?.str())
        .collect::<PolarsResult<Vec<_>>>()?;
    let mut key = Vec::with_capacity(256);
    Ok((0..df.height())
        .map(|i| {
            // Each field length-prefixed (null: u32::MAX), so that no two
            // different rows make the same bytes.
            key.clear();
            key.extend_from_slice(&times.get(i).map_or([0xff; 8], i64::to_le_bytes));
            for c in &strs {
                match c.get(i) {
                    Some(s) => {
                        key.extend_from_slice(&(s.len() as u32).to_le_bytes());
                        key.extend_from_slice(s.as_bytes());
                    }
                    None => key.extend_from_slice(&u32::MAX.to_le_bytes()),
                }
            }
            xxhash_rust::xxh3::xxh3_128(&key)
        })
        .collect())
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

/// Which of the frame's columns are filled; the others are left null.
///
/// `report` straight from logs keeps only what its reports read, so that
/// each row it keeps stays small. Every frame has the columns that order
/// rows and identify events ([`EVENT_KEY_COLUMNS`], `source_file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// One bit per entry of [`STRING_COLUMNS`].
    strs: u64,
    read_only: bool,
}

impl Columns {
    /// Every column.
    pub const ALL: Columns = Columns {
        strs: (1 << STRING_COLUMNS.len()) - 1,
        read_only: true,
    };

    /// The columns named (names that are not the frame's are ignored:
    /// reports also name the columns they make), and those every frame has.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Columns {
        let mut c = Columns {
            strs: 0,
            read_only: false,
        };
        let always = EVENT_KEY_COLUMNS.into_iter().chain([col::SOURCE_FILE]);
        for name in names.into_iter().chain(always) {
            if name == col::READ_ONLY {
                c.read_only = true;
            } else if let Some(i) = STRING_COLUMNS.iter().position(|n| *n == name) {
                c.strs |= 1 << i;
            }
        }
        c
    }

    /// Whether the column called `name` is filled.
    pub fn has(&self, name: &str) -> bool {
        match name {
            col::EVENT_TIME => true,
            col::READ_ONLY => self.read_only,
            _ => STRING_COLUMNS
                .iter()
                .position(|n| *n == name)
                .is_some_and(|i| self.has_str(i)),
        }
    }

    fn has_str(&self, index: usize) -> bool {
        self.strs & (1 << index) != 0
    }

    /// The filled columns' names, in frame order.
    pub fn names(&self) -> Vec<&'static str> {
        column_names().filter(|n| self.has(n)).collect()
    }
}

/// Builds the events frame column by column, only the [`Columns`] asked for.
pub struct FrameBuilder {
    time: PrimitiveChunkedBuilder<Int64Type>,
    read_only: Option<BooleanChunkedBuilder>,
    /// One per entry of [`STRING_COLUMNS`]; `None` for the columns not
    /// filled and for `source_file`, which `sources` builds.
    strs: Vec<Option<StringChunkedBuilder>>,
    /// `source_file`: the rows of one file share its name, stored once.
    sources: MutableBinaryViewArray<str>,
    /// The current file's name and its rows not yet in `sources`.
    run: Option<(String, usize)>,
    len: usize,
    /// The columns filled. No record fills the enrichment columns
    /// (`source_network`…): those asked for start as null columns, which
    /// take no memory, until [`crate::network::Enricher`] fills them.
    columns: Columns,
}

/// Filled after the frame is built, never from a record.
fn is_enrichment(index: usize) -> bool {
    (S::SourceNetwork as usize..=S::SourceCountry as usize).contains(&index)
}

impl Default for FrameBuilder {
    fn default() -> Self {
        Self::new(Columns::ALL)
    }
}

impl FrameBuilder {
    pub fn new(columns: Columns) -> Self {
        FrameBuilder {
            time: PrimitiveChunkedBuilder::new(col::EVENT_TIME.into(), 0),
            read_only: columns
                .read_only
                .then(|| BooleanChunkedBuilder::new(col::READ_ONLY.into(), 0)),
            strs: STRING_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (columns.has_str(i) && i != S::SourceFile as usize && !is_enrichment(i))
                        .then(|| StringChunkedBuilder::new((*n).into(), 0))
                })
                .collect(),
            sources: MutableBinaryViewArray::new(),
            run: None,
            len: 0,
            columns,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, row: &Row<'_>) {
        self.time.append_option(row.time);
        if let Some(b) = &mut self.read_only {
            b.append_option(row.read_only);
        }
        for (b, v) in self.strs.iter_mut().zip(row.strs.iter()) {
            if let Some(b) = b {
                b.append_option(v.as_deref());
            }
        }
        let source = row.get(S::SourceFile).unwrap_or("");
        match &mut self.run {
            Some((name, n)) if name == source => *n += 1,
            _ => {
                self.flush_run();
                self.run = Some((source.to_owned(), 1));
            }
        }
        self.len += 1;
    }

    fn flush_run(&mut self) {
        if let Some((name, n)) = self.run.take() {
            self.sources.extend_constant(n, Some(name.as_str()));
        }
    }

    /// The rows pushed so far, as a frame of the filled columns only, in
    /// frame order ([`widen`] adds the others).
    pub fn finish(mut self) -> PolarsResult<DataFrame> {
        self.flush_run();
        let mut columns: Vec<Column> = Vec::with_capacity(STRING_COLUMNS.len() + 2);
        columns.push(self.time.finish().into_series().cast(&time_dtype())?.into());
        let mut read_only = self.read_only;
        let mut sources = Some(self.sources);
        for (i, (name, b)) in STRING_COLUMNS.iter().zip(self.strs).enumerate() {
            if let Some(b) = b {
                columns.push(b.finish().into_series().into());
            } else if is_enrichment(i) && self.columns.has_str(i) {
                columns.push(Column::full_null(
                    (*name).into(),
                    self.len,
                    &DataType::String,
                ));
            } else if *name == col::SOURCE_FILE {
                let names = sources.take().expect("one source_file column").freeze();
                columns.push(StringChunked::with_chunk((*name).into(), names).into_column());
            }
            if *name == col::ERROR_MESSAGE
                && let Some(ro) = read_only.take()
            {
                columns.push(ro.finish().into_series().into());
            }
        }
        DataFrame::new(self.len, columns)
    }
}

/// `df` (some of the frame's columns, in frame order) with the missing ones
/// added as null columns, which take no memory.
pub fn widen(df: DataFrame) -> PolarsResult<DataFrame> {
    let height = df.height();
    let mut have = df.into_columns().into_iter().peekable();
    let mut columns = Vec::with_capacity(STRING_COLUMNS.len() + 2);
    for (name, dtype) in schema().iter() {
        match have.next_if(|c| c.name() == name) {
            Some(c) => columns.push(c),
            None => columns.push(Column::full_null(name.clone(), height, dtype)),
        }
    }
    if let Some(c) = have.next() {
        polars_bail!(ColumnNotFound: "`{}` is not a column of the events frame, or out of order", c.name());
    }
    DataFrame::new(height, columns)
}

/// `df` with its strings copied into arrays of their own. After a filter
/// (a Parquet read with a predicate), a string column's views and bytes are
/// still sized for every row read, not the rows kept.
pub fn compact(df: DataFrame) -> PolarsResult<DataFrame> {
    let height = df.height();
    let columns = df
        .into_columns()
        .into_iter()
        .map(|c| match c.str() {
            Ok(ca) => {
                let copy: StringChunked = ca.iter().collect();
                copy.with_name(c.name().clone()).into_column()
            }
            Err(_) => c,
        })
        .collect();
    DataFrame::new(height, columns)
}

/// An empty events frame.
pub fn empty() -> DataFrame {
    DataFrame::empty_with_schema(&schema())
}

/// An empty frame of the given columns only (see [`FrameBuilder::finish`]).
pub fn empty_of(columns: Columns) -> DataFrame {
    let schema = schema();
    let fields = columns
        .names()
        .into_iter()
        .map(|n| (n.into(), schema.get(n).expect("a frame column").clone()));
    DataFrame::empty_with_schema(&Schema::from_iter(fields))
}

/// An events frame from CloudTrail records given as JSON text (tests).
#[cfg(test)]
pub(crate) fn from_json(records: &[&str], payloads: bool) -> DataFrame {
    let mut b = FrameBuilder::default();
    for text in records {
        let ev: RawEvent<'_> = serde_json::from_str(text).expect("test record parses");
        let time = ev
            .event_time
            .as_str()
            .and_then(crate::time::parse_event_time);
        b.push(&Row::from_event(&ev, time, "test.json", payloads));
    }
    b.finish().expect("frame builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_of(json: &str) -> DataFrame {
        from_json(&[json], true)
    }

    fn cell(df: &DataFrame, name: &str) -> Option<String> {
        df.column(name)
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .map(str::to_owned)
    }

    #[test]
    fn frame_matches_schema() {
        let df = row_of(r#"{"eventName":"X"}"#);
        assert_eq!(df.schema().as_ref(), &schema());
        assert_eq!(empty().schema().as_ref(), &schema());
    }

    #[test]
    fn failed_web_identity_call_takes_subject_from_identity() {
        let df = row_of(
            r#"{"eventName":"AssumeRoleWithWebIdentity","errorCode":"AccessDenied",
            "userIdentity":{"type":"WebIdentityUser","principalId":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/api:environment:prod",
            "identityProvider":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "requestParameters":{"roleArn":"arn:aws:iam::1:role/deploy","roleSessionName":"GitHubActions"},"responseElements":null}"#,
        );
        assert_eq!(
            cell(&df, col::SUBJECT).as_deref(),
            Some("repo:acme/api:environment:prod")
        );
        assert_eq!(
            cell(&df, col::AUDIENCE).as_deref(),
            Some("sts.amazonaws.com")
        );
        assert_eq!(cell(&df, col::GH_ENVIRONMENT).as_deref(), Some("prod"));
        assert_eq!(
            cell(&df, col::ROLE_ARN).as_deref(),
            Some("arn:aws:iam::1:role/deploy")
        );
        assert!(cell(&df, col::EVENT_ID).unwrap().starts_with("derived-"));
    }

    #[test]
    fn derived_ids_ignore_formatting() {
        let a = row_of(
            r#"{"eventName":"X","eventTime":"2020-01-01T00:00:00Z","requestParameters":{"a": [1, 2]}}"#,
        );
        let b = row_of(
            "{\"eventName\":\"X\",\n \"eventTime\":\"2020-01-01T00:00:00Z\",\"requestParameters\":{\n\"a\":[1,2]}}",
        );
        let c = row_of(
            r#"{"eventName":"X","eventTime":"2020-01-01T00:00:01Z","requestParameters":{"a":[1,2]}}"#,
        );
        assert_eq!(cell(&a, col::EVENT_ID), cell(&b, col::EVENT_ID));
        assert_ne!(cell(&a, col::EVENT_ID), cell(&c, col::EVENT_ID));
    }

    #[test]
    fn secrets_never_reach_the_frame() {
        let df = row_of(
            r#"{"eventName":"AssumeRoleWithWebIdentity","responseElements":{"credentials":{"accessKeyId":"ASIAX","sessionToken":"TOPSECRET","secretAccessKey":"ALSOSECRET"}}}"#,
        );
        let text: String = df
            .columns()
            .iter()
            .filter_map(|c| c.str().ok())
            .flat_map(|c| c.iter().flatten().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        assert!(
            !text.contains("TOPSECRET") && !text.contains("ALSOSECRET"),
            "{text}"
        );
        assert!(text.contains("REDACTED"), "{text}");
        assert_eq!(
            cell(&df, col::ISSUED_ACCESS_KEY_ID).as_deref(),
            Some("ASIAX")
        );
    }
}
