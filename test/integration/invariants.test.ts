/**
 * The database, not application code, keeps the IPAM ledger consistent: these tests race
 * the real commands against each other, and go around them with raw SQL, against a real
 * Postgres. No executor is involved.
 */
import {
  type CommandContext,
  createNetwork,
  createNode,
  DomainError,
  registerHostWithDefaults,
} from "@labnet/commands";
import { constraintViolation, createDb, type Database, type HostRow } from "@labnet/db";
import { DEFAULT_ADDRESS_POOLS } from "@labnet/ipam";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let db: Database;
let close: () => Promise<void>;
let ctx: CommandContext;
let host: HostRow;

beforeAll(async () => {
  database = await createTestDatabase("inv");
  ({ db, close } = createDb(database.url, { max: 30 }));
  ctx = { db, addressPools: DEFAULT_ADDRESS_POOLS, defaultMtu: 1500 };
  host = await registerHostWithDefaults({
    ctx,
    input: {
      name: "inv-host",
      netnsPrefix: "inv-",
      underlayAddress: null,
      capabilities: { linkTypes: ["bridge", "veth"], drivers: ["bridge", "host", "none"], iptables: true },
    },
  });
});

afterAll(async () => {
  await close();
  await database.drop();
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
