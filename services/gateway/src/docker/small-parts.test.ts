import { describe, expect, it } from "vitest";
import { apiVersionProblem, compareApiVersions } from "./api-version";
import { humanDuration } from "./human-duration";
import { frame } from "./streams";
import { parseGoBool, queryBool } from "./values";

describe("humanDuration (docker ps STATUS)", () => {
  const table: [number, string][] = [
    [500, "Less than a second"],
    [1_000, "1 second"],
    [59_000, "59 seconds"],
    [60_000, "About a minute"],
    [5 * 60_000, "5 minutes"],
    [60 * 60_000, "About an hour"],
    [3 * 3_600_000, "3 hours"],
    [3 * 86_400_000, "3 days"],
    [20 * 86_400_000, "2 weeks"],
    [90 * 86_400_000, "3 months"],
    [800 * 86_400_000, "2 years"],
  ];
  for (const [ms, want] of table) {
    it(`${ms} ms is ${want}`, () => expect(humanDuration(ms)).toBe(want));
  }
});

describe("API versions", () => {
  it("compares major.minor numerically and names what is out of range", () => {
    expect(compareApiVersions("1.9", "1.24")).toBeLessThan(0);
    expect(compareApiVersions("1.47", "1.47")).toBe(0);
    expect(apiVersionProblem("1.41")).toBeUndefined();
    expect(apiVersionProblem("1.23")).toMatch(/too old/);
    expect(apiVersionProblem("1.48")).toMatch(/too new. Maximum supported API version is 1.47/);
  });
});

describe("frame (dockerd's stream framing)", () => {
  it("multiplexes with an 8-byte header, or passes bytes raw for a TTY", () => {
    expect([...frame("stderr", "hi", false)]).toEqual([2, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
    expect([...frame("stdout", "é", false)]).toEqual([1, 0, 0, 0, 0, 0, 0, 2, 0xc3, 0xa9]);
    expect([...frame("stdout", "hi", true)]).toEqual([104, 105]);
  });
});

describe("dockerd's values", () => {
  it("reads a query flag as httputils.BoolValue does", () => {
    for (const set of ["1", "true", "True", "yes", "anything"]) {
      expect(queryBool(set), set).toBe(true);
    }
    for (const unset of [undefined, "", "0", "no", "false", "FALSE", "none"]) {
      expect(queryBool(unset), String(unset)).toBe(false);
    }
  });

  it("reads an option as Go's strconv.ParseBool does", () => {
    expect(["1", "t", "T", "TRUE", "true", "True"].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(["0", "f", "F", "FALSE", "false", "False"].map(parseGoBool)).toEqual(Array(6).fill(false));
    expect(["yes", "tRUE", "", " true"].map(parseGoBool)).toEqual(Array(4).fill(undefined));
  });
});
