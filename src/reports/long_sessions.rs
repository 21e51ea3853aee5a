//! `long-sessions`: web-identity sessions asked for longer than allowed.

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, finding_rows, group, keep,
    string_column, strs, web_identity_calls,
};
use crate::frame::col;
use crate::policy::Policy;

#[doc = include_str!("long_sessions.md")]
pub struct LongSessions;

const CONTEXT: &[&str] = &[
    col::ROLE_ARN,
    col::SUBJECT,
    col::SESSION_DURATION,
    "max_session",
];

impl Report for LongSessions {
    fn id(&self) -> &'static str {
        "long-sessions"
    }
    fn title(&self) -> &'static str {
        "Role sessions asked for longer than allowed"
    }
    fn doc(&self) -> &'static str {
        include_str!("long_sessions.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::WebIdentity]
    }
    fn columns(&self) -> Vec<&'static str> {
        [CONTEXT, WEB_IDENTITY_CONTEXT].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Optional
    }

    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let empty = Policy::default();
        let policy = ctx.policy.unwrap_or(&empty);
        let mut df = web_identity_calls(frame, false)?;
        let (roles, asked) = (strs(&df, col::ROLE_ARN)?, strs(&df, col::SESSION_DURATION)?);
        let mut judged: Vec<Option<(Severity, u32)>> = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let limit = roles
                .get(i)
                .and_then(|r| policy.rules_for(r).filter_map(|x| x.max_session).max())
                .unwrap_or(policy.max_session);
            let seconds = asked.get(i).and_then(|s| s.trim().parse::<f64>().ok());
            judged.push(match seconds {
                Some(s) if s > f64::from(limit) * 4.0 => Some((Severity::High, limit)),
                Some(s) if s > f64::from(limit) => Some((Severity::Medium, limit)),
                _ => None,
            });
        }
        df.with_column(string_column(
            "severity",
            judged.iter().map(|j| j.map(|j| j.0.as_str())),
        ))?;
        df.with_column(string_column(
            "max_session",
            judged.iter().map(|j| j.map(|j| j.1.to_string())),
        ))?;
        let df = keep(df, judged.iter().map(Option::is_some))?;
        finding_rows(df, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &[col::ROLE_ARN, col::SUBJECT, col::SESSION_DURATION],
            vec![col("max_session").first().into()],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::frame;

    fn call(time: &str, role: &str, duration: Option<&str>) -> String {
        let d = duration.map_or(String::new(), |d| format!(r#","durationSeconds":{d}"#));
        format!(
            r#"{{"eventTime":"{time}","eventID":"{time}","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com",
            "requestParameters":{{"roleArn":"{role}","roleSessionName":"GitHubActions"{d}}},
            "responseElements":{{"subjectFromWebIdentityToken":"repo:acme/api:ref:refs/heads/main"}}}}"#
        )
    }

    #[test]
    fn over_the_limit_of_the_policy_or_the_role() {
        let policy = Policy::parse(
            "max_session = 3600\n[[roles]]\narn = \"arn:aws:iam::1:role/long\"\nmax_session = 7200\n",
        )
        .unwrap();
        let records = [
            call("2026-11-20T10:00:00Z", "arn:aws:iam::1:role/deploy", None),
            call(
                "2026-11-20T10:01:00Z",
                "arn:aws:iam::1:role/deploy",
                Some("3600"),
            ),
            call(
                "2026-11-20T10:02:00Z",
                "arn:aws:iam::1:role/deploy",
                Some("7200"),
            ),
            call(
                "2026-11-20T10:03:00Z",
                "arn:aws:iam::1:role/deploy",
                Some("43200"),
            ),
            call(
                "2026-11-20T10:04:00Z",
                "arn:aws:iam::1:role/long",
                Some("7200"),
            ),
            call(
                "2026-11-20T10:05:00Z",
                "arn:aws:iam::1:role/long",
                Some("\"10800\""),
            ),
        ];
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let f = LongSessions.run(&frame(&refs), Some(&policy)).unwrap();
        let got: Vec<(String, String, String)> = (0..f.count())
            .map(|i| {
                let s = |c| strs(&f.events, c).unwrap().get(i).unwrap().to_string();
                (s("severity"), s(col::SESSION_DURATION), s("max_session"))
            })
            .collect();
        let row = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(
            got,
            [
                row("medium", "7200", "3600"),
                row("high", "43200", "3600"),
                row("medium", "10800", "7200"),
            ]
        );
    }
}
