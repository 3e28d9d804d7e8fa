import type { TokenWithLab } from "@labnet/db";
import { describe, expect, it } from "vitest";
import { createTokenVerifier } from "./token-cache";

const admin: TokenWithLab = {
  id: "tok_a",
  name: "admin",
  role: "admin",
  tokenHash: "h",
  accountId: "acc_a",
  instanceId: null,
  createdBy: null,
  createdAt: new Date(0),
  expiresAt: null,
  labId: null,
  lastUsedAt: null,
  revokedAt: null,
};

/** A lookup over a mutable table of secrets, counting its calls. */
function fakeLookup(table: Map<string, TokenWithLab>) {
  const calls: string[] = [];
  return {
    calls,
    lookup: async (secret: string) => {
      calls.push(secret);
      return table.get(secret);
    },
  };
}

describe("createTokenVerifier", () => {
  it("asks once within the TTL, and again after it (a revocation shows then)", async () => {
    const table = new Map([["lnt_a", admin]]);
    const { calls, lookup } = fakeLookup(table);
    let now = 1_000;
    const tokens = createTokenVerifier(lookup, { ttlMs: 5_000, now: () => now });
    expect(await tokens.verify("lnt_a")).toEqual(admin);
    now += 4_999;
    expect(await tokens.verify("lnt_a")).toEqual(admin);
    expect(calls).toHaveLength(1);
    table.delete("lnt_a");
    now += 1;
    expect(await tokens.verify("lnt_a")).toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it("does not remember unknown tokens, so a token created meanwhile works at once", async () => {
    const table = new Map<string, TokenWithLab>();
    const { calls, lookup } = fakeLookup(table);
    const tokens = createTokenVerifier(lookup);
    expect(await tokens.verify("lnt_new")).toBeUndefined();
    table.set("lnt_new", admin);
    expect(await tokens.verify("lnt_new")).toEqual(admin);
    expect(calls).toEqual(["lnt_new", "lnt_new"]);
  });

  it("shares one lookup between concurrent requests with the same token", async () => {
    const { calls, lookup } = fakeLookup(new Map([["lnt_a", admin]]));
    const tokens = createTokenVerifier(lookup);
    const answers = await Promise.all(Array.from({ length: 5 }, () => tokens.verify("lnt_a")));
    expect(answers).toEqual(Array(5).fill(admin));
    expect(calls).toHaveLength(1);
  });

  it("keeps nothing with a TTL of 0", async () => {
    const { calls, lookup } = fakeLookup(new Map([["lnt_a", admin]]));
    const tokens = createTokenVerifier(lookup, { ttlMs: 0 });
    await tokens.verify("lnt_a");
    await tokens.verify("lnt_a");
    expect(calls).toHaveLength(2);
  });
});
