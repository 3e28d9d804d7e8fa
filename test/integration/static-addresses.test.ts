/**
 * A static address (`--ip`) on a network of several subnets: refused for why the subnet that
 * holds it refuses it, and as outside the network only when no subnet holds it. The reasons
 * come from @labnet/ipam as data (not read back from its English). No executor is involved.
 */
import { createNetwork, createNode, DomainError } from "@labnet/commands";
import type { HostRow } from "@labnet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHostDatabase, type TestHostDatabase } from "../helpers/test-host";

let stack: TestHostDatabase;
let host: HostRow;

beforeAll(async () => {
  stack = await startTestHostDatabase("sta", { name: "sta-host", netnsPrefix: "sta-" });
  host = stack.host;
  await createNetwork({
    ctx: stack.ctx,
    input: {
      name: "two-subnets",
      host: host.id,
      ipam: {
        configs: [
          { subnet: "10.94.0.0/24" },
          { subnet: "10.95.0.0/24", gateway: "10.95.0.254", auxAddresses: { nas: "10.95.0.50" } },
        ],
      },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function attach(name: string, ipv4Address: string): Promise<DomainError | undefined> {
  try {
    await createNode({
      ctx: stack.ctx,
      input: { name, host: host.id, networks: [{ network: "two-subnets", ipv4Address }] },
    });
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) {
      return error;
    }
    throw error;
  }
}

describe("static addresses on a network of two subnets", () => {
  it("takes an address of the second subnet", async () => {
    expect(await attach("in-second", "10.95.0.7")).toBeUndefined();
  });

  it.each([
    { given: "10.94.0.1", want: "invalid address 10.94.0.1: it is the gateway of 10.94.0.0/24" },
    { given: "10.95.0.254", want: "invalid address 10.95.0.254: it is the gateway of 10.95.0.0/24" },
    { given: "10.95.0.50", want: "invalid address 10.95.0.50: it is reserved as auxiliary address nas" },
    {
      given: "10.95.0.255",
      want: "invalid address 10.95.0.255: it is the broadcast address of 10.95.0.0/24",
    },
    {
      given: "10.96.0.9",
      want: "address 10.96.0.9 is not in any subnet of network two-subnets (10.94.0.0/24, 10.95.0.0/24)",
    },
  ])("refuses $given naming the field and why", async ({ given, want }) => {
    const error = await attach(`n-${given.replaceAll(".", "-")}`, given);
    expect(error?.code).toBe("INVALID_FIELD");
    expect(error?.errors).toEqual([{ location: "body.networks[0].ipv4Address", message: want }]);
  });
});
