import { type HostRow, newId, type RegisterHostInput, registerHost } from "@labnet/db";
import type { CommandContext } from "../context";
import { ensureDefaultBridge } from "../networks/create-network";

/** Registers (or refreshes) an executor's host and gives it its predefined `bridge` network. */
export async function registerHostWithDefaults({
  ctx,
  input,
}: {
  ctx: CommandContext;
  input: Omit<RegisterHostInput, "id">;
}): Promise<HostRow> {
  const host = await registerHost(ctx.db, { id: newId("host"), ...input });
  if (host.capabilities.drivers.includes("bridge")) {
    await ensureDefaultBridge(ctx, host);
  }
  return host;
}
