CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"lab_id" text,
	"instance_id" text,
	"machine_id" text,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "events_lab_idx" ON "events" USING btree ("lab_id","id");--> statement-breakpoint
CREATE INDEX "events_instance_idx" ON "events" USING btree ("instance_id","id");--> statement-breakpoint
CREATE INDEX "events_machine_idx" ON "events" USING btree ("machine_id","id");--> statement-breakpoint
CREATE INDEX "events_resource_idx" ON "events" USING btree ("resource_type","id");--> statement-breakpoint
CREATE INDEX "events_at_idx" ON "events" USING btree ("at");--> statement-breakpoint
-- Hand-written below (drizzle cannot model triggers): every creation, state change and
-- removal of machines, networks, nodes, operations, labs, lab instances and check runs is
-- recorded in "events" by the transaction that makes it (so an event exists exactly when its
-- change committed), and NOTIFYs labnet_events with the new id (delivered at commit).
CREATE FUNCTION "labnet_record_event"(p_type text, p_resource_type text, p_resource_id text,
    p_lab_id text, p_instance_id text, p_machine_id text, p_data jsonb) RETURNS void AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO "events" ("at", "type", "resource_type", "resource_id", "lab_id", "instance_id", "machine_id", "data")
  VALUES (clock_timestamp(), p_type, p_resource_type, p_resource_id, p_lab_id, p_instance_id, p_machine_id, p_data)
  RETURNING "id" INTO new_id;
  PERFORM pg_notify('labnet_events', new_id::text);
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
-- The lab, instance and machine of a resource: its own labels, else its machine's. A machine's
-- uplink node (on the lab host) names the machine it is the namespace of (labnet.machine).
CREATE FUNCTION "labnet_event_owner"(p_labels jsonb, p_host_id text,
    OUT lab_id text, OUT instance_id text, OUT machine_id text) AS $$
BEGIN
  machine_id := coalesce(p_labels ->> 'labnet.machine', p_host_id);
  lab_id := p_labels ->> 'labnet.lab';
  instance_id := p_labels ->> 'labnet.lab-instance';
  IF lab_id IS NULL AND machine_id IS NOT NULL THEN
    SELECT h."labels" ->> 'labnet.lab', h."labels" ->> 'labnet.lab-instance'
      INTO lab_id, instance_id FROM "hosts" h WHERE h."id" = machine_id;
  END IF;
END;
$$ LANGUAGE plpgsql STABLE;
--> statement-breakpoint
-- A machine's state as the API shows it (services/gateway/src/views/machine-view.ts): a
-- virtual machine is built when its namespace (the uplink node) and its `bridge` are.
CREATE FUNCTION "labnet_machine_state"(p_kind text, p_state text, p_node_state text, p_bridge_state text)
    RETURNS text AS $$
  SELECT CASE
    WHEN p_kind = 'lab' THEN 'ready'
    WHEN p_state = 'deleting' OR p_node_state = 'deleting' THEN 'deleting'
    WHEN p_node_state = 'failed' OR p_bridge_state = 'failed' THEN 'failed'
    WHEN p_node_state = 'ready' AND p_bridge_state = 'ready' THEN 'ready'
    ELSE 'pending'
  END;
$$ LANGUAGE sql IMMUTABLE;
--> statement-breakpoint
CREATE FUNCTION "labnet_machine_event"(p_type text, m "hosts", p_state text) RETURNS void AS $$
BEGIN
  PERFORM labnet_record_event(p_type, 'machine', m."id", m."labels" ->> 'labnet.lab',
    m."labels" ->> 'labnet.lab-instance', m."id",
    jsonb_build_object('id', m."id", 'name', m."name", 'kind', m."kind", 'state', p_state,
                       'hostId', m."parent_host_id"));
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE FUNCTION "labnet_hosts_event"() RETURNS trigger AS $$
DECLARE
  node_state text;
  bridge_state text;
  before_state text;
  after_state text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM labnet_machine_event('machine.deleted', OLD, 'deleting');
    RETURN NULL;
  END IF;
  SELECT n."state" INTO node_state FROM "nodes" n WHERE n."id" = NEW."uplink_node_id";
  SELECT b."state" INTO bridge_state FROM "networks" b WHERE b."host_id" = NEW."id" AND b."builtin" LIMIT 1;
  after_state := labnet_machine_state(NEW."kind", NEW."state", node_state, bridge_state);
  IF TG_OP = 'INSERT' THEN
    PERFORM labnet_machine_event('machine.created', NEW, after_state);
  ELSE
    before_state := labnet_machine_state(OLD."kind", OLD."state", node_state, bridge_state);
    IF before_state <> after_state THEN
      PERFORM labnet_machine_event('machine.state', NEW, after_state);
    END IF;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "hosts_events" AFTER INSERT OR DELETE OR UPDATE OF "state" ON "hosts"
  FOR EACH ROW EXECUTE FUNCTION "labnet_hosts_event"();
--> statement-breakpoint
CREATE FUNCTION "labnet_networks_event"() RETURNS trigger AS $$
DECLARE
  r "networks";
  o record;
  m "hosts";
  node_state text;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_OP = 'UPDATE' AND NEW."state" IS NOT DISTINCT FROM OLD."state" THEN
    RETURN NULL;
  END IF;
  SELECT * INTO o FROM labnet_event_owner(r."labels", r."host_id");
  PERFORM labnet_record_event(
    CASE TG_OP WHEN 'INSERT' THEN 'network.created' WHEN 'DELETE' THEN 'network.deleted' ELSE 'network.state' END,
    'network', r."id", o.lab_id, o.instance_id, o.machine_id,
    jsonb_build_object('id', r."id", 'name', r."name", 'state', r."state", 'driver', r."driver",
                       'hostId', r."host_id"));
  -- A virtual machine's `bridge` is half of its state.
  IF TG_OP = 'UPDATE' AND r."builtin" THEN
    SELECT * INTO m FROM "hosts" h WHERE h."id" = r."host_id" AND h."kind" = 'virtual';
    IF FOUND THEN
      SELECT n."state" INTO node_state FROM "nodes" n WHERE n."id" = m."uplink_node_id";
      IF labnet_machine_state(m."kind", m."state", node_state, OLD."state")
          <> labnet_machine_state(m."kind", m."state", node_state, NEW."state") THEN
        PERFORM labnet_machine_event('machine.state', m,
          labnet_machine_state(m."kind", m."state", node_state, NEW."state"));
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "networks_events" AFTER INSERT OR DELETE OR UPDATE OF "state" ON "networks"
  FOR EACH ROW EXECUTE FUNCTION "labnet_networks_event"();
--> statement-breakpoint
CREATE FUNCTION "labnet_nodes_event"() RETURNS trigger AS $$
DECLARE
  r "nodes";
  o record;
  m "hosts";
  bridge_state text;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_OP = 'UPDATE' AND NEW."state" IS NOT DISTINCT FROM OLD."state" THEN
    RETURN NULL;
  END IF;
  SELECT * INTO o FROM labnet_event_owner(r."labels", r."host_id");
  PERFORM labnet_record_event(
    CASE TG_OP WHEN 'INSERT' THEN 'node.created' WHEN 'DELETE' THEN 'node.deleted' ELSE 'node.state' END,
    'node', r."id", o.lab_id, o.instance_id, o.machine_id,
    jsonb_build_object('id', r."id", 'name', r."name", 'state', r."state", 'networkMode', r."network_mode",
                       'hostId', r."host_id"));
  -- A virtual machine's namespace is its uplink node: the other half of its state.
  IF TG_OP = 'UPDATE' THEN
    SELECT * INTO m FROM "hosts" h WHERE h."uplink_node_id" = r."id";
    IF FOUND THEN
      SELECT b."state" INTO bridge_state FROM "networks" b WHERE b."host_id" = m."id" AND b."builtin" LIMIT 1;
      IF labnet_machine_state(m."kind", m."state", OLD."state", bridge_state)
          <> labnet_machine_state(m."kind", m."state", NEW."state", bridge_state) THEN
        PERFORM labnet_machine_event('machine.state', m,
          labnet_machine_state(m."kind", m."state", NEW."state", bridge_state));
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "nodes_events" AFTER INSERT OR DELETE OR UPDATE OF "state" ON "nodes"
  FOR EACH ROW EXECUTE FUNCTION "labnet_nodes_event"();
--> statement-breakpoint
-- Operations: their state as it changes (queued when recorded). Their removal (with their
-- machine) is not an event of its own. The owner is the target's, else the host's.
CREATE FUNCTION "labnet_operations_event"() RETURNS trigger AS $$
DECLARE
  o record;
  target_labels jsonb;
  target_host text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW."state" IS NOT DISTINCT FROM OLD."state" THEN
    RETURN NULL;
  END IF;
  IF NEW."target_type" = 'node' THEN
    SELECT n."labels", n."host_id" INTO target_labels, target_host FROM "nodes" n WHERE n."id" = NEW."target_id";
  ELSIF NEW."target_type" = 'network' THEN
    SELECT n."labels", n."host_id" INTO target_labels, target_host FROM "networks" n WHERE n."id" = NEW."target_id";
  END IF;
  SELECT * INTO o FROM labnet_event_owner(coalesce(target_labels, '{}'::jsonb), coalesce(target_host, NEW."host_id"));
  PERFORM labnet_record_event('operation.state', 'operation', NEW."id", o.lab_id, o.instance_id, o.machine_id,
    jsonb_build_object('id', NEW."id", 'kind', NEW."kind", 'state', NEW."state", 'attempts', NEW."attempts",
                       'targetType', NEW."target_type", 'targetId', NEW."target_id", 'hostId', NEW."host_id",
                       'problem', NEW."error" ->> 'code'));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "operations_events" AFTER INSERT OR UPDATE OF "state" ON "operations"
  FOR EACH ROW EXECUTE FUNCTION "labnet_operations_event"();
--> statement-breakpoint
CREATE FUNCTION "labnet_labs_event"() RETURNS trigger AS $$
DECLARE
  r "labs";
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_OP = 'UPDATE' AND NEW."state" IS NOT DISTINCT FROM OLD."state" THEN
    RETURN NULL;
  END IF;
  PERFORM labnet_record_event(
    CASE TG_OP WHEN 'INSERT' THEN 'lab.created' WHEN 'DELETE' THEN 'lab.deleted' ELSE 'lab.state' END,
    'lab', r."id", r."id", NULL, NULL,
    jsonb_build_object('id', r."id", 'name', r."name", 'state', r."state", 'template', r."template_name",
                       'templateVersion', r."template_version"));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "labs_events" AFTER INSERT OR DELETE OR UPDATE OF "state" ON "labs"
  FOR EACH ROW EXECUTE FUNCTION "labnet_labs_event"();
--> statement-breakpoint
-- Lab instances have no state column (theirs is read from their machines): a reset (a new
-- generation) and a provisioning problem set or cleared are their changes.
CREATE FUNCTION "labnet_lab_instances_event"() RETURNS trigger AS $$
DECLARE
  r "lab_instances";
  kind text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD; kind := 'lab_instance.deleted';
  ELSIF TG_OP = 'INSERT' THEN
    r := NEW; kind := 'lab_instance.created';
  ELSIF NEW."generation" IS DISTINCT FROM OLD."generation" THEN
    r := NEW; kind := 'lab_instance.reset';
  ELSIF NEW."problem" IS DISTINCT FROM OLD."problem" THEN
    r := NEW; kind := 'lab_instance.problem';
  ELSE
    RETURN NULL;
  END IF;
  PERFORM labnet_record_event(kind, 'lab_instance', r."id", r."lab_id", r."id", NULL,
    jsonb_build_object('id', r."id", 'labId', r."lab_id", 'student', r."student", 'generation', r."generation",
                       'problem', r."problem", 'hostId', r."host_id"));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "lab_instances_events" AFTER INSERT OR DELETE OR UPDATE OF "generation", "problem" ON "lab_instances"
  FOR EACH ROW EXECUTE FUNCTION "labnet_lab_instances_event"();
--> statement-breakpoint
-- A check run is an event of each instance it covers, so an instance's timeline shows its
-- own outcomes (without the probes' evidence, which the run keeps).
CREATE FUNCTION "labnet_check_runs_event"() RETURNS trigger AS $$
DECLARE
  instance text;
  checks jsonb;
  kind text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW."state" IS NOT DISTINCT FROM OLD."state" THEN
    RETURN NULL;
  END IF;
  kind := CASE WHEN TG_OP = 'INSERT' THEN 'check_run.started' ELSE 'check_run.' || NEW."state" END;
  FOREACH instance IN ARRAY NEW."instance_ids" LOOP
    SELECT coalesce(jsonb_agg(c - 'evidence'), '[]'::jsonb) INTO checks
      FROM jsonb_array_elements(coalesce(NEW."results" -> instance, '[]'::jsonb)) c;
    PERFORM labnet_record_event(kind, 'check_run', NEW."id", NEW."lab_id", instance, NULL,
      jsonb_build_object('id', NEW."id", 'state', NEW."state", 'problem', NEW."problem",
        'summary', jsonb_build_object(
          'total', jsonb_array_length(checks),
          'passed', (SELECT count(*) FROM jsonb_array_elements(checks) c WHERE (c ->> 'passed')::boolean),
          'failed', (SELECT count(*) FROM jsonb_array_elements(checks) c WHERE NOT (c ->> 'passed')::boolean)),
        'checks', checks));
  END LOOP;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "lab_check_runs_events" AFTER INSERT OR UPDATE OF "state" ON "lab_check_runs"
  FOR EACH ROW EXECUTE FUNCTION "labnet_check_runs_event"();
