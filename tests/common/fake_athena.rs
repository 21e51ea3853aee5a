//! A loopback Athena for the flows moto's cannot show: a query that keeps
//! running (until `StopQueryExecution`), fails or is cancelled, results in
//! several pages (`NextToken`), and `GetTableMetadata`. It speaks Athena's
//! wire protocol (JSON 1.1, `X-Amz-Target: AmazonAthena.*`) and serves one
//! configured result to every query.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http::Request;

/// How every query goes.
#[derive(Debug, Clone)]
pub enum Plan {
    /// RUNNING for `polls` polls, then SUCCEEDED, its rows `page` a page
    /// (the header row first, as Athena gives it), `scanned` bytes scanned.
    Succeed {
        polls: u32,
        page: usize,
        scanned: i64,
    },
    /// FAILED with this reason.
    Fail(String),
    /// CANCELLED (by someone else).
    Cancel,
    /// RUNNING until stopped.
    Run,
}

/// A result: column names, and rows of cells (`None` for nulls).
pub type Result = (Vec<String>, Vec<Vec<Option<String>>>);

/// What answers a query's SQL.
pub type Executor = Box<dyn Fn(&str) -> Result + Send>;

struct State {
    plan: Plan,
    execute: Executor,
    /// Each query's result, by its number (from 1).
    results: Vec<Result>,
    table: Value,
    /// Each request's operation, in order.
    calls: Vec<String>,
    queries: Vec<String>,
    polls: u32,
    stopped: bool,
    /// Given as the queries' `ResultConfiguration.OutputLocation`.
    location: Option<String>,
}

pub struct FakeAthena {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl FakeAthena {
    /// Serves `rows` (under `columns`) as every query's result, as `plan`
    /// says, and `table` as `GetTableMetadata`'s `Parameters`.
    pub fn start(
        plan: Plan,
        columns: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
        table: Value,
    ) -> FakeAthena {
        FakeAthena::executing(
            plan,
            Box::new(move |_| (columns.clone(), rows.clone())),
            table,
        )
    }

    /// Answers each query with what `execute` makes of its SQL (run when
    /// the query starts).
    pub fn executing(plan: Plan, execute: Executor, table: Value) -> FakeAthena {
        let state = Arc::new(Mutex::new(State {
            plan,
            execute,
            results: Vec::new(),
            table,
            calls: Vec::new(),
            queries: Vec::new(),
            polls: 0,
            stopped: false,
            location: None,
        }));
        let shared = state.clone();
        let port = super::http::listen(move |req| answer(req, &shared));
        FakeAthena { port, state }
    }

    /// Says the result file of every query is at `location`.
    pub fn with_result_location(self, location: &str) -> FakeAthena {
        self.state.lock().unwrap().location = Some(location.to_string());
        self
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The operations asked for, in order (`StartQueryExecution`, …).
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The SQL of each query started.
    pub fn queries(&self) -> Vec<String> {
        self.state.lock().unwrap().queries.clone()
    }
}

fn answer(req: &Request, state: &Mutex<State>) -> (u16, &'static str, String) {
    const JSON: &str = "application/x-amz-json-1.1";
    let input: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let op = req
        .headers
        .get("x-amz-target")
        .and_then(|t| t.strip_prefix("AmazonAthena."))
        .unwrap_or("")
        .to_string();
    let mut st = state.lock().unwrap();
    st.calls.push(op.clone());
    let body = match op.as_str() {
        "StartQueryExecution" => {
            let sql = input["QueryString"].as_str().unwrap_or("").to_string();
            let result = (st.execute)(&sql);
            st.results.push(result);
            st.queries.push(sql);
            st.polls = 0;
            json!({ "QueryExecutionId": format!("q-{}", st.queries.len()) })
        }
        "GetQueryExecution" => {
            st.polls += 1;
            let (state_name, reason) = match (&st.plan, st.stopped) {
                (_, true) => ("CANCELLED", Some("stopped by the user".to_string())),
                (Plan::Succeed { polls, .. }, _) if st.polls > *polls => ("SUCCEEDED", None),
                (Plan::Fail(reason), _) => ("FAILED", Some(reason.clone())),
                (Plan::Cancel, _) => ("CANCELLED", None),
                _ => ("RUNNING", None),
            };
            let scanned = match st.plan {
                Plan::Succeed { scanned, .. } => scanned,
                _ => 0,
            };
            let mut status = json!({ "State": state_name, "SubmissionDateTime": 1.7e9 });
            if let Some(r) = reason {
                status["StateChangeReason"] = json!(r);
            }
            let mut exec = json!({
                "QueryExecutionId": input["QueryExecutionId"],
                "Status": status,
                "Statistics": { "DataScannedInBytes": scanned, "EngineExecutionTimeInMillis": 1234 },
            });
            if let Some(l) = &st.location {
                exec["ResultConfiguration"] = json!({ "OutputLocation": l });
            }
            json!({ "QueryExecution": exec })
        }
        "StopQueryExecution" => {
            st.stopped = true;
            json!({})
        }
        "GetQueryResults" => {
            let page = match st.plan {
                Plan::Succeed { page, .. } => page,
                _ => {
                    return (
                        400,
                        JSON,
                        json!({"__type": "InvalidRequestException", "message": "the query has not succeeded"}).to_string(),
                    );
                }
            };
            let n: usize = input["QueryExecutionId"]
                .as_str()
                .and_then(|id| id.strip_prefix("q-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let (columns, rows) = st.results[n - 1].clone();
            let mut all: Vec<Vec<Option<String>>> =
                vec![columns.iter().cloned().map(Some).collect()];
            all.extend(rows);
            let from: usize = input["NextToken"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let to = (from + page).min(all.len());
            let rows: Vec<Value> = all[from..to]
                .iter()
                .map(|r| {
                    let data: Vec<Value> = r
                        .iter()
                        .map(|c| match c {
                            Some(v) => json!({ "VarCharValue": v }),
                            None => json!({}),
                        })
                        .collect();
                    json!({ "Data": data })
                })
                .collect();
            let info: Vec<Value> = columns
                .iter()
                .map(|c| json!({ "Name": c, "Label": c, "Type": "varchar" }))
                .collect();
            let mut out = json!({ "ResultSet": {
                "Rows": rows,
                "ResultSetMetadata": { "ColumnInfo": info },
            }});
            if to < all.len() {
                out["NextToken"] = json!(to.to_string());
            }
            out
        }
        "GetTableMetadata" => json!({ "TableMetadata": {
            "Name": input["TableName"],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": st.table,
        }}),
        _ => {
            return (
                400,
                JSON,
                json!({"__type": "UnknownOperationException", "message": op}).to_string(),
            );
        }
    };
    (200, JSON, body.to_string())
}
