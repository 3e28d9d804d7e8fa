ALTER TABLE "accounts" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "networks" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
-- Hand-written below (drizzle cannot model triggers): every change of a network or an account,
-- by whoever makes it (a PATCH, the executor's state reports, the endpoint count), raises its
-- revision, which the API shows as the resource's ETag and compares with If-Match.
CREATE FUNCTION "labnet_raise_revision"() RETURNS trigger AS $$
BEGIN
  NEW."revision" := OLD."revision" + 1;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER "networks_revision" BEFORE UPDATE ON "networks"
  FOR EACH ROW EXECUTE FUNCTION "labnet_raise_revision"();--> statement-breakpoint
CREATE TRIGGER "accounts_revision" BEFORE UPDATE ON "accounts"
  FOR EACH ROW EXECUTE FUNCTION "labnet_raise_revision"();
