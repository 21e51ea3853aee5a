//! Running one query on Athena: start it, poll it with backoff until it
//! ends, read its result page by page (`GetQueryResults`, 1,000 rows a
//! page), and stop it (`StopQueryExecution`) when it runs past the time
//! allowed. A failed or cancelled query is an error naming the query and
//! Athena's reason.

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use super::describe_error;

/// Where and how long a query runs.
#[derive(Debug, Clone)]
pub struct Target {
    pub database: String,
    pub workgroup: Option<String>,
    /// `s3://…/` for the result files, when the workgroup sets none.
    pub output_location: Option<String>,
    /// Stop the query past this.
    pub timeout: Duration,
}

/// How a query went.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outcome {
    pub query_id: String,
    pub state: String,
    pub data_scanned_bytes: Option<i64>,
    pub engine_ms: Option<i64>,
    pub rows: u64,
    pub requests: u64,
    /// Where the result file is (`s3://…/<id>.csv`).
    pub result_location: Option<String>,
    /// How the result was read: `s3` (the result file) or
    /// `GetQueryResults` (page by page, when the file could not be read).
    pub read_via: String,
    /// Why the result file could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_file_error: Option<String>,
}

/// Athena's price per TB scanned (us-east-1, SQL queries), for the
/// estimate; each query is billed at least 10 MB.
pub const USD_PER_TB: f64 = 5.0;

impl Outcome {
    /// The estimated price of the query, in US dollars.
    pub fn estimated_cost_usd(&self) -> f64 {
        let bytes = self.data_scanned_bytes.unwrap_or(0).max(10_000_000) as f64;
        bytes / 1e12 * USD_PER_TB
    }
}

/// Why a query gave no result.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("Athena could not start the query: {0}")]
    Start(String),
    #[error("Athena query {id} failed: {reason}")]
    Failed { id: String, reason: String },
    #[error("Athena query {id} was cancelled{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Cancelled { id: String, reason: Option<String> },
    #[error("Athena query {id} ran longer than {secs} s (--timeout) and was stopped")]
    TimedOut { id: String, secs: u64 },
    #[error("Athena query {id}: {what}")]
    Request { id: String, what: String },
}

/// One page of a result: rows of cells, `None` for SQL nulls.
pub type Rows = Vec<Vec<Option<String>>>;

/// What takes each page: the column names, and the rows.
pub type OnPage<'a> = dyn FnMut(&[String], Rows) -> anyhow::Result<()> + Send + 'a;

/// The Athena client, with TLS refusals not retried ([`super::TlsRefusal`]).
fn client(sdk: &SdkConfig) -> Client {
    let conf = aws_sdk_athena::config::Builder::from(sdk)
        .retry_classifier(super::TlsRefusal)
        .build();
    Client::from_conf(conf)
}

/// Runs `sql` and hands each page of rows to `on_page` (column names, then
/// rows of cells, `None` for SQL nulls; the header row Athena puts first is
/// not among them).
pub async fn run(
    sdk: &SdkConfig,
    target: &Target,
    sql: &str,
    on_page: &mut OnPage<'_>,
) -> anyhow::Result<Outcome> {
    let client = client(sdk);
    let mut start = client
        .start_query_execution()
        .query_string(sql)
        .query_execution_context(
            QueryExecutionContext::builder()
                .database(&target.database)
                .build(),
        );
    if let Some(w) = &target.workgroup {
        start = start.work_group(w);
    }
    if let Some(o) = &target.output_location {
        start =
            start.result_configuration(ResultConfiguration::builder().output_location(o).build());
    }
    let id = start
        .send()
        .await
        .map_err(|e| QueryError::Start(describe_error(&e)))?
        .query_execution_id()
        .unwrap_or_default()
        .to_string();
    let mut outcome = Outcome {
        query_id: id.clone(),
        requests: 1,
        ..Default::default()
    };
    wait(&client, target, &mut outcome).await?;
    // The result file in one GET is far quicker than GetQueryResults at
    // 1,000 rows a request; the API is the fallback (no s3:GetObject on the
    // results location, say).
    if let Some(location) = outcome.result_location.clone() {
        match result_file(sdk, &location).await {
            Ok((names, mut rows)) => {
                outcome.requests += 1;
                outcome.read_via = "s3".to_string();
                outcome.rows = rows.len() as u64;
                // In pages as the API gives them (at least one, so that an
                // empty result's columns are still checked).
                loop {
                    let rest = rows.split_off(rows.len().min(1000));
                    on_page(&names, rows)?;
                    if rest.is_empty() {
                        return Ok(outcome);
                    }
                    rows = rest;
                }
            }
            Err(e) => outcome.result_file_error = Some(e),
        }
    }
    outcome.read_via = "GetQueryResults".to_string();
    let mut pages = client
        .get_query_results()
        .query_execution_id(&id)
        .max_results(1000)
        .into_paginator()
        .send();
    let mut first = true;
    while let Some(page) = pages.next().await {
        outcome.requests += 1;
        let page = page.map_err(|e| QueryError::Request {
            id: id.clone(),
            what: describe_error(&e),
        })?;
        let Some(set) = page.result_set() else {
            continue;
        };
        let names: Vec<String> = set
            .result_set_metadata()
            .map(|m| {
                m.column_info()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let mut rows: Rows = set
            .rows()
            .iter()
            .map(|r| {
                r.data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_string))
                    .collect()
            })
            .collect();
        // A SELECT's first page starts with the column labels.
        if first
            && rows.first().is_some_and(|r| {
                r.len() == names.len() && r.iter().zip(&names).all(|(c, n)| c.as_deref() == Some(n))
            })
        {
            rows.remove(0);
        }
        first = false;
        outcome.rows += rows.len() as u64;
        on_page(&names, rows)?;
    }
    Ok(outcome)
}

/// Polls until the query ends: from 100 ms, doubling, at most 5 s apart.
async fn wait(client: &Client, target: &Target, outcome: &mut Outcome) -> anyhow::Result<()> {
    let id = outcome.query_id.clone();
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let got = client
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .map_err(|e| QueryError::Request {
                id: id.clone(),
                what: describe_error(&e),
            })?;
        outcome.requests += 1;
        let exec = got.query_execution();
        let status = exec.and_then(|e| e.status());
        let state = status.and_then(|s| s.state()).cloned();
        outcome.result_location = exec
            .and_then(|e| e.result_configuration())
            .and_then(|r| r.output_location())
            .map(str::to_string);
        if let Some(stats) = exec.and_then(|e| e.statistics()) {
            outcome.data_scanned_bytes = stats.data_scanned_in_bytes();
            outcome.engine_ms = stats.engine_execution_time_in_millis();
        }
        outcome.state = state
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let reason = status
            .and_then(|s| s.state_change_reason())
            .map(str::to_string);
        match state {
            Some(QueryExecutionState::Succeeded) => return Ok(()),
            Some(QueryExecutionState::Failed) => {
                let error = status
                    .and_then(|s| s.athena_error())
                    .and_then(|e| e.error_message())
                    .map(str::to_string);
                return Err(QueryError::Failed {
                    id,
                    reason: reason.or(error).unwrap_or_else(|| "no reason given".into()),
                }
                .into());
            }
            Some(QueryExecutionState::Cancelled) => {
                return Err(QueryError::Cancelled { id, reason }.into());
            }
            _ => {}
        }
        if started.elapsed() >= target.timeout {
            let stop = client
                .stop_query_execution()
                .query_execution_id(&id)
                .send()
                .await;
            outcome.requests += 1;
            if let Err(e) = stop {
                return Err(QueryError::Request {
                    id,
                    what: format!("could not stop it after --timeout: {}", describe_error(&e)),
                }
                .into());
            }
            return Err(QueryError::TimedOut {
                id,
                secs: target.timeout.as_secs(),
            }
            .into());
        }
        let delay = Duration::from_millis(100)
            .saturating_mul(1 << attempt.min(6))
            .min(Duration::from_secs(5))
            .min(target.timeout.saturating_sub(started.elapsed()) + Duration::from_millis(10));
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// The table's parameters (its properties: location, projection), from
/// `GetTableMetadata` in the account's data catalog.
pub async fn table_parameters(
    sdk: &SdkConfig,
    database: &str,
    table: &str,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let got = client(sdk)
        .get_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name(database)
        .table_name(table)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "Athena GetTableMetadata {database}.{table}: {}",
                describe_error(&e)
            )
        })?;
    Ok(got
        .table_metadata()
        .and_then(|t| t.parameters())
        .cloned()
        .unwrap_or_default())
}

/// A query's result file (CSV with a header row; every value quoted, SQL
/// nulls empty, which the events frame reads as missing like empty text).
async fn result_file(sdk: &SdkConfig, location: &str) -> Result<(Vec<String>, Rows), String> {
    let url: super::s3::S3Url = location.parse()?;
    let client = super::s3::bucket_client(sdk, &url).await?;
    let bytes = super::s3::get(&client, &url.bucket, &url.prefix).await?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&bytes[..]);
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{location}: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{location}: {e}"))?;
        rows.push(
            record
                .iter()
                .map(|v| (!v.is_empty()).then(|| v.to_string()))
                .collect(),
        );
    }
    Ok((names, rows))
}
