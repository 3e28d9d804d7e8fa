import { describe, expect, it } from "vitest";
import { etagOf, ifMatchRevisions } from "./etag";

describe("ifMatchRevisions", () => {
  const cases: { given: string | undefined; want: number[] | undefined }[] = [
    { given: undefined, want: undefined },
    { given: "*", want: undefined },
    { given: " * ", want: undefined },
    { given: '"3"', want: [3] },
    { given: '"3", "4"', want: [3, 4] },
    { given: '"3",W/"4"', want: [3] },
    { given: 'W/"3"', want: [] },
    { given: "3", want: [] },
    { given: '"abc"', want: [] },
    { given: '"0"', want: [] },
    { given: "", want: [] },
  ];
  it.each(cases)("$given → $want", ({ given, want }) => {
    expect(ifMatchRevisions(given)).toEqual(want);
  });

  it("reads back what etagOf writes", () => {
    expect(ifMatchRevisions(etagOf(42))).toEqual([42]);
  });
});
