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

mod builder;
mod keys;
pub mod payload;
mod row;
pub mod subject;

use polars::prelude::*;

pub use builder::{Columns, FrameBuilder};
pub use keys::{EVENT_KEY_COLUMNS, event_keys, event_times};
pub use row::Row;

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
        let ev: crate::ingest::record::RawEvent<'_> =
            serde_json::from_str(text).expect("test record parses");
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

    /// A frame in many chunks (one a file) gives each row the key it has
    /// in one chunk; rows that differ in any key column differ in key.
    #[test]
    fn event_keys_walk_every_chunk() {
        let records = [
            r#"{"eventID":"a","eventTime":"2020-01-01T00:00:00Z","eventName":"X"}"#,
            r#"{"eventID":"a","eventTime":"2020-01-01T00:00:00Z","eventName":"Y"}"#,
            r#"{"eventID":"a","eventName":"X"}"#,
            r#"{"eventID":"b","eventTime":"2020-01-01T00:00:00Z","eventName":"X","userAgent":"u"}"#,
        ];
        let mut chunked = from_json(&records[..1], false);
        for r in &records[1..] {
            chunked.vstack_mut(&from_json(&[r], false)).unwrap();
        }
        assert_eq!(chunked.first_col_n_chunks(), records.len());
        let whole = from_json(&records, false);
        let keys = event_keys(&chunked).unwrap();
        assert_eq!(keys, event_keys(&whole).unwrap());
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), records.len());
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
