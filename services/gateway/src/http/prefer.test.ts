import { describe, expect, it } from "vitest";
import { formatPreferenceApplied, parsePrefer, parsePreferWait, preferenceApplied } from "./prefer";

describe("parsePrefer", () => {
  const cases: { given: string | undefined; want: ReturnType<typeof parsePrefer> }[] = [
    { given: undefined, want: { respondAsync: false } },
    { given: "", want: { respondAsync: false } },
    { given: "wait=10", want: { respondAsync: false, wait: 10 } },
    { given: "WAIT = 5", want: { respondAsync: false, wait: 5 } },
    { given: 'wait="7"', want: { respondAsync: false, wait: 7 } },
    { given: "wait=0", want: { respondAsync: false, wait: 0 } },
    { given: "wait=600", want: { respondAsync: false, wait: 60 } },
    { given: "respond-async, wait=100", want: { respondAsync: true, wait: 60 } },
    { given: "wait=3;foo=bar, handling=lenient", want: { respondAsync: false, wait: 3 } },
    { given: "wait=2, wait=9", want: { respondAsync: false, wait: 2 } },
    { given: "wait=-1", want: { respondAsync: false } },
    { given: "wait=1.5", want: { respondAsync: false } },
    { given: "wait=abc, respond-async", want: { respondAsync: true } },
    { given: "wait", want: { respondAsync: false } },
    { given: ',,;="x,y", wait=4', want: { respondAsync: false, wait: 4 } },
    { given: "return=minimal", want: { respondAsync: false } },
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
  const cases: { given: Parameters<typeof formatPreferenceApplied>[0]; want: string | undefined }[] = [
    { given: {}, want: undefined },
    { given: { wait: 30 }, want: "wait=30" },
    { given: { wait: 0, respondAsync: true }, want: "respond-async, wait=0" },
  ];
  for (const { given, want } of cases) {
    it(`formats ${JSON.stringify(given)}`, () => {
      expect(formatPreferenceApplied(given)).toBe(want);
    });
  }

  it("formats a wait", () => {
    expect(preferenceApplied(12)).toBe("wait=12");
  });
});
