-- Which OIDC subjects assumed each role, how often, and when first and last.
-- Parameters: none.
-- Athena: no. ctaudit's `role_arn`/`subject` are flattened from requestParameters
--   and responseElements; on Athena use json_extract_scalar(requestparameters, '$.roleArn').
SELECT role_arn,
       subject,
       COUNT(*) AS assumptions,
       MIN(event_time) AS first_seen,
       MAX(event_time) AS last_seen
FROM events
WHERE event_name = 'AssumeRoleWithWebIdentity' AND error_code IS NULL
GROUP BY role_arn, subject
ORDER BY role_arn, assumptions DESC, subject
