import { describe, expect, it } from "vitest";
import {
  formatPortMapping,
  type PortRequest,
  type PortSpecInput,
  type PortSpecResult,
  parseExposedPort,
  parsePortSpec,
} from "./port-spec";

function fixed(containerPort: number, hostPort: number, extra: Partial<PortRequest> = {}): PortRequest {
  return {
    protocol: "tcp",
    hostIp: "0.0.0.0",
    containerPort,
    hostPorts: { start: hostPort, end: hostPort },
    ...extra,
  };
}

function random(containerPort: number, extra: Partial<PortRequest> = {}): PortRequest {
  return { protocol: "tcp", hostIp: "0.0.0.0", containerPort, ...extra };
}

function ok(...requests: PortRequest[]): PortSpecResult {
  return { ok: true, requests };
}

function error(part: string, message: string): PortSpecResult {
  return { ok: false, error: { part, message } } as PortSpecResult;
}

describe("parsePortSpec", () => {
  const cases: { given: PortSpecInput; want: PortSpecResult }[] = [
    // hostIP:hostPort:containerPort
    { given: "192.168.40.205:8090:8080", want: ok(fixed(8080, 8090, { hostIp: "192.168.40.205" })) },
    { given: "127.0.0.1:8080:80/udp", want: ok(fixed(80, 8080, { hostIp: "127.0.0.1", protocol: "udp" })) },
    // hostIP::containerPort: a random port on that address
    { given: "10.1.2.3::80", want: ok(random(80, { hostIp: "10.1.2.3" })) },
    // hostPort:containerPort
    { given: "8080:80", want: ok(fixed(80, 8080)) },
    { given: "8080:80/tcp", want: ok(fixed(80, 8080)) },
    { given: "8080:80/UDP", want: ok(fixed(80, 8080, { protocol: "udp" })) },
    { given: "8080:80/", want: ok(fixed(80, 8080)) },
    { given: ":8080:80", want: ok(fixed(80, 8080)) },
    { given: "0.0.0.0:8080:80", want: ok(fixed(80, 8080)) },
    // containerPort alone, and host port 0: random
    { given: "80", want: ok(random(80)) },
    { given: "53/udp", want: ok(random(53, { protocol: "udp" })) },
    { given: "0:80", want: ok(random(80)) },
    { given: " 8080:80 ", want: ok(fixed(80, 8080)) },
    // ranges pair up port by port
    {
      given: "8000-8002:80-82",
      want: ok(fixed(80, 8000), fixed(81, 8001), fixed(82, 8002)),
    },
    {
      given: "127.0.0.1:8000-8001:80-81/udp",
      want: ok(
        fixed(80, 8000, { hostIp: "127.0.0.1", protocol: "udp" }),
        fixed(81, 8001, { hostIp: "127.0.0.1", protocol: "udp" }),
      ),
    },
    // a container range on random host ports
    { given: "80-81", want: ok(random(80), random(81)) },
    {
      given: "10.0.0.1::80-81",
      want: ok(random(80, { hostIp: "10.0.0.1" }), random(81, { hostIp: "10.0.0.1" })),
    },
    // a host range for one container port: one free port of the range
    {
      given: "8000-8010:80",
      want: ok({
        protocol: "tcp",
        hostIp: "0.0.0.0",
        containerPort: 80,
        hostPorts: { start: 8000, end: 8010 },
      }),
    },
    // structured forms
    { given: { containerPort: 80 }, want: ok(random(80)) },
    { given: { containerPort: "80", hostPort: 8080 }, want: ok(fixed(80, 8080)) },
    { given: { containerPort: 80, hostPort: 0 }, want: ok(random(80)) },
    { given: { containerPort: 80, hostPort: "" }, want: ok(random(80)) },
    {
      given: { containerPort: 80, hostPort: 8080, hostIp: "127.0.0.1", protocol: "udp" },
      want: ok(fixed(80, 8080, { hostIp: "127.0.0.1", protocol: "udp" })),
    },
    { given: { containerPort: "80-81", hostPort: "9000-9001" }, want: ok(fixed(80, 9000), fixed(81, 9001)) },
    // errors name the part at fault (a string as a whole)
    { given: "", want: error("spec", "no port specified: <empty>") },
    { given: "8080:", want: error("spec", "no port specified: 8080:<empty>") },
    { given: "8080:http", want: error("spec", "invalid containerPort: http") },
    { given: "8080:0", want: error("spec", "invalid containerPort: 0") },
    { given: "8080:70000", want: error("spec", "invalid containerPort: 70000") },
    { given: "x:80", want: error("spec", "invalid hostPort: x") },
    { given: "65536:80", want: error("spec", "invalid hostPort: 65536") },
    { given: "8010-8000:80", want: error("spec", "invalid hostPort: 8010-8000") },
    {
      given: "8000-8005:80-82",
      want: error("spec", "invalid ranges specified for container and host Ports: 80-82 and 8000-8005"),
    },
    {
      given: "8080:80-82",
      want: error("spec", "invalid ranges specified for container and host Ports: 80-82 and 8080"),
    },
    { given: "8080:80/sctp", want: error("spec", "invalid proto: sctp (want tcp or udp)") },
    { given: "300.1.1.1:8080:80", want: error("spec", "invalid IP address: 300.1.1.1") },
    { given: "localhost:8080:80", want: error("spec", "invalid IP address: localhost") },
    {
      given: "224.0.0.1:8080:80",
      want: error("spec", "invalid IP address: 224.0.0.1 is not a unicast address"),
    },
    { given: "[::1]:8080:80", want: error("spec", "IPv6 host addresses are not supported: [::1]:8080:80") },
    { given: "::1:8080:80", want: error("spec", "IPv6 host addresses are not supported: ::1:8080:80") },
    { given: { containerPort: "http" }, want: error("containerPort", "invalid containerPort: http") },
    {
      given: { containerPort: "80/udp" },
      want: error("containerPort", "invalid containerPort: 80/udp (give the protocol in protocol)"),
    },
    { given: { containerPort: 80, hostPort: 70000 }, want: error("hostPort", "invalid hostPort: 70000") },
    {
      given: { containerPort: 80, hostIp: "::1" },
      want: error("hostIp", "IPv6 host addresses are not supported: ::1"),
    },
    { given: { containerPort: 80, hostIp: "10.0.0" }, want: error("hostIp", "invalid IP address: 10.0.0") },
    // an object's parts are single values: whitespace is refused, not trimmed
    {
      given: { containerPort: 80, hostIp: " 10.0.0.1" },
      want: error("hostIp", "invalid IP address:  10.0.0.1"),
    },
    { given: { containerPort: " 80" }, want: error("containerPort", "invalid containerPort:  80") },
    { given: { containerPort: 80, hostPort: "8080 " }, want: error("hostPort", "invalid hostPort: 8080 ") },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(parsePortSpec(given)).toEqual(want);
  });
});

describe("parseExposedPort", () => {
  const cases: { given: string; want: ReturnType<typeof parseExposedPort> }[] = [
    { given: "80", want: { ok: true, ports: [{ containerPort: 80, protocol: "tcp" }] } },
    { given: "80/tcp", want: { ok: true, ports: [{ containerPort: 80, protocol: "tcp" }] } },
    { given: "53/udp", want: { ok: true, ports: [{ containerPort: 53, protocol: "udp" }] } },
    {
      given: "8000-8001/udp",
      want: {
        ok: true,
        ports: [
          { containerPort: 8000, protocol: "udp" },
          { containerPort: 8001, protocol: "udp" },
        ],
      },
    },
    { given: "http", want: { ok: false, message: "invalid port: http" } },
    { given: "0/tcp", want: { ok: false, message: "invalid port: 0/tcp" } },
    { given: "80/icmp", want: { ok: false, message: "invalid proto: icmp (want tcp or udp)" } },
  ];
  it.each(cases)("$given", ({ given, want }) => {
    expect(parseExposedPort(given)).toEqual(want);
  });
});

describe("formatPortMapping", () => {
  it("reads like docker ps", () => {
    expect(
      formatPortMapping({ hostIp: "0.0.0.0", hostPort: 32768, containerPort: 8080, protocol: "tcp" }),
    ).toBe("0.0.0.0:32768->8080/tcp");
  });
});
