import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseOutputFormat, renderData, renderTable } from "./output";

describe("renderTable", () => {
  it("prints docker's borderless table: upper-case headers, columns three spaces apart, no trailing blanks", () => {
    const text = renderTable(
      [
        { id: "net_1", name: "bridge", state: "ready" },
        { id: "net_22", name: "my-net", state: "" },
      ],
      [
        { header: "network id", value: (r) => r.id },
        { header: "name", value: (r) => r.name },
        { header: "state", value: (r) => r.state },
      ],
    );
    expect(text).toBe(
      ["NETWORK ID   NAME     STATE", "net_1        bridge   ready", "net_22       my-net", ""].join("\n"),
    );
  });

  it("prints the headers of an empty list", () => {
    expect(renderTable([], [{ header: "name", value: () => "" }])).toBe("NAME\n");
  });
});

describe("renderData", () => {
  it("renders JSON and YAML that parse back to the value", () => {
    const value = { items: [{ name: "my-net", labels: { course: "net101" } }] };
    expect(JSON.parse(renderData(value, "json"))).toEqual(value);
    expect(parse(renderData(value, "yaml"))).toEqual(value);
  });
});

describe("parseOutputFormat", () => {
  it("takes the command's default when -o is not given, and refuses other formats", () => {
    expect(parseOutputFormat(undefined, "json")).toBe("json");
    expect(parseOutputFormat("yaml", "table")).toBe("yaml");
    expect(() => parseOutputFormat("xml", "table")).toThrow(
      "-o xml is not an output format (choose table, json, yaml).",
    );
  });
});
