//! `ctaudit query`: SQL over the events (table `events`, with the events
//! frame's columns and the `via_*` attribution columns), from the store or
//! straight from logs. Named queries live in `queries/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use polars::prelude::{DslPlan, JoinType, LazyFrame, len};
use polars::sql::SQLContext;

use super::source::SourceArgs;
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::store::sessions;
use crate::trace::with_attribution_from;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: SourceArgs,

    /// SQL text, a `.sql` file, or the name of a query in queries/.
    #[arg(value_name = "QUERY", required_unless_present = "list")]
    pub query: Option<String>,

    /// A value for a `:name` parameter (repeatable): --param repo=acme/api.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,

    /// List the named queries with what they answer.
    #[arg(long)]
    pub list: bool,

    /// Where the named queries are.
    #[arg(long, value_name = "DIR", default_value = "queries")]
    pub queries_dir: PathBuf,

    /// The most rows a CROSS JOIN may produce: a query whose cross join
    /// would make more is refused before it runs (polars would otherwise
    /// try to allocate them all).
    #[arg(long, value_name = "ROWS", default_value_t = 50_000_000)]
    pub max_join_rows: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// With --format csv, write cells as they are: no `'` before cells a
    /// spreadsheet would run as formulas, control characters as bytes.
    #[arg(long)]
    pub csv_raw: bool,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{k}` is not a parameter name (letters, digits, _)"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

/// A named query: its file and its header comment.
pub struct NamedQuery {
    pub name: String,
    pub path: PathBuf,
    pub header: Vec<String>,
    pub sql: String,
}

/// The queries in `dir`, by name.
pub fn named_queries(dir: &Path) -> anyhow::Result<Vec<NamedQuery>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list queries in {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            out.push(load_query(&path)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn load_query(path: &Path) -> anyhow::Result<NamedQuery> {
    let sql =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = sql
        .lines()
        .take_while(|l| l.trim_start().starts_with("--"))
        .map(|l| l.trim_start().trim_start_matches("--").trim().to_string())
        .collect();
    Ok(NamedQuery {
        name: path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        path: path.to_owned(),
        header,
        sql,
    })
}

/// Replaces `:name` parameters outside string literals with quoted values.
/// `::` casts are left alone; a parameter without a value is an error.
pub fn bind_params(sql: &str, params: &[(String, String)]) -> anyhow::Result<String> {
    let mut out = String::with_capacity(sql.len());
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let (mut in_str, mut in_comment) = (false, false);
    while i < chars.len() {
        let c = chars[i];
        if in_comment {
            in_comment = c != '\n';
        } else if in_str {
            in_str = c != '\'';
        } else if c == '\'' {
            in_str = true;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            in_comment = true;
        } else if c == ':'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
            && (i == 0 || chars[i - 1] != ':')
        {
            let end = (i + 1..chars.len())
                .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
                .unwrap_or(chars.len());
            let name: String = chars[i + 1..end].iter().collect();
            let Some((_, value)) = params.iter().find(|(k, _)| *k == name) else {
                bail!("the query needs a value for :{name}: pass --param {name}=VALUE");
            };
            out.push('\'');
            out.push_str(&value.replace('\'', "''"));
            out.push('\'');
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    if args.list {
        for q in named_queries(&args.queries_dir)? {
            writeln!(stdout, "{}", q.name)?;
            for line in &q.header {
                writeln!(stdout, "    {line}")?;
            }
        }
        return Ok(ExitStatus::Clean);
    }
    let text = args.query.as_deref().expect("clap requires a query");
    let sql = if text.ends_with(".sql") && Path::new(text).is_file() {
        load_query(Path::new(text))?.sql
    } else if !text.contains(char::is_whitespace) {
        let path = args.queries_dir.join(format!("{text}.sql"));
        load_query(&path)
            .with_context(|| {
                format!(
                    "`{text}` is neither SQL nor a query in {}",
                    args.queries_dir.display()
                )
            })?
            .sql
    } else {
        text.to_string()
    };
    let sql = bind_params(&sql, &args.params)?;
    if let Some(athena) = args.source.athena_sql()? {
        writeln!(stdout, "{athena}")?;
        return Ok(ExitStatus::Clean);
    }
    let (events, summary) = args.source.events(stderr)?;
    let mut ctx = SQLContext::new();
    // From a store, its sessions table; from anything else, the sessions
    // among the events read.
    let stored = args.source.stored_sessions()?;
    let earlier = stored.clone().map(sessions::as_via);
    let all_sessions = stored.unwrap_or_else(|| sessions::of_events(events.clone()));
    ctx.register("events", with_attribution_from(events, earlier));
    ctx.register("sessions", all_sessions);
    let plan = anyhow::Context::context(ctx.execute(&sql), "in the query")?;
    check_cross_joins(&plan, args.max_join_rows)?;
    let df = anyhow::Context::context(plan.collect(), "running the query")?;
    output::write_frame(stdout, args.format, &df, args.csv_raw)?;
    Ok(match summary {
        Some(s) if s.has_failures() => ExitStatus::Error,
        _ => ExitStatus::Clean,
    })
}

/// Refuses a plan with a cross join that would make more than `limit`
/// rows, before anything is materialized: each cross join's inputs are
/// counted (innermost joins first, so no count can itself explode) and
/// multiplied.
fn check_cross_joins(plan: &LazyFrame, limit: u64) -> anyhow::Result<()> {
    let is_cross = |p: &DslPlan| matches!(p, DslPlan::Join { options, .. } if options.args.how == JoinType::Cross);
    let mut joins: Vec<(usize, &DslPlan)> = (&plan.logical_plan)
        .into_iter()
        .filter(|p| is_cross(p))
        .map(|j| (j.into_iter().filter(|p| is_cross(p)).count(), j))
        .collect();
    joins.sort_by_key(|(inner, _)| *inner);
    for (_, join) in joins {
        let DslPlan::Join {
            input_left,
            input_right,
            ..
        } = join
        else {
            continue;
        };
        let rows = |side: &DslPlan| -> anyhow::Result<u64> {
            let df = LazyFrame::from(side.clone())
                .select([len().alias("n")])
                .collect()
                .context("counting a cross join's input")?;
            Ok(df.column("n")?.get(0)?.extract::<u64>().unwrap_or(0))
        };
        let (a, b) = (rows(input_left)?, rows(input_right)?);
        let product = a.saturating_mul(b);
        anyhow::ensure!(
            product <= limit,
            "the query's CROSS JOIN would make {product} rows ({a} × {b}), more than --max-join-rows {limit}: filter or aggregate its inputs first, or raise the limit"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_bind_outside_strings_and_comments() {
        let p = vec![
            ("repo".to_string(), "acme/api".to_string()),
            ("q".to_string(), "it's".to_string()),
        ];
        assert_eq!(
            bind_params(
                "SELECT ':repo', x::int FROM events -- :nope\nWHERE r = :repo AND s = :q",
                &p
            )
            .unwrap(),
            "SELECT ':repo', x::int FROM events -- :nope\nWHERE r = 'acme/api' AND s = 'it''s'"
        );
        let e = bind_params("SELECT * FROM events WHERE r = :missing", &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--param missing=VALUE"), "{e}");
        assert!(parse_param("a-b=c").is_err());
        assert_eq!(
            parse_param("since=2026-01-01T00:00:00").unwrap().1,
            "2026-01-01T00:00:00"
        );
    }

    /// Regression (hostile input 10): a cross join near 2^32 rows is
    /// refused with a clear error, not an aborted allocation.
    #[test]
    fn cross_joins_are_counted_before_they_run() {
        use polars::prelude::*;
        let events = df!("x" => (0..70_000i64).collect::<Vec<_>>()).unwrap();
        let mut ctx = SQLContext::new();
        ctx.register("events", events.lazy());
        let huge = ctx
            .execute("SELECT count(*) FROM events a CROSS JOIN events b")
            .unwrap();
        let e = check_cross_joins(&huge, 50_000_000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("4900000000 rows (70000 × 70000)"), "{e}");
        let nested = ctx
            .execute("SELECT * FROM events a, events b, events c")
            .unwrap();
        assert!(check_cross_joins(&nested, 50_000_000).is_err());
        let small = ctx
            .execute("SELECT * FROM (SELECT x FROM events LIMIT 3) a CROSS JOIN (SELECT x FROM events LIMIT 4) b")
            .unwrap();
        check_cross_joins(&small, 12).unwrap();
        assert_eq!(small.collect().unwrap().height(), 12);
        let plain = ctx.execute("SELECT * FROM events WHERE x < 5").unwrap();
        check_cross_joins(&plain, 0).unwrap();
    }
}
