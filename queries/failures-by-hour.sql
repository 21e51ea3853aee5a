-- Failed OIDC role assumptions per hour (UTC) and error code: bursts show a
-- broken deploy or someone probing a role.
-- Parameters: none.
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT STRFTIME(event_time, '%Y-%m-%d %H:00') AS hour,
       error_code,
       COUNT(*) AS failures,
       COUNT(DISTINCT subject) AS subjects
FROM events
WHERE event_name = 'AssumeRoleWithWebIdentity' AND error_code IS NOT NULL
GROUP BY hour, error_code
ORDER BY hour, error_code
