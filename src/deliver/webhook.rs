//! `--webhook URL`: a short JSON summary of a run, POSTed to an incoming
//! webhook. `text` is what Slack and Teams show (Slack's `mrkdwn`, with the
//! trail's strings escaped so they cannot mention `@channel` or forge a
//! link); `ctaudit` carries the same facts as data for other receivers.
//!
//! One request per attempt, each with a timeout; three attempts with
//! jittered backoff ([`crate::aws::backoff`], as the AWS calls use) on
//! network errors, 429 and 5xx. Other answers are final.

use std::time::Duration;

use serde_json::{Value, json};

use crate::output::RunOutput;
use crate::reports::Severity;

/// Attempts before giving up.
const ATTEMPTS: u32 = 3;

/// Top findings listed in the message.
const TOP: usize = 5;

/// The message for a run: counts per report, the top findings (most urgent
/// groups first), and the report file's name.
pub fn message(run: &RunOutput<'_>, report_file: Option<&std::path::Path>) -> Value {
    let mut counts = serde_json::Map::new();
    let mut top: Vec<(Severity, String, String)> = Vec::new();
    let mut total = 0;
    for r in run.runs {
        let Ok(f) = &r.result else {
            counts.insert(r.report.id().into(), Value::Null);
            continue;
        };
        total += f.count();
        counts.insert(r.report.id().into(), json!(f.count()));
        top.extend(
            groups(&f.groups)
                .into_iter()
                .map(|(s, d)| (s, r.report.id().to_string(), d)),
        );
    }
    top.sort_by_key(|t| t.0);
    top.truncate(TOP);
    let accepted: usize = run
        .runs
        .iter()
        .filter_map(|r| r.result.as_ref().ok())
        .map(|f| f.accepted.height())
        .sum();
    let file = report_file.map(|p| p.display().to_string());
    let window = run.window.describe();
    let mut text = format!("*ctaudit*: {total} findings ({})", escape(&window));
    if accepted > 0 {
        text.push_str(&format!(", {accepted} accepted"));
    }
    text.push('\n');
    let per: Vec<String> = counts
        .iter()
        .map(|(k, v)| match v {
            Value::Null => format!("{k}: not run"),
            v => format!("{k}: {v}"),
        })
        .collect();
    text.push_str(&per.join(" · "));
    for (severity, report, detail) in &top {
        text.push_str(&format!("\n• [{severity}] {report}: {}", escape(detail)));
    }
    if let Some(f) = &file {
        text.push_str(&format!("\nreport: {}", escape(f)));
    }
    json!({
        "text": text,
        "ctaudit": {
            "window": window,
            "findings": total,
            "accepted": accepted,
            "per_report": counts,
            "top": top.iter().map(|(s, r, d)| json!({"severity": s, "report": r, "finding": d})).collect::<Vec<_>>(),
            "report_file": file,
        }
    })
}

/// Each group's severity and its key cells (the columns before `count`),
/// joined.
fn groups(df: &polars::prelude::DataFrame) -> Vec<(Severity, String)> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .take_while(|n| n != "count")
        .collect();
    let Ok(severity) = df.column("severity").and_then(|c| c.str().cloned()) else {
        return Vec::new();
    };
    (0..df.height().min(TOP))
        .filter_map(|i| {
            let s = severity.get(i).and_then(Severity::from_name)?;
            let cells: Vec<String> = names[1..]
                .iter()
                .filter_map(|n| {
                    let v = df.column(n).ok()?.get(i).ok()?;
                    let t = crate::output::cell_text(&v);
                    (!t.is_empty()).then_some(t)
                })
                .collect();
            Some((s, cells.join(" · ")))
        })
        .collect()
}

/// A trail string made safe for Slack `mrkdwn` (and plain text): `&`, `<`
/// and `>` escaped as Slack documents, control characters dropped, length
/// bounded.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().take(300) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// POSTs `message` to `url`. The error says what the last attempt got.
pub fn post(url: &str, message: &Value, timeout_secs: u64) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(format!("`{url}`: a webhook URL is http or https"));
    }
    let rt = crate::aws::runtime().map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs.max(1)))
        .user_agent(concat!("ctaudit/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    // Only the host is named in errors: the path of an incoming webhook is
    // its secret.
    let host = parsed.host_str().unwrap_or("?").to_string();
    rt.block_on(async {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let delay = crate::aws::backoff(
                    attempt - 1,
                    Duration::from_millis(500),
                    Duration::from_secs(8),
                );
                tokio::time::sleep(delay).await;
            }
            match client.post(parsed.clone()).json(message).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => {
                    let status = r.status();
                    last = format!("{host} answered {status}");
                    if !(status.is_server_error() || status.as_u16() == 429) {
                        return Err(last);
                    }
                }
                Err(e) => {
                    last = format!("{host}: {}", crate::aws::causes(&e.without_url()));
                }
            }
        }
        Err(format!("{last} (gave up after {ATTEMPTS} attempts)"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn trail_strings_cannot_mention_or_link() {
        assert_eq!(
            super::escape("<!channel> <https://evil|click> & \u{1b}[2J"),
            "&lt;!channel&gt; &lt;https://evil|click&gt; &amp;  [2J"
        );
    }
}
