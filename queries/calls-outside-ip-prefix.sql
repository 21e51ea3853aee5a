-- Calls by workflow sessions or long-lived keys from source IPs that do not
-- start with an expected prefix (e.g. your runners' NAT range).
-- Parameters: :prefix, the start of expected addresses (e.g. 10.20.).
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT source_ip,
       COALESCE(via_repository, identity_arn) AS who,
       access_key_id,
       COUNT(*) AS calls,
       MIN(event_time) AS first_seen,
       MAX(event_time) AS last_seen
FROM events
WHERE (via_subject IS NOT NULL OR access_key_id LIKE 'AKIA%')
  AND NOT STARTS_WITH(source_ip, :prefix)
GROUP BY source_ip, who, access_key_id
ORDER BY calls DESC, source_ip, who, access_key_id
