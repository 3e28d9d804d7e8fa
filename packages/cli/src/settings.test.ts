import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configFilePath, readConfigFile, resolveSettings } from "./settings";

describe("resolveSettings", () => {
  it.each<[string, { url?: string; token?: string }, NodeJS.ProcessEnv, object, object]>([
    ["defaults to the local stack", {}, {}, {}, { url: "http://127.0.0.1:8080", token: undefined }],
    ["the file", {}, {}, { url: "http://f:1", token: "lnt_f" }, { url: "http://f:1", token: "lnt_f" }],
    [
      "the environment over the file",
      {},
      { LABNET_URL: "http://e:1", LABNET_TOKEN: "lnt_e" },
      { url: "http://f:1", token: "lnt_f" },
      { url: "http://e:1", token: "lnt_e" },
    ],
    [
      "flags over everything",
      { url: "http://x:1", token: "lnt_x" },
      { LABNET_URL: "http://e:1", LABNET_TOKEN: "lnt_e" },
      { url: "http://f:1" },
      { url: "http://x:1", token: "lnt_x" },
    ],
    [
      "drops /v1 as npm start prints it",
      {},
      { LABNET_URL: "http://127.0.0.1:8080/v1/" },
      {},
      { url: "http://127.0.0.1:8080" },
    ],
  ])("%s", (_, flags, env, file, want) => {
    expect(resolveSettings(flags, env, file)).toMatchObject(want);
  });

  it("refuses a URL that is not http(s), naming where it may come from", () => {
    expect(() => resolveSettings({ url: "127.0.0.1:8080" }, {}, {})).toThrow(
      'the API URL "127.0.0.1:8080" is not an http(s) URL (--url, LABNET_URL or the config file).',
    );
  });
});

describe("configFilePath", () => {
  it.each<[string | undefined, NodeJS.ProcessEnv, string]>([
    ["/etc/l.yaml", { LABNET_CONFIG: "/x.yaml" }, "/etc/l.yaml"],
    [undefined, { LABNET_CONFIG: "/x.yaml" }, "/x.yaml"],
    [undefined, { XDG_CONFIG_HOME: "/xdg" }, "/xdg/labnet/config.yaml"],
    [undefined, {}, "/home/u/.config/labnet/config.yaml"],
  ])("--config %s, %j → %s", (flag, env, want) => {
    expect(configFilePath(flag, env, "/home/u")).toBe(want);
  });
});

describe("readConfigFile", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function fileWith(text: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), "labnet-cfg-"));
    dirs.push(dir);
    const file = path.join(dir, "config.yaml");
    await writeFile(file, text);
    return file;
  }

  it("reads url and token; a missing or empty file is an empty config", async () => {
    expect(await readConfigFile(await fileWith("url: http://a:1\ntoken: lnt_x\n"))).toEqual({
      url: "http://a:1",
      token: "lnt_x",
    });
    expect(await readConfigFile(await fileWith(""))).toEqual({});
    expect(await readConfigFile("/nonexistent/labnet.yaml")).toEqual({});
  });

  it.each([
    ["url: [unclosed", "is not valid YAML"],
    ["- a\n- b", "must be a mapping of url and token"],
    ["colour: red", "has an unknown key colour (known: url, token)"],
    ["url: 8080", "url must be a string"],
  ])("names the file and the fault of %j", async (text, message) => {
    const file = await fileWith(text);
    await expect(readConfigFile(file)).rejects.toThrow(`the config file ${file}`);
    await expect(readConfigFile(file)).rejects.toThrow(message);
  });
});
