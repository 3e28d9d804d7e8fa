import { type HostRow, newId, type RegisterHostInput, registerHost, touchHost } from "@labnet/db";
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
  // Online (taking work) only once its predefined network exists: a creation on the default
  // bridge right after the host came online found none (seen with 12 at once).
  const host = await registerHost(ctx.db, { id: newId("host"), ...input }, { online: false });
  if (host.capabilities.drivers.includes("bridge")) {
    await ensureDefaultBridge(ctx, host);
  }
  await touchHost(ctx.db, host.id);
  return host;
}
