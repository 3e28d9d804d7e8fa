-- The port ledger's collision rule (DESIGN §3), decided by the database: on one host,
-- the same protocol and port collide when the bind addresses overlap. `0.0.0.0` is
-- stored as 0.0.0.0/0, so it overlaps every address; two specific addresses (/32)
-- overlap only when equal.
ALTER TABLE "port_mappings"
  ADD CONSTRAINT "port_mappings_no_collision"
  EXCLUDE USING gist ("host_id" WITH =, "protocol" WITH =, "host_port" WITH =, "bind" inet_ops WITH &&);
--> statement-breakpoint
ALTER TABLE "port_mappings" ADD CONSTRAINT "port_mappings_ports_chk"
  CHECK ("host_port" BETWEEN 1 AND 65535 AND "container_port" BETWEEN 1 AND 65535);
--> statement-breakpoint
ALTER TABLE "port_mappings" ADD CONSTRAINT "port_mappings_protocol_chk" CHECK ("protocol" IN ('tcp', 'udp'));
--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_port_range_chk"
  CHECK ("port_range_start" BETWEEN 1 AND 65535 AND "port_range_end" BETWEEN "port_range_start" AND 65535);
--> statement-breakpoint
-- A node sharing another's namespace (mode container:) has no sandbox of its own.
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_netns_owner_chk" CHECK ("netns_owner_id" IS NULL OR "netns" IS NULL);
