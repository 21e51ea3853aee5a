-- Long-lived IAM user access keys (AKIA...) by last use, most recent first.
-- Parameters: none.
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT access_key_id,
       identity_arn,
       COUNT(*) AS calls,
       COUNT(DISTINCT source_ip) AS source_ips,
       MIN(event_time) AS first_used,
       MAX(event_time) AS last_used
FROM events
WHERE access_key_id LIKE 'AKIA%'
GROUP BY access_key_id, identity_arn
ORDER BY last_used DESC, access_key_id
