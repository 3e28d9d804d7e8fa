import { describe, expect, it } from "vitest";
import { pipelined } from "./pipeline";

const later = <T>(value: T, ms = 5) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const failing = (message: string, ms = 5) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms));

describe("pipelined", () => {
  it("starts the next statements before the first answers, and answers both", async () => {
    const order: string[] = [];
    const first = later("node", 20).then((v) => {
      order.push("first answered");
      return v;
    });
    const result = await pipelined(first, async () => {
      order.push("next started");
      return "endpoints";
    });
    expect(result).toEqual(["node", "endpoints"]);
    expect(order).toEqual(["next started", "first answered"]);
  });

  it("answers the first statement's error when both failed (the later ones only saw an aborted transaction)", async () => {
    await expect(
      pipelined(failing("name taken", 20), () => failing("current transaction is aborted", 1)),
    ).rejects.toThrow("name taken");
  });

  it("answers the first statement's error when only it failed, and the next one's when only that did", async () => {
    await expect(pipelined(failing("name taken"), async () => "fine")).rejects.toThrow("name taken");
    await expect(pipelined(later("node"), () => failing("network full"))).rejects.toThrow("network full");
  });
});
