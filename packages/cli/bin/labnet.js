#!/usr/bin/env node
// The `labnet` command. Workspaces ship TypeScript source: tsx's loader is registered here,
// resolved beside this file, so `labnet` runs from any directory (npm link, node_modules/.bin).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
