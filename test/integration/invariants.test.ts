/**
 * The database, not application code, keeps the IPAM ledger consistent: these tests race
 * the real commands against each other, and go around them with raw SQL, against a real
 * Postgres. No executor is involved.
 */
import { type CommandContext, createNetwork, createNode, DomainError } from "@labnet/commands";
import { constraintViolation, type Database, type HostRow, lockNetworks, schema } from "@labnet/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHostDatabase, type TestHostDatabase } from "../helpers/test-host";

let db: Database;
let ctx: CommandContext;
let host: HostRow;
let stack: TestHostDatabase;

beforeAll(async () => {
  stack = await startTestHostDatabase(
    "inv",
    { name: "inv-host", netnsPrefix: "inv-" },
    { maxConnections: 30 },
  );
  ({ db, ctx, host } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function settle<T>(promises: Promise<T>[]) {
  const results = await Promise.allSettled(promises);
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const codes = results.flatMap((r) =>
    r.status === "rejected" ? [(r.reason as DomainError).code ?? String(r.reason)] : [],
  );
  return { ok, codes };
}

describe("subnets", () => {
  it("lets exactly one of 20 concurrent networks with overlapping subnets in", async () => {
    const { ok, codes } = await settle(
      Array.from({ length: 20 }, (_, i) =>
        createNetwork({
          ctx,
          input: {
            name: `race${i}`,
            host: host.id,
            ipam: { configs: [{ subnet: `10.90.${i}.0/24` }, { subnet: "10.91.0.0/16" }] },
          },
        }),
      ),
    );
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(19).fill("SUBNET_OVERLAP"));
  });

  it("gives 20 concurrent networks without a subnet 20 distinct pool subnets", async () => {
    const { ok, codes } = await settle(
      Array.from({ length: 20 }, (_, i) =>
        createNetwork({ ctx, input: { name: `pool${i}`, host: host.id } }),
      ),
    );
    expect(codes).toEqual([]);
    const subnets = await db.execute<{ subnet: string }>(
      sql`select subnet::text from ipam_configs c join networks n on n.id = c.network_id where n.name like 'pool%'`,
    );
    expect(new Set(subnets.map((s) => s.subnet)).size).toBe(ok.length);
  });

  it("refuses an overlapping subnet even when application code is bypassed", async () => {
    const error = await db
      .execute(
        sql`insert into ipam_configs (id, network_id, scope, position, subnet, gateway)
            select 'ipc_bypass', id, scope, 9, '172.17.128.0/24', '172.17.128.1' from networks where name = 'bridge'`,
      )
      .catch((e: unknown) => e);
    expect(constraintViolation(error)?.constraint).toBe("ipam_configs_no_overlap");
  });
});

describe("addresses", () => {
  it("lets exactly one of 30 concurrent nodes take the same static address", async () => {
    await createNetwork({
      ctx,
      input: { name: "statics", host: host.id, ipam: { configs: [{ subnet: "10.92.0.0/24" }] } },
    });
    const { ok, codes } = await settle(
      Array.from({ length: 30 }, (_, i) =>
        createNode({
          ctx,
          input: {
            name: `s${i}`,
            host: host.id,
            networks: [{ network: "statics", ipv4Address: "10.92.0.50" }],
          },
        }),
      ),
    );
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(29).fill("ADDRESS_IN_USE"));
  });

  it("hands out a small subnet completely, without duplicates, then says it is full", async () => {
    await createNetwork({
      ctx,
      input: { name: "tiny", host: host.id, ipam: { configs: [{ subnet: "10.93.0.0/29" }] } },
    });
    // .0 network, .7 broadcast, .1 gateway: five addresses for endpoints.
    const { ok, codes } = await settle(
      Array.from({ length: 8 }, (_, i) =>
        createNode({ ctx, input: { name: `t${i}`, host: host.id, networkMode: "tiny" } }),
      ),
    );
    expect(ok).toHaveLength(5);
    expect(codes).toEqual(Array(3).fill("POOL_EXHAUSTED"));
    const addresses = await db.execute<{ address: string }>(
      sql`select host(a.address) as address from allocations a join networks n on n.id = a.network_id
          where n.name = 'tiny' and a.kind = 'endpoint' order by a.address`,
    );
    expect(addresses.map((a) => a.address)).toEqual([
      "10.93.0.2",
      "10.93.0.3",
      "10.93.0.4",
      "10.93.0.5",
      "10.93.0.6",
    ]);
  });

  it("refuses a second allocation of one address even when application code is bypassed", async () => {
    const error = await db
      .execute(
        sql`insert into allocations (network_id, address, ipam_config_id, kind)
            select network_id, address, ipam_config_id, 'aux' from allocations
            where kind = 'gateway' limit 1`,
      )
      .catch((e: unknown) => e);
    expect(constraintViolation(error)?.constraint).toBe("allocations_pkey");
  });
});

describe("errors", () => {
  it("are domain errors naming the field", async () => {
    const error = await createNode({
      ctx,
      input: { name: "x", host: host.id, networks: [{ network: "statics", ipv4Address: "10.92.0.50" }] },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).errors.map((e) => e.location)).toEqual(["body.networks[0].ipv4Address"]);
    expect((error as DomainError).message).toMatch(/in use by node s\d+/);
  });
});

describe("dynamic addresses (the free list)", () => {
  async function addressesOf(network: string): Promise<string[]> {
    const rows = await db.execute<{ address: string }>(
      sql`select host(a.address) as address from allocations a join networks n on n.id = a.network_id
          where n.name = ${network} and a.kind = 'endpoint' order by a.address`,
    );
    return rows.map((r) => r.address);
  }

  async function makeNetwork(name: string, subnet: string): Promise<void> {
    await createNetwork({ ctx, input: { name, host: host.id, ipam: { configs: [{ subnet }] } } });
  }

  it("lists a new network's first chunk of addresses with it, its gateway left out", async () => {
    await makeNetwork("listed", "10.88.0.0/24");
    await makeNetwork("listed16", "10.87.0.0/16");
    const listed = async (network: string) => {
      const rows = await db.execute<{ address: string }>(
        sql`select host(f.address) as address from free_addresses f
            join ipam_configs c on c.id = f.ipam_config_id join networks n on n.id = c.network_id
            where n.name = ${network} order by f.address`,
      );
      return rows.map((r) => r.address);
    };
    // A /24: its whole range, .2 to .254 (.1 is the gateway); a /16: one chunk of 256.
    expect(await listed("listed")).toEqual(Array.from({ length: 253 }, (_, i) => `10.88.0.${i + 2}`));
    const big = await listed("listed16");
    expect(big).toHaveLength(255);
    expect([big[0], big.at(-1)]).toEqual(["10.87.0.2", "10.87.1.0"]);
  });

  it("gives 60 concurrent nodes on one network 60 distinct addresses, lowest first", async () => {
    await makeNetwork("burst", "10.94.0.0/16");
    const { ok, codes } = await settle(
      Array.from({ length: 60 }, (_, i) =>
        createNode({ ctx, input: { name: `b${i}`, host: host.id, networkMode: "burst" } }),
      ),
    );
    expect(codes).toEqual([]);
    expect(ok).toHaveLength(60);
    expect(await addressesOf("burst")).toEqual(Array.from({ length: 60 }, (_, i) => `10.94.0.${i + 2}`));
  });

  it("gives released addresses out again, lowest first", async () => {
    await makeNetwork("reuse", "10.95.0.0/24");
    for (let i = 0; i < 5; i++) {
      await createNode({ ctx, input: { name: `u${i}`, host: host.id, networkMode: "reuse" } });
    }
    // What the executor's report does once a node is gone: the row goes, its endpoint and address with it.
    await db.execute(sql`delete from nodes where name in ('u1', 'u3')`);
    expect(await addressesOf("reuse")).toEqual(["10.95.0.2", "10.95.0.4", "10.95.0.6"]);
    const again = [];
    for (const name of ["v0", "v1", "v2"]) {
      again.push(await createNode({ ctx, input: { name, host: host.id, networkMode: "reuse" } }));
    }
    const rows = await db.execute<{ name: string; address: string }>(
      sql`select n.name, host(e.address) as address from endpoints e join nodes n on n.id = e.node_id
          where n.name like 'v%' order by n.name`,
    );
    expect(rows.map((r) => [r.name, r.address])).toEqual([
      ["v0", "10.95.0.3"],
      ["v1", "10.95.0.5"],
      ["v2", "10.95.0.7"],
    ]);
  });

  it("gets the address of a creation that was refused back on the list", async () => {
    await makeNetwork("rollback", "10.96.0.0/24");
    await createNode({
      ctx,
      input: { name: "r0", host: host.id, networkMode: "rollback", ports: ["8080:80"] },
    });
    const refused = await createNode({
      ctx,
      input: { name: "r1", host: host.id, networkMode: "rollback", ports: ["8080:80"] },
    }).catch((e: unknown) => e);
    expect((refused as DomainError).code).toBe("PORT_IN_USE");
    await createNode({ ctx, input: { name: "r2", host: host.id, networkMode: "rollback" } });
    expect(await addressesOf("rollback")).toEqual(["10.96.0.2", "10.96.0.3"]);
  });

  it("skips a listed address that was allocated behind its back", async () => {
    await makeNetwork("bypass", "10.97.0.0/24");
    await createNode({ ctx, input: { name: "p0", host: host.id, networkMode: "bypass" } });
    await db.execute(
      sql`insert into allocations (network_id, address, ipam_config_id, kind)
          select c.network_id, '10.97.0.3', c.id, 'aux' from ipam_configs c
          join networks n on n.id = c.network_id where n.name = 'bypass'`,
    );
    await createNode({ ctx, input: { name: "p1", host: host.id, networkMode: "bypass" } });
    expect(await addressesOf("bypass")).toEqual(["10.97.0.2", "10.97.0.4"]);
  });

  it("never lets static and dynamic attaches racing share an address", async () => {
    await makeNetwork("mixed", "10.98.0.0/24");
    const { ok, codes } = await settle(
      Array.from({ length: 40 }, (_, i) =>
        createNode({
          ctx,
          input:
            i % 2 === 0
              ? { name: `m${i}`, host: host.id, networkMode: "mixed" }
              : {
                  name: `m${i}`,
                  host: host.id,
                  networks: [{ network: "mixed", ipv4Address: `10.98.0.${i + 1}` }],
                },
        }),
      ),
    );
    // A static address a dynamic attach took first is refused; nothing else may fail.
    expect(codes.every((c) => c === "ADDRESS_IN_USE")).toBe(true);
    const rows = await db.execute<{ endpoint: string; allocated: string | null }>(
      sql`select host(e.address) as endpoint, host(a.address) as allocated
          from endpoints e join networks n on n.id = e.network_id
          left join allocations a on a.endpoint_id = e.id where n.name = 'mixed'`,
    );
    expect(rows).toHaveLength(ok.length);
    expect(rows.every((r) => r.endpoint === r.allocated)).toBe(true);
    expect(new Set(rows.map((r) => r.endpoint)).size).toBe(ok.length);
  });

  it("lets no node in while its network is being removed", async () => {
    await makeNetwork("leaving", "10.99.0.0/24");
    const [network] = await db.select().from(schema.networks).where(eq(schema.networks.name, "leaving"));
    if (!network) {
      throw new Error("network missing");
    }
    // Hold removal's lock while a creation starts: it waits, then sees the network leaving.
    let creating: Promise<unknown> = Promise.resolve();
    await db.transaction(async (tx) => {
      await lockNetworks(tx, [network.id]);
      creating = createNode({ ctx, input: { name: "late", host: host.id, networkMode: "leaving" } }).catch(
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      await tx.update(schema.networks).set({ state: "deleting" }).where(eq(schema.networks.id, network.id));
    });
    const error = await creating;
    expect((error as DomainError).code).toBe("CONFLICT");
    expect((error as DomainError).errors.map((e) => e.location)).toEqual(["body.networkMode"]);
    expect(await addressesOf("leaving")).toEqual([]);
  });
});
