import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse, stringify } from "yaml";
import { CliError } from "./errors";

/** Where the API is and who calls it; see {@link resolveSettings} for the order of sources. */
export interface CliSettings {
  url: string;
  token: string | undefined;
}

/** What a config file may hold (`~/.config/labnet/config.yaml`). */
export interface ConfigFile {
  url?: string;
  token?: string;
}

/** Keys `labnet config set` takes. */
export const CONFIG_KEYS = ["url", "token"] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Where `npm start` serves the API. */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/**
 * The config file: `--config`, else `LABNET_CONFIG`, else `$XDG_CONFIG_HOME/labnet/config.yaml`
 * (`~/.config/labnet/config.yaml`).
 */
export function configFilePath(flag: string | undefined, env: NodeJS.ProcessEnv, home: string): string {
  if (flag) {
    return flag;
  }
  if (env.LABNET_CONFIG) {
    return env.LABNET_CONFIG;
  }
  const base = env.XDG_CONFIG_HOME || path.join(home, ".config");
  return path.join(base, "labnet", "config.yaml");
}

/**
 * Flags win over the environment (`LABNET_URL`, `LABNET_TOKEN`), which wins over the config
 * file; the URL defaults to the local stack. A trailing `/` or `/v1` on the URL is dropped
 * (the paths of the contract start with `/v1`), so the URL `npm start` prints works as is.
 */
export function resolveSettings(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv,
  file: ConfigFile,
): CliSettings {
  const url = flags.url || env.LABNET_URL || file.url || DEFAULT_URL;
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    throw new CliError(
      `the API URL ${JSON.stringify(url)} is not an http(s) URL (--url, LABNET_URL or the config file).`,
    );
  }
  return {
    url: url.replace(/\/+$/, "").replace(/\/v1$/, ""),
    token: flags.token || env.LABNET_TOKEN || file.token || undefined,
  };
}

/** Reads the config file; a missing file is an empty config, a broken one an error naming it. */
export async function readConfigFile(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return {};
    }
    throw new CliError(`cannot read the config file ${file}: ${(error as Error).message}.`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new CliError(`the config file ${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) {
    return {};
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new CliError(`the config file ${file} must be a mapping of url and token.`);
  }
  const record = value as Record<string, unknown>;
  const config: ConfigFile = {};
  for (const [key, v] of Object.entries(record)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new CliError(
        `the config file ${file} has an unknown key ${key} (known: ${CONFIG_KEYS.join(", ")}).`,
      );
    }
    if (typeof v !== "string") {
      throw new CliError(`the config file ${file}: ${key} must be a string.`);
    }
    config[key as ConfigKey] = v;
  }
  return config;
}

/** Writes the config file readable by its owner only (it may hold a token). */
export async function writeConfigFile(file: string, config: ConfigFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, stringify(config), { mode: 0o600 });
  await chmod(file, 0o600);
}
