CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"quotas" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"request_id" text NOT NULL,
	"token_id" text,
	"token_name" text,
	"account_id" text,
	"role" text NOT NULL,
	"operation_id" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"lab_id" text,
	"instance_id" text,
	"outcome" text NOT NULL,
	"status" integer,
	"problem" text,
	CONSTRAINT "audit_log_request_id_unique" UNIQUE("request_id")
);
--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "owner_id" text;--> statement-breakpoint
ALTER TABLE "lab_templates" ADD COLUMN "owner_id" text;--> statement-breakpoint
ALTER TABLE "labs" ADD COLUMN "owner_id" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "account_id" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "instance_id" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "created_by" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_account_idx" ON "audit_log" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "audit_log_lab_idx" ON "audit_log" USING btree ("lab_id","id");--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_owner_id_accounts_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lab_templates" ADD CONSTRAINT "lab_templates_owner_id_accounts_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labs" ADD CONSTRAINT "labs_owner_id_accounts_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_instance_id_lab_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."lab_instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tokens_account_idx" ON "tokens" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "tokens_instance_idx" ON "tokens" USING btree ("instance_id");--> statement-breakpoint
-- Tokens made before accounts existed: each admin or instructor token becomes an account of its own; a student token without an instance never had a scope and goes.
INSERT INTO "accounts" ("id", "name", "role") SELECT 'acc_' || substr("id", 5), "name", "role" FROM "tokens" WHERE "role" IN ('admin', 'instructor');--> statement-breakpoint
UPDATE "tokens" SET "account_id" = 'acc_' || substr("id", 5) WHERE "role" IN ('admin', 'instructor');--> statement-breakpoint
DELETE FROM "tokens" WHERE "role" = 'student';--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_student_chk" CHECK (("tokens"."role" = 'student') = ("tokens"."instance_id" IS NOT NULL));