import { logEvent, type LogFields } from "../log.ts";
import { SipError } from "../sip-error.ts";
import type { MediaNode } from "./media-node-record.ts";
import { NgAuthError, NgCapacityError, NgError, NgTimeoutError } from "./ng-errors.ts";
import type { NodePenalties, PenaltyKind } from "./node-penalties.ts";
import type { SkippedNode } from "./node-selection.ts";

/**
 * Tries a new call's first ng command (`offer`) on the candidates in order,
 * as Kamailio's and OpenSIPS' rtpengine modules do (PLATFORM.md "Choosing
 * among RTPEngine nodes"; PITFALLS 25): an error the ng client marks
 * `failover` (a timeout, an unreachable agent, a capacity error) penalises
 * that node and moves on; any other error (rtpengine refused this SDP) fails
 * the call at once, since another node would refuse it too. At most
 * `maxAttempts` nodes per call (Kamailio caps it too), so a caller never
 * waits for a whole fleet of timeouts.
 *
 * Only for the command that *chooses* the node. Every later command of the
 * call (answer, re-offer, delete) goes to the node stored with the dialog,
 * never through here (ARCHITECTURE.md "Who owns media").
 */
export interface NodeFailure {
  nodeId: string;
  region: string;
  kind: PenaltyKind;
  error: string;
}

export interface FailoverOptions {
  penalties: NodePenalties;
  now?: () => number;
  /** Nodes tried at most per call; default 3. */
  maxAttempts?: number;
  /** Nodes the ranking left out, for the NoMediaNodeError report. */
  skipped?: readonly SkippedNode[];
  log?: (event: string, fields: LogFields, level: "info" | "warn" | "error") => void;
}

export interface Served<T> {
  node: MediaNode;
  value: T;
  /** The nodes that failed before `node` served. */
  failures: NodeFailure[];
}

export const DEFAULT_MAX_ATTEMPTS = 3;

/** Retry-After when no node is live at all: an operator has to act, do not hammer. */
const RETRY_AFTER_NO_NODES_S = 30;

/**
 * No media node could take the call: the caller answers 503 with
 * Retry-After (RFC 3261 §21.5.4). `why` (log only) says what was tried and
 * skipped.
 */
export class NoMediaNodeError extends SipError {
  override name = "NoMediaNodeError";
  constructor(
    readonly retryAfterS: number,
    readonly failures: readonly NodeFailure[],
    readonly skipped: readonly SkippedNode[],
    why: string,
  ) {
    super(503, "No Media Node Available", [["Retry-After", String(retryAfterS)]], why);
  }
}

/** How long to skip a node after `err`, or undefined when another node would not help. */
export function penaltyKindOf(err: unknown): PenaltyKind | undefined {
  if (!(err instanceof NgError) || !err.failover) return undefined;
  if (err instanceof NgCapacityError) return "capacity";
  if (err instanceof NgTimeoutError) return "timeout";
  return "unreachable";
}

export async function withMediaNode<T>(
  candidates: readonly MediaNode[],
  attempt: (node: MediaNode) => Promise<T>,
  options: FailoverOptions,
): Promise<Served<T>> {
  const now = options.now ?? Date.now;
  const log = options.log ?? logEvent;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const failures: NodeFailure[] = [];
  for (const node of candidates.slice(0, maxAttempts)) {
    try {
      const value = await attempt(node);
      options.penalties.clear(node.id);
      return { node, value, failures };
    } catch (err) {
      const kind = penaltyKindOf(err);
      if (kind === undefined) throw err;
      const message = (err as Error).message;
      const penalty = options.penalties.penalise(node.id, kind, now(), message);
      failures.push({ nodeId: node.id, region: node.region, kind, error: message });
      // A refused signature is our configuration, not the node's health: say so loudly.
      const level = err instanceof NgAuthError ? "error" : "warn";
      log("media-node-failover", { node: node.id, region: node.region, kind, error: message, skipped_for_ms: penalty.until - now() }, level);
    }
  }
  throw noMediaNode(candidates, failures, options.skipped ?? [], options.penalties, now(), log);
}

function noMediaNode(
  candidates: readonly MediaNode[],
  failures: NodeFailure[],
  skipped: readonly SkippedNode[],
  penalties: NodePenalties,
  now: number,
  log: NonNullable<FailoverOptions["log"]>,
): NoMediaNodeError {
  // Retry when the first of these nodes' penalties ends: it may serve again then.
  const held = new Set([...failures.map((f) => f.nodeId), ...skipped.filter((s) => s.reason === "penalised").map((s) => s.id)]);
  const soonest = Math.min(...penalties.active(now).filter((p) => held.has(p.nodeId)).map((p) => p.until));
  const retryAfterS = Number.isFinite(soonest) ? Math.min(60, Math.max(1, Math.ceil((soonest - now) / 1000))) : RETRY_AFTER_NO_NODES_S;
  const why =
    candidates.length === 0 && skipped.length === 0
      ? "no media node in media_nodes"
      : [
          failures.length > 0 ? `failed: ${failures.map((f) => `${f.nodeId} (${f.kind}: ${f.error})`).join("; ")}` : "",
          skipped.length > 0 ? `skipped: ${skipped.map((s) => `${s.id} (${s.reason})`).join(", ")}` : "",
          candidates.length > failures.length ? `not tried: ${candidates.length - failures.length} (attempt cap)` : "",
        ]
          .filter((s) => s !== "")
          .join(" · ") || "no usable media node";
  log("media-node-none", { why, retry_after_s: retryAfterS, tried: failures.length, skipped: skipped.length }, "error");
  return new NoMediaNodeError(retryAfterS, failures, skipped, why);
}
