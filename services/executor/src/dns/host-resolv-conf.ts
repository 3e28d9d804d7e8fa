import { readFile } from "node:fs/promises";
import { type HostResolvConf, parseResolvConf } from "@labnet/netplan";

/** The host's resolver configuration, unless LABNET_HOST_RESOLV_CONF names another file. */
export const HOST_RESOLV_CONF = "/etc/resolv.conf";
/** Where systemd-resolved lists its upstream servers when /etc/resolv.conf only names its stub. */
const SYSTEMD_RESOLVED_UPSTREAMS = "/run/systemd/resolve/resolv.conf";

/**
 * Reads the host's resolvers (loopback ones dropped: they mean nothing inside a node). When
 * the default file names only a local stub (systemd-resolved's 127.0.0.53), its upstream list
 * is used instead, as Docker does. A missing file means no resolvers.
 */
export async function readHostResolvConf(file = HOST_RESOLV_CONF): Promise<HostResolvConf> {
  const parsed = parseResolvConf(await readFile(file, "utf8").catch(() => ""));
  if (parsed.nameservers.length > 0 || file !== HOST_RESOLV_CONF) {
    return parsed;
  }
  const upstream = parseResolvConf(await readFile(SYSTEMD_RESOLVED_UPSTREAMS, "utf8").catch(() => ""));
  return upstream.nameservers.length > 0 ? upstream : parsed;
}
