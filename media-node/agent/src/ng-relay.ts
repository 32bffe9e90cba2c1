import type { BencodeValue } from "./bencode.ts";
import { commandLabel, type AgentMetrics } from "./agent-metrics.ts";
import { NgUdpClosedError, NgUdpTimeoutError, type NgDict, type NgUdpChannel } from "./ng-udp-channel.ts";

/**
 * Relays one verified ng dictionary (JSON from the edge) to rtpengine and
 * returns the HTTP answer. rtpengine's own `result: error` is a 200 with its
 * JSON: the edge decides what an error means (failover on a capacity error,
 * PLATFORM.md "Choosing among RTPEngine nodes").
 */
export interface RelayAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The error-reason a draining node gives an offer for a call it does not hold. */
export const DRAINING_REASON = "Node is draining";

export class NgRelay {
  constructor(
    private readonly channel: NgUdpChannel,
    private readonly metrics: AgentMetrics,
    private readonly isDraining: () => boolean,
  ) {}

  async relay(json: unknown): Promise<RelayAnswer> {
    const dict = toNgDict(json);
    if (typeof dict === "string") return { status: 400, body: { error: "bad-request", reason: dict } };
    const command = commandLabel(dict.command);

    // A draining node keeps its calls and takes no new ones (ARCHITECTURE.md).
    // Every re-INVITE is an `offer` too (PITFALLS 10), so an offer for a call
    // rtpengine already holds goes through; one for an unknown call is refused
    // with a capacity-style error so the edge fails over to another node even
    // if its cached node list has not seen the drain yet.
    if (dict.command === "offer" && this.isDraining() && !(await this.holdsCall(dict["call-id"]))) {
      this.metrics.ngRequests.inc({ command, result: "draining" });
      return { status: 200, body: { result: "error", "error-reason": DRAINING_REASON } };
    }

    const started = performance.now();
    this.metrics.inFlight.set(this.channel.inFlight + 1);
    try {
      const reply = await this.channel.request(dict);
      this.metrics.ngLatency.observe((performance.now() - started) / 1000, { command });
      this.metrics.ngRequests.inc({ command, result: typeof reply.result === "string" ? reply.result.slice(0, 32) : "no-result" });
      return { status: 200, body: reply };
    } catch (err) {
      if (err instanceof NgUdpTimeoutError) {
        this.metrics.ngRequests.inc({ command, result: "timeout" });
        return { status: 504, body: { error: "rtpengine-timeout", reason: err.message } };
      }
      if (err instanceof NgUdpClosedError) {
        this.metrics.ngRequests.inc({ command, result: "closed" });
        return { status: 503, body: { error: "shutting-down", reason: err.message } };
      }
      this.metrics.ngRequests.inc({ command, result: "bad-reply" });
      return { status: 502, body: { error: "rtpengine-bad-reply", reason: (err as Error).message } };
    } finally {
      this.metrics.inFlight.set(this.channel.inFlight);
    }
  }

  private async holdsCall(callId: BencodeValue | undefined): Promise<boolean> {
    if (typeof callId !== "string") return false;
    try {
      const reply = await this.channel.request({ command: "query", "call-id": callId });
      return reply.result === "ok";
    } catch {
      return false;
    }
  }
}

const MAX_DEPTH = 16;

/** Checks that JSON is an ng dictionary bencode can carry; returns a reason if not. */
export function toNgDict(json: unknown): NgDict | string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "the body must be a JSON object (an ng dictionary)";
  const obj = json as Record<string, unknown>;
  if (typeof obj.command !== "string" || obj.command === "") return 'the ng dictionary needs a string "command"';
  const problem = check(obj, "", 0);
  return problem ?? (obj as NgDict);
}

function check(v: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} at ${path || "the top"}`;
  if (typeof v === "string") return undefined;
  if (typeof v === "number") return Number.isSafeInteger(v) ? undefined : `${path}: ng integers must be whole numbers`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = check(v[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof v === "object" && v !== null) {
    for (const [k, item] of Object.entries(v)) {
      const p = check(item, path ? `${path}.${k}` : k, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  return `${path}: ${v === null ? "null" : typeof v} has no ng (bencode) form; use strings, integers, lists and dictionaries`;
}
