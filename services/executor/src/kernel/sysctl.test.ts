import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { enableIpForward } from "./sysctl";

// Against a stand-in file: writing the real sysctl from a test would change the
// namespace the test runs in.
describe("enableIpForward", () => {
  it.each([
    { given: "0\n", want: { changed: true, content: "1\n" } },
    { given: "1\n", want: { changed: false, content: "1\n" } },
  ])("given $given", async ({ given, want }) => {
    const dir = await mkdtemp(join(tmpdir(), "labnet-sysctl-"));
    try {
      const path = join(dir, "ip_forward");
      await writeFile(path, given);
      expect(await enableIpForward({ path })).toBe(want.changed);
      expect(await readFile(path, "utf8")).toBe(want.content);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
