-- Hand-written: connecting a node to a network after its creation and disconnecting it are
-- events of the node, `node.connected` / `node.disconnected` naming the network (Docker's
-- `network connect` / `network disconnect`, for `docker events`). Endpoints made with the node
-- (in its creating transaction) and removed with it (the node row already gone) are part of
-- `node.created` and `node.deleted`, so node creation writes no more events than before.
CREATE FUNCTION "labnet_endpoints_event"() RETURNS trigger AS $$
DECLARE
  r "endpoints";
  n "nodes";
  w "networks";
  o record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  SELECT * INTO n FROM "nodes" WHERE "id" = r."node_id";
  IF NOT FOUND OR (TG_OP = 'INSERT' AND n."created_at" = now()) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO w FROM "networks" WHERE "id" = r."network_id";
  SELECT * INTO o FROM labnet_event_owner(n."labels", n."host_id");
  PERFORM labnet_record_event(
    CASE TG_OP WHEN 'INSERT' THEN 'node.connected' ELSE 'node.disconnected' END,
    'node', n."id", o.lab_id, o.instance_id, o.machine_id,
    jsonb_build_object('id', n."id", 'name', n."name", 'state', n."state", 'hostId', n."host_id",
                       'networkId', r."network_id", 'networkName', w."name", 'driver', w."driver",
                       'address', host(r."address")));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "endpoints_events" AFTER INSERT OR DELETE ON "endpoints"
  FOR EACH ROW EXECUTE FUNCTION "labnet_endpoints_event"();
