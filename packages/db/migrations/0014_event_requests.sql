ALTER TABLE "events" ADD COLUMN "request_id" text;--> statement-breakpoint
-- Hand-written: an event names the API request whose transaction made the change (the gateway
-- sets labnet.request_id in each transaction of a mutating request), so a timeline says who
-- did it; an executor's reports leave it null.
CREATE OR REPLACE FUNCTION "labnet_record_event"(p_type text, p_resource_type text, p_resource_id text,
    p_lab_id text, p_instance_id text, p_machine_id text, p_data jsonb) RETURNS void AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO "events" ("at", "type", "resource_type", "resource_id", "lab_id", "instance_id", "machine_id", "data", "request_id")
  VALUES (clock_timestamp(), p_type, p_resource_type, p_resource_id, p_lab_id, p_instance_id, p_machine_id, p_data,
          nullif(current_setting('labnet.request_id', true), ''))
  RETURNING "id" INTO new_id;
  PERFORM pg_notify('labnet_events', new_id::text);
END;
$$ LANGUAGE plpgsql;
