-- Hand-written: one notification per committing transaction instead of one per event. The
-- gateway's hub reads the table after the horizon on any notification and never looks at the
-- payload, and Postgres folds identical notifications of one transaction into one, so an
-- empty payload turns a lab's hundreds of NOTIFYs (each queued and signalled to every
-- listening backend at commit) into one per transaction.
CREATE OR REPLACE FUNCTION "labnet_record_event"(p_type text, p_resource_type text, p_resource_id text,
    p_lab_id text, p_instance_id text, p_machine_id text, p_data jsonb) RETURNS void AS $$
DECLARE
  owner text;
BEGIN
  owner := coalesce(
    (SELECT "owner_id" FROM "labs" WHERE "id" = p_lab_id),
    (SELECT "owner_id" FROM "hosts" WHERE "id" = p_machine_id));
  INSERT INTO "events" ("at", "type", "resource_type", "resource_id", "lab_id", "instance_id", "machine_id", "data", "request_id", "owner_id")
  VALUES (clock_timestamp(), p_type, p_resource_type, p_resource_id, p_lab_id, p_instance_id, p_machine_id, p_data,
          nullif(current_setting('labnet.request_id', true), ''), owner);
  PERFORM pg_notify('labnet_events', '');
END;
$$ LANGUAGE plpgsql;
