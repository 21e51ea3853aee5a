//! `unexpected-subjects`: successful OIDC assumptions the policy does not expect.

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, distinct, finding_rows,
    group, keep, string_column, strs, web_identity_calls,
};
use crate::frame::col;
use crate::policy::{Pattern, Policy, Verdicts};

#[doc = include_str!("unexpected_subjects.md")]
pub struct UnexpectedSubjects;

const CONTEXT: &[&str] = &[col::ROLE_ARN, col::SUBJECT, col::AUDIENCE, "kind", "reason"];

impl Report for UnexpectedSubjects {
    fn id(&self) -> &'static str {
        "unexpected-subjects"
    }
    fn title(&self) -> &'static str {
        "Role assumptions from unexpected subjects or audiences"
    }
    fn doc(&self) -> &'static str {
        include_str!("unexpected_subjects.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::WebIdentity]
    }
    fn columns(&self) -> Vec<&'static str> {
        [CONTEXT, WEB_IDENTITY_CONTEXT].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Roles
    }

    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let policy = ctx.policy;
        let policy = policy.expect("unexpected-subjects runs only with a policy");
        let mut df = web_identity_calls(frame, false)?;
        let calls = Calls {
            roles: strs(&df, col::ROLE_ARN)?,
            subjects: strs(&df, col::SUBJECT)?,
            audiences: strs(&df, col::AUDIENCE)?,
            repos: strs(&df, col::GH_REPOSITORY)?,
            ref_types: strs(&df, col::GH_REF_TYPE)?,
            refs: strs(&df, col::GH_REF)?,
            envs: strs(&df, col::GH_ENVIRONMENT)?,
        };
        let mut verdicts = Verdicts::new(policy);
        let judged: Vec<Option<Unexpected>> = (0..df.height())
            .map(|i| calls.judge(i, &mut verdicts))
            .collect();
        df.with_column(string_column(
            "severity",
            judged
                .iter()
                .map(|j| j.as_ref().map(|j| j.severity.as_str())),
        ))?;
        df.with_column(string_column(
            "kind",
            judged.iter().map(|j| j.as_ref().map(|j| j.kinds.join(","))),
        ))?;
        df.with_column(string_column(
            "reason",
            judged
                .iter()
                .map(|j| j.as_ref().map(|j| j.reasons.join("; "))),
        ))?;
        let df = keep(df, judged.iter().map(Option::is_some))?;
        finding_rows(df, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &[col::ROLE_ARN, col::SUBJECT, col::AUDIENCE, "kind"],
            vec![col("reason").first().into(), distinct(col::SOURCE_IP)],
        )
    }
}

/// The columns a judgement reads.
struct Calls<'d> {
    roles: &'d StringChunked,
    subjects: &'d StringChunked,
    audiences: &'d StringChunked,
    repos: &'d StringChunked,
    ref_types: &'d StringChunked,
    refs: &'d StringChunked,
    envs: &'d StringChunked,
}

/// Why one call is unexpected.
struct Unexpected {
    severity: Severity,
    /// `no-policy-entry`, `repository`, `branch`, `tag`, `environment`,
    /// `pull_request`, `subject` or `audience`.
    kinds: Vec<&'static str>,
    reasons: Vec<String>,
}

/// At most three patterns, for messages.
fn some_patterns<'p>(patterns: impl Iterator<Item = &'p Pattern>) -> String {
    let all: Vec<&str> = patterns.map(Pattern::as_str).collect();
    match all.len() {
        0 => "none".to_string(),
        1..=3 => all.join(", "),
        n => format!("{}, and {} more", all[..3].join(", "), n - 3),
    }
}

/// The raw `repo` claim of a subject (`acme@1/api@2` kept as written).
fn raw_repo_claim(subject: &str) -> Option<&str> {
    let rest = subject
        .strip_prefix("repo:")
        .or_else(|| subject.find(":repo:").map(|i| &subject[i + 6..]))?;
    Some(rest.split(':').next().unwrap_or(rest))
}

impl Calls<'_> {
    fn judge<'a>(&'a self, i: usize, verdicts: &mut Verdicts<'_, 'a>) -> Option<Unexpected> {
        let policy = verdicts.policy();
        let role = self.roles.get(i).unwrap_or("");
        let subject = self.subjects.get(i);
        let audience = self.audiences.get(i);
        let verdict = verdicts.get(Some(role), subject, audience);
        if !verdict.has_entry {
            return Some(Unexpected {
                severity: Severity::Medium,
                kinds: vec!["no-policy-entry"],
                reasons: vec![
                    "no [[roles]] entry matches this role: nobody has said who may assume it"
                        .into(),
                ],
            });
        }
        let mut out = Unexpected {
            severity: Severity::Low,
            kinds: Vec::new(),
            reasons: Vec::new(),
        };
        if !verdict.subject_allowed {
            let allowed = some_patterns(policy.subjects_for(role));
            let subject = subject.unwrap_or("(none)");
            let (severity, kind, reason) = self.subject_problem(i, policy, role, subject);
            out.severity = out.severity.min(severity);
            out.kinds.push(kind);
            out.reasons.push(format!("{reason} (allowed: {allowed})"));
        }
        if !verdict.audience_allowed {
            let allowed = some_patterns(policy.audiences_for(role));
            out.severity = Severity::High;
            out.kinds.push("audience");
            out.reasons.push(format!(
                "audience `{}` is not allowed for this role (allowed: {allowed})",
                audience.unwrap_or("(none)")
            ));
        }
        (!out.kinds.is_empty()).then_some(out)
    }

    /// What is wrong with a subject no pattern allows: the repository, or
    /// only the ref, environment or pull request of an expected repository
    /// (putting an allowed pattern's context in its place makes it match),
    /// or some other claim.
    fn subject_problem(
        &self,
        i: usize,
        policy: &Policy,
        role: &str,
        subject: &str,
    ) -> (Severity, &'static str, String) {
        let Some(repo) = self.repos.get(i) else {
            return (
                Severity::High,
                "subject",
                format!("subject `{subject}` is not allowed for this role"),
            );
        };
        let raw = raw_repo_claim(subject).unwrap_or(repo);
        let repo_expected = policy.subjects_for(role).any(|p| {
            raw_repo_claim(p.as_str()).is_some_and(|pr| {
                let pr = Pattern::new(pr);
                pr.matches(raw) || pr.matches(repo)
            })
        });
        if !repo_expected {
            return (
                Severity::High,
                "repository",
                format!("repository `{repo}` is not expected to assume this role"),
            );
        }
        // The subject as written, and with immutable ids dropped from its
        // repo claim (`acme@1/api@2` → `acme/api`), as patterns may name either.
        let plain = subject.replacen(raw, repo, 1);
        let only_context_differs = policy.subjects_for(role).any(|p| {
            let Some(ctx) = context_of(p.as_str()).map(concrete) else {
                return false;
            };
            [subject, plain.as_str()]
                .iter()
                .filter_map(|s| replace_context(s, &ctx))
                .any(|candidate| p.matches(&candidate))
        });
        let what = match self.ref_types.get(i) {
            _ if !only_context_differs => ("subject", format!("subject `{subject}`")),
            Some("branch") => (
                "branch",
                format!(
                    "branch `{}`",
                    self.refs
                        .get(i)
                        .unwrap_or("?")
                        .trim_start_matches("refs/heads/")
                ),
            ),
            Some("tag") => (
                "tag",
                format!(
                    "tag `{}`",
                    self.refs
                        .get(i)
                        .unwrap_or("?")
                        .trim_start_matches("refs/tags/")
                ),
            ),
            Some("environment") => (
                "environment",
                format!("environment `{}`", self.envs.get(i).unwrap_or("?")),
            ),
            Some("pull_request") => ("pull_request", "a pull request".to_string()),
            _ => ("subject", format!("subject `{subject}`")),
        };
        (
            Severity::Medium,
            what.0,
            format!("{} of {repo} is not expected to assume this role", what.1),
        )
    }
}

/// Where a subject (or pattern) says what it ran for: the byte range of its
/// `ref:<value>`, `environment:<value>` or `pull_request` claim.
fn context_range(subject: &str) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    let tokens: Vec<&str> = subject.split(':').collect();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        match t {
            "pull_request" => return Some(start..start + t.len()),
            "ref" | "environment" if i + 1 < tokens.len() => {
                return Some(start..start + t.len() + 1 + tokens[i + 1].len());
            }
            _ => {}
        }
        start += t.len() + 1;
        i += 1;
    }
    None
}

fn context_of(subject: &str) -> Option<&str> {
    context_range(subject).map(|r| &subject[r])
}

/// A subject with its context claim replaced by `context`.
fn replace_context(subject: &str, context: &str) -> Option<String> {
    let r = context_range(subject)?;
    Some(format!(
        "{}{}{}",
        &subject[..r.start],
        context,
        &subject[r.end..]
    ))
}

/// A pattern's text made into a value it matches (`*` → nothing, `?` → `x`).
fn concrete(pattern: &str) -> String {
    pattern.replace('*', "").replace('?', "x")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::{frame, web_identity};

    const PROD: &str = "arn:aws:iam::111122223333:role/gha-prod-deploy";

    fn policy() -> Policy {
        Policy::parse(&format!(
            r#"
[[roles]]
arn = "{PROD}"
subjects = ["repo:acme/api:ref:refs/heads/main", "repo:acme/api:environment:production"]
[[roles]]
arn = "arn:aws:iam::111122223333:role/gha-*"
subjects = ["repo:acme/shared:*"]
audiences = ["sts.amazonaws.com"]
"#
        ))
        .unwrap()
    }

    fn kinds(records: &[String]) -> Vec<(String, String)> {
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let f = UnexpectedSubjects
            .run(&frame(&refs), Some(&policy()))
            .unwrap();
        let k = strs(&f.events, "kind").unwrap();
        let s = strs(&f.events, "severity").unwrap();
        k.iter()
            .zip(s.iter())
            .map(|(k, s)| (k.unwrap().to_string(), s.unwrap().to_string()))
            .collect()
    }

    #[test]
    fn classifies_what_was_unexpected() {
        let t = "2026-11-16T10:00:00Z";
        let aud = "sts.amazonaws.com";
        let got = kinds(&[
            web_identity(t, PROD, "repo:acme/api:ref:refs/heads/main", aud, None),
            web_identity(
                "2026-11-16T10:01:00Z",
                PROD,
                "repo:acme/api:ref:refs/heads/feature",
                aud,
                None,
            ),
            web_identity(
                "2026-11-16T10:02:00Z",
                PROD,
                "repo:acme/api:environment:staging",
                aud,
                None,
            ),
            web_identity(
                "2026-11-16T10:03:00Z",
                PROD,
                "repo:acme/api:pull_request",
                aud,
                None,
            ),
            web_identity(
                "2026-11-16T10:04:00Z",
                PROD,
                "repo:evil/api:ref:refs/heads/main",
                aud,
                None,
            ),
            web_identity(
                "2026-11-16T10:05:00Z",
                PROD,
                "repo:acme/api:ref:refs/heads/main",
                "api://other",
                None,
            ),
            web_identity(
                "2026-11-16T10:06:00Z",
                "arn:aws:iam::111122223333:role/unknown",
                "repo:acme/api:ref:refs/heads/main",
                aud,
                None,
            ),
            web_identity(
                "2026-11-16T10:07:00Z",
                PROD,
                "repo:acme/shared:ref:refs/heads/anything",
                aud,
                None,
            ),
            web_identity(
                "2026-11-16T10:08:00Z",
                PROD,
                "repo:acme/api:ref:refs/tags/v1",
                aud,
                None,
            ),
            // Failed calls belong to `failures`, not here.
            web_identity(
                "2026-11-16T10:09:00Z",
                PROD,
                "repo:evil/api:ref:refs/heads/main",
                aud,
                Some(("AccessDenied", "x")),
            ),
        ]);
        let expect = [
            ("branch", "medium"),
            ("environment", "medium"),
            ("pull_request", "medium"),
            ("repository", "high"),
            ("audience", "high"),
            ("no-policy-entry", "medium"),
            ("tag", "medium"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn a_claim_other_than_the_ref_is_a_subject_problem() {
        let role = "arn:aws:iam::1:role/ci";
        let policy = Policy::parse(&format!(
            "[[roles]]\narn = \"{role}\"\nsubjects = [\"repository_owner:acme:repository_visibility:private:repo:acme/*:ref:refs/heads/main\"]\n"
        ))
        .unwrap();
        let aud = "sts.amazonaws.com";
        let t = "2026-11-16T10:00:00Z";
        let df = frame(&[
            &web_identity(
                t,
                role,
                "repository_owner:acme:repository_visibility:public:repo:acme/web:ref:refs/heads/main",
                aud,
                None,
            ),
            &web_identity(
                "2026-11-16T10:01:00Z",
                role,
                "repository_owner:acme:repository_visibility:private:repo:acme/web:ref:refs/heads/dev",
                aud,
                None,
            ),
            &web_identity(
                "2026-11-16T10:02:00Z",
                role,
                "repository_owner:acme:repository_visibility:private:repo:acme/web:ref:refs/heads/main",
                aud,
                None,
            ),
        ]);
        let f = UnexpectedSubjects.run(&df, Some(&policy)).unwrap();
        let kinds: Vec<&str> = strs(&f.events, "kind").unwrap().iter().flatten().collect();
        assert_eq!(kinds, ["subject", "branch"]);
    }

    #[test]
    fn context_replacement() {
        assert_eq!(
            context_of("repo:a/b:ref:refs/heads/main"),
            Some("ref:refs/heads/main")
        );
        assert_eq!(context_of("repo:a/b:pull_request"), Some("pull_request"));
        assert_eq!(
            replace_context(
                "repo:a/b:environment:prod:job_workflow_ref:x",
                "ref:refs/heads/main"
            )
            .as_deref(),
            Some("repo:a/b:ref:refs/heads/main:job_workflow_ref:x")
        );
        assert_eq!(context_of("system:serviceaccount:ns:sa"), None);
    }

    #[test]
    fn reasons_name_the_allowed_patterns() {
        let df = frame(&[&web_identity(
            "2026-11-16T10:00:00Z",
            PROD,
            "repo:acme@1/api@2:ref:refs/heads/dev",
            "sts.amazonaws.com",
            None,
        )]);
        let f = UnexpectedSubjects.run(&df, Some(&policy())).unwrap();
        let reason = strs(&f.events, "reason")
            .unwrap()
            .get(0)
            .unwrap()
            .to_string();
        assert!(
            reason.starts_with("branch `dev` of acme/api is not expected"),
            "{reason}"
        );
        assert!(reason.contains("allowed: repo:acme/api:ref:refs/heads/main, repo:acme/api:environment:production, repo:acme/shared:*"), "{reason}");
        assert_eq!(f.groups.height(), 1);
    }
}
