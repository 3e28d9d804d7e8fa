import { defineConfig } from "drizzle-kit";

// drizzle-kit reads this to generate migrations from src/schema; it never connects.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./migrations",
  strict: true,
});
