/**
 * What can honestly be checked of the `/docker/{machine}` facade's answers. They follow the Docker
 * Engine API, not openapi/labnet.yaml, and Labnet carries no copy of moby's document; what is
 * checked here are the facts a docker client depends on, written as small schemas of our own:
 * - every answer carries dockerd's `Api-Version`, `Ostype` and `Server` headers;
 * - an error is `application/json` `{"message": "<non-empty>"}` and nothing else, with a status
 *   dockerd's error classes use (the CLI decides behaviour by status: a 404 from create pulls);
 * - the answers Labnet produces in full (not streams) have the status the Engine API gives that
 *   call, and their bodies the field names and JSON types a Go client decodes them into (a
 *   string where an int64 is expected fails `docker` outright). Extra fields are allowed, as Go
 *   ignores them; streams (attach, exec start, wait, events) are not read.
 */
import type { ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import { checkJsonBody, mediaTypeOf } from "./answer-checks";

type Schema = Record<string, unknown>;

const str = { type: "string" };
const int = { type: "integer" };
const bool = { type: "boolean" };
const strings = { type: "array", items: str };
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: "null" }] });
const mapOf = (schema: Schema): Schema => ({ type: "object", additionalProperties: schema });
const object = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: "object",
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
  properties,
});

/**
 * Statuses of dockerd's error classes (invalid parameter, unauthorized, forbidden, not found,
 * conflict, system, not implemented, unavailable), and 429: Labnet's per-token rate limit, which
 * dockerd has no equivalent of.
 */
export const DOCKER_ERROR_STATUSES: readonly number[] = [400, 401, 403, 404, 409, 429, 500, 501, 503];

const ERROR = { ...object({ message: { type: "string", minLength: 1 } }), additionalProperties: false };

const ENDPOINT_SETTINGS = object(
  {
    NetworkID: str,
    EndpointID: str,
    Gateway: str,
    IPAddress: str,
    IPPrefixLen: int,
    MacAddress: str,
    Aliases: nullable(strings),
    DNSNames: nullable(strings),
  },
  ["Aliases", "DNSNames"],
);
const PORT_BINDING = object({ HostIp: str, HostPort: str });
const CONTAINER_STATES = ["created", "running", "paused", "restarting", "removing", "exited", "dead"];

const CONTAINER_SUMMARY = object({
  Id: str,
  Names: strings,
  Image: str,
  Command: str,
  Created: int,
  Ports: {
    type: "array",
    items: object({ IP: str, PrivatePort: int, PublicPort: int, Type: { enum: ["tcp", "udp", "sctp"] } }, [
      "IP",
      "PublicPort",
    ]),
  },
  Labels: mapOf(str),
  State: { enum: CONTAINER_STATES },
  Status: str,
  HostConfig: object({ NetworkMode: str }),
  NetworkSettings: object({ Networks: mapOf(ENDPOINT_SETTINGS) }),
});

const CONTAINER_INSPECT = object({
  Id: str,
  Created: str,
  Path: str,
  Args: strings,
  State: object({
    Status: { enum: CONTAINER_STATES },
    Running: bool,
    Paused: bool,
    Restarting: bool,
    OOMKilled: bool,
    Dead: bool,
    Pid: int,
    ExitCode: int,
    Error: str,
    StartedAt: str,
    FinishedAt: str,
  }),
  Name: { type: "string", pattern: "^/" },
  RestartCount: int,
  HostConfig: object({
    NetworkMode: str,
    PortBindings: mapOf(nullable({ type: "array", items: PORT_BINDING })),
    AutoRemove: bool,
    PublishAllPorts: bool,
    Dns: nullable(strings),
    DnsSearch: nullable(strings),
    DnsOptions: nullable(strings),
    ExtraHosts: nullable(strings),
  }),
  Config: object(
    {
      Hostname: str,
      Tty: bool,
      OpenStdin: bool,
      Cmd: nullable(strings),
      Image: str,
      Labels: nullable(mapOf(str)),
      ExposedPorts: mapOf({ type: "object" }),
    },
    ["ExposedPorts"],
  ),
  NetworkSettings: object({
    SandboxKey: str,
    Ports: mapOf(nullable({ type: "array", items: PORT_BINDING })),
    Networks: mapOf(ENDPOINT_SETTINGS),
  }),
});

const NETWORK = object({
  Name: str,
  Id: str,
  Created: str,
  Scope: { enum: ["local", "global", "swarm"] },
  Driver: str,
  EnableIPv6: bool,
  IPAM: object({
    Driver: str,
    Options: nullable(mapOf(str)),
    Config: nullable({
      type: "array",
      items: object({ Subnet: str, Gateway: str, IPRange: str, AuxiliaryAddresses: mapOf(str) }, [
        "Gateway",
        "IPRange",
        "AuxiliaryAddresses",
      ]),
    }),
  }),
  Internal: bool,
  Attachable: bool,
  Ingress: bool,
  Containers: mapOf(
    object({ Name: str, EndpointID: str, MacAddress: str, IPv4Address: str, IPv6Address: str }),
  ),
  Options: mapOf(str),
  Labels: mapOf(str),
});

const VERSION = object({
  Version: str,
  ApiVersion: str,
  MinAPIVersion: str,
  Os: str,
  Arch: str,
  Components: { type: "array", items: object({ Name: str, Version: str }) },
});

const INFO = object({
  ID: str,
  Containers: int,
  ContainersRunning: int,
  ContainersPaused: int,
  ContainersStopped: int,
  Images: int,
  Name: str,
  ServerVersion: str,
  OSType: str,
  Architecture: str,
  NCPU: int,
  MemTotal: int,
  Labels: nullable(strings),
});

const EXEC_INSPECT = object({
  ID: str,
  Running: bool,
  ExitCode: nullable(int),
  ContainerID: str,
  Pid: int,
  ProcessConfig: object({ entrypoint: str, arguments: strings, tty: bool }),
});

/** What one call answers when it succeeds. */
type Expected =
  | { statuses: number[]; json: Schema }
  | { statuses: number[]; text: string }
  | { statuses: number[]; empty: true }
  | { stream: true };

const ID = "[^/]+";
/** The calls of the facade, by method and path below `/docker/{machine}[/vX.Y]`. */
const CALLS: [string, RegExp, Expected][] = [
  ["GET", /^\/_ping$/, { statuses: [200], text: "OK" }],
  ["GET", /^\/version$/, { statuses: [200], json: VERSION }],
  ["GET", /^\/info$/, { statuses: [200], json: INFO }],
  ["GET", /^\/images\/json$/, { statuses: [200], json: { type: "array" } }],
  ["GET", /^\/networks$/, { statuses: [200], json: { type: "array", items: NETWORK } }],
  ["POST", /^\/networks\/create$/, { statuses: [201], json: object({ Id: str, Warning: str }) }],
  ["POST", /^\/networks\/prune$/, { statuses: [200], json: object({ NetworksDeleted: nullable(strings) }) }],
  ["GET", new RegExp(`^/networks/${ID}$`), { statuses: [200], json: NETWORK }],
  ["DELETE", new RegExp(`^/networks/${ID}$`), { statuses: [204], empty: true }],
  ["POST", new RegExp(`^/networks/${ID}/(connect|disconnect)$`), { statuses: [200], empty: true }],
  ["GET", /^\/containers\/json$/, { statuses: [200], json: { type: "array", items: CONTAINER_SUMMARY } }],
  [
    "POST",
    /^\/containers\/create$/,
    { statuses: [201], json: object({ Id: str, Warnings: nullable(strings) }) },
  ],
  ["GET", new RegExp(`^/containers/${ID}/json$`), { statuses: [200], json: CONTAINER_INSPECT }],
  // 304: already started, as dockerd answers.
  ["POST", new RegExp(`^/containers/${ID}/start$`), { statuses: [204, 304], empty: true }],
  ["POST", new RegExp(`^/containers/${ID}/rename$`), { statuses: [204], empty: true }],
  ["DELETE", new RegExp(`^/containers/${ID}$`), { statuses: [204], empty: true }],
  ["POST", new RegExp(`^/containers/${ID}/exec$`), { statuses: [201], json: object({ Id: str }) }],
  ["GET", new RegExp(`^/exec/${ID}/json$`), { statuses: [200], json: EXEC_INSPECT }],
  ["POST", new RegExp(`^/(containers|exec)/${ID}/resize$`), { statuses: [200], empty: true }],
  ["POST", new RegExp(`^/containers/${ID}/(attach|wait)$`), { stream: true }],
  ["POST", new RegExp(`^/exec/${ID}/start$`), { stream: true }],
  ["GET", /^\/events$/, { stream: true }],
];

/** `/docker/m1/v1.47/containers/json` → `/containers/json`; undefined outside the facade. */
const FACADE_PATH = /^\/docker\/[^/]+(?:\/v\d+\.\d+)?(\/.*)?$/;
/** Where a docker client pointed at the gateway itself calls: it is told, as a dockerd 404, where to go. */
const HINT_PATH = /^\/(_ping$|v\d+\.\d+\/)/;

/**
 * Checks one answer of the facade (see the file's comment); resolves with what does not conform.
 * The hints at the gateway's own `/_ping` and `/vX.Y/...` are dockerd errors too. `undefined` for
 * any other path.
 */
export function createDockerResponseValidator(): (
  request: Request,
  response: Response,
) => Promise<string[]> | undefined {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const compiled = new Map<Schema, ValidateFunction>();
  const compile = (schema: Schema): ValidateFunction => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(schema, validate);
    }
    return validate;
  };
  const checkJson = async (response: Response, schema: Schema, what: string): Promise<string[]> => {
    if (mediaTypeOf(response.headers.get("content-type")) !== "application/json") {
      return [
        `${what}: content type ${response.headers.get("content-type") ?? "(none)"}, want application/json`,
      ];
    }
    const validate = compile(schema);
    return checkJsonBody(
      response,
      (body) => ({ ok: validate(body), errors: validate.errors }),
      what,
      "the body does not match",
    );
  };

  return (request, response) => {
    const url = new URL(request.url);
    const facade = FACADE_PATH.exec(url.pathname);
    const hint = !facade && HINT_PATH.test(url.pathname);
    if (!facade && !hint) {
      return undefined;
    }
    if (request.method === "HEAD" || response.status === 101) {
      return Promise.resolve([]);
    }
    const path = facade ? (facade[1] ?? "/") : url.pathname;
    const what = `docker ${request.method} ${path} answered ${response.status}`;
    return (async () => {
      const mismatches: string[] = [];
      for (const name of ["Api-Version", "Ostype", "Server"]) {
        if (!response.headers.get(name)) {
          mismatches.push(`${what}: header ${name} is missing`);
        }
      }
      if (response.status >= 400) {
        if (!DOCKER_ERROR_STATUSES.includes(response.status)) {
          mismatches.push(`${what}: dockerd answers no error with this status`);
        }
        mismatches.push(...(await checkJson(response, ERROR, what)));
        return mismatches;
      }
      if (hint) {
        return [
          ...mismatches,
          `${what}: outside /docker/{machine} the gateway only says where the Engine API is (404)`,
        ];
      }
      const expected = CALLS.find(
        ([method, pattern]) => method === request.method && pattern.test(path),
      )?.[2];
      if (!expected) {
        return [...mismatches, `${what}: the facade has no such call (it answers 404 to unknown paths)`];
      }
      if ("stream" in expected) {
        return mismatches;
      }
      if (!expected.statuses.includes(response.status)) {
        return [...mismatches, `${what}: the Engine API answers this call ${expected.statuses.join(" or ")}`];
      }
      if ("json" in expected) {
        mismatches.push(...(await checkJson(response, expected.json, what)));
      } else if ("text" in expected) {
        const text = await response.clone().text();
        if (text !== expected.text) {
          mismatches.push(
            `${what}: the body is ${JSON.stringify(text.slice(0, 100))}, want ${expected.text}`,
          );
        }
      } else if (response.body !== null && (await response.clone().text()) !== "") {
        mismatches.push(`${what}: this call answers no body, but one came`);
      }
      return mismatches;
    })();
  };
}
