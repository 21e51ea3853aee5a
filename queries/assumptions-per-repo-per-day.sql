-- OIDC role assumptions per GitHub repository per day (UTC), with failures.
-- Parameters: none.
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT STRFTIME(event_time, '%Y-%m-%d') AS day,
       gh_repository,
       COUNT(*) AS assumptions,
       SUM(CASE WHEN error_code IS NULL THEN 0 ELSE 1 END) AS failed
FROM events
WHERE event_name = 'AssumeRoleWithWebIdentity'
GROUP BY day, gh_repository
ORDER BY day, assumptions DESC, gh_repository
