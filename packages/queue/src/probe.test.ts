import { describe, expect, it } from "vitest";
import { isProbeTarget, MAX_PROBES_PER_JOB, Probe, ProbeJob } from "./probe";

const base = {
  id: "c1",
  kind: "icmp",
  from: { netns: "ln-abcdefghijklmnop" },
  target: "10.0.0.2",
  timeoutMs: 2000,
};

describe("isProbeTarget", () => {
  const good = [
    "10.0.0.2",
    "0.0.0.0",
    "255.255.255.255",
    "web",
    "web_container.app",
    "a-b.c-d.example",
    "x1",
  ];
  it.each(good)("accepts %j", (target) => {
    expect(isProbeTarget(target)).toBe(true);
  });

  const hostile = [
    "",
    "-oProxyCommand=x",
    "-c",
    "a b",
    "web;id",
    "$(id)",
    "`id`",
    "web\nid",
    "web.",
    ".web",
    "a..b",
    "web-",
    "256.0.0.1",
    "010.0.0.1",
    "1.2.3",
    "10.0.0.1/24",
    "::1",
    "web:80",
    "w/eb",
    "é.example",
    `${"a".repeat(64)}.example`,
    Array.from({ length: 128 }, () => "ab").join("."),
  ];
  it.each(hostile)("refuses %j", (target) => {
    expect(isProbeTarget(target)).toBe(false);
  });
});

describe("Probe", () => {
  const good: unknown[] = [
    base,
    { ...base, from: { labHost: true } },
    { ...base, kind: "resolve", target: "web_container.app" },
    { ...base, kind: "tcp", port: 80 },
    { ...base, kind: "tcp", port: 65535, listenIn: "lnmabcdefgh-abcdefghijklmnop" },
    { ...base, kind: "udp", port: 1, listenIn: "ln-x" },
    { ...base, timeoutMs: 10_000 },
    { ...base, kind: "tcp", port: 8080, listenIn: "ln-x", listenPort: 80 },
  ];
  it.each(good)("accepts %j", (probe) => {
    expect(Probe.safeParse(probe).success).toBe(true);
  });

  const bad: [string, unknown][] = [
    ["unknown kind", { ...base, kind: "http" }],
    ["unknown field", { ...base, shell: "id" }],
    ["tcp without port", { ...base, kind: "tcp" }],
    ["icmp with port", { ...base, port: 80 }],
    ["icmp with listener", { ...base, listenIn: "ln-x" }],
    ["port 0", { ...base, kind: "tcp", port: 0 }],
    ["port 65536", { ...base, kind: "tcp", port: 65536 }],
    ["fractional port", { ...base, kind: "tcp", port: 80.5 }],
    ["port as string", { ...base, kind: "tcp", port: "80" }],
    ["timeout above 10 s", { ...base, timeoutMs: 10_001 }],
    ["timeout 0", { ...base, timeoutMs: 0 }],
    ["netns with a slash", { ...base, from: { netns: "../etc" } }],
    ["netns with a space", { ...base, from: { netns: "ln-a b" } }],
    ["netns ..", { ...base, from: { netns: ".." } }],
    ["empty netns", { ...base, from: { netns: "" } }],
    ["long netns", { ...base, from: { netns: "a".repeat(65) } }],
    ["listenPort without listener", { ...base, kind: "tcp", port: 8080, listenPort: 80 }],
    ["listenPort 0", { ...base, kind: "tcp", port: 8080, listenIn: "ln-x", listenPort: 0 }],
    ["hostile listener", { ...base, kind: "tcp", port: 80, listenIn: "x;id" }],
    ["labHost false", { ...base, from: { labHost: false } }],
    ["both origins", { ...base, from: { netns: "ln-x", labHost: true } }],
    ["hostile target", { ...base, target: "-f" }],
    ["empty id", { ...base, id: "" }],
    ["id with a newline", { ...base, id: "a\nb" }],
  ];
  it.each(bad)("refuses %s", (_, probe) => {
    expect(Probe.safeParse(probe).success).toBe(false);
  });
});

describe("ProbeJob", () => {
  it(`takes at most ${MAX_PROBES_PER_JOB} probes and a host id`, () => {
    const probes = Array.from({ length: MAX_PROBES_PER_JOB }, (_, i) => ({ ...base, id: `p${i}` }));
    expect(ProbeJob.safeParse({ hostId: "hst_abcdefghijklmnop", probes }).success).toBe(true);
    expect(
      ProbeJob.safeParse({ hostId: "hst_abcdefghijklmnop", probes: [...probes, { ...base, id: "more" }] })
        .success,
    ).toBe(false);
    expect(ProbeJob.safeParse({ hostId: "host1", probes: [] }).success).toBe(false);
    expect(ProbeJob.safeParse({ hostId: "hst_abcdefghijklmnop", probes: [], extra: 1 }).success).toBe(false);
  });
});
