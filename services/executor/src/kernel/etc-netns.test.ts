import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pruneResolverFiles, writeResolverFiles } from "./etc-netns";

let dir: string;
const options = () => ({ dir, netnsPrefix: "ln-" });

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "labnet-etc-netns-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeResolverFiles", () => {
  it("writes both files, then only what changed, leaving no temp files", async () => {
    const files = [{ netns: "ln-a", resolvConf: "nameserver 172.18.0.1\n", hosts: "127.0.0.1\tlocalhost\n" }];
    expect(await writeResolverFiles(files, options())).toBe(2);
    expect(await readFile(path.join(dir, "ln-a", "resolv.conf"), "utf8")).toBe("nameserver 172.18.0.1\n");
    expect(await readFile(path.join(dir, "ln-a", "hosts"), "utf8")).toBe("127.0.0.1\tlocalhost\n");
    expect(await writeResolverFiles(files, options())).toBe(0);
    const changed = [{ ...files[0], netns: "ln-a", resolvConf: "nameserver 172.19.0.1\n", hosts: "x\n" }];
    expect(await writeResolverFiles(changed, options())).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(["ln-a"]);
  });

  const refused: { name: string; netns: string }[] = [
    { name: "another prefix", netns: "other-a" },
    { name: "a path", netns: "ln-../../etc" },
    { name: "a dot name", netns: "ln-a/b" },
  ];
  it.each(refused)("refuses a netns of $name", async ({ netns }) => {
    await expect(writeResolverFiles([{ netns, resolvConf: "", hosts: "" }], options())).rejects.toThrow(
      /refusing/,
    );
  });
});

describe("pruneResolverFiles", () => {
  it("removes only directories with the prefix that are not kept, and stale temp files", async () => {
    for (const name of ["ln-keep", "ln-gone", "other-x", "lnx"]) {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, "hosts"), "");
    }
    await writeFile(path.join(dir, ".ln-gone.hosts.tmp"), "");
    await writeFile(path.join(dir, ".other.hosts.tmp"), "");
    expect(await pruneResolverFiles(new Set(["ln-keep"]), options())).toEqual(["ln-gone"]);
    expect((await readdir(dir)).sort()).toEqual([".other.hosts.tmp", "ln-keep", "lnx", "other-x"]);
  });

  it("is happy without the directory", async () => {
    expect(
      await pruneResolverFiles(new Set(), { dir: path.join(dir, "missing"), netnsPrefix: "ln-" }),
    ).toEqual([]);
  });
});
