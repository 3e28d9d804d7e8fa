import { describe, expect, it } from "vitest";
import { describeProblem, LabnetProblemError } from "./problem";
import { phaseOf } from "./states";

describe("describeProblem", () => {
  it.each<[string, Parameters<typeof describeProblem>[0], string]>([
    [
      "the detail, ended once",
      { title: "Conflict", detail: "network with name my-net already exists" },
      "network with name my-net already exists.",
    ],
    ["no double full stop", { title: "x", detail: "Send JSON." }, "Send JSON."],
    [
      "fields the detail does not name",
      {
        title: "Validation failed",
        detail: "The request does not match the contract",
        errors: [{ location: "body.name", message: "must match ^[a-z]+$" }],
      },
      "The request does not match the contract: body.name must match ^[a-z]+$.",
    ],
    [
      "not fields it already names",
      {
        title: "Invalid field",
        detail: "body.ipam.configs[0].subnet: 10.0.0.0/33 is not a CIDR",
        errors: [{ location: "body.ipam.configs[0].subnet", message: "is not a CIDR" }],
      },
      "body.ipam.configs[0].subnet: 10.0.0.0/33 is not a CIDR.",
    ],
    [
      "at most three fields, the rest counted",
      {
        title: "Validation failed",
        detail: "4 fields are wrong",
        errors: ["a", "b", "c", "d"].map((f) => ({ location: `body.${f}`, message: "is required" })),
      },
      "4 fields are wrong: body.a is required; body.b is required; body.c is required (and 1 more).",
    ],
    ["the title without a detail", { title: "Not found", detail: "" }, "Not found."],
  ])("%s", (_, problem, want) => {
    expect(describeProblem(problem)).toBe(want);
  });
});

describe("LabnetProblemError.from", () => {
  it("keeps a problem document, and makes one of an answer that is none", () => {
    const problem = {
      type: "https://labnet.dev/problems/not-found",
      title: "Not found",
      status: 404,
      detail: "network nope not found",
      code: "NOT_FOUND" as const,
      requestId: "r1",
    };
    const kept = LabnetProblemError.from(problem, new Response(null, { status: 404 }));
    expect(kept).toMatchObject({ status: 404, problem, message: "network nope not found." });
    const made = LabnetProblemError.from(
      "<html>",
      new Response(null, { status: 502, statusText: "Bad Gateway" }),
    );
    expect(made.message).toBe("the API answered 502 Bad Gateway.");
  });
});

describe("phaseOf", () => {
  it.each([
    ["queued", "pending"],
    ["running", "pending"],
    ["provisioning", "pending"],
    ["pending", "pending"],
    ["succeeded", "ready"],
    ["ready", "ready"],
    ["done", "ready"],
    ["failed", "failed"],
    ["cancelled", "failed"],
    ["deleting", "deleting"],
    ["a-state-from-a-newer-server", "pending"],
  ])("%s → %s", (state, phase) => {
    expect(phaseOf(state)).toBe(phase);
  });
});
