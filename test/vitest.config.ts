import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));
const exclude = ["**/node_modules/**", "**/.labnet/**"];

/** Integration and e2e share one Postgres + Redis per run (see setup/global.ts). */
const withServices = {
  globalSetup: ["test/setup/global.ts"],
  setupFiles: ["test/setup/per-file.ts"],
};

// Vitest loads its config through a default export.
// biome-ignore lint/style/noDefaultExport: required by vitest
export default defineConfig({
  root,
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/**/src/**/*.test.ts", "services/**/src/**/*.test.ts"],
          exclude: [...exclude, "**/*.int.test.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "test/integration/**/*.test.ts",
            "packages/**/*.int.test.ts",
            "services/**/*.int.test.ts",
          ],
          exclude,
          ...withServices,
          testTimeout: 30_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude,
          ...withServices,
          // Kernel tests share the machine (iptables locks, namespace churn): one file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
