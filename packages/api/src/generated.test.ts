import { describe, expect, it } from "vitest";
import { findStaleArtifacts, renderArtifacts } from "../scripts/render-artifacts";

describe("generated files", () => {
  it("match openapi/labnet.yaml", async () => {
    const stale = await findStaleArtifacts(await renderArtifacts());
    expect(stale, `stale: ${stale.join(", ")}; run npm run generate`).toEqual([]);
  }, 60_000);
});
