import { describe, expect, it } from "vitest";
import { ConfigError, loadDevstackConfig } from "./config";

describe("loadDevstackConfig", () => {
  const accepted: {
    name: string;
    env: NodeJS.ProcessEnv;
    want: Partial<ReturnType<typeof loadDevstackConfig>>;
  }[] = [
    {
      name: "defaults: embedded services, lab host in its own namespace",
      env: {},
      want: {
        databaseUrl: undefined,
        redisUrl: undefined,
        listenHost: "127.0.0.1",
        port: 8080,
        hostMode: "netns",
        hostName: "labnet-host",
        netnsPrefix: "ln-",
        underlayAddress: "198.18.0.1",
        skipApt: false,
      },
    },
    {
      name: "unix socket URLs in netns mode",
      env: {
        DATABASE_URL: "postgres://postgres@localhost/labnet?host=/run/pg",
        REDIS_URL: "unix:///run/redis.sock",
      },
      want: {
        databaseUrl: "postgres://postgres@localhost/labnet?host=/run/pg",
        redisUrl: "unix:///run/redis.sock",
      },
    },
    {
      name: "TCP URLs in root mode",
      env: { LABNET_HOST_MODE: "root", DATABASE_URL: "postgres://db:5432/x", REDIS_URL: "redis://r:6379" },
      want: { hostMode: "root", underlayAddress: undefined },
    },
    {
      name: "empty variables count as unset",
      env: { DATABASE_URL: "", LABNET_DATA_DIR: " ", LABNET_SKIP_APT: "1" },
      want: { databaseUrl: undefined, skipApt: true },
    },
  ];
  it.each(accepted)("accepts $name", ({ env, want }) => {
    expect(loadDevstackConfig(env)).toMatchObject(want);
  });

  const rejected: { name: string; env: NodeJS.ProcessEnv; want: string[] }[] = [
    {
      name: "every bad variable at once",
      env: {
        LABNET_PORT: "http",
        LABNET_HOST_MODE: "vm",
        LABNET_DATA_DIR: "relative",
        DATABASE_URL: "mysql://x",
      },
      want: ["LABNET_PORT", "LABNET_HOST_MODE", "LABNET_DATA_DIR", "DATABASE_URL"],
    },
    {
      name: "TCP services the namespaced executor could not reach",
      env: { DATABASE_URL: "postgres://127.0.0.1/labnet", REDIS_URL: "redis://127.0.0.1:6379" },
      want: ["DATABASE_URL: in LABNET_HOST_MODE=netns", "REDIS_URL: in LABNET_HOST_MODE=netns"],
    },
    {
      name: "a sandbox prefix that is not specific",
      env: { LABNET_NETNS_PREFIX: "l" },
      want: ["LABNET_NETNS_PREFIX"],
    },
  ];
  it.each(rejected)("rejects $name", ({ env, want }) => {
    expect(() => loadDevstackConfig(env)).toThrow(ConfigError);
    try {
      loadDevstackConfig(env);
    } catch (error) {
      for (const fragment of want) {
        expect((error as Error).message).toContain(fragment);
      }
    }
  });
});
