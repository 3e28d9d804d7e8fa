import { describe, expect, it } from "vitest";
import { DomainError, type FieldError } from "../errors";
import { checkNodeNaming, type NodeNaming, type NodeNamingInput } from "./node-naming";

function check(input: NodeNamingInput): NodeNaming | FieldError[] {
  try {
    return checkNodeNaming(input, "body");
  } catch (error) {
    if (error instanceof DomainError && error.code === "INVALID_FIELD") {
      return error.errors;
    }
    throw error;
  }
}

describe("checkNodeNaming", () => {
  const cases: { name: string; given: NodeNamingInput; want: NodeNaming | FieldError[] }[] = [
    {
      name: "nothing given: defaults",
      given: {},
      want: { hostname: null, dns: { servers: [], search: [], options: [] }, extraHosts: {} },
    },
    {
      name: "everything given",
      given: {
        hostname: "Web-1.lab.example",
        dns: { servers: ["192.0.2.53"], search: ["lab.example"], options: ["ndots:2"] },
        extraHosts: ["db.lab:192.0.2.7", "host.docker.internal:host-gateway"],
      },
      want: {
        hostname: "Web-1.lab.example",
        dns: { servers: ["192.0.2.53"], search: ["lab.example"], options: ["ndots:2"] },
        extraHosts: { "db.lab": "192.0.2.7", "host.docker.internal": "host-gateway" },
      },
    },
    {
      name: "hostname label starting with a dash",
      given: { hostname: "-web" },
      want: [
        {
          location: "body.hostname",
          message: 'invalid hostname -web: label "-web" must start and end with a letter or digit',
        },
      ],
    },
    {
      name: "hostname label of 64",
      given: { hostname: `${"a".repeat(64)}.lab` },
      want: [
        {
          location: "body.hostname",
          message: `invalid hostname ${"a".repeat(64)}.lab: label "${"a".repeat(16)}..." is longer than 63 characters`,
        },
      ],
    },
    {
      name: "hostname with a double dot",
      given: { hostname: "web..lab" },
      want: [
        {
          location: "body.hostname",
          message: "invalid hostname web..lab: has an empty label (two dots, or a dot at either end)",
        },
      ],
    },
    {
      name: "bad and duplicate servers, bad search domain",
      given: { dns: { servers: ["192.0.2.1", "300.1.1.1", "192.0.2.1"], search: ["lab-.example"] } },
      want: [
        { location: "body.dns.servers[1]", message: "300.1.1.1 is not an IPv4 address" },
        { location: "body.dns.servers[2]", message: "192.0.2.1 is listed twice" },
        {
          location: "body.dns.search[0]",
          message:
            'invalid search domain lab-.example: label "lab-" must start and end with a letter or digit',
        },
      ],
    },
    {
      name: "extra hosts: no colon, bad address, bad name, duplicate name",
      given: { extraHosts: ["db", "db:1.2.3", "-x:192.0.2.1", "a:192.0.2.1", "A:192.0.2.2"] },
      want: [
        { location: "body.extraHosts[0]", message: "db is not name:address" },
        { location: "body.extraHosts[1]", message: "1.2.3 is not an IPv4 address or host-gateway" },
        {
          location: "body.extraHosts[2]",
          message: 'invalid host name -x: label "-x" must start and end with a letter or digit',
        },
        { location: "body.extraHosts[4]", message: "A is listed twice" },
      ],
    },
  ];
  it.each(cases)("$name", ({ given, want }) => {
    expect(check(given)).toEqual(want);
  });
});
