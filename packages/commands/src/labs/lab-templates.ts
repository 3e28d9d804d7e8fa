import {
  constraintViolation,
  findLabTemplate,
  type LabTemplateRow,
  labTemplateVersions,
  newId,
  schema,
} from "@labnet/db";
import { BUILTIN_TEMPLATES, type LabTemplate, parseTemplate, type TemplateError } from "@labnet/labs";
import { eq, sql } from "drizzle-orm";
import type { CommandContext } from "../context";
import { DomainError, notFound } from "../errors";

/** `builtin:<name>` names a template of the course material (packages/labs/templates). */
export const BUILTIN_PREFIX = "builtin:";

export interface CreateLabTemplateInput {
  /** The template, YAML or JSON. */
  source: string;
  format?: "yaml" | "json";
  /** The account writing it (a new name becomes theirs); an admin may add versions to anyone's. */
  owner?: { accountId: string | null; admin: boolean };
}

/** A template as a lab uses it: where it came from and its validated content. */
export interface ResolvedTemplate {
  name: string;
  version: number;
  template: LabTemplate;
}

/**
 * Stores a template (its first version, or the next one of its name): validated in full
 * first, so a template with an error changes nothing and says where the error is.
 */
export async function createLabTemplate({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: CreateLabTemplateInput;
}): Promise<LabTemplateRow> {
  const format = input.format ?? (input.source.trimStart().startsWith("{") ? "json" : "yaml");
  const template = parseOrThrow(input.source, format);
  if (template.name.startsWith(BUILTIN_PREFIX.slice(0, -1))) {
    throw templateProblem([{ path: "name", message: "names starting with builtin are the course's" }]);
  }
  const [existing] = await ctx.db
    .select({ ownerId: schema.labTemplates.ownerId })
    .from(schema.labTemplates)
    .where(eq(schema.labTemplates.name, template.name))
    .limit(1);
  if (existing && input.owner && !input.owner.admin && existing.ownerId !== input.owner.accountId) {
    // Another account's name: said without saying whose.
    throw new DomainError("NAME_CONFLICT", `a lab template named ${template.name} exists`, [
      { location: "body.source", message: "template name taken" },
    ]);
  }
  const ownerId = existing ? existing.ownerId : (input.owner?.accountId ?? null);
  for (let attempt = 1; ; attempt++) {
    try {
      const [row] = await ctx.db
        .insert(schema.labTemplates)
        .values({
          id: newId("labTemplate"),
          name: template.name,
          // The next version of the name; the unique constraint refuses a concurrent twin (retried).
          version: sql`(SELECT coalesce(max(${schema.labTemplates.version}), 0) + 1 FROM ${schema.labTemplates} WHERE ${schema.labTemplates.name} = ${template.name})`,
          title: template.title ?? null,
          format,
          source: input.source,
          spec: template as unknown as Record<string, unknown>,
          ownerId,
        })
        .returning();
      if (!row) {
        throw new Error("inserting a template returned no row");
      }
      return row;
    } catch (error) {
      if (constraintViolation(error)?.constraint === "lab_templates_name_version_key" && attempt < 5) {
        continue;
      }
      throw error;
    }
  }
}

/** Removes every version of a stored template (labs keep their copy). */
export async function deleteLabTemplate({ ctx, name }: { ctx: CommandContext; name: string }): Promise<void> {
  const deleted = await ctx.db
    .delete(schema.labTemplates)
    .where(eq(schema.labTemplates.name, name))
    .returning({ id: schema.labTemplates.id });
  if (deleted.length === 0) {
    throw notFound("lab template", name, "path.templateName");
  }
}

/**
 * The template a lab names: `builtin:<name>`, `<name>` (its latest version) or `<name>@<version>`.
 */
export async function resolveLabTemplate(
  ctx: CommandContext,
  ref: string,
  location = "body.template",
): Promise<ResolvedTemplate> {
  if (ref.startsWith(BUILTIN_PREFIX)) {
    const source = BUILTIN_TEMPLATES.get(ref.slice(BUILTIN_PREFIX.length));
    if (source === undefined) {
      throw notFound("built-in template", ref, location);
    }
    return { name: ref, version: 1, template: parseOrThrow(source, "yaml") };
  }
  const [name, versionText] = ref.split("@");
  const version = versionText === undefined ? undefined : Number(versionText);
  if (!name || (version !== undefined && (!Number.isInteger(version) || version < 1))) {
    throw new DomainError("INVALID_FIELD", `not a template reference: ${ref}`, [
      { location, message: "want builtin:<name>, <name> or <name>@<version>" },
    ]);
  }
  const row = await findLabTemplate(ctx.db, name, version);
  if (!row) {
    throw notFound("lab template", ref, location);
  }
  return { name: row.name, version: row.version, template: row.spec as unknown as LabTemplate };
}

export { labTemplateVersions };

function parseOrThrow(source: string, format: "yaml" | "json"): LabTemplate {
  const parsed = parseTemplate(source, format);
  if (!parsed.ok) {
    throw templateProblem(parsed.errors);
  }
  return parsed.template;
}

/** A template's errors as one problem: each names its path (and line, for YAML). */
export function templateProblem(errors: readonly TemplateError[]): DomainError {
  const [first] = errors;
  const where = (e: TemplateError) =>
    e.line === undefined ? "" : ` (line ${e.line}${e.column === undefined ? "" : `, column ${e.column}`})`;
  return new DomainError(
    "INVALID_TEMPLATE",
    first ? `${first.path}: ${first.message}${where(first)}` : "invalid template",
    errors.map((e) => ({ location: `template.${e.path}`, message: `${e.message}${where(e)}` })),
  );
}
