-- What one repository's workflows did in the account: every call made with
-- credentials issued to its subjects, oldest first.
-- Parameters: :repo, owner/name (e.g. acme/api).
-- Athena: yes: `query --athena` runs this text on the audit's rows Athena selects.
SELECT event_time,
       event_name,
       event_source,
       aws_region,
       error_code,
       resources,
       via_subject,
       via_run_id,
       access_key_id
FROM events
WHERE via_repository = :repo
ORDER BY event_time, event_id
