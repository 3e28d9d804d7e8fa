ALTER TABLE "events" ADD COLUMN "owner_id" text;--> statement-breakpoint
CREATE INDEX "events_owner_idx" ON "events" USING btree ("owner_id","id");--> statement-breakpoint
-- Hand-written: an event records the account owning its lab (else its machine), so an
-- instructor's stream shows their labs' events, a lab created after it opened included.
CREATE OR REPLACE FUNCTION "labnet_record_event"(p_type text, p_resource_type text, p_resource_id text,
    p_lab_id text, p_instance_id text, p_machine_id text, p_data jsonb) RETURNS void AS $$
DECLARE
  new_id bigint;
  owner text;
BEGIN
  owner := coalesce(
    (SELECT "owner_id" FROM "labs" WHERE "id" = p_lab_id),
    (SELECT "owner_id" FROM "hosts" WHERE "id" = p_machine_id));
  INSERT INTO "events" ("at", "type", "resource_type", "resource_id", "lab_id", "instance_id", "machine_id", "data", "request_id", "owner_id")
  VALUES (clock_timestamp(), p_type, p_resource_type, p_resource_id, p_lab_id, p_instance_id, p_machine_id, p_data,
          nullif(current_setting('labnet.request_id', true), ''), owner)
  RETURNING "id" INTO new_id;
  PERFORM pg_notify('labnet_events', new_id::text);
END;
$$ LANGUAGE plpgsql;
