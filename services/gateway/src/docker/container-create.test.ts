import { describe, expect, it } from "vitest";
import { nodeCreationOf } from "./container-create";

const HOST = "hst_aaaaaaaaaaaaaaaa";

describe("nodeCreationOf", () => {
  const cases: { name: string; given: unknown; want: Record<string, unknown> }[] = [
    {
      name: "no network mode: the default bridge",
      given: { Image: "busybox" },
      want: { networkMode: "bridge" },
    },
    {
      name: "default, with its endpoint keyed default (-p without --network)",
      given: {
        HostConfig: { NetworkMode: "default" },
        NetworkingConfig: { EndpointsConfig: { default: {} } },
      },
      want: { networkMode: "bridge" },
    },
    { name: "--net=none", given: { HostConfig: { NetworkMode: "none" } }, want: { networkMode: "none" } },
    {
      name: "--net=container:web",
      given: { HostConfig: { NetworkMode: "container:web" } },
      want: { networkMode: "container:web" },
    },
    {
      name: "--network my-net --ip --network-alias, then a second network",
      given: {
        HostConfig: { NetworkMode: "my-net" },
        NetworkingConfig: {
          EndpointsConfig: {
            app: {},
            "my-net": { IPAMConfig: { IPv4Address: "172.18.0.10" }, Aliases: ["db"] },
          },
        },
      },
      want: {
        networks: [{ network: "my-net", ipv4Address: "172.18.0.10", aliases: ["db"] }, { network: "app" }],
      },
    },
    {
      name: "every -p form as PortBindings, --expose, -P",
      given: {
        ExposedPorts: { "80/tcp": {}, "53/udp": {} },
        HostConfig: {
          PortBindings: {
            "80/tcp": [
              { HostIp: "", HostPort: "8080" },
              { HostIp: "127.0.0.1", HostPort: "" },
            ],
            "53/udp": [{ HostIp: "", HostPort: "5353" }],
            "8000/tcp": [{ HostIp: "", HostPort: "9000-9010" }],
          },
          PublishAllPorts: true,
        },
      },
      want: {
        ports: [
          { containerPort: "80", protocol: "tcp", hostPort: "8080" },
          { containerPort: "80", protocol: "tcp", hostIp: "127.0.0.1" },
          { containerPort: "53", protocol: "udp", hostPort: "5353" },
          { containerPort: "8000", protocol: "tcp", hostPort: "9000-9010" },
        ],
        exposedPorts: ["80/tcp", "53/udp"],
        publishAll: true,
      },
    },
    {
      name: "--dns, --dns-search, --dns-option, --add-host, --hostname",
      given: {
        Hostname: "web1",
        HostConfig: {
          Dns: ["192.0.2.53"],
          DnsSearch: ["lab.example"],
          DnsOptions: ["ndots:2"],
          ExtraHosts: ["db:192.0.2.7"],
        },
      },
      want: {
        hostname: "web1",
        dns: { servers: ["192.0.2.53"], search: ["lab.example"], options: ["ndots:2"] },
        extraHosts: ["db:192.0.2.7"],
      },
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      expect(nodeCreationOf(given, "web", HOST).input).toMatchObject({ name: "web", host: HOST, ...want });
    });
  }

  it("records image, command (entrypoint first) and attach settings in its own labels, over the client's", () => {
    const { input } = nodeCreationOf(
      {
        Image: "centos:7",
        Entrypoint: ["/bin/sh", "-c"],
        Cmd: ["sleep 1"],
        Tty: true,
        OpenStdin: true,
        Labels: { tier: "web", "labnet.docker.image": "forged" },
        HostConfig: { AutoRemove: true },
      },
      "web",
      HOST,
    );
    expect(input.labels).toEqual({
      tier: "web",
      "labnet.docker.image": "centos:7",
      "labnet.docker.command": '["/bin/sh","-c","sleep 1"]',
      "labnet.docker.auto-remove": "true",
      "labnet.docker.tty": "true",
      "labnet.docker.open-stdin": "true",
    });
  });

  it("warns about volumes, refuses a MAC, --link and networks in mode host", () => {
    expect(nodeCreationOf({ HostConfig: { Binds: ["/a:/b"] } }, "web", HOST).warnings).toHaveLength(1);
    for (const given of [
      { MacAddress: "02:00:00:00:00:01" },
      {
        HostConfig: { NetworkMode: "my-net" },
        NetworkingConfig: { EndpointsConfig: { "my-net": { MacAddress: "02:00:00:00:00:01" } } },
      },
      { HostConfig: { Links: ["db:db"] } },
      { HostConfig: { NetworkMode: "host" }, NetworkingConfig: { EndpointsConfig: { app: {} } } },
      { Cmd: 5 },
    ]) {
      expect(() => nodeCreationOf(given, "web", HOST)).toThrow();
    }
  });
});
