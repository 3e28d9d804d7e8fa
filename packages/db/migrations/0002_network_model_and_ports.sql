CREATE TABLE "port_mappings" (
	"id" text PRIMARY KEY NOT NULL,
	"host_id" text NOT NULL,
	"node_id" text NOT NULL,
	"protocol" text NOT NULL,
	"bind" "cidr" NOT NULL,
	"host_port" integer NOT NULL,
	"container_port" integer NOT NULL,
	"random" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "nodes" ALTER COLUMN "netns" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "aliases" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "static_address" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "port_range_start" integer DEFAULT 32768 NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "port_range_end" integer DEFAULT 60999 NOT NULL;--> statement-breakpoint
ALTER TABLE "networks" ADD COLUMN "icc" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "networks" ADD COLUMN "isolated" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "networks" ADD COLUMN "attachable" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "netns_owner_id" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "hostname" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "dns" jsonb DEFAULT '{"servers":[],"search":[],"options":[]}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "extra_hosts" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "exposed_ports" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "publish_all" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "port_mappings" ADD CONSTRAINT "port_mappings_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "port_mappings" ADD CONSTRAINT "port_mappings_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "port_mappings_node_idx" ON "port_mappings" USING btree ("node_id");--> statement-breakpoint
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_netns_owner_id_nodes_id_fk" FOREIGN KEY ("netns_owner_id") REFERENCES "public"."nodes"("id") ON DELETE restrict ON UPDATE no action;