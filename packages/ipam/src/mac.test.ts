import { describe, expect, it } from "vitest";
import { isMac, isUnicastMac, macFromIpv4, normalizeMac } from "./mac";

describe("macFromIpv4", () => {
  const cases: { given: string; want: string }[] = [
    { given: "172.18.0.2", want: "02:42:ac:12:00:02" },
    { given: "172.17.0.1", want: "02:42:ac:11:00:01" },
    { given: "10.0.0.255", want: "02:42:0a:00:00:ff" },
    { given: "0.0.0.0", want: "02:42:00:00:00:00" },
    { given: "255.255.255.255", want: "02:42:ff:ff:ff:ff" },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(macFromIpv4(given)).toBe(want);
  });

  it("throws on a bad address", () => {
    expect(() => macFromIpv4("10.0.0.256")).toThrow(RangeError);
  });
});

describe("normalizeMac and isMac", () => {
  const cases: { given: string; want: string | undefined }[] = [
    { given: "02:42:ac:12:00:02", want: "02:42:ac:12:00:02" },
    { given: "02:42:AC:12:00:02", want: "02:42:ac:12:00:02" },
    { given: "02-42-ac-12-00-02", want: "02:42:ac:12:00:02" },
    { given: "02:42-ac:12:00:02", want: undefined },
    { given: "2:42:ac:12:0:2", want: undefined },
    { given: "02:42:ac:12:00", want: undefined },
    { given: "02:42:ac:12:00:02:03", want: undefined },
    { given: "02:42:ag:12:00:02", want: undefined },
    { given: "0242.ac12.0002", want: undefined },
    { given: "", want: undefined },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(normalizeMac(given)).toBe(want);
    expect(isMac(given)).toBe(want !== undefined);
  });
});

describe("isUnicastMac", () => {
  it.each([
    { given: "02:42:ac:12:00:02", want: true },
    { given: "00:00:00:00:00:00", want: true },
    { given: "01:00:5e:00:00:01", want: false },
    { given: "ff:ff:ff:ff:ff:ff", want: false },
    { given: "02:42:AC:12:00:02", want: false },
    { given: "02-42-ac-12-00-02", want: false },
    { given: "02:42:ac:12:00", want: false },
  ])("$given", ({ given, want }) => {
    expect(isUnicastMac(given)).toBe(want);
  });
});
