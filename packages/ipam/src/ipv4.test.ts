import { describe, expect, it } from "vitest";
import { formatIpv4, isIpv4, parseIpv4 } from "./ipv4";

describe("parseIpv4", () => {
  const cases: { given: string; want: number | undefined }[] = [
    { given: "0.0.0.0", want: 0 },
    { given: "255.255.255.255", want: 0xffff_ffff },
    { given: "172.18.0.2", want: 0xac12_0002 },
    { given: "10.0.0.255", want: 0x0a00_00ff },
    { given: "256.0.0.1", want: undefined },
    { given: "1.2.3.999", want: undefined },
    { given: "01.2.3.4", want: undefined },
    { given: "1.2.3.00", want: undefined },
    { given: "172.018.0.2", want: undefined },
    { given: "1.2.3", want: undefined },
    { given: "1.2.3.4.5", want: undefined },
    { given: "1.2.3.", want: undefined },
    { given: " 1.2.3.4", want: undefined },
    { given: "1.2.3.4\n", want: undefined },
    { given: "1.2.3.-4", want: undefined },
    { given: "1.2.3.+4", want: undefined },
    { given: "0x1.2.3.4", want: undefined },
    { given: "", want: undefined },
    { given: "::1", want: undefined },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(parseIpv4(given)).toBe(want);
    expect(isIpv4(given)).toBe(want !== undefined);
  });
});

describe("formatIpv4", () => {
  const cases: { given: number; want: string }[] = [
    { given: 0, want: "0.0.0.0" },
    { given: 0xffff_ffff, want: "255.255.255.255" },
    { given: 0xac12_0002, want: "172.18.0.2" },
  ];
  it.each(cases)("$want", ({ given, want }) => {
    expect(formatIpv4(given)).toBe(want);
    expect(parseIpv4(want)).toBe(given);
  });

  it.each([-1, 2 ** 32, 1.5, Number.NaN])("throws on %s", (given) => {
    expect(() => formatIpv4(given)).toThrow(RangeError);
  });
});
