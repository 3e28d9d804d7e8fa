import { defineConfig } from "drizzle-kit";

// drizzle-kit reads this to generate migrations from src/schema; it never connects.
// biome-ignore lint/style/noDefaultExport: drizzle-kit loads its config through a default export
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./migrations",
  strict: true,
});
