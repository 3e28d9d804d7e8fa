import type { components } from "@labnet/api";
import type { LabTemplateRow } from "@labnet/db";
import { BUILTIN_TEMPLATES, parseTemplate } from "@labnet/labs";

type LabTemplate = components["schemas"]["LabTemplate"];

/** A stored template version as the API shows it, with the versions of its name. */
export function labTemplateView(row: LabTemplateRow, versions?: readonly { version: number }[]): LabTemplate {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    ...(versions ? { versions: versions.map((v) => v.version) } : {}),
    builtin: false,
    title: row.title,
    format: row.format,
    source: row.source,
    spec: row.spec,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A built-in template of the course material (`builtin:<name>`). */
export function builtinTemplateView(name: string): LabTemplate {
  const source = BUILTIN_TEMPLATES.get(name) ?? "";
  const parsed = parseTemplate(source, "yaml");
  const spec = parsed.ok ? (parsed.template as unknown as Record<string, unknown>) : {};
  return {
    id: null,
    name: `builtin:${name}`,
    version: 1,
    builtin: true,
    title: parsed.ok ? (parsed.template.title ?? null) : null,
    format: "yaml",
    source,
    spec,
    createdAt: null,
  };
}
