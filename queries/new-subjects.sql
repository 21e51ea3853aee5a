-- Subjects that assumed a role on or after :since but never before it (e.g. the
-- last 7 days against the 90 before, with --since 97d on the source).
-- Parameters: :since, a UTC date or time such as 2026-11-15 or 2026-11-15 08:00:00.
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
WITH calls AS (
    SELECT role_arn, subject, event_time, STRFTIME(event_time, '%Y-%m-%d %H:%M:%S') AS t
    FROM events
    WHERE event_name = 'AssumeRoleWithWebIdentity' AND error_code IS NULL
),
before AS (
    SELECT DISTINCT role_arn, subject FROM calls WHERE t < :since
)
SELECT c.role_arn,
       c.subject,
       COUNT(*) AS assumptions,
       MIN(c.event_time) AS first_seen
FROM calls c
LEFT JOIN before b ON c.role_arn = b.role_arn AND c.subject = b.subject
WHERE c.t >= :since AND b.subject IS NULL
GROUP BY c.role_arn, c.subject
ORDER BY first_seen, c.role_arn, c.subject
