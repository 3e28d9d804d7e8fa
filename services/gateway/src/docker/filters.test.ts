import { describe, expect, it } from "vitest";
import { DockerFilters } from "./filters";

describe("DockerFilters", () => {
  it("reads the map form and the legacy list form", () => {
    expect(DockerFilters.parse('{"name":{"web":true,"off":false}}').values("name")).toEqual(["web"]);
    expect(DockerFilters.parse('{"name":["web","app"]}').values("name")).toEqual(["web", "app"]);
    expect(DockerFilters.parse(undefined).has("name")).toBe(false);
  });

  it("refuses what is not a filter, and keys it does not know", () => {
    for (const raw of ["nope", "[]", '{"name":"web"}', '{"name":{"web":1}}']) {
      expect(() => DockerFilters.parse(raw)).toThrow("invalid filter");
    }
    expect(() => DockerFilters.parse('{"colour":["red"]}', ["name"])).toThrow("invalid filter 'colour'");
  });

  it("matches as dockerd: exact, regular expressions anywhere, labels present or with a value", () => {
    const filters = DockerFilters.parse(
      '{"name":["^my-"],"driver":["bridge"],"label":["course","tier=web"]}',
    );
    expect(filters.match("name", "my-net")).toBe(true);
    expect(filters.match("name", "net-my")).toBe(false);
    expect(filters.exact("driver", "bridge")).toBe(true);
    expect(filters.exact("driver", "macvlan")).toBe(false);
    expect(filters.exact("scope", "anything")).toBe(true);
    expect(filters.kv("label", { course: "x", tier: "web" })).toBe(true);
    expect(filters.kv("label", { course: "x", tier: "db" })).toBe(false);
    expect(filters.kv("label", { tier: "web" })).toBe(false);
  });

  it("runs a pathological expression in linear time, and an invalid one matches nothing", () => {
    const started = Date.now();
    expect(DockerFilters.parse('{"name":["(a+)+$"]}').match("name", `${"a".repeat(5_000)}!`)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(DockerFilters.parse('{"name":["(unclosed"]}').match("name", "(unclosed")).toBe(true);
    expect(DockerFilters.parse('{"name":["(unclosed"]}').match("name", "other")).toBe(false);
  });
});
