// Trunks for the selection and routing tests: pure data built through the
// same input rules the admin API uses.
import { trunkFromInput } from "../../src/trunks/trunk-input.ts";
import type { TrunkRecord } from "../../src/trunks/trunk.ts";

export function trunk(id: string, fields: Record<string, unknown> = {}): TrunkRecord {
  return trunkFromInput({ id, egress: "local", gateways: [{ host: `${id}.example` }], ...fields }, "2026-05-01T10:00:00.000Z");
}

/** A repeatable random source: a fixed cycle of values in [0, 1). */
export function cycle(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** A seeded PRNG (mulberry32) for distribution checks that must not flake. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
