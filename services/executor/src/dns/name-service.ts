import type { Logger } from "@labnet/log";
import {
  type DesiredHost,
  type HostResolvConf,
  type ResolverHost,
  renderResolverFiles,
} from "@labnet/netplan";
import type { ConvergeNames } from "../converge";
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
   * Brings the nodes' files in line with a converge's snapshot (`state`): writes every node's
   * resolv.conf and hosts where they changed and removes those of nodes that are gone. They
   * name no kernel object, so this runs beside the converge's kernel work. `verifyFiles`
   * compares every file with the disk again, not with what this process last wrote (drift
   * repair, on full reconciles).
   */
  writeFiles(state: ResolverHost, options?: { verifyFiles?: boolean }): Promise<void>;
  /**
   * Rebuilds the zone of the same snapshot and (re)binds the responder, once the converge has
   * applied `applied`: it listens only on bridges of `applied`, which exist by then.
   */
  serve(applied: DesiredHost, state: ResolverHost): Promise<void>;
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
  let upstream: Promise<HostResolvConf> | undefined;
  return {
    async writeFiles(state, syncOptions = {}) {
      if (syncOptions.verifyFiles === true) {
        files.written.clear();
      }
      upstream = readHostResolvConf(options.hostResolvConf);
      const rendered = renderResolverFiles(state, await upstream);
      await writeResolverFiles(rendered, files);
      await pruneResolverFiles(new Set(rendered.map((f) => f.netns)), files);
    },
    async serve(applied, state) {
      const built = new Set(applied.bridges.map((b) => b.networkId));
      const networks = state.networks.map((n) => (built.has(n.networkId) ? n : { ...n, dns: false }));
      // The servers the files of this converge were written with.
      const hostResolvConf = await (upstream ?? readHostResolvConf(options.hostResolvConf));
      await responder.update(buildDnsZone({ ...state, networks }, hostResolvConf));
    },
    listening: () => responder.listening(),
    close: () => responder.close(),
  };
}

/** A name service as a converge drives it: files beside the kernel work, the zone after it. */
export function convergeNames(names: NameService): ConvergeNames {
  return {
    files: (resolver, scope) => names.writeFiles(resolver, { verifyFiles: scope === "all" }),
    serve: (applied, resolver) => names.serve(applied, resolver),
  };
}
