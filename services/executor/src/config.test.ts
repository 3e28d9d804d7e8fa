import { describe, expect, it } from "vitest";
import { loadExecutorConfig, parsePortRange } from "./config";

const BASE = { DATABASE_URL: "postgres://u@localhost/labnet", REDIS_URL: "redis://localhost:6379" };

describe("parsePortRange", () => {
  const cases: { given: string; want: { start: number; end: number } | undefined }[] = [
    { given: "32768-60999", want: { start: 32768, end: 60999 } },
    { given: "49000-49900", want: { start: 49000, end: 49900 } },
    { given: " 8000 - 8000 ", want: { start: 8000, end: 8000 } },
    { given: "0-100", want: undefined },
    { given: "100-99", want: undefined },
    { given: "1-65536", want: undefined },
    { given: "49000", want: undefined },
    { given: "a-b", want: undefined },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(parsePortRange(given)).toEqual(want);
  });
});

describe("LABNET_PORT_RANGE", () => {
  it("defaults to Docker's range", () => {
    expect(loadExecutorConfig(BASE).LABNET_PORT_RANGE).toEqual({ start: 32768, end: 60999 });
  });

  it("takes the course material's range", () => {
    expect(loadExecutorConfig({ ...BASE, LABNET_PORT_RANGE: "49000-49900" }).LABNET_PORT_RANGE).toEqual({
      start: 49000,
      end: 49900,
    });
  });

  it("names the variable when it is wrong", () => {
    expect(() => loadExecutorConfig({ ...BASE, LABNET_PORT_RANGE: "49900-49000" })).toThrow(
      /LABNET_PORT_RANGE: want START-END/,
    );
  });
});

describe("LABNET_NETNS_PREFIX", () => {
  it.each(["ln-", "lt4f2ah1-"])("takes %s", (prefix) => {
    expect(loadExecutorConfig({ ...BASE, LABNET_NETNS_PREFIX: prefix }).LABNET_NETNS_PREFIX).toBe(prefix);
  });

  // A prefix the plan refuses must stop the executor at start, with the other bad variables.
  it.each(["9x-", "ln", "-", `${"p".repeat(39)}-`])("refuses %s at start", (prefix) => {
    expect(() => loadExecutorConfig({ ...BASE, LABNET_NETNS_PREFIX: prefix })).toThrow(
      /LABNET_NETNS_PREFIX: must be/,
    );
  });
});

describe("LABNET_EXECUTOR_NICE", () => {
  it("is 10 unless set, 0-19 when set", () => {
    expect(loadExecutorConfig(BASE).LABNET_EXECUTOR_NICE).toBe(10);
    expect(loadExecutorConfig({ ...BASE, LABNET_EXECUTOR_NICE: "0" }).LABNET_EXECUTOR_NICE).toBe(0);
    expect(() => loadExecutorConfig({ ...BASE, LABNET_EXECUTOR_NICE: "-5" })).toThrow(/LABNET_EXECUTOR_NICE/);
    expect(() => loadExecutorConfig({ ...BASE, LABNET_EXECUTOR_NICE: "20" })).toThrow(/LABNET_EXECUTOR_NICE/);
  });
});
