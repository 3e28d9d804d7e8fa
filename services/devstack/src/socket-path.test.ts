import { describe, expect, it } from "vitest";
import { assertSocketPathFits, toFileUrlSafePath } from "./socket-path";

describe("toFileUrlSafePath", () => {
  it.each([
    { given: "/tmp/lt-123/pg/socket", want: "/tmp/lt-123/pg/socket" },
    { given: "/srv/my data/sock", want: "%2Fsrv%2Fmy%20data%2Fsock" },
  ])("$given → $want", ({ given, want }) => {
    expect(toFileUrlSafePath(given)).toBe(want);
  });
});

describe("assertSocketPathFits", () => {
  it.each([
    { given: `/tmp/${"a".repeat(100)}`, fits: true },
    { given: `/tmp/${"a".repeat(103)}`, fits: false },
  ])("a $given.length-byte path fits: $fits", ({ given, fits }) => {
    if (fits) {
      expect(() => assertSocketPathFits(given)).not.toThrow();
    } else {
      expect(() => assertSocketPathFits(given)).toThrow(/more than the kernel/);
    }
  });
});
