import { signEgressToken } from "../../workers/src/egress/egress-token.ts";
import { rand, recordRoutes, remoteTarget, request } from "./sip-phone.ts";
import { headerOf, SipMessageText, SipWsClient, statusOf, type Refusal } from "./sip-ws-client.ts";

/**
 * A test double for the CARRIER side of an egress proxy (ARCHITECTURE.md
 * "Browser to carrier", "Carrier to browser"): a raw `ws` client that opens
 * the edge's egress link (`GET /egress/:id`, `Authorization: Bearer <token>`,
 * subprotocol `sip`) and speaks SIP frames on it, answering as a carrier
 * would behind a real egress. The edge, its Durable Objects, dynalite and
 * rtpengine stay real; only what media-node/egress would do on its UDP side
 * is played here:
 *
 *  - a request from the edge is answered as the carrier's UAS would
 *    (RFC 3261 §8.2.6): Via, From, To (+tag), Call-ID, CSeq copied, and on
 *    1xx/2xx to an INVITE the Record-Route as received with the egress's
 *    own entry on top (the egress Record-Routes on its WebSocket side,
 *    proxy/egress-hop.ts);
 *  - a call from the carrier (an INVITE for a DID) carries the egress's
 *    Via above the carrier's and the egress's Record-Route; in-dialog
 *    requests follow the route set with the egress's own entry removed, as
 *    the egress itself would consume it (§16.4) before the link.
 *
 * Every frame the edge sends is kept in `frames`, in order, so a test can
 * assert that nothing reached the carrier.
 */
export const EGRESS_ROUTE_HOST = "egress.invalid";

/** Where an egress proxy opens its link to the edge. */
export function egressUrl(edgeUrl: string, id: string): string {
  return `${edgeUrl.replace(/^http/, "ws")}/egress/${encodeURIComponent(id)}`;
}

/** The upgrade headers that present a token (egress-token.ts: `Authorization: Bearer <token>`). */
export function egressAuthHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** Tries an upgrade expected to be refused: its HTTP status and body. */
export function refusedUpgrade(edgeUrl: string, id: string, headers: Record<string, string>): Promise<Refusal> {
  return SipWsClient.refused(egressUrl(edgeUrl, id), { headers });
}

export class FakeEgress {
  /** Every frame the edge sent over the link, in order of arrival. */
  readonly frames: string[] = [];

  private constructor(
    readonly id: string,
    readonly client: SipWsClient,
  ) {
    client.ws.on("message", (data) => this.frames.push(data.toString()));
  }

  /** Opens the link as egress `id` with a fresh token signed by `secret` (or the token given). */
  static async connect(edgeUrl: string, id: string, secret: string, token = signEgressToken(secret, id, Date.now())): Promise<FakeEgress> {
    const client = await SipWsClient.connect(egressUrl(edgeUrl, id), { headers: egressAuthHeaders(token) });
    return new FakeEgress(id, client);
  }

  /** The Record-Route entry the egress puts on its WebSocket side (proxy/egress-hop.ts). */
  get recordRoute(): string {
    return `<sip:${this.id}@${EGRESS_ROUTE_HOST};transport=ws;lr>`;
  }

  /** Whether a Route/Record-Route entry is this egress's own. */
  isOwnRoute(entry: string): boolean {
    return entry.toLowerCase().includes(`sip:${this.id.toLowerCase()}@${EGRESS_ROUTE_HOST}`);
  }

  /** The frames of one call (by Call-ID) the edge sent here. */
  framesOf(callId: string): string[] {
    return this.frames.filter((f) => headerOf(f, "Call-ID") === callId);
  }

  send(text: string): void {
    this.client.send(text);
  }

  /** The next request of `method` from the edge that matches (already received or to come). */
  async nextRequest(method: string, match: (m: string) => boolean = () => true, timeoutMs = 10_000): Promise<SipMessageText> {
    return new SipMessageText(await this.client.next((m) => m.startsWith(`${method} `) && match(m), timeoutMs, `a ${method} at egress ${this.id}`));
  }

  /** The next response with this Call-ID and CSeq (and status, or any final one). */
  async nextResponse(callId: string, cseq: string, status?: number, timeoutMs = 10_000): Promise<SipMessageText> {
    const text = await this.client.next(
      (m) => m.startsWith("SIP/2.0 ") && headerOf(m, "Call-ID") === callId && headerOf(m, "CSeq") === cseq && (status === undefined ? statusOf(m) >= 200 : statusOf(m) === status),
      timeoutMs,
      `${status ?? "a final response"} to ${cseq} (${callId}) at egress ${this.id}`,
    );
    return new SipMessageText(text);
  }

  /** The next INVITE from the edge, as a call for the carrier to answer. */
  async offered(match: (m: string) => boolean = () => true, timeoutMs = 10_000): Promise<OfferedCall> {
    return new OfferedCall(this, await this.nextRequest("INVITE", match, timeoutMs));
  }

  /** Answers a request as its UAS (RFC 3261 §8.2.6). */
  respond(req: SipMessageText, status: number, opts: { toTag?: string; headers?: string[]; body?: string; reason?: string } = {}): string {
    const to = req.header("To")!;
    const text = message(
      [
        `SIP/2.0 ${status} ${opts.reason ?? REASONS[status] ?? "Whatever"}`,
        ...req.headers("Via").map((v) => `Via: ${v}`),
        `From: ${req.header("From")}`,
        `To: ${opts.toTag !== undefined && !/;tag=/i.test(to) ? `${to};tag=${opts.toTag}` : to}`,
        `Call-ID: ${req.header("Call-ID")}`,
        `CSeq: ${req.header("CSeq")}`,
        ...(opts.headers ?? []),
      ],
      opts.body,
    );
    this.send(text);
    return text;
  }

  /** The carrier calls `did` (an INVITE that arrived at the egress from a trunk). */
  call(did: string, opts: { sdp?: string; from?: string } = {}): CarrierCall {
    const call = new CarrierCall(this, did, opts);
    call.sendInvite();
    return call;
  }

  /** Sends a request outside any call and waits for its final response. */
  async requestOutOfDialog(method: string, uri: string, opts: { headers?: string[] } = {}): Promise<SipMessageText> {
    const callId = `carrier-${rand(8)}`;
    const text = request({
      method,
      uri,
      via: `SIP/2.0/WSS ${this.id}.${EGRESS_ROUTE_HOST};branch=z9hG4bK${rand(6)}`,
      from: `<sip:+15550000000@carrier.example>;tag=${rand(4)}`,
      to: `<${uri}>`,
      callId,
      cseq: 1,
      headers: opts.headers ?? [],
    });
    return this.client.request(text, 10_000);
  }

  close(): Promise<unknown> {
    return this.client.ws.readyState === this.client.ws.OPEN ? this.client.close() : Promise.resolve();
  }
}

/** An INVITE the edge sent toward a trunk, and the carrier's side of its dialog (§13.3, §12.1.1). */
export class OfferedCall {
  readonly toTag = rand(4);
  /** The carrier's Contact (the gateway's address). */
  readonly contact = "<sip:gw@127.0.0.1:5999;transport=udp>";

  constructor(
    readonly egress: FakeEgress,
    readonly invite: SipMessageText,
  ) {}

  get callId(): string {
    return this.invite.header("Call-ID")!;
  }

  /** A response to the INVITE; 1xx/2xx copy the Record-Route, with the egress's entry on top, and carry the carrier's Contact. */
  reply(status: number, opts: { sdp?: string } = {}): string {
    const dialog = status > 100 && status < 300;
    return this.egress.respond(this.invite, status, {
      ...(status > 100 ? { toTag: this.toTag } : {}),
      headers: [
        ...(dialog ? [`Record-Route: ${this.egress.recordRoute}`, ...this.invite.headers("Record-Route").map((r) => `Record-Route: ${r}`), `Contact: ${this.contact}`] : []),
        ...(opts.sdp !== undefined ? ["Content-Type: application/sdp"] : []),
      ],
      ...(opts.sdp !== undefined ? { body: opts.sdp } : {}),
    });
  }

  /** The next request of `method` in this call (ACK, BYE, CANCEL …). */
  request(method: string, timeoutMs = 10_000): Promise<SipMessageText> {
    return this.egress.nextRequest(method, (m) => headerOf(m, "Call-ID") === this.callId, timeoutMs);
  }
}

/** A call the carrier places to one of our DIDs, through the egress (§13.2, §12.1.2). */
export class CarrierCall {
  readonly callId = `carrier-${rand(8)}`;
  readonly fromTag = rand(4);
  readonly uri: string;
  readonly inviteCSeq = 1;
  private readonly inviteBranch = `z9hG4bK${rand(6)}`;
  private cseq = 2;
  /** The 2xx that made the dialog. */
  ok: SipMessageText | undefined;

  constructor(
    readonly egress: FakeEgress,
    readonly did: string,
    readonly opts: { sdp?: string; from?: string },
  ) {
    // As carriers send it to the trunk's gateway; the egress passes it on as it came.
    this.uri = `sip:${did}@127.0.0.1:5060;user=phone`;
  }

  get from(): string {
    return `<sip:${this.opts.from ?? "+15550001111"}@carrier.example;user=phone>;tag=${this.fromTag}`;
  }

  /**
   * The egress's Via on top of the carrier's (§16.6 item 8): two Via
   * header fields, given as one value with a line break for `request()`,
   * which writes a single `Via:` line.
   */
  private vias(branch: string): string {
    return `SIP/2.0/WSS ${this.egress.id}.${EGRESS_ROUTE_HOST};branch=${branch}\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;rport=5999;received=127.0.0.1;branch=z9hG4bKc${branch.slice(7)}`;
  }

  sendInvite(): void {
    const sdp = this.opts.sdp;
    this.egress.send(
      request({
        method: "INVITE",
        uri: this.uri,
        via: this.vias(this.inviteBranch),
        from: this.from,
        to: `<sip:${this.did}@127.0.0.1;user=phone>`,
        callId: this.callId,
        cseq: this.inviteCSeq,
        maxForwards: 69,
        headers: [
          `Record-Route: ${this.egress.recordRoute}`,
          "Contact: <sip:carrier@127.0.0.1:5999;transport=udp>",
          ...(sdp !== undefined ? ["Content-Type: application/sdp"] : []),
        ],
        ...(sdp !== undefined ? { body: sdp } : {}),
      }),
    );
  }

  /** The next response to the INVITE with this status (or any final one). */
  response(status?: number, timeoutMs = 10_000): Promise<SipMessageText> {
    return this.egress.nextResponse(this.callId, `${this.inviteCSeq} INVITE`, status, timeoutMs);
  }

  /** Waits for the 2xx and ACKs it along the route set (§13.2.2.4). */
  async answered(timeoutMs = 10_000): Promise<SipMessageText> {
    const ok = await this.response(undefined, timeoutMs);
    if (ok.status !== 200) throw new Error(`expected 200 to the carrier's INVITE ${this.callId}, got ${ok.status} ${ok.reason}`);
    this.ok = ok;
    this.egress.send(this.inDialogText("ACK", this.inviteCSeq));
    return ok;
  }

  /** The ACK to a non-2xx final: same Request-URI and branch as the INVITE, hop by hop (§17.1.1.3). */
  ackFailure(res: SipMessageText): void {
    this.egress.send(
      request({ method: "ACK", uri: this.uri, via: this.vias(this.inviteBranch), from: this.from, to: res.header("To")!, callId: this.callId, cseq: this.inviteCSeq, cseqMethod: "ACK" }),
    );
  }

  /** CANCEL (§9.1): the INVITE's Request-URI, Call-ID, From, To, CSeq number and top Via branch. Its final response. */
  cancel(timeoutMs = 10_000): Promise<SipMessageText> {
    const text = request({
      method: "CANCEL",
      uri: this.uri,
      via: this.vias(this.inviteBranch),
      from: this.from,
      to: `<sip:${this.did}@127.0.0.1;user=phone>`,
      callId: this.callId,
      cseq: this.inviteCSeq,
      cseqMethod: "CANCEL",
    });
    return this.egress.client.request(text, timeoutMs);
  }

  /**
   * The route set toward the callee: the 2xx's Record-Route reversed
   * (§12.1.2), less the egress's own entry, which the egress consumes
   * itself before the link (§16.4).
   */
  routeSet(): string[] {
    return recordRoutes(this.ok!)
      .reverse()
      .filter((r) => !this.egress.isOwnRoute(r));
  }

  private inDialogText(method: string, cseq: number): string {
    const ok = this.ok!;
    return request({
      method,
      uri: remoteTarget(ok),
      via: this.vias(`z9hG4bK${rand(6)}`),
      from: this.from,
      to: ok.header("To")!,
      callId: this.callId,
      cseq,
      maxForwards: 69,
      headers: this.routeSet().map((r) => `Route: ${r}`),
    });
  }

  /** A BYE from the carrier; its final response. */
  bye(timeoutMs = 10_000): Promise<SipMessageText> {
    return this.egress.client.request(this.inDialogText("BYE", this.cseq++), timeoutMs);
  }
}

const REASONS: Record<number, string> = {
  100: "Trying",
  180: "Ringing",
  183: "Session Progress",
  200: "OK",
  486: "Busy Here",
  487: "Request Terminated",
};

function message(lines: string[], body: string | undefined): string {
  const b = body ?? "";
  return [...lines, `Content-Length: ${Buffer.byteLength(b)}`].join("\r\n") + "\r\n\r\n" + b;
}

/** A carrier's plain-RTP audio offer or answer (PCMU and RFC 4733 events), as SIP trunks send. */
export function plainRtpSdp(port = 40_000, sessionId = Date.now()): string {
  return (
    [
      "v=0",
      `o=carrier ${sessionId} ${sessionId} IN IP4 127.0.0.1`,
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=audio ${port} RTP/AVP 0 101`,
      "a=rtpmap:0 PCMU/8000",
      "a=rtpmap:101 telephone-event/8000",
      "a=fmtp:101 0-16",
      "a=ptime:20",
      "a=sendrecv",
    ].join("\r\n") + "\r\n"
  );
}
