ALTER TABLE "hosts" ADD COLUMN "kind" text DEFAULT 'lab' NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "parent_host_id" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "uplink_node_id" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "hostname" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "uid" integer;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "state" text DEFAULT 'ready' NOT NULL;--> statement-breakpoint
ALTER TABLE "port_mappings" ADD COLUMN "forwards_id" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_parent_host_id_hosts_id_fk" FOREIGN KEY ("parent_host_id") REFERENCES "public"."hosts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_uplink_node_id_nodes_id_fk" FOREIGN KEY ("uplink_node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "port_mappings" ADD CONSTRAINT "port_mappings_forwards_id_port_mappings_id_fk" FOREIGN KEY ("forwards_id") REFERENCES "public"."port_mappings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "port_mappings_forwards_idx" ON "port_mappings" USING btree ("forwards_id");--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_uplink_node_id_unique" UNIQUE("uplink_node_id");--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_uid_unique" UNIQUE("uid");--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_virtual_chk" CHECK (("hosts"."kind" = 'lab' AND "hosts"."parent_host_id" IS NULL AND "hosts"."uplink_node_id" IS NULL) OR ("hosts"."kind" = 'virtual' AND "hosts"."parent_host_id" IS NOT NULL));