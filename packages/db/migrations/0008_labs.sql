CREATE TABLE "lab_check_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"lab_id" text NOT NULL,
	"instance_ids" text[] NOT NULL,
	"state" text DEFAULT 'running' NOT NULL,
	"results" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"problem" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "lab_instances" (
	"id" text PRIMARY KEY NOT NULL,
	"lab_id" text NOT NULL,
	"student" text NOT NULL,
	"host_id" text NOT NULL,
	"problem" text,
	"generation" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lab_instances_lab_student_key" UNIQUE("lab_id","student")
);
--> statement-breakpoint
CREATE TABLE "lab_templates" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"title" text,
	"format" text NOT NULL,
	"source" text NOT NULL,
	"spec" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lab_templates_name_version_key" UNIQUE("name","version")
);
--> statement-breakpoint
CREATE TABLE "labs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"template_name" text NOT NULL,
	"template_version" integer NOT NULL,
	"spec" jsonb NOT NULL,
	"host_id" text,
	"state" text DEFAULT 'active' NOT NULL,
	"expires_at" timestamp with time zone,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "labs_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "lab_check_runs" ADD CONSTRAINT "lab_check_runs_lab_id_labs_id_fk" FOREIGN KEY ("lab_id") REFERENCES "public"."labs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lab_instances" ADD CONSTRAINT "lab_instances_lab_id_labs_id_fk" FOREIGN KEY ("lab_id") REFERENCES "public"."labs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lab_instances" ADD CONSTRAINT "lab_instances_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lab_check_runs_lab_idx" ON "lab_check_runs" USING btree ("lab_id","started_at");