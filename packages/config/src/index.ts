import type { z } from "zod";

/**
 * Parses a process's environment against its schema, once at start. On failure it throws
 * one error listing every bad variable (not just the first), so an operator fixes them all
 * in one go.
 *
 * @example
 * const config = parseEnv(GatewayConfig, process.env, "gateway");
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv,
  component: string,
): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid ${component} configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}
