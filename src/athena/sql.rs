//! The SQL ctaudit sends to Athena for the reports: the rows they need and
//! only the fields the events frame reads from them, the structs flattened
//! and the payloads' few fields taken with `json_extract_scalar` — so that
//! neither session tokens nor secret keys (in `responseelements`) ever
//! reach the query's result files. Only trust-change events bring their
//! whole `requestparameters` (the policy documents the report reads).
//!
//! Each selected column is named after the record field it stands for
//! ([`FIELDS`]), which is how [`super::rows`] puts the record back together
//! for the same parser `--logs` uses.

use std::fmt::Write;

use super::table::{qualified, sql_text};
use crate::aws::lookup::Lookup;
use crate::ingest::{RowFilter, TRUST_CHANGE_EVENTS, WEB_IDENTITY};
use crate::time::{Millis, Window, format_millis};

/// One selected column: its name in the result, and the expression.
pub struct Field {
    pub name: &'static str,
    pub expr: &'static str,
}

/// The columns of every report query, in order.
pub const FIELDS: &[Field] = &[
    f("eventversion", "eventversion"),
    f("eventtime", "eventtime"),
    f("eventid", "eventid"),
    f("eventname", "eventname"),
    f("eventsource", "eventsource"),
    f("eventtype", "eventtype"),
    f("eventcategory", "eventcategory"),
    f("awsregion", "awsregion"),
    f("sourceipaddress", "sourceipaddress"),
    f("useragent", "useragent"),
    f("errorcode", "errorcode"),
    f("errormessage", "errormessage"),
    f("requestid", "requestid"),
    f("recipientaccountid", "recipientaccountid"),
    f("readonly", "readonly"),
    f("identity_type", "useridentity.type"),
    f("identity_principalid", "useridentity.principalid"),
    f("identity_arn", "useridentity.arn"),
    f("identity_accountid", "useridentity.accountid"),
    f("identity_accesskeyid", "useridentity.accesskeyid"),
    f("identity_username", "useridentity.username"),
    f("identity_invokedby", "useridentity.invokedby"),
    f("identity_identityprovider", "useridentity.identityprovider"),
    f(
        "issuer_arn",
        "useridentity.sessioncontext.sessionissuer.arn",
    ),
    f(
        "issuer_type",
        "useridentity.sessioncontext.sessionissuer.type",
    ),
    f(
        "federated_provider",
        "useridentity.sessioncontext.webidfederationdata.federatedprovider",
    ),
    f(
        "request_rolearn",
        "json_extract_scalar(requestparameters, '$.roleArn')",
    ),
    f(
        "request_rolesessionname",
        "json_extract_scalar(requestparameters, '$.roleSessionName')",
    ),
    f(
        "request_durationseconds",
        "json_extract_scalar(requestparameters, '$.durationSeconds')",
    ),
    f(
        "response_accesskeyid",
        "json_extract_scalar(responseelements, '$.credentials.accessKeyId')",
    ),
    f(
        "response_subject",
        "json_extract_scalar(responseelements, '$.subjectFromWebIdentityToken')",
    ),
    f(
        "response_audience",
        "json_extract_scalar(responseelements, '$.audience')",
    ),
    f(
        "response_provider",
        "json_extract_scalar(responseelements, '$.provider')",
    ),
    f(
        "response_assumedrolearn",
        "json_extract_scalar(responseelements, '$.assumedRoleUser.arn')",
    ),
    f(
        "resource_arns",
        "array_join(transform(resources, r -> r.arn), ',')",
    ),
];

/// The whole `requestparameters` of trust-change events (see the module).
pub const TRUST_PAYLOAD: &str = "trust_requestparameters";

const fn f(name: &'static str, expr: &'static str) -> Field {
    Field { name, expr }
}

/// Which rows a query asks for.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    /// Those the reports need.
    Filter(&'a RowFilter),
    /// What the audit concerns (`query`): web-identity calls, the calls
    /// made with the keys those issued in the window, long-lived-key calls
    /// and trust changes.
    Audit,
    /// What these CloudTrail lookups would find (`trace`'s targeted
    /// reads): any of them.
    Lookups(&'a [Lookup]),
}

/// The query over `database.table` for `window` (which must have a start)
/// and `rows`.
pub fn query(database: &str, table: &str, window: &Window, rows: Rows<'_>) -> String {
    let mut s = String::from("SELECT ");
    for field in FIELDS {
        let _ = write!(s, "{} AS {},\n       ", field.expr, field.name);
    }
    let trust = in_list(TRUST_CHANGE_EVENTS);
    let _ = write!(
        s,
        "CASE WHEN eventname IN ({trust}) THEN requestparameters END AS {TRUST_PAYLOAD}\nFROM {}\nWHERE ",
        qualified(database, table)
    );
    s.push_str(&window_predicate(window));
    let filter = match rows {
        Rows::Filter(f) => f,
        Rows::Lookups(lookups) => {
            let _ = write!(s, "\n  AND ({})", lookup_predicate(lookups));
            return s;
        }
        Rows::Audit => {
            let _ = write!(
                s,
                "\n  AND (eventname IN ('{WEB_IDENTITY}', {trust})\n       OR useridentity.accesskeyid LIKE 'AKIA%'\n       OR useridentity.accesskeyid IN (\n         SELECT json_extract_scalar(responseelements, '$.credentials.accessKeyId')\n         FROM {}\n         WHERE {}\n           AND eventname = '{WEB_IDENTITY}'))",
                qualified(database, table),
                window_predicate(window).replace("\n  AND", "\n           AND"),
            );
            return s;
        }
    };
    if !filter.all {
        let mut rows = Vec::new();
        if filter.web_identity {
            rows.push(format!("eventname = '{WEB_IDENTITY}'"));
        }
        if filter.long_lived_keys {
            rows.push("useridentity.accesskeyid LIKE 'AKIA%'".to_string());
        }
        if filter.trust_changes {
            rows.push(format!("eventname IN ({trust})"));
        }
        if rows.is_empty() {
            rows.push("FALSE".to_string());
        }
        let _ = write!(s, "\n  AND ({})", rows.join("\n       OR "));
    }
    s
}

/// The partitions of the window's days (and the day after its end: a
/// file delivered after midnight holds the last minutes of the day before),
/// and the window itself on `eventtime` (ISO 8601 text, which compares in
/// time order).
pub fn window_predicate(window: &Window) -> String {
    let since = window.since.expect("Athena queries have a window start");
    let mut parts = vec![format!("day >= '{}'", day(since))];
    if let Some(until) = window.until {
        parts.push(format!("day <= '{}'", day(until + 86_400_000)));
    }
    parts.push(format!(
        "eventtime >= '{}'",
        sql_text(&format_millis(since))
    ));
    if let Some(until) = window.until {
        parts.push(format!("eventtime < '{}'", sql_text(&format_millis(until))));
    }
    parts.join("\n  AND ")
}

/// `YYYY/MM/DD` of an instant (the trail's day folders).
fn day(t: Millis) -> String {
    format_millis(t)[..10].replace('-', "/")
}

/// The rows any of `lookups` would find, one `IN` list per attribute.
fn lookup_predicate(lookups: &[Lookup]) -> String {
    let mut by_column: Vec<(&str, Vec<&str>)> = Vec::new();
    for l in lookups {
        let column = match l.attribute {
            "EventName" => "eventname",
            "EventSource" => "eventsource",
            "EventId" => "eventid",
            "AccessKeyId" => "useridentity.accesskeyid",
            "Username" => "useridentity.username",
            _ => continue,
        };
        match by_column.iter_mut().find(|(c, _)| *c == column) {
            Some((_, values)) => values.push(&l.value),
            None => by_column.push((column, vec![&l.value])),
        }
    }
    if by_column.is_empty() {
        return "FALSE".to_string();
    }
    by_column
        .iter()
        .map(|(c, values)| format!("{c} IN ({})", in_list(values)))
        .collect::<Vec<_>>()
        .join("\n       OR ")
}

fn in_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", sql_text(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time as parse_time;

    #[test]
    fn the_query_asks_for_the_window_and_the_rows_the_reports_need() {
        let window = Window {
            since: Some(parse_time("2026-11-16T00:00:00Z").unwrap()),
            until: Some(parse_time("2026-11-23T00:00:00Z").unwrap()),
        };
        let filter = RowFilter {
            web_identity: true,
            long_lived_keys: true,
            trust_changes: false,
            all: false,
        };
        let sql = query("audit", "ct", &window, Rows::Filter(&filter));
        for want in [
            "FROM \"audit\".\"ct\"",
            "day >= '2026/11/16'",
            "day <= '2026/11/24'",
            "eventtime >= '2026-11-16T00:00:00Z'",
            "eventtime < '2026-11-23T00:00:00Z'",
            "eventname = 'AssumeRoleWithWebIdentity'",
            "OR useridentity.accesskeyid LIKE 'AKIA%'",
            "json_extract_scalar(responseelements, '$.credentials.accessKeyId') AS response_accesskeyid",
        ] {
            assert!(sql.contains(want), "{want}\n{sql}");
        }
        // Never the whole response (credentials) nor the trust filter.
        assert!(!sql.contains("responseelements AS"));
        assert!(!sql.contains("OR eventname IN"));
        // Lookups become IN lists, one per attribute; quotes stay inside.
        let lookups = [
            Lookup::event_name(WEB_IDENTITY),
            Lookup::access_key("ASIAA"),
            Lookup::access_key("ASIA'B"),
        ];
        let sql = query("audit", "ct", &window, Rows::Lookups(&lookups));
        assert!(
            sql.ends_with(
                "AND (eventname IN ('AssumeRoleWithWebIdentity')\n       OR useridentity.accesskeyid IN ('ASIAA', 'ASIA''B'))"
            ),
            "{sql}"
        );
    }
}
