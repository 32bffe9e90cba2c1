import { addressInRanges } from "./address-range.ts";
import type { Trunk } from "./trunk.ts";

/**
 * The enabled trunks that allow calls from `address` (issue 5: "a request
 * from an address no trunk allows is refused"). Empty means refuse. For the
 * egress proxy, which sees the packet's source; a socket's IPv4-mapped
 * IPv6 address ("::ffff:192.0.2.1") matches IPv4 ranges.
 */
export function trunksForSource<T extends Pick<Trunk, "enabled" | "allowed_sources">>(trunks: readonly T[], address: string): T[] {
  return trunks.filter((t) => t.enabled && addressInRanges(address, t.allowed_sources));
}
