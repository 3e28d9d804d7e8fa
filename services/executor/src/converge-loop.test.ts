import { describe, expect, it } from "vitest";
import type { ConvergeScope } from "./converge";
import { ConvergeLoop } from "./converge-loop";

/** A converge that waits for `release` and records what it was asked. */
function gatedConverges() {
  const runs: ConvergeScope[] = [];
  let release: () => void = () => {};
  const converge = async (scope: ConvergeScope) => {
    runs.push(scope);
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  };
  return { runs, converge, release: () => release() };
}

describe("ConvergeLoop", () => {
  it("serves every request made during a converge with one more converge", async () => {
    const gate = gatedConverges();
    const loop = new ConvergeLoop(gate.converge);
    const first = loop.request();
    await Promise.resolve();
    const during = Array.from({ length: 50 }, () => loop.request());
    expect(gate.runs).toEqual(["changed"]);
    gate.release();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(gate.runs).toEqual(["changed", "changed"]);
    gate.release();
    await Promise.all(during);
    expect(gate.runs).toHaveLength(2);
  });

  it("widens the next converge to all when any request asks for it", async () => {
    const gate = gatedConverges();
    const loop = new ConvergeLoop(gate.converge);
    const first = loop.request();
    await Promise.resolve();
    const next = [loop.request(), loop.request("all"), loop.request()];
    gate.release();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    gate.release();
    await Promise.all(next);
    expect(gate.runs).toEqual(["changed", "all"]);
  });

  it("rejects the requests of a converge that threw, and runs the next one", async () => {
    let calls = 0;
    const loop = new ConvergeLoop(async () => {
      calls += 1;
      if (calls === 1) {
        throw new Error("database away");
      }
    });
    await expect(loop.request()).rejects.toThrow("database away");
    await expect(loop.request()).resolves.toBeUndefined();
    await loop.idle();
    expect(calls).toBe(2);
  });
});
