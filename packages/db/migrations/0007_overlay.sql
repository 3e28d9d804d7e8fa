ALTER TABLE "networks" ADD COLUMN "vni" integer;--> statement-breakpoint
ALTER TABLE "networks" ADD CONSTRAINT "networks_scope_vni_key" UNIQUE("scope","vni");