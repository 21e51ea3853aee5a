-- Which OIDC subjects assumed each role, how often, and when first and last.
-- Parameters: none.
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT role_arn,
       subject,
       COUNT(*) AS assumptions,
       MIN(event_time) AS first_seen,
       MAX(event_time) AS last_seen
FROM events
WHERE event_name = 'AssumeRoleWithWebIdentity' AND error_code IS NULL
GROUP BY role_arn, subject
ORDER BY role_arn, assumptions DESC, subject
