CREATE TABLE "free_address_ranges" (
	"ipam_config_id" text PRIMARY KEY NOT NULL,
	"listed_from" "inet" NOT NULL,
	"listed_until" "inet" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "free_addresses" (
	"ipam_config_id" text NOT NULL,
	"address" "inet" NOT NULL,
	CONSTRAINT "free_addresses_pkey" PRIMARY KEY("ipam_config_id","address")
);
--> statement-breakpoint
ALTER TABLE "networks" ADD COLUMN "endpoint_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "free_address_ranges" ADD CONSTRAINT "free_address_ranges_ipam_config_id_ipam_configs_id_fk" FOREIGN KEY ("ipam_config_id") REFERENCES "public"."ipam_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "free_addresses" ADD CONSTRAINT "free_addresses_ipam_config_id_ipam_configs_id_fk" FOREIGN KEY ("ipam_config_id") REFERENCES "public"."ipam_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "endpoints_network_idx" ON "endpoints" USING btree ("network_id");--> statement-breakpoint
CREATE INDEX "ipam_configs_network_idx" ON "ipam_configs" USING btree ("network_id","position");--> statement-breakpoint
ALTER TABLE "networks" ADD CONSTRAINT "networks_bridge_ports_chk" CHECK ("networks"."endpoint_count" >= 0 AND ("networks"."driver" <> 'bridge' OR "networks"."endpoint_count" <= 1023));--> statement-breakpoint
-- Hand-written below (drizzle cannot model triggers): the bridge port count and the free
-- address list stay true however rows change, application code or not.
UPDATE "networks" n SET "endpoint_count" = (SELECT count(*) FROM "endpoints" e WHERE e."network_id" = n."id");
--> statement-breakpoint
-- Counts endpoints per network when the transaction commits (deferred), so the row lock
-- it takes is held only while committing, not across the request; the CHECK
-- networks_bridge_ports_chk then refuses a 1,024th port on a bridge, also between
-- concurrent transactions (they queue on the row at commit and see each other's count).
CREATE FUNCTION "labnet_count_endpoints"() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "networks" SET "endpoint_count" = "endpoint_count" + 1 WHERE "id" = NEW."network_id";
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "networks" SET "endpoint_count" = "endpoint_count" - 1 WHERE "id" = OLD."network_id";
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "endpoints_count"
  AFTER INSERT OR DELETE OR UPDATE OF "network_id" ON "endpoints"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "labnet_count_endpoints"();
--> statement-breakpoint
-- A released endpoint address goes back on its config's free list when it lies in the
-- listed part of the dynamic range (a static address outside it stays off the list;
-- addresses beyond it are listed when the list grows). Gateway and aux addresses are only
-- released with their network, whose list goes with it.
CREATE FUNCTION "labnet_release_address"() RETURNS trigger AS $$
BEGIN
  IF OLD."kind" = 'endpoint' THEN
    INSERT INTO "free_addresses" ("ipam_config_id", "address")
    SELECT r."ipam_config_id", OLD."address" FROM "free_address_ranges" r
    WHERE r."ipam_config_id" = OLD."ipam_config_id"
      AND OLD."address" >= r."listed_from" AND OLD."address" < r."listed_until"
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "allocations_release"
  AFTER DELETE ON "allocations"
  FOR EACH ROW EXECUTE FUNCTION "labnet_release_address"();
