-- Invariants drizzle cannot model (DESIGN §3). The database, not application code,
-- decides races between concurrent requests.
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
-- No two subnets of one scope (a host for local networks, `global` for overlay) overlap.
ALTER TABLE "ipam_configs"
  ADD CONSTRAINT "ipam_configs_no_overlap"
  EXCLUDE USING gist ("scope" WITH =, "subnet" inet_ops WITH &&);
--> statement-breakpoint
-- Labnet allocates IPv4 only for now.
ALTER TABLE "allocations" ADD CONSTRAINT "allocations_in_subnet_chk" CHECK (family("address") = 4);
--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_state_chk"
  CHECK ("state" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
--> statement-breakpoint
-- Wake waiters (Prefer: wait), the dispatcher and event streams on every operation change.
CREATE OR REPLACE FUNCTION labnet_notify_operation() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('labnet_operations',
    json_build_object('id', NEW.id, 'state', NEW.state, 'hostId', NEW.host_id, 'kind', NEW.kind,
                      'targetId', NEW.target_id)::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER operations_notify
  AFTER INSERT OR UPDATE OF state ON "operations"
  FOR EACH ROW EXECUTE FUNCTION labnet_notify_operation();
