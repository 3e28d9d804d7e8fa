import { describe, expect, it } from "vitest";
import { parsePrefer, parsePreferWait, preferenceApplied } from "./prefer";

describe("parsePrefer", () => {
  const cases: { given: string | undefined; want: ReturnType<typeof parsePrefer> }[] = [
    { given: undefined, want: {} },
    { given: "", want: {} },
    { given: "wait=10", want: { wait: 10 } },
    { given: "WAIT = 5", want: { wait: 5 } },
    { given: 'wait="7"', want: { wait: 7 } },
    { given: "wait=0", want: { wait: 0 } },
    { given: "wait=600", want: { wait: 60 } },
    { given: "respond-async, wait=100", want: { wait: 60 } },
    { given: "wait=3;foo=bar, handling=lenient", want: { wait: 3 } },
    { given: "wait=2, wait=9", want: { wait: 2 } },
    { given: "wait=-1", want: {} },
    { given: "wait=1.5", want: {} },
    { given: "wait=abc, respond-async", want: {} },
    { given: "wait", want: {} },
    { given: ',,;="x,y", wait=4', want: { wait: 4 } },
    { given: "return=minimal", want: {} },
  ];
  for (const { given, want } of cases) {
    it(`parses ${JSON.stringify(given)}`, () => {
      expect(parsePrefer(given)).toEqual(want);
    });
  }

  it("clamps to a custom maximum", () => {
    expect(parsePreferWait("wait=30", 5)).toBe(5);
  });
});

describe("Preference-Applied", () => {
  it("formats a wait", () => {
    expect(preferenceApplied(12)).toBe("wait=12");
  });
});
