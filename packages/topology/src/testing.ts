import type { TopologyInput, TopologyMachine, TopologyNetwork, TopologyNode } from "./model";

/**
 * Records of sample topologies for tests: one student's machine (`bdc01` on a LAN) with
 * `networks` bridge networks and `nodes` nodes spread over them, some with published ports,
 * and optionally `instances` of it, one group each (a whole lab).
 */
export function sampleInstance(options: {
  student: string;
  nodes: number;
  networks?: number;
  group?: string;
  names?: { machine?: string; network?: string; node?: string };
}): Pick<TopologyInput, "machines" | "networks" | "nodes"> {
  const { student } = options;
  const machineId = `hst_${student}`;
  const machine: TopologyMachine = {
    id: machineId,
    name: `${student}-${options.names?.machine ?? "bdc01"}`,
    hostname: options.names?.machine ?? "bdc01",
    kind: "virtual",
    lan: { id: `lan_${student}`, name: `${student}-lan`, subnet: "10.0.0.0/24", address: "10.0.0.11" },
    group: options.group,
  };
  const count = options.networks ?? 3;
  const networks: TopologyNetwork[] = [
    { id: `${machineId}_bridge`, name: "bridge", driver: "bridge", subnets: ["172.17.0.0/16"], machineId },
    ...Array.from({ length: count - 1 }, (_, i) => ({
      id: `${machineId}_net${i}`,
      name: i === 0 && options.names?.network ? options.names.network : `net${i + 1}`,
      driver: "bridge",
      subnets: [`172.${18 + i}.0.0/16`],
      machineId,
    })),
  ];
  const nodes: TopologyNode[] = Array.from({ length: options.nodes }, (_, i) => {
    const network = networks[1 + (i % Math.max(1, count - 1))] ?? networks[0];
    const second = i % 5 === 0 ? networks[1 + ((i + 1) % Math.max(1, count - 1))] : undefined;
    const octet = network?.subnets[0]?.split(".")[1] ?? "17";
    return {
      id: `${machineId}_node${i}`,
      name: i === 0 && options.names?.node ? options.names.node : `node${String(i + 1).padStart(2, "0")}`,
      machineId,
      interfaces: [
        {
          name: "eth0",
          networkId: network?.id ?? "",
          networkName: network?.name ?? "",
          address: `172.${octet}.0.${i + 2}`,
        },
        ...(second && second !== network
          ? [
              {
                name: "eth1",
                networkId: second.id,
                networkName: second.name,
                address: `172.${second.subnets[0]?.split(".")[1]}.1.${i + 2}`,
              },
            ]
          : []),
      ],
      ports:
        i % 7 === 0
          ? [{ protocol: "tcp", containerPort: 80, hostPort: 8080 + i, externalPort: 32768 + i }]
          : [],
    };
  });
  return { machines: [machine], networks, nodes };
}

/** A whole lab: `students` instances of {@link sampleInstance}, each a group. */
export function sampleLab(students: number, nodesPerInstance = 2): TopologyInput {
  const input: TopologyInput = {
    title: "Lab net101",
    subtitle: ["builtin:seed-001-ex2 v1"],
    groups: [],
    machines: [],
    networks: [],
    nodes: [],
  };
  for (let i = 1; i <= students; i++) {
    const student = `s${String(i).padStart(2, "0")}`;
    const part = sampleInstance({ student, nodes: nodesPerInstance, group: `lin_${student}` });
    input.groups?.push({ id: `lin_${student}`, label: `instance ${student}` });
    input.machines.push(...part.machines);
    input.networks.push(...part.networks);
    input.nodes.push(...part.nodes);
  }
  return input;
}
