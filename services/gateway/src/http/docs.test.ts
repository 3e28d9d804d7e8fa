import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createDocsApp } from "./docs";

describe("docs", () => {
  const app = createDocsApp();

  it("serves the bundled document", async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const document = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toContain("/v1/networks");
  });

  it("serves the reference page with local assets", async () => {
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('data-spec-url="/openapi.json"');
    expect(html).not.toMatch(/https?:\/\//);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(scripts).toEqual([
      "/docs/assets/swagger-ui-bundle.js",
      "/docs/assets/swagger-ui-standalone-preset.js",
      "/docs/assets/init.js",
    ]);
    for (const src of scripts) {
      const asset = await app.request(src);
      expect(asset.status, src).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
      expect((await asset.text()).length).toBeGreaterThan(100);
    }
    const css = await app.request("/docs/assets/swagger-ui.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  it("keeps asset links right under a mount prefix", async () => {
    const outer = new Hono().route("/api", app);
    const html = await (await outer.request("/api/docs/")).text();
    expect(html).toContain('src="/api/docs/assets/swagger-ui-bundle.js"');
    expect(html).toContain('data-spec-url="/api/openapi.json"');
  });

  it("serves only the listed assets", async () => {
    for (const path of [
      "/docs/assets/package.json",
      "/docs/assets/..%2Fpackage.json",
      "/docs/assets/index.html",
    ]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });
});
