import type { Db } from "@labnet/db";
import type { Logger } from "@labnet/log";
import { type DesiredHost, renderResolverFiles } from "@labnet/netplan";
import { pruneResolverFiles, writeResolverFiles } from "../kernel/etc-netns";
import { createForwarder } from "./forward";
import { readHostResolvConf } from "./host-resolv-conf";
import { loadResolverState } from "./load-resolver-state";
import { createDnsResponder } from "./responder";
import { buildDnsZone } from "./zone";

export interface NameServiceOptions {
  db: Db;
  hostId: string;
  netnsPrefix: string;
  log: Logger;
  /** The host's resolv.conf (its servers are where unknown names go). */
  hostResolvConf: string;
  /** How long an upstream server gets per forwarded query. */
  forwardTimeoutMs: number;
  /** Default /etc/netns. */
  etcNetnsDir?: string;
  /** Default 53. */
  dnsPort?: number;
}

/** Name resolution of one host: the nodes' resolver files and the DNS responder. */
export interface NameService {
  /**
   * Brings both in line with Postgres: writes every node's resolv.conf and hosts, removes
   * those of nodes that are gone, rebuilds the zone and (re)binds the responder. Called after
   * every converge, so names follow whatever the converge just built or removed; the
   * responder listens only on bridges of `applied` (a network recorded since that converge
   * loaded its state has no bridge yet: the next converge brings it).
   */
  sync(applied: DesiredHost): Promise<void>;
  /** Addresses the responder listens on. */
  listening(): string[];
  close(): Promise<void>;
}

export function createNameService(options: NameServiceOptions): NameService {
  const responder = createDnsResponder({
    log: options.log,
    forward: createForwarder({ timeoutMs: options.forwardTimeoutMs }),
    ...(options.dnsPort !== undefined ? { port: options.dnsPort } : {}),
  });
  const files = {
    netnsPrefix: options.netnsPrefix,
    ...(options.etcNetnsDir !== undefined ? { dir: options.etcNetnsDir } : {}),
  };
  return {
    async sync(applied) {
      const { state } = await loadResolverState(options.db, options.hostId);
      const hostResolvConf = await readHostResolvConf(options.hostResolvConf);
      const rendered = renderResolverFiles(state, hostResolvConf);
      await writeResolverFiles(rendered, files);
      await pruneResolverFiles(new Set(rendered.map((f) => f.netns)), files);
      const built = new Set(applied.bridges.map((b) => b.networkId));
      const networks = state.networks.map((n) => (built.has(n.networkId) ? n : { ...n, dns: false }));
      await responder.update(buildDnsZone({ ...state, networks }, hostResolvConf));
    },
    listening: () => responder.listening(),
    close: () => responder.close(),
  };
}
