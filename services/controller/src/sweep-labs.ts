import { type CommandContext, sweepLabs } from "@labnet/commands";
import type { Logger } from "@labnet/log";

export interface LabSweeper {
  stop(): Promise<void>;
}

/**
 * The controller's lab round, every `intervalMs`: expired labs (TTL) are torn down, and labs
 * being torn down lose their record once their machines are gone. One round at a time.
 */
export function startLabSweeper(options: {
  ctx: CommandContext;
  log: Logger;
  intervalMs: number;
}): LabSweeper {
  let running: Promise<void> | undefined;
  const round = () => {
    running ??= sweepLabs(options.ctx)
      .then((removed) => {
        if (removed.length > 0) {
          options.log.info("labs removed", { labs: removed });
        }
      })
      .catch((error) => options.log.error("lab sweep failed", { error: String(error) }))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(round, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
