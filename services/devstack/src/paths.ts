import { fileURLToPath } from "node:url";

/** The repository root (this file is `services/devstack/src/paths.ts`). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
