import { longestPrefix } from "./e164.ts";
import { gatewayIsLive, type Gateway, type TrunkRecord } from "./trunk.ts";

/** One place to send a call: a trunk (its egress link) and a gateway of it. */
export interface RouteCandidate {
  trunk: TrunkRecord;
  gateway: Gateway;
  /** The trunk prefix that matched ("" for a default route). */
  prefix: string;
}

export interface RouteSelectionOptions {
  /** Uniform in [0, 1); Math.random by default. Injected in tests. */
  random?: () => number;
  /** Whether a gateway is usable; default: the trunk's stored status (trunk.ts gatewayIsLive), no report = up. */
  isGatewayLive?: (trunk: TrunkRecord, gateway: Gateway) => boolean;
}

/**
 * Where a call to `number` (E.164) may go, best first: the failover order
 * (issue 5: "a trunk chosen by prefix, longest match, then priority/weight").
 *
 *  1. only enabled trunks, only their live gateways, and a trunk with no
 *     live gateway not at all;
 *  2. the longest matching trunk prefix first ("+4420" before "+44" before
 *     the default route ""), so a more specific trunk wins and a shorter
 *     match is the fallback;
 *  3. among gateways of equally long matches (of one trunk or several):
 *     lowest priority first, and equal priorities in a random order weighted
 *     by `weight`, as DNS SRV (RFC 2782, the "Usage rules"; RFC 3263 §4.4).
 *
 * Empty when nothing can carry the number.
 */
export function selectRoutes(trunks: readonly TrunkRecord[], number: string, options: RouteSelectionOptions = {}): RouteCandidate[] {
  const random = options.random ?? Math.random;
  const live = options.isGatewayLive ?? ((t: TrunkRecord, g: Gateway) => gatewayIsLive(t.status, g));
  const byLength = new Map<number, RouteCandidate[]>();
  for (const trunk of trunks) {
    if (!trunk.enabled) continue;
    const prefix = longestPrefix(number, trunk.prefixes);
    if (prefix === undefined) continue;
    for (const gateway of trunk.gateways) {
      if (!live(trunk, gateway)) continue;
      const group = byLength.get(prefix.length) ?? [];
      group.push({ trunk, gateway, prefix });
      byLength.set(prefix.length, group);
    }
  }
  const out: RouteCandidate[] = [];
  for (const length of [...byLength.keys()].sort((a, b) => b - a)) {
    out.push(...srvOrder(byLength.get(length)!, (c) => c.gateway, random));
  }
  return out;
}

/** The trunks of `routes` in first-seen order: which EgressLink to try first, then next. */
export function trunksInOrder(routes: readonly RouteCandidate[]): TrunkRecord[] {
  const out: TrunkRecord[] = [];
  for (const r of routes) if (!out.includes(r.trunk)) out.push(r.trunk);
  return out;
}

/** A trunk's gateways in the order to try them (for the egress's failover within one trunk). */
export function orderGateways(gateways: readonly Gateway[], random: () => number = Math.random): Gateway[] {
  return srvOrder(gateways, (g) => g, random);
}

/**
 * RFC 2782 ordering: ascending priority; within one priority, repeatedly
 * pick at random with probability weight/sum of the remaining weights.
 * Weight-0 entries come after the weighted ones of their priority (RFC 2782
 * gives them "a very small chance"; we make it none while another is left,
 * which is predictable), in random order among themselves.
 */
function srvOrder<T>(items: readonly T[], gatewayOf: (item: T) => Pick<Gateway, "priority" | "weight">, random: () => number): T[] {
  const priorities = [...new Set(items.map((i) => gatewayOf(i).priority))].sort((a, b) => a - b);
  const out: T[] = [];
  for (const priority of priorities) {
    const left = items.filter((i) => gatewayOf(i).priority === priority);
    while (left.length > 0) {
      const total = left.reduce((sum, i) => sum + gatewayOf(i).weight, 0);
      let index: number;
      if (total === 0) {
        index = Math.min(left.length - 1, Math.floor(random() * left.length));
      } else {
        const r = random() * total;
        let running = 0;
        index = left.length - 1;
        for (let k = 0; k < left.length; k++) {
          running += gatewayOf(left[k]!).weight;
          if (running > r) {
            index = k;
            break;
          }
        }
        // Never land on a weight-0 entry while weighted ones remain (floating point at the top end).
        if (gatewayOf(left[index]!).weight === 0) index = left.findIndex((i) => gatewayOf(i).weight > 0);
      }
      out.push(left.splice(index, 1)[0]!);
    }
  }
  return out;
}

