import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseEnv } from "./index";

const Schema = z.object({
  PORT: z.coerce.number().int().min(1),
  URL: z.string().url(),
  MODE: z.enum(["a", "b"]).default("a"),
});

describe("parseEnv", () => {
  it("returns the parsed values with defaults", () => {
    expect(parseEnv(Schema, { PORT: "8080", URL: "http://x" }, "test")).toEqual({
      PORT: 8080,
      URL: "http://x",
      MODE: "a",
    });
  });

  it("names every bad variable in one error", () => {
    expect(() => parseEnv(Schema, { PORT: "zero", MODE: "c" }, "test")).toThrow(
      /invalid test configuration:\n {2}PORT: .*\n {2}URL: .*\n {2}MODE: /,
    );
  });
});
