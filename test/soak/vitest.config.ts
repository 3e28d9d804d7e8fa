import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `npm run soak` (root, not part of `npm test`): the churn of soak.soak.ts against the real
 * processes, with the test run's Postgres/Redis setup and per-file cleanup. Its duration is
 * LABNET_SOAK_MINUTES (default 60); the timeout follows it.
 */
const minutes = Number(process.env.LABNET_SOAK_MINUTES ?? 60);

// Vitest loads its config through a default export.
// biome-ignore lint/style/noDefaultExport: required by vitest
export default defineConfig({
  root,
  test: {
    name: "soak",
    include: ["test/soak/**/*.soak.ts"],
    globalSetup: ["test/setup/global.ts"],
    setupFiles: ["test/setup/per-file.ts"],
    testTimeout: (minutes + 10) * 60_000,
    hookTimeout: 120_000,
  },
});
