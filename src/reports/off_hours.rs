//! `off-hours`: successful OIDC assumptions outside business hours.

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, finding_rows, group, keep,
    string_column, strs, web_identity_calls,
};
use crate::frame::col;
use crate::policy::Verdicts;

#[doc = include_str!("off_hours.md")]
pub struct OffHours;

const CONTEXT: &[&str] = &[col::ROLE_ARN, col::SUBJECT, "local_time", "kind", "reason"];

impl Report for OffHours {
    fn id(&self) -> &'static str {
        "off-hours"
    }
    fn title(&self) -> &'static str {
        "Role assumptions outside business hours"
    }
    fn doc(&self) -> &'static str {
        include_str!("off_hours.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::WebIdentity]
    }
    fn columns(&self) -> Vec<&'static str> {
        [CONTEXT, WEB_IDENTITY_CONTEXT].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::BusinessHours
    }

    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let policy = ctx.policy;
        let policy = policy.expect("off-hours runs only with a policy");
        let hours = policy
            .business_hours
            .as_ref()
            .expect("off-hours runs only with business hours");
        let mut df = web_identity_calls(frame, false)?;
        let ts = crate::frame::event_times(&df)?;
        let roles = strs(&df, col::ROLE_ARN)?;
        let mut local = Vec::with_capacity(df.height());
        let mut kinds = Vec::with_capacity(df.height());
        let mut reasons = Vec::with_capacity(df.height());
        let mut verdicts = Verdicts::new(policy);
        for (t, role) in ts.iter().zip(roles.iter()) {
            let exempt = verdicts.get(role, None, None).off_hours_allowed;
            let off = t
                .filter(|_| !exempt)
                .and_then(|t| hours.check(t).map(|why| (t, why)));
            match off {
                Some((t, why)) => {
                    local.push(Some(hours.local_time(t)));
                    kinds.push(Some(why.kind()));
                    reasons.push(Some(hours.describe(&why)));
                }
                None => {
                    local.push(None);
                    kinds.push(None);
                    reasons.push(None);
                }
            }
        }
        let flagged: Vec<bool> = kinds.iter().map(Option::is_some).collect();
        let n = df.height();
        df.with_column(string_column("local_time", local))?;
        df.with_column(string_column("kind", kinds))?;
        df.with_column(string_column("reason", reasons))?;
        df.with_column(string_column(
            "severity",
            std::iter::repeat_n(Some(Severity::Low.as_str()), n),
        ))?;
        finding_rows(keep(df, flagged)?, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &[col::ROLE_ARN, col::SUBJECT, "kind"],
            vec![
                col("local_time").first().alias("first_local_time").into(),
                col("reason").first().into(),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::reports::testing::{frame, web_identity};

    const DEPLOY: &str = "arn:aws:iam::111122223333:role/gha-prod-deploy";
    const NIGHTLY: &str = "arn:aws:iam::111122223333:role/gha-nightly-sync";

    fn policy() -> Policy {
        Policy::parse(
            r#"
[business_hours]
timezone = "America/New_York"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "19:00"
holidays = ["2026-11-26"]
[[roles]]
arn = "arn:aws:iam::111122223333:role/gha-nightly-*"
subjects = ["repo:acme/ops:ref:refs/heads/main"]
off_hours = "allowed"
"#,
        )
        .unwrap()
    }

    #[test]
    fn flags_nights_weekends_and_holidays_in_local_time() {
        let sub = "repo:acme/api:ref:refs/heads/main";
        let aud = "sts.amazonaws.com";
        let df = frame(&[
            // Tue 10:00 EST: inside.
            &web_identity("2026-11-17T15:00:00Z", DEPLOY, sub, aud, None),
            // Tue 23:30 EST, which is Wednesday in UTC: late.
            &web_identity("2026-11-18T04:30:00Z", DEPLOY, sub, aud, None),
            // Sat noon.
            &web_identity("2026-11-21T17:00:00Z", DEPLOY, sub, aud, None),
            // Thanksgiving, listed as a holiday.
            &web_identity("2026-11-26T15:00:00Z", DEPLOY, sub, aud, None),
            // Mon 07:59 EST: early.
            &web_identity("2026-11-23T12:59:00Z", DEPLOY, sub, aud, None),
            // A scheduled job at 03:00 on Sunday: exempt.
            &web_identity(
                "2026-11-22T08:00:00Z",
                NIGHTLY,
                "repo:acme/ops:ref:refs/heads/main",
                aud,
                None,
            ),
            // A failed call at night is a failure, not an off-hours assumption.
            &web_identity(
                "2026-11-18T05:00:00Z",
                DEPLOY,
                sub,
                aud,
                Some(("AccessDenied", "x")),
            ),
        ]);
        let f = OffHours.run(&df, Some(&policy())).unwrap();
        let reasons: Vec<&str> = strs(&f.events, "reason")
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(
            reasons,
            [
                "after 19:00",
                "Sat is not a working day",
                "before 08:00",
                "2026-11-26 is a holiday"
            ]
        );
        let local: Vec<&str> = strs(&f.events, "local_time")
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(local[0], "2026-11-17 23:30 Tue EST");
        assert_eq!(f.groups.height(), 3);
    }
}
