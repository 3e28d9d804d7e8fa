import { parseEnv } from "@labnet/config";
import { z } from "zod";

/** The controller's environment (when it runs as its own process). */
export const ControllerConfig = z.object({
  DATABASE_URL: z.string().url(),
  REDIS_URL: z.string().url(),
  /** Key prefix of Labnet's BullMQ queues in Redis; must match the executors'. */
  LABNET_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default("labnet"),
  /** Open operations dispatched longer ago than this are dispatched again. */
  LABNET_REDISPATCH_AFTER_MS: z.coerce.number().int().min(1_000).default(30_000),
});
export type ControllerConfig = z.infer<typeof ControllerConfig>;

export function loadControllerConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  return parseEnv(ControllerConfig, env, "controller");
}
