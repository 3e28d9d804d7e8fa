/** What the integration/e2e global setup hands to tests through `inject()`. */
declare module "vitest" {
  export interface ProvidedContext {
    /** `postgres://postgres@localhost/labnet?host=<socket dir>`: migrated, shared by the run. */
    databaseUrl: string;
    /** Name of a migrated database nobody connects to, for `CREATE DATABASE ... TEMPLATE`. */
    templateDatabase: string;
    /** `unix:///.../redis.sock` */
    redisUrl: string;
    /** `lt` + the vitest PID in base36, 7 characters. Every namespace a test makes starts with it. */
    runPrefix: string;
    /** `/tmp/lt-<pid>`: this run's scratch directory (logs, sockets). Short enough for socket paths. */
    runDir: string;
  }
}

export {};
