import type { Logger } from "@labnet/log";
import { type DesiredHost, type ResolverHost, renderResolverFiles } from "@labnet/netplan";
import { pruneResolverFiles, writeResolverFiles } from "../kernel/etc-netns";
import { createForwarder } from "./forward";
import { readHostResolvConf } from "./host-resolv-conf";
import { createDnsResponder } from "./responder";
import type { SocketBinder } from "./sockets";
import { buildDnsZone } from "./zone";

export interface NameServiceOptions {
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
  /** Where the responder's sockets come from (a virtual machine's namespace); default this process's. */
  sockets?: SocketBinder;
}

/** Name resolution of one host: the nodes' resolver files and the DNS responder. */
export interface NameService {
  /**
   * Brings both in line with a converge's snapshot (`state`, from the same snapshot as
   * `applied`): writes every node's resolv.conf and hosts where they changed, removes those of
   * nodes that are gone, rebuilds the zone and (re)binds the responder. Called after every
   * converge, so names follow whatever the converge just built or removed; the responder
   * listens only on bridges of `applied`. `verifyFiles` compares every file with the disk
   * again, not with what this process last wrote (drift repair, on full reconciles).
   */
  sync(applied: DesiredHost, state: ResolverHost, options?: { verifyFiles?: boolean }): Promise<void>;
  /** Addresses the responder listens on. */
  listening(): string[];
  close(): Promise<void>;
}

export function createNameService(options: NameServiceOptions): NameService {
  const responder = createDnsResponder({
    log: options.log,
    forward: createForwarder({ timeoutMs: options.forwardTimeoutMs }),
    ...(options.dnsPort !== undefined ? { port: options.dnsPort } : {}),
    ...(options.sockets ? { sockets: options.sockets } : {}),
  });
  const files = {
    netnsPrefix: options.netnsPrefix,
    ...(options.etcNetnsDir !== undefined ? { dir: options.etcNetnsDir } : {}),
    // What this process last wrote: unchanged files are not read again on every converge.
    written: new Map<string, string>(),
  };
  return {
    async sync(applied, state, syncOptions = {}) {
      if (syncOptions.verifyFiles === true) {
        files.written.clear();
      }
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
