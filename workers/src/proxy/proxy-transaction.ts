import type { Hop } from "./hop.ts";

/**
 * What the proxy remembers about one request it is proxying statefully
 * (RFC 3261 §16.2: a server transaction, its response context §16.7, and the
 * client transactions of its branches §16.6). It is a plain JSON-able record
 * kept in the ProxyStore, never only in memory: the DO may hibernate between
 * the INVITE and its 180, 200 or CANCEL (PLATFORM.md), and a new instance
 * must carry on from the store alone.
 */
export interface ProxyTransaction {
  /** Our own random id; every branch's Via branch parameter carries it (proxy-via.ts). */
  id: string;
  /**
   * The server transaction's match key (RFC 3261 §17.2.3): branch and sent-by
   * of the top Via of the request as received. A CANCEL carries the same
   * pair (§9.1), so this is how it finds the INVITE it cancels.
   */
  key: string;
  method: string;
  /**
   * `out`: our own user sent it from a flow (we are the caller's proxy);
   * `in`: it came from another DO for our user (we are the callee's proxy).
   */
  role: "out" | "in";
  /** Where the request came from: responses go back there (§16.7 step 9: the server transaction). */
  source: Hop;
  /** Loop-detection hash (§16.3 item 4, §16.6 item 8) carried in our branch parameters. */
  loop: string;
  /**
   * The request exactly as received (our own Route already popped), the
   * source of every response we build to it and of the CANCELs we send.
   * Written once on insert; `updateTransaction` never rewrites it.
   */
  request: string;
  /** The request carried a To tag: it belongs to a dialog (§12.2). */
  inDialog: boolean;
  createdAt: number;
  /** Status of the final response sent upstream, 0 while none (§16.7 step 10 forwards more 2xx after it). */
  finalStatus: number;
  /** Upstream gave up: a CANCEL matched (§16.10) or the source flow closed; no more branches. */
  canceled: boolean;
  branches: ClientBranch[];
  /**
   * The best final non-2xx response so far (§16.7 step 6), already in the
   * form sent upstream (our Via removed), with its status for comparison.
   */
  best: { status: number; text: string; synthesized: boolean } | null;
  /**
   * WWW-/Proxy-Authenticate values of every 401/407 received (§16.7 step 7):
   * they are merged into the chosen 401/407.
   */
  challenges: Array<[name: string, value: string]>;
  /** The media layer took this request's SDP offer (proxy-media.ts): its 18x/2xx with SDP are its answers. */
  media?: true;
  /** Its phone branches got the caller DO's plain-RTP offer (a mixed fork, proxy-media.ts): their responses are marked. */
  sipOffer?: true;
}

/**
 * One client transaction of the response context (§16.6 item 10, §17.1).
 * Over WebSocket flows and DO RPC everything is reliable, so there are no
 * retransmission timers: only Timer B/F (no answer at all), Timer C (§16.8)
 * and a final-answer timeout after we CANCEL (§9.1: 64*T1).
 */
export interface ClientBranch {
  /** Index in `branches`; part of the Via branch parameter. */
  n: number;
  target: Hop;
  /** Request-URI of the copy sent on this branch: a CANCEL must carry the same (§9.1). */
  requestUri: string;
  /**
   * calling: nothing heard yet; proceeding: a provisional response came
   * (§17.1.1.2); accepted: a 2xx to an INVITE came, and more 2xx from
   * further forks behind it are still forwarded until Timer M (RFC 6026
   * §7.2, 64*T1); completed: a final response came or was synthesized.
   */
  state: "calling" | "proceeding" | "accepted" | "completed";
  /** Last status seen on this branch, 0 if none. */
  status: number;
  /**
   * CANCEL of this branch: `wanted` waits for a provisional response first
   * (§9.1: a CANCEL must not be sent before one arrived), `sent` is out.
   */
  cancel: "no" | "wanted" | "sent";
  /** When this branch's timer fires (0: no timer): B, C, F, M or the post-CANCEL wait. */
  timerAt: number;
}

export function isInvite(tx: ProxyTransaction): boolean {
  return tx.method === "INVITE";
}

/** A branch that may still change the outcome (no final response yet). */
export function isPending(b: ClientBranch): boolean {
  return b.state === "calling" || b.state === "proceeding";
}
