//! `failures`: failed `AssumeRoleWithWebIdentity` calls and why they failed.

use polars::prelude::*;

use super::bursts;
use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, finding_rows, group,
    string_column, strs, web_identity_calls,
};
use crate::frame::col;
use crate::policy::Verdicts;

#[doc = include_str!("failures.md")]
pub struct Failures;

const CONTEXT: &[&str] = &[
    col::ROLE_ARN,
    col::SUBJECT,
    col::AUDIENCE,
    col::ERROR_CODE,
    col::ERROR_MESSAGE,
    "cause",
    "policy_allows",
    "burst",
];

impl Report for Failures {
    fn id(&self) -> &'static str {
        "failures"
    }
    fn title(&self) -> &'static str {
        "Failed OIDC role assumptions"
    }
    fn doc(&self) -> &'static str {
        include_str!("failures.md")
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
        let policy = ctx.policy;
        let mut df = web_identity_calls(frame, true)?;
        let (roles, subjects, audiences) = (
            strs(&df, col::ROLE_ARN)?,
            strs(&df, col::SUBJECT)?,
            strs(&df, col::AUDIENCE)?,
        );
        let (codes, messages) = (strs(&df, col::ERROR_CODE)?, strs(&df, col::ERROR_MESSAGE)?);
        let mut allows = Vec::with_capacity(df.height());
        let mut causes = Vec::with_capacity(df.height());
        let mut verdicts = policy.map(Verdicts::new);
        for i in 0..df.height() {
            let allowed = verdicts
                .as_mut()
                .map(|v| v.get(roles.get(i), subjects.get(i), audiences.get(i)));
            let code = codes.get(i).unwrap_or("");
            causes.push(Some(likely_cause(
                code,
                messages.get(i),
                audiences.get(i),
                allowed.as_ref(),
            )));
            allows.push(Some(match allowed {
                None => "no policy",
                Some(v) if !v.has_entry => "role not in policy",
                Some(v) if v.subject_allowed && v.audience_allowed => "yes",
                Some(v) if v.subject_allowed => "subject yes, audience no",
                Some(_) => "no",
            }));
        }
        let times = df
            .column(col::EVENT_TIME)?
            .as_materialized_series()
            .to_physical_repr();
        let times = times.i64()?;
        let sources = strs(&df, col::SOURCE_IP)?;
        let calls: Vec<bursts::Failed<'_>> = (0..df.height())
            .map(|i| bursts::Failed {
                time: times.get(i),
                role: roles.get(i),
                source: sources.get(i),
            })
            .collect();
        let burst = bursts::find(&calls, &policy.map(|p| p.burst).unwrap_or_default());
        df.with_column(string_column("cause", causes))?;
        df.with_column(string_column("policy_allows", allows))?;
        df.with_column(string_column(
            "severity",
            burst.iter().map(|b| {
                Some(match b {
                    Some(_) => Severity::High.as_str(),
                    None => Severity::Medium.as_str(),
                })
            }),
        ))?;
        df.with_column(string_column("burst", burst))?;
        finding_rows(df, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    /// Calls in a burst are one group per burst (their roles, subjects and
    /// error codes listed); the others are grouped by role × subject ×
    /// error code.
    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        let in_burst = events.column("burst")?.is_not_null();
        let plain = group(
            &events.filter(&!&in_burst)?,
            &[col::ROLE_ARN, col::SUBJECT, col::ERROR_CODE],
            vec![
                col("cause").first().into(),
                col("policy_allows").first().into(),
                col("burst").first().into(),
            ],
        )?;
        let bursts = events.filter(&in_burst)?;
        if bursts.height() == 0 {
            return Ok(plain);
        }
        let joined = |name: &str| {
            col(name)
                .unique()
                .sort(SortOptions::default())
                .cast(DataType::String)
                .str()
                .join(", ", true)
                .alias(name)
        };
        let grouped = group(
            &bursts,
            &["burst"],
            vec![
                joined(col::ROLE_ARN).into(),
                joined(col::SUBJECT).into(),
                joined(col::ERROR_CODE).into(),
                col("cause").first().into(),
                col("policy_allows").first().into(),
            ],
        )?;
        let order: Vec<PlSmallStr> = plain.get_column_names_owned();
        let grouped = grouped.select(order)?;
        let mut out = grouped;
        out.vstack_mut(&plain)?;
        Ok(out)
    }
}

/// The likely cause of a failed call, in words a person can act on.
///
/// `verdict` is what the policy says of the role, subject and audience, when
/// a policy was given.
pub fn likely_cause(
    code: &str,
    message: Option<&str>,
    audience: Option<&str>,
    verdict: Option<&crate::policy::RoleVerdict>,
) -> String {
    let msg = message.unwrap_or("").to_ascii_lowercase();
    let code_l = code.to_ascii_lowercase();
    let aud = audience.unwrap_or("?");
    let base = if msg.contains("no openidconnect provider")
        || msg.contains("no openid connect provider")
    {
        "the OIDC provider token.actions.githubusercontent.com is not registered in this account: \
         create it under IAM > Identity providers with audience sts.amazonaws.com"
            .to_string()
    } else if msg.contains("audience") {
        format!(
            "the token's audience ({aud}) is not a client ID of the OIDC provider: \
             set `audience: sts.amazonaws.com` in configure-aws-credentials, or add the audience to the provider"
        )
    } else if msg.contains("expired") || code_l.contains("expired") {
        "the token expired before STS saw it: the job waited too long between requesting the token \
         and calling STS, or the runner's clock is off"
            .to_string()
    } else if msg.contains("thumbprint") || msg.contains("certificate") {
        "STS could not verify the provider's TLS certificate (thumbprint mismatch): \
         update the provider's thumbprint list"
            .to_string()
    } else if msg.contains("verification key") || msg.contains("jwks") {
        "STS could not fetch the provider's signing keys: check the provider URL; \
         usually transient on GitHub's side, retry the job"
            .to_string()
    } else if msg.contains("durationseconds") || msg.contains("maxsessionduration") {
        "the requested session duration exceeds the role's maximum session duration: \
         lower `role-duration-seconds` or raise the role's MaxSessionDuration"
            .to_string()
    } else {
        match code {
            "AccessDenied" | "AccessDeniedException" => {
                "the role's trust policy does not allow this subject: its \
                 token.actions.githubusercontent.com:sub / :aud conditions do not match, or it does not \
                 trust this provider"
                    .to_string()
            }
            "InvalidIdentityToken" | "InvalidIdentityTokenException" => {
                "STS rejected the token itself (issuer, signature or claims): check the provider's URL \
                 and that the workflow requested an ID token (`permissions: id-token: write`)"
                    .to_string()
            }
            "IDPRejectedClaim" | "IDPRejectedClaimException" => {
                "the identity provider rejected the token's claims: the token is not valid for this \
                 provider (wrong issuer, or the provider's configuration changed)"
                    .to_string()
            }
            "IDPCommunicationError" | "IDPCommunicationErrorException" => {
                "STS could not reach the identity provider to verify the token: usually transient, \
                 retry the job"
                    .to_string()
            }
            "ExpiredTokenException" | "ExpiredToken" => {
                "the token expired before STS saw it".to_string()
            }
            "MalformedPolicyDocument" | "MalformedPolicyDocumentException" | "PackedPolicyTooLarge" => {
                "the session policy passed with the call is invalid or too large: check \
                 `inline-session-policy` / `managed-session-policies`"
                    .to_string()
            }
            "RegionDisabledException" => {
                "STS is not activated in this region for the account: activate it, or call another \
                 region's endpoint"
                    .to_string()
            }
            "ThrottlingException" | "Throttling" => {
                "STS throttled the call: too many jobs assumed roles at once; retry with backoff".to_string()
            }
            "ValidationError" => "STS rejected a parameter of the request (session name, duration or ARN)".to_string(),
            _ => format!("STS refused the call with {code}"),
        }
    };
    match verdict {
        Some(v) if v.has_entry && v.subject_allowed && code.starts_with("AccessDenied") => format!(
            "{base}. ctaudit's policy allows this subject for this role, so the role's trust policy is wrong, not the caller"
        ),
        Some(v) if v.has_entry && !v.subject_allowed && code.starts_with("AccessDenied") => {
            format!(
                "{base}. ctaudit's policy does not allow this subject either: the caller should not assume this role"
            )
        }
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::reports::testing::{frame, web_identity};

    const ROLE: &str = "arn:aws:iam::111122223333:role/gha-prod-deploy";
    const DENIED: (&str, &str) = (
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );

    fn policy() -> Policy {
        Policy::parse(&format!(
            "[[roles]]\narn = \"{ROLE}\"\nsubjects = [\"repo:acme/api:ref:refs/heads/main\"]\n"
        ))
        .unwrap()
    }

    #[test]
    fn groups_failures_with_causes() {
        let main = "repo:acme/api:ref:refs/heads/main";
        let fork = "repo:evil/api:ref:refs/heads/main";
        let df = frame(&[
            &web_identity(
                "2026-11-16T10:00:00Z",
                ROLE,
                main,
                "sts.amazonaws.com",
                Some(DENIED),
            ),
            &web_identity(
                "2026-11-16T11:00:00Z",
                ROLE,
                main,
                "sts.amazonaws.com",
                Some(DENIED),
            ),
            &web_identity(
                "2026-11-16T12:00:00Z",
                ROLE,
                fork,
                "sts.amazonaws.com",
                Some(DENIED),
            ),
            &web_identity(
                "2026-11-16T13:00:00Z",
                ROLE,
                main,
                "api://x",
                Some(("InvalidIdentityToken", "Incorrect token audience")),
            ),
            // Successes are not failures.
            &web_identity(
                "2026-11-16T14:00:00Z",
                ROLE,
                main,
                "sts.amazonaws.com",
                None,
            ),
        ]);
        let f = Failures.run(&df, Some(&policy())).unwrap();
        assert_eq!(f.count(), 4);
        assert_eq!(f.groups.height(), 3);
        let counts: Vec<u32> = f
            .groups
            .column("count")
            .unwrap()
            .u32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(counts, [2, 1, 1]);
        let causes = strs(&f.groups, "cause").unwrap();
        assert!(
            causes
                .get(0)
                .unwrap()
                .contains("trust policy is wrong, not the caller")
        );
        let allows = strs(&f.groups, "policy_allows").unwrap();
        assert_eq!(allows.get(0), Some("yes"));
        // The fork's AccessDenied is the caller's problem, not the trust policy's.
        let fork_row = strs(&f.groups, col::SUBJECT)
            .unwrap()
            .iter()
            .position(|s| s == Some(fork))
            .unwrap();
        assert!(
            causes
                .get(fork_row)
                .unwrap()
                .contains("should not assume this role")
        );
        let aud_row = strs(&f.groups, col::ERROR_CODE)
            .unwrap()
            .iter()
            .position(|s| s == Some("InvalidIdentityToken"))
            .unwrap();
        assert!(causes.get(aud_row).unwrap().contains("audience (api://x)"));
    }

    #[test]
    fn causes() {
        let c = |code, msg| likely_cause(code, Some(msg), None, None);
        assert!(c("InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com").contains("not registered"));
        assert!(
            c(
                "ExpiredTokenException",
                "Token expired: current date/time 1 must be before the expiration date/time 0"
            )
            .contains("expired")
        );
        assert!(c("IDPRejectedClaim", "").contains("rejected the token's claims"));
        assert!(c("IDPCommunicationError", "").contains("could not reach"));
        assert!(
            c(
                "InvalidIdentityToken",
                "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
            )
            .contains("thumbprint")
        );
        assert!(
            c(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
            .contains("session duration")
        );
        assert_eq!(c("Weird", ""), "STS refused the call with Weird");
    }

    #[test]
    fn runs_without_a_policy() {
        let df = frame(&[&web_identity(
            "2026-11-16T10:00:00Z",
            ROLE,
            "repo:a/b:pull_request",
            "sts.amazonaws.com",
            Some(("AccessDenied", "x")),
        )]);
        let f = Failures.run(&df, None).unwrap();
        assert_eq!(
            strs(&f.events, "policy_allows").unwrap().get(0),
            Some("no policy")
        );
    }
}
