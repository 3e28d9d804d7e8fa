import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectBridgeNetfilter, detectHostNetnsPath } from "./host-netns";

// Stand-in files: namespaces are compared by device and inode, which plain files have too.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "labnet-host-netns-"));
  await Promise.all(
    ["netns-a", "netns-b", "init", "alone", "nf-on", "nf-off"].map((name) =>
      writeFile(join(dir, name), name === "nf-on" ? "1\n" : name === "nf-off" ? "0\n" : ""),
    ),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("detectHostNetnsPath", () => {
  const cases: { name: string; self: string; want: string | undefined }[] = [
    { name: "a named namespace (a simulated host)", self: "netns-b", want: "netns-b" },
    { name: "the root namespace", self: "init", want: "init" },
    { name: "an unnamed namespace", self: "alone", want: undefined },
  ];
  it.each(cases)("$name", async ({ self, want }) => {
    const netnsDir = join(dir, "named");
    await rm(netnsDir, { recursive: true, force: true });
    await mkdir(netnsDir);
    // The named namespaces: hard links share the inode, as bind mounts of a namespace do.
    await link(join(dir, "netns-a"), join(netnsDir, "a"));
    await link(join(dir, "netns-b"), join(netnsDir, "b"));
    const got = await detectHostNetnsPath({
      selfPath: join(dir, self),
      netnsDir,
      initPath: join(dir, "init"),
    });
    const expected =
      want === undefined ? undefined : want === "init" ? join(dir, "init") : join(netnsDir, want.slice(-1));
    expect(got).toBe(expected);
  });
});

describe("detectBridgeNetfilter", () => {
  it.each([
    { given: "nf-on", want: true },
    { given: "nf-off", want: false },
    { given: "missing", want: false },
  ])("$given", async ({ given, want }) => {
    expect(await detectBridgeNetfilter({ path: join(dir, given) })).toBe(want);
  });
});
