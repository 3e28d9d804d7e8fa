ALTER TABLE "hosts" ADD COLUMN "netns_path" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "next_if_index" integer DEFAULT 0 NOT NULL;