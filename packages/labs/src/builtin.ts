/**
 * The built-in templates (the course material's exercises), read once from
 * `packages/labs/templates/*.yaml`: the only file access of this package.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseTemplate } from "./parse";
import type { LabTemplate } from "./template";

const TEMPLATES_DIR = new URL("../templates/", import.meta.url);

function loadBuiltins(): ReadonlyMap<string, string> {
  const files = readdirSync(TEMPLATES_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .sort();
  return new Map(
    files.map((file) => [file.slice(0, -".yaml".length), readFileSync(new URL(file, TEMPLATES_DIR), "utf8")]),
  );
}

/** Built-in template name (`seed-001-ex2`) → its YAML text. */
export const BUILTIN_TEMPLATES: ReadonlyMap<string, string> = loadBuiltins();

/**
 * A built-in template, parsed; undefined for an unknown name. Accepts `builtin:<name>` too.
 *
 * @example builtinTemplate("builtin:seed-001-ex2")?.services.web_container
 */
export function builtinTemplate(name: string): LabTemplate | undefined {
  const text = BUILTIN_TEMPLATES.get(name.startsWith("builtin:") ? name.slice("builtin:".length) : name);
  if (text === undefined) {
    return undefined;
  }
  const parsed = parseTemplate(text, "yaml");
  if (!parsed.ok) {
    throw new Error(
      `built-in template ${name} is invalid: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
    );
  }
  return parsed.template;
}
