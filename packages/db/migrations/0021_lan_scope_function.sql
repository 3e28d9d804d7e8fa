-- Hand-written: the scope of machine's LAN overlays, `lan:<LAN network id>` (NULL for a host on
-- no LAN), as one function, so the drizzle queries (lanScopeOfHost) and the converge snapshot's
-- prepared statement say it in one place. The LAN is the network of the machine's uplink
-- node's first endpoint. A SQL function this simple is inlined by the planner.
CREATE FUNCTION "labnet_lan_scope"(p_host_id text) RETURNS text AS $$
  SELECT 'lan:' || ue.network_id FROM hosts uh JOIN endpoints ue ON ue.node_id = uh.uplink_node_id
  WHERE uh.id = p_host_id ORDER BY ue.if_index LIMIT 1
$$ LANGUAGE sql STABLE;
