import { SipUri, TelUri, type SipRequest, type SipResponse, type Uri } from "sip-parser-ts";
import type { CdrRecord } from "../directory/cdrs.ts";
import type { LogFields } from "../log.ts";
import { SIP_BRANCH_ANSWER_HEADER, SIP_BRANCH_OFFER_HEADER, type Hop, type ProxyMedia } from "../proxy/index.ts";
import { base64urlEncode } from "../proxy/base64url.ts";
import { egressLinkOf } from "../proxy/egress-hop.ts";
import { isPathFlow } from "../proxy/path-flow.ts";
import { aorOfUri } from "../proxy/uri-aor.ts";
import { SipError } from "../sip-error.ts";
import { callQualityOf, type CallQuality } from "./call-quality.ts";
import type { MediaNode } from "./media-node-record.ts";
import type { MediaSession, MediaSessionStore } from "./media-session.ts";
import type { GeoPoint } from "./media-regions.ts";
import type { NgDict, NgReply } from "./ng-client.ts";
import { NgError } from "./ng-errors.ts";
import type { Served } from "./node-failover.ts";
import { answerCommand, deleteCommand, fixupSdp, offerCommand, DEFAULT_INTERFACES, type MediaInterfaces, type MediaLeg } from "./profiles.ts";

/** What CallMedia needs from the DO around it. */
export interface CallMediaDeps {
  sessions: MediaSessionStore;
  /** Chooses a node near `location` and runs the call's first `offer` on it, failing over (media-node-pool.ts). */
  place(location: GeoPoint | undefined, attempt: (node: MediaNode) => Promise<NgReply>): Promise<Served<NgReply>>;
  /** The ng channel to a node's agent (ng-client.ts), by its `ng_url`. */
  ng(url: string): { request(command: string, dict: NgDict): Promise<NgReply> };
  /** Where the browser on one of this DO's flows is (its upgrade's `request.cf`). */
  locationOf(flowId: string): GeoPoint | undefined;
  /**
   * What a user answers on now (its DO's live registrations): only legacy
   * phones → a call to it is anchored for SIP; browsers and phones → for
   * both (one offer per kind, proxy-media.ts).
   */
  answerKinds?(aor: string): Promise<AnswerKinds>;
  cdrs: { put(record: CdrRecord): Promise<void> };
  now(): number;
  log(event: string, fields: LogFields, level?: "info" | "warn" | "error"): void;
  interfaces?: MediaInterfaces;
}

/** The kinds of device a user has live bindings for. */
export interface AnswerKinds {
  browsers: boolean;
  phones: boolean;
}

/** rtpengine `via-branch` of each kind of branch of a mixed fork (one untagged monologue each). */
const VIA_BRANCH = { browser: "sipedge-webrtc", sip: "sipedge-sip" } as const;

/**
 * The media of the calls this DO owns (ARCHITECTURE.md "Who owns media"),
 * as the proxy core's ProxyMedia (which DO anchors which call: `initialLeg`).
 * It chooses the node for the INVITE's offer, sends every
 * later command to that node (the session row survives hibernation),
 * re-offers on every re-INVITE/UPDATE with SDP (PITFALLS 10: hold, resume,
 * ICE restart), and deletes with `delete-delay: 0` when the call ends in
 * any way (PITFALLS 18), writing the CDR with the node's figures.
 *
 * Only the owner holds a session row, so the other DO of the call finds
 * none and passes the SDP through: each message is rewritten exactly once.
 */
export class CallMedia implements ProxyMedia {
  private readonly interfaces: MediaInterfaces;

  constructor(private readonly deps: CallMediaDeps) {
    this.interfaces = deps.interfaces ?? DEFAULT_INTERFACES;
  }

  async offer(req: SipRequest, route: { source: Hop; target: Hop; inDialog: boolean; phones?: boolean }): Promise<boolean> {
    if (!isSdp(req)) return false;
    const { deps } = this;
    const callId = req.callId;
    const fromTag = req.from.tag;
    if (fromTag === undefined) return false;
    const existing = deps.sessions.get(callId);
    if (route.inDialog) {
      if (existing === undefined) return false; // not ours: the other DO of the call anchors it
      const leg = legOf(existing, fromTag);
      const toTag = req.to.tag!;
      const reply = await this.command(existing, "offer", offerCommand(leg, { callId, fromTag, toTag }, req.body, this.interfaces), 503);
      req.setBody(fixupSdp(leg, "offer", sdpOf(reply)), "application/sdp");
      deps.log("media-reoffer", { call_id: callId, node: existing.nodeId, method: req.method });
      return true;
    }
    const initial = await initialLeg(route, (aor) => deps.answerKinds?.(aor) ?? Promise.resolve({ browsers: true, phones: false }));
    if (initial === undefined) return false;
    const { leg, alsoPhones } = initial;
    const command = offerCommand(leg, { callId, fromTag, ...(alsoPhones ? { viaBranch: VIA_BRANCH.browser } : {}) }, req.body, this.interfaces);
    const started = deps.now();
    let node: { id: string; region: string; ngUrl: string };
    let reply: NgReply;
    if (existing !== undefined) {
      // The same Call-ID offered again (a new INVITE after a failure): stay on its node.
      reply = await this.command(existing, "offer", command, 503);
      node = { id: existing.nodeId, region: existing.region, ngUrl: existing.ngUrl };
    } else {
      // The browser's side of the call: where its media should be relayed from.
      const browser = [route.source, route.target].find((h) => isBrowser(h));
      const location = browser?.kind === "flow" ? deps.locationOf(browser.flowId) : undefined;
      let served: Served<NgReply>;
      try {
        served = await deps.place(location, (n) => deps.ng(n.ngUrl).request("offer", command));
      } catch (err) {
        throw refusal(err);
      }
      reply = served.value;
      node = served.node;
    }
    const session: MediaSession = {
      callId,
      fromTag,
      leg,
      nodeId: node.id,
      region: node.region,
      ngUrl: node.ngUrl,
      ...parties(req, leg),
      createdAt: existing?.createdAt ?? started,
      answeredAt: 0,
      ...(alsoPhones ? { fork: "browsers" as const } : {}),
    };
    deps.sessions.put(session);
    const original = req.body;
    req.setBody(fixupSdp(leg, "offer", sdpOf(reply)), "application/sdp");
    if (alsoPhones) await this.offerToPhones(session, req, original);
    deps.log("media-offer", { call_id: callId, node: node.id, region: node.region, leg, ...(session.fork === "browsers+phones" ? { also: phoneLeg(leg) } : {}), ms: deps.now() - started });
    return true;
  }

  /**
   * A user on browsers and phones (proxy-media.ts): the same offer again on
   * the call's node toward SIP (`phoneLeg`) under its own `via-branch`, for
   * the forking DO to give the phone branches. If rtpengine refuses it, only
   * the browsers ring.
   */
  private async offerToPhones(session: MediaSession, req: SipRequest, sdp: string): Promise<void> {
    const call = { callId: session.callId, fromTag: session.fromTag, viaBranch: VIA_BRANCH.sip };
    const leg = phoneLeg(session.leg);
    try {
      const reply = await this.command(session, "offer", offerCommand(leg, call, sdp, this.interfaces), 0);
      req.set(SIP_BRANCH_OFFER_HEADER, base64urlEncode(fixupSdp(leg, "offer", sdpOf(reply))));
      session.fork = "browsers+phones";
      this.deps.sessions.put(session);
    } catch (err) {
      this.deps.log("media-phone-offer-failed", { call_id: session.callId, node: session.nodeId, error: (err as Error).message }, "warn");
    }
  }

  async answer(res: SipResponse, req: SipRequest): Promise<void> {
    if (!isSdp(res)) return;
    const { deps } = this;
    const session = deps.sessions.get(res.callId);
    const offerer = req.from.tag;
    const answerer = res.to.tag;
    if (session === undefined || offerer === undefined || answerer === undefined) return;
    // A mixed fork's answer: from a phone branch (the forking DO marked it) or a browser's.
    const fork = session.fork !== undefined && req.to.tag === undefined;
    const toPhone = fork && session.fork === "browsers+phones" && res.has(SIP_BRANCH_ANSWER_HEADER);
    const leg = toPhone ? phoneLeg(session.leg) : legOf(session, offerer);
    const viaBranch = fork ? { viaBranch: toPhone ? VIA_BRANCH.sip : VIA_BRANCH.browser } : {};
    let reply: NgReply;
    try {
      reply = await this.command(session, "answer", answerCommand(leg, { callId: session.callId, fromTag: offerer, toTag: answerer, ...viaBranch }, res.body), 0);
    } catch (err) {
      // The answer still goes on (the dialog is real); without rtpengine's
      // SDP the call will likely have no audio, so it is logged loudly.
      deps.log("media-answer-failed", { call_id: session.callId, node: session.nodeId, status: res.status, error: (err as Error).message }, "error");
      return;
    }
    res.setBody(fixupSdp(leg, "answer", sdpOf(reply)), "application/sdp");
    const current = deps.sessions.get(session.callId);
    if (current !== undefined && req.to.tag === undefined && res.status >= 200) {
      current.toTag = answerer;
      // The branch that answered decides the call's leg from now on (re-offers, legOf).
      if (current.fork !== undefined) {
        current.leg = leg;
        delete current.fork;
      }
      if (current.answeredAt === 0) current.answeredAt = deps.now();
      deps.sessions.put(current);
    }
  }

  async end(callId: string, how: { why: string; status?: number; by?: string }): Promise<void> {
    const { deps } = this;
    const session = deps.sessions.get(callId);
    if (session === undefined) return;
    deps.sessions.delete(callId); // first: a second end (the other side's BYE, a close) finds nothing
    let quality: CallQuality | undefined;
    try {
      const reply = await deps.ng(session.ngUrl).request("delete", deleteCommand({ callId, fromTag: session.fromTag }));
      quality = callQualityOf(reply, session);
    } catch (err) {
      // rtpengine's own timeouts (media-node/rtpengine/rtpengine.conf) free the ports if this is lost.
      deps.log("media-delete-failed", { call_id: callId, node: session.nodeId, error: (err as Error).message }, "warn");
    }
    const endedAt = deps.now();
    deps.log("media-deleted", { call_id: callId, node: session.nodeId, why: how.why, rtp_packets: quality?.rtpPackets, mos: quality?.mos });
    try {
      await deps.cdrs.put(cdrOf(session, how, quality, endedAt));
    } catch (err) {
      deps.log("cdr-write-failed", { call_id: callId, error: (err as Error).message }, "error");
    }
  }

  /** A command of a call that has its node: only that node has the session, so no failover (a failure is `status`, or thrown as is when 0). */
  private async command(session: MediaSession, command: string, dict: NgDict, status: number): Promise<NgReply> {
    try {
      return await this.deps.ng(session.ngUrl).request(command, dict);
    } catch (err) {
      if (status === 0 || !(err instanceof NgError)) throw err;
      this.deps.log("media-command-failed", { call_id: session.callId, node: session.nodeId, command, error: err.message }, "error");
      throw err.failover ? new SipError(status, "Service Unavailable", [["Retry-After", "5"]], `media-node-${session.nodeId}-failed`) : refusal(err);
    }
  }
}

/**
 * Who anchors a new call here, and how (ARCHITECTURE.md "Who owns media"):
 * the DO on the browser side that first sees the offer — the caller's for a
 * call to a user or to a trunk, the callee's for a call from a trunk. A
 * legacy phone (proxy/path-flow.ts) speaks plain RTP like a trunk: a
 * browser's call to a user who answers only on phones is anchored for SIP,
 * to one on browsers and phones for both (`alsoPhones`: offerToPhones), a
 * phone's call to a browser user by the phone's DO (its phones, if any,
 * SIP → SIP), and calls between phones and trunks only are not anchored
 * (RTP end to end).
 */
async function initialLeg(route: { source: Hop; target: Hop; phones?: boolean }, answerKinds: (aor: string) => Promise<AnswerKinds>): Promise<{ leg: MediaLeg; alsoPhones: boolean } | undefined> {
  const { source, target } = route;
  const toUser = target.kind === "user" && egressLinkOf(target) === undefined ? target.aor : undefined;
  if (isBrowser(source)) {
    if (egressLinkOf(target) !== undefined) return { leg: "browser-to-sip", alsoPhones: false };
    if (toUser === undefined) return undefined;
    const kinds = await answerKinds(toUser);
    if (kinds.phones && !kinds.browsers) return { leg: "browser-to-sip", alsoPhones: false };
    return { leg: "browser-to-browser", alsoPhones: kinds.phones };
  }
  // A phone's call to a user on browsers (and phones: they get a SIP → SIP offer of their own).
  if (source.kind === "flow") {
    if (toUser === undefined) return undefined;
    const kinds = await answerKinds(toUser);
    return kinds.browsers ? { leg: "sip-to-browser", alsoPhones: kinds.phones } : undefined;
  }
  // A carrier's call, forked here to browsers (and phones, `route.phones`).
  if (isBrowser(target) && egressLinkOf(source) !== undefined) return { leg: "sip-to-browser", alsoPhones: route.phones === true };
  return undefined;
}

/** The leg of the phone branches of a mixed fork, by the call's leg toward its browsers. */
function phoneLeg(leg: MediaLeg): MediaLeg {
  return leg === "sip-to-browser" ? "sip-to-sip" : "browser-to-sip";
}

/** A WebSocket flow: a browser (a legacy phone's flow is SIP, path-flow.ts). */
function isBrowser(hop: Hop): boolean {
  return hop.kind === "flow" && !isPathFlow(hop.flowId);
}

/**
 * Who the CDR names: a user by AOR, a trunk's party by its number. A call to
 * a number has the number in To; a call from a trunk has the callee's AOR in
 * the Request-URI (the EgressLink rewrote it) and the caller's number in From.
 */
function parties(req: SipRequest, leg: MediaLeg): { caller: string; callee: string } {
  const number = (uri: Uri): string => (uri instanceof SipUri || uri instanceof TelUri ? numberOf(uri) : undefined) ?? uri.toString();
  if (leg === "browser-to-sip") return { caller: aorOfUri(req.from.uri) ?? req.from.uri.toString(), callee: number(req.to.uri) };
  if (leg === "sip-to-browser") return { caller: number(req.from.uri), callee: aorOfUri(req.uri) ?? req.to.uri.toString() };
  return { caller: aorOfUri(req.from.uri) ?? req.from.uri.toString(), callee: aorOfUri(req.to.uri) ?? req.to.uri.toString() };
}

function numberOf(uri: SipUri | TelUri): string | undefined {
  const text = uri instanceof TelUri ? uri.number : uri.userDecoded;
  return text === undefined ? undefined : text.replace(/[-.()]/g, "");
}

/** The leg as seen by whoever offers now: the callee's re-offer runs the call's leg backwards. */
function legOf(session: MediaSession, offererTag: string): MediaLeg {
  if (offererTag === session.fromTag) return session.leg;
  return session.leg === "browser-to-sip" ? "sip-to-browser" : session.leg === "sip-to-browser" ? "browser-to-sip" : session.leg;
}

/** rtpengine refused the SDP itself (not the node's health): RFC 3261 §21.4.26, another node would refuse it too. */
function refusal(err: unknown): unknown {
  if (err instanceof NgError && !err.failover) return new SipError(488, "Not Acceptable Here", [], `rtpengine: ${err.message}`);
  return err;
}

function isSdp(msg: SipRequest | SipResponse): boolean {
  if (msg.contentLength === 0) return false;
  const type = msg.contentType;
  return typeof type === "string" && type.split(";")[0]!.trim().toLowerCase() === "application/sdp";
}

function sdpOf(reply: NgReply): string {
  if (typeof reply.sdp !== "string" || reply.sdp === "") throw new NgError("offer", "rtpengine returned no SDP", reply);
  return reply.sdp;
}

export function cdrOf(s: MediaSession, how: { why: string; status?: number; by?: string }, q: CallQuality | undefined, endedAt: number): CdrRecord {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    call_id: s.callId,
    ended_at: iso(endedAt),
    started_at: iso(s.createdAt),
    ...(s.answeredAt > 0 ? { answered_at: iso(s.answeredAt) } : {}),
    duration_s: s.answeredAt > 0 ? Math.round((endedAt - s.answeredAt) / 100) / 10 : 0,
    caller: s.caller,
    callee: s.callee,
    end_reason: how.why,
    ...(how.status !== undefined ? { status: how.status } : {}),
    ...(how.by !== undefined ? { ended_by: how.by } : {}),
    leg: s.leg,
    media_node: s.nodeId,
    media_region: s.region,
    rtp_packets: q?.rtpPackets ?? 0,
    rtp_bytes: q?.rtpBytes ?? 0,
    rtp_errors: q?.rtpErrors ?? 0,
    rtcp_packets: q?.rtcpPackets ?? 0,
    ...(q?.packetsFromCaller !== undefined ? { packets_from_caller: q.packetsFromCaller } : {}),
    ...(q?.packetsFromCallee !== undefined ? { packets_from_callee: q.packetsFromCallee } : {}),
    ...(q?.mos !== undefined ? { mos: q.mos } : {}),
    ...(q?.jitterMs !== undefined ? { jitter_ms: q.jitterMs } : {}),
    ...(q?.packetLossPercent !== undefined ? { packet_loss_percent: q.packetLossPercent } : {}),
    ...(q?.roundTripMs !== undefined ? { round_trip_ms: q.roundTripMs } : {}),
  };
}
