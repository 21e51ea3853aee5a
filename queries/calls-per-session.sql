-- Every workflow session (an access key issued by AssumeRoleWithWebIdentity):
-- what repository and run it came from, how many calls it made, how many failed.
-- Parameters: none.
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT access_key_id,
       via_repository,
       via_subject,
       via_role_arn,
       via_run_id,
       COUNT(*) AS calls,
       SUM(CASE WHEN error_code IS NULL THEN 0 ELSE 1 END) AS failed,
       COUNT(DISTINCT event_name) AS distinct_calls,
       MIN(event_time) AS first_call,
       MAX(event_time) AS last_call
FROM events
WHERE via_subject IS NOT NULL
GROUP BY access_key_id, via_repository, via_subject, via_role_arn, via_run_id
ORDER BY first_call, access_key_id
