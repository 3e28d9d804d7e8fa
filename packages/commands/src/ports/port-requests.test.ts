import { describe, expect, it } from "vitest";
import { DomainError } from "../errors";
import { assertCanPublish, type PortInputs, type PreparedPorts, preparePortRequests } from "./port-requests";

describe("preparePortRequests", () => {
  const cases: { name: string; given: PortInputs; want: PreparedPorts }[] = [
    { name: "nothing", given: {}, want: { requests: [], exposedPorts: [] } },
    {
      name: "-p ports are exposed too, each request names its entry",
      given: { ports: ["8080:80", "53/udp"] },
      want: {
        requests: [
          {
            protocol: "tcp",
            hostIp: "0.0.0.0",
            containerPort: 80,
            hostPorts: { start: 8080, end: 8080 },
            location: "body.ports[0]",
          },
          { protocol: "udp", hostIp: "0.0.0.0", containerPort: 53, location: "body.ports[1]" },
        ],
        exposedPorts: ["80/tcp", "53/udp"],
      },
    },
    {
      name: "-P publishes the exposed ports that -p does not map",
      given: { ports: ["8080:80"], exposedPorts: ["80", "443/tcp", "53/udp"], publishAll: true },
      want: {
        requests: [
          {
            protocol: "tcp",
            hostIp: "0.0.0.0",
            containerPort: 80,
            hostPorts: { start: 8080, end: 8080 },
            location: "body.ports[0]",
          },
          { protocol: "tcp", hostIp: "0.0.0.0", containerPort: 443, location: "body.publishAll" },
          { protocol: "udp", hostIp: "0.0.0.0", containerPort: 53, location: "body.publishAll" },
        ],
        exposedPorts: ["80/tcp", "443/tcp", "53/udp"],
      },
    },
    {
      name: "exposed without -P: exposed, not published",
      given: { exposedPorts: ["8000-8001/udp"] },
      want: { requests: [], exposedPorts: ["8000/udp", "8001/udp"] },
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(preparePortRequests(given)).toEqual(want);
  });

  const errors: { name: string; given: PortInputs; location: string }[] = [
    { name: "bad string", given: { ports: ["80", "x:80"] }, location: "body.ports[1]" },
    {
      name: "bad field",
      given: { ports: [{ containerPort: 80, hostPort: "x" }] },
      location: "body.ports[0].hostPort",
    },
    { name: "bad exposed port", given: { exposedPorts: ["80/icmp"] }, location: "body.exposedPorts[0]" },
    { name: "too many", given: { ports: ["1-2000"] }, location: "body.ports" },
  ];
  it.each(errors)("$name → 422 at $location", ({ given, location }) => {
    const error = catchError(() => preparePortRequests(given));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: "INVALID_FIELD", errors: [{ location }] });
  });
});

describe("assertCanPublish", () => {
  it.each(["bridge", "my-net"])("allows %s", (mode) => {
    expect(() => assertCanPublish(mode, "body.ports")).not.toThrow();
  });
  it.each(["none", "host", "container:web"])("refuses %s", (mode) => {
    expect(catchError(() => assertCanPublish(mode, "body.ports"))).toMatchObject({
      code: "INVALID_FIELD",
      errors: [{ location: "body.ports" }],
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
