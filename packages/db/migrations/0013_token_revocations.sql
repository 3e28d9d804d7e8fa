-- Hand-written (drizzle cannot model triggers): a token revoked, or removed with its lab
-- instance, is announced on labnet_tokens (delivered at commit), so every gateway forgets it
-- at once instead of trusting its cached verification for a few more seconds.
CREATE FUNCTION "labnet_announce_token_gone"() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('labnet_tokens', OLD."id");
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "tokens_revoked" AFTER UPDATE OF "revoked_at" ON "tokens"
  FOR EACH ROW WHEN (NEW."revoked_at" IS NOT NULL AND OLD."revoked_at" IS NULL)
  EXECUTE FUNCTION "labnet_announce_token_gone"();
--> statement-breakpoint
CREATE TRIGGER "tokens_deleted" AFTER DELETE ON "tokens"
  FOR EACH ROW EXECUTE FUNCTION "labnet_announce_token_gone"();
