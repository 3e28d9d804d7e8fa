import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubSecrets } from "./index";

/** A logger writing into an array of parsed lines. */
function capture(level: "debug" | "info" = "info") {
  const lines: Record<string, unknown>[] = [];
  let raw = "";
  const destination = new Writable({
    write(chunk, _enc, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { log: createLogger("test", { level, destination }), lines, raw: () => raw };
}

describe("createLogger", () => {
  it("writes one JSON line per call with time, level, component, message and fields", () => {
    const { log, lines } = capture();
    log.info("gateway listening", { url: "http://127.0.0.1:8080" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      component: "test",
      message: "gateway listening",
      url: "http://127.0.0.1:8080",
    });
    expect(Date.parse(String(lines[0]?.time))).not.toBeNaN();
  });

  it("honours levels", () => {
    const quiet = capture("info");
    quiet.log.debug("noise");
    quiet.log.warn("careful");
    expect(quiet.lines.map((l) => l.level)).toEqual(["warn"]);
    const loud = capture("debug");
    loud.log.debug("noise");
    expect(loud.lines.map((l) => l.level)).toEqual(["debug"]);
  });

  it("children add their fields to every line", () => {
    const { log, lines } = capture();
    log.child({ requestId: "r1" }).child({ machine: "bdc01" }).error("failed");
    expect(lines[0]).toMatchObject({ requestId: "r1", machine: "bdc01", level: "error" });
  });

  it("keeps an error's stack", () => {
    const { log, lines } = capture();
    log.error("unexpected", { err: new Error("boom") });
    expect(lines[0]?.err).toMatchObject({ type: "Error", message: "boom" });
    const err = lines[0]?.err as { stack?: string } | undefined;
    expect(String(err?.stack)).toMatch(/^Error: boom\n\s+at /);
  });

  it("never writes a secret: redacted keys, tokens scrubbed from any string at any depth", () => {
    const { log, raw } = capture();
    const token = "lnt_Zk3x7q2mzd4a5b6c7d8e9f0";
    log.info(`token ${token} seen`, {
      authorization: `Bearer ${token}`,
      headers: { authorization: "Bearer admin-secret-without-prefix" },
      body: { password: "hunter2", note: [`see ${token}`] },
      error: new Error(`refused ${token}`),
      token: "plain-secret",
    });
    const text = raw();
    for (const secret of [token, "admin-secret-without-prefix", "hunter2", "plain-secret"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("lnt_[redacted]");
    expect(text).toContain("refused lnt_[redacted]"); // the error's message is kept, scrubbed
    expect(text).toContain("[redacted]");
  });

  it("redacts secret keys at any depth and in a child's fields", () => {
    const { log, raw, lines } = capture();
    log
      .child({ token: "child-secret", request: { headers: { cookie: "session-secret" } } })
      .info("deep", { a: { b: { c: { d: { password: "deep-secret" } } } }, count: 3 });
    const text = raw();
    for (const secret of ["child-secret", "session-secret", "deep-secret"]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      token: "[redacted]",
      count: 3,
      a: { b: { c: { d: { password: "[redacted]" } } } },
    });
  });
});

describe("scrubSecrets", () => {
  it.each([
    ["Bearer lnt_abc_DEF-123", "Bearer lnt_[redacted]"],
    ["no token here", "no token here"],
    [{ a: ["x lnt_q y"] }, { a: ["x lnt_[redacted] y"] }],
    [42, 42],
  ])("%j → %j", (value, want) => {
    expect(scrubSecrets(value)).toEqual(want);
  });
});
