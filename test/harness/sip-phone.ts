import { randomBytes } from "node:crypto";
import {
  digestAuthorization,
  headerOf,
  headersOf,
  parseChallenge,
  registerMessage,
  SipMessageText,
  SipWsClient,
  statusOf,
  wsUrl,
  type ConnectOptions,
} from "./sip-ws-client.ts";

/**
 * A raw SIP user agent over one SipWsClient, written from RFC 3261 by text
 * (independent of the code under test): REGISTER with digest, INVITE with
 * the 407 round, ACK, BYE, CANCEL, MESSAGE, and the UAS side (answering an
 * INVITE, BYE from the callee). For the cases JsSIP and SIP.js cannot
 * produce, and for the benchmark. Every wait is on a message, with a timeout.
 */
export interface PhoneIdentity {
  /** The host of our Contact and Via (RFC 7118 §5: a random `.invalid` name). */
  contactHost: string;
  /** RFC 5626 `+sip.instance`, if the phone uses outbound. */
  instance?: string;
  /** Call-ID of the registrations (refreshes keep it, RFC 3261 §10.2.4). */
  registerCallId: string;
}

export function newIdentity(opts: { outbound?: boolean } = {}): PhoneIdentity {
  return {
    contactHost: `${rand(6)}.invalid`,
    registerCallId: `reg-${rand(8)}`,
    ...(opts.outbound === true ? { instance: `<urn:uuid:${crypto.randomUUID()}>` } : {}),
  };
}

export class SipPhone {
  readonly user: string;
  readonly domain: string;
  /** Our Contact URI (the one REGISTER binds, and INVITE and 200 carry). */
  readonly contact: string;
  private cseq = 1;
  private registerCSeq: number;

  private constructor(
    readonly client: SipWsClient,
    readonly aor: string,
    readonly password: string,
    readonly identity: PhoneIdentity,
    registerCSeq: number,
  ) {
    this.user = aor.slice(0, aor.indexOf("@"));
    this.domain = aor.slice(aor.indexOf("@") + 1);
    this.contact = `sip:${this.user}-dev@${identity.contactHost};transport=ws;ob`;
    this.registerCSeq = registerCSeq;
  }

  /** Opens a socket for `aor`. Pass the identity of an earlier phone to come back as the same device. */
  static async open(edgeUrl: string, aor: string, password: string, opts: { identity?: PhoneIdentity; outbound?: boolean; connect?: ConnectOptions; registerCSeq?: number } = {}): Promise<SipPhone> {
    const client = await SipWsClient.connect(wsUrl(edgeUrl, aor), opts.connect ?? {});
    return new SipPhone(client, aor, password, opts.identity ?? newIdentity({ outbound: opts.outbound ?? false }), opts.registerCSeq ?? 1);
  }

  /** The next CSeq for a REGISTER (to reconnect as the same device with a higher one). */
  get nextRegisterCSeq(): number {
    return this.registerCSeq;
  }

  // ------------------------------------------------------------- REGISTER

  /** REGISTER → 401 → REGISTER with MD5 credentials; the final response. */
  async register(expires = 300): Promise<SipMessageText> {
    const o = {
      aor: this.aor,
      callId: this.identity.registerCallId,
      contactHost: this.identity.contactHost,
      expires,
      ...(this.identity.instance !== undefined ? { contactParams: `;+sip.instance="${this.identity.instance}";reg-id=1`, supported: "outbound, path" } : {}),
    };
    const first = await this.client.request(registerMessage({ ...o, cseq: this.registerCSeq++ }));
    if (first.status !== 401) return first;
    const challenge = first.headers("WWW-Authenticate").map(parseChallenge).find((c) => c.algorithm.toUpperCase() === "MD5")!;
    const authorization = digestAuthorization({ challenge, method: "REGISTER", uri: `sip:${this.domain}`, username: this.user, password: this.password });
    return this.client.request(registerMessage({ ...o, cseq: this.registerCSeq++, authorization }));
  }

  // ------------------------------------------------------------------ UAC

  /**
   * Starts an INVITE to `to` and answers the 407 (unless `authenticate` is
   * false). Resolves once the authenticated INVITE is sent; the Call waits
   * for the rest.
   */
  async call(to: string, opts: CallOptions = {}): Promise<OutgoingCall> {
    const call = new OutgoingCall(this, to, opts);
    await call.start(opts.authenticate ?? true);
    return call;
  }

  /** Sends a MESSAGE (RFC 3428), answering a 407; the final response. */
  async message(to: string, body: string): Promise<SipMessageText> {
    const callId = `msg-${rand(8)}`;
    const fromTag = rand(4);
    const build = (cseq: number, auth?: string): string =>
      request({
        method: "MESSAGE",
        uri: `sip:${to}`,
        via: this.via(),
        from: `<sip:${this.aor}>;tag=${fromTag}`,
        to: `<sip:${to}>`,
        callId,
        cseq,
        headers: [...(auth !== undefined ? [`Proxy-Authorization: ${auth}`] : []), "Content-Type: text/plain"],
        body,
      });
    const first = await this.client.request(build(this.nextCSeq()));
    if (first.status !== 407) return first;
    const auth = this.proxyAuthorization(first, "MESSAGE", `sip:${to}`);
    return this.client.request(build(this.nextCSeq(), auth));
  }

  // ------------------------------------------------------------------ UAS

  /** The next request of a method that arrives (an INVITE, a BYE, a MESSAGE...). */
  async nextRequest(method: string, timeoutMs = 5_000, match: (m: string) => boolean = () => true): Promise<SipMessageText> {
    const text = await this.client.next((m) => m.startsWith(`${method} `) && match(m), timeoutMs, `a ${method}`);
    return new SipMessageText(text);
  }

  /** The next INVITE, as a call to answer. */
  async incoming(timeoutMs = 5_000, match?: (m: string) => boolean): Promise<IncomingCall> {
    return new IncomingCall(this, await this.nextRequest("INVITE", timeoutMs, match));
  }

  /** Answers a request (RFC 3261 §8.2.6): Via, From, To (+tag), Call-ID, CSeq copied. */
  respond(req: SipMessageText, status: number, opts: { toTag?: string; headers?: string[]; body?: string; reason?: string } = {}): string {
    const to = req.header("To")!;
    const toValue = opts.toTag !== undefined && !/;tag=/i.test(to) ? `${to};tag=${opts.toTag}` : to;
    const lines = [
      `SIP/2.0 ${status} ${opts.reason ?? REASONS[status] ?? "Whatever"}`,
      ...req.headers("Via").map((v) => `Via: ${v}`),
      `From: ${req.header("From")}`,
      `To: ${toValue}`,
      `Call-ID: ${req.header("Call-ID")}`,
      `CSeq: ${req.header("CSeq")}`,
      ...(opts.headers ?? []),
    ];
    const text = withBody(lines, opts.body);
    this.client.send(text);
    return text;
  }

  // ---------------------------------------------------------------- parts

  nextCSeq(): number {
    return this.cseq++;
  }

  via(): string {
    return `SIP/2.0/WSS ${this.identity.contactHost};branch=z9hG4bK${rand(6)}`;
  }

  proxyAuthorization(challengeResponse: SipMessageText, method: string, uri: string): string {
    const challenge = challengeResponse.headers("Proxy-Authenticate").map(parseChallenge).find((c) => c.algorithm.toUpperCase() === "MD5")!;
    return digestAuthorization({ challenge, method, uri, username: this.user, password: this.password });
  }

  close(): Promise<unknown> {
    return this.client.ws.readyState === this.client.ws.OPEN ? this.client.close() : Promise.resolve();
  }
}

export interface CallOptions {
  sdp?: string;
  authenticate?: boolean;
  /** From AOR other than the phone's own (to test the 403). */
  fromAor?: string;
  maxForwards?: number;
  headers?: string[];
}

/** Our INVITE and the dialog it makes (RFC 3261 §13.2, §12.1.2). */
export class OutgoingCall {
  readonly callId = `call-${rand(8)}`;
  readonly fromTag = rand(4);
  readonly uri: string;
  /** The CSeq number of the INVITE now pending. */
  inviteCSeq = 0;
  private inviteBranch = "";
  private inviteVia = "";
  private auth: string | undefined;
  /** The dialog, once a 2xx arrived. */
  ok: SipMessageText | undefined;

  constructor(
    /** The socket the UA uses; a UA that reconnected carries its dialogs on to the new one (assign it). */
    public phone: SipPhone,
    readonly to: string,
    readonly opts: CallOptions,
  ) {
    this.uri = `sip:${to}`;
  }

  get from(): string {
    return `<sip:${this.opts.fromAor ?? this.phone.aor}>;tag=${this.fromTag}`;
  }

  /** Sends the INVITE; on 407, ACKs it and sends it again with credentials. */
  async start(authenticate: boolean): Promise<void> {
    this.sendInvite();
    if (!authenticate) return;
    const first = await this.final();
    if (first.status !== 407) throw new Error(`expected 407 to the first INVITE, got ${first.status}`);
    this.ackFailure(first);
    this.auth = this.phone.proxyAuthorization(first, "INVITE", this.uri);
    this.sendInvite();
  }

  private sendInvite(): void {
    this.inviteCSeq = this.phone.nextCSeq();
    this.inviteBranch = `z9hG4bK${rand(6)}`;
    this.inviteVia = `SIP/2.0/WSS ${this.phone.identity.contactHost};branch=${this.inviteBranch}`;
    const sdp = this.opts.sdp;
    this.phone.client.send(
      request({
        method: "INVITE",
        uri: this.uri,
        via: this.inviteVia,
        from: this.from,
        to: `<${this.uri}>`,
        callId: this.callId,
        cseq: this.inviteCSeq,
        maxForwards: this.opts.maxForwards ?? 70,
        headers: [
          `Contact: <${this.phone.contact}>`,
          ...(this.auth !== undefined ? [`Proxy-Authorization: ${this.auth}`] : []),
          ...(sdp !== undefined ? ["Content-Type: application/sdp"] : []),
          ...(this.opts.headers ?? []),
        ],
        ...(sdp !== undefined ? { body: sdp } : {}),
      }),
    );
  }

  /** The next response to the pending INVITE with this status (or any final when status is omitted). */
  async response(status?: number, timeoutMs = 5_000): Promise<SipMessageText> {
    const cseq = `${this.inviteCSeq} INVITE`;
    const text = await this.phone.client.next(
      (m) => m.startsWith("SIP/2.0 ") && headerOf(m, "Call-ID") === this.callId && headerOf(m, "CSeq") === cseq && (status === undefined ? statusOf(m) >= 200 : statusOf(m) === status),
      timeoutMs,
      `${status ?? "a final response"} to INVITE ${this.callId}`,
    );
    return new SipMessageText(text);
  }

  final(timeoutMs = 5_000): Promise<SipMessageText> {
    return this.response(undefined, timeoutMs);
  }

  /** Waits for the 2xx and ACKs it (RFC 3261 §13.2.2.4). */
  async answered(timeoutMs = 5_000): Promise<SipMessageText> {
    const ok = await this.final(timeoutMs);
    if (ok.status !== 200) throw new Error(`expected 200 to INVITE, got ${ok.status} ${ok.reason}`);
    this.ok = ok;
    this.ack();
    return ok;
  }

  /** The ACK for a 2xx: its own transaction, along the route set (§13.2.2.4, §12.2.1.1). */
  ack(): void {
    const ok = this.ok!;
    this.phone.client.send(
      request({
        method: "ACK",
        uri: remoteTarget(ok),
        via: this.phone.via(),
        from: this.from,
        to: ok.header("To")!,
        callId: this.callId,
        cseq: this.inviteCSeq,
        cseqMethod: "ACK",
        headers: routeSet(ok, "caller").map((r) => `Route: ${r}`),
      }),
    );
  }

  /** The ACK for a non-2xx final: same branch as the INVITE, hop by hop (§17.1.1.3). */
  ackFailure(res: SipMessageText): void {
    this.phone.client.send(
      request({ method: "ACK", uri: this.uri, via: this.inviteVia, from: this.from, to: res.header("To")!, callId: this.callId, cseq: this.inviteCSeq, cseqMethod: "ACK" }),
    );
  }

  /** CANCEL (§9.1): same Request-URI, Call-ID, From, To, CSeq number and Via branch as the INVITE. The 200 to it. */
  async cancel(): Promise<SipMessageText> {
    const text = request({ method: "CANCEL", uri: this.uri, via: this.inviteVia, from: this.from, to: `<${this.uri}>`, callId: this.callId, cseq: this.inviteCSeq, cseqMethod: "CANCEL" });
    return this.phone.client.request(text);
  }

  /** An in-dialog request from the caller (§12.2.1.1); its final response. */
  async inDialog(method: string, opts: { headers?: string[]; body?: string } = {}): Promise<SipMessageText> {
    const ok = this.ok!;
    return this.phone.client.request(
      request({
        method,
        uri: remoteTarget(ok),
        via: this.phone.via(),
        from: this.from,
        to: ok.header("To")!,
        callId: this.callId,
        cseq: this.phone.nextCSeq(),
        headers: [...routeSet(ok, "caller").map((r) => `Route: ${r}`), ...(opts.headers ?? [])],
        ...(opts.body !== undefined ? { body: opts.body } : {}),
      }),
    );
  }

  bye(): Promise<SipMessageText> {
    return this.inDialog("BYE");
  }
}

/** An INVITE we received (§13.3) and the dialog our answer makes (§12.1.1). */
export class IncomingCall {
  readonly toTag = rand(4);
  private cseq = 1;

  constructor(
    /** The socket the UA uses (assign a reconnected phone to carry on). */
    public phone: SipPhone,
    readonly invite: SipMessageText,
  ) {}

  get callId(): string {
    return this.invite.header("Call-ID")!;
  }

  /** Answers the INVITE: 1xx/2xx carry the Record-Route and our Contact (§12.1.1). */
  reply(status: number, opts: { sdp?: string } = {}): string {
    const dialog = status > 100 && status < 300;
    return this.phone.respond(this.invite, status, {
      ...(status > 100 ? { toTag: this.toTag } : {}),
      headers: [
        ...(dialog ? this.invite.headers("Record-Route").map((r) => `Record-Route: ${r}`) : []),
        ...(dialog ? [`Contact: <${this.phone.contact}>`] : []),
        ...(opts.sdp !== undefined ? ["Content-Type: application/sdp"] : []),
      ],
      ...(opts.sdp !== undefined ? { body: opts.sdp } : {}),
    });
  }

  /** The ACK for our 2xx. */
  ack(timeoutMs = 5_000): Promise<SipMessageText> {
    return this.phone.nextRequest("ACK", timeoutMs, (m) => headerOf(m, "Call-ID") === this.callId);
  }

  /** The next in-dialog request of a method on this call. */
  request(method: string, timeoutMs = 5_000): Promise<SipMessageText> {
    return this.phone.nextRequest(method, timeoutMs, (m) => headerOf(m, "Call-ID") === this.callId);
  }

  /** An in-dialog request from the callee (§12.2.1.1): From/To swapped, Route = the Record-Route as received (§12.1.1); its final response. */
  async inDialog(method: string, opts: { headers?: string[]; body?: string } = {}): Promise<SipMessageText> {
    const inv = this.invite;
    return this.phone.client.request(
      request({
        method,
        uri: remoteTarget(inv),
        via: this.phone.via(),
        from: `${inv.header("To")};tag=${this.toTag}`,
        to: inv.header("From")!,
        callId: this.callId,
        cseq: this.cseq++,
        headers: [...inv.headers("Record-Route").map((r) => `Route: ${r}`), ...(opts.headers ?? [])],
        ...(opts.body !== undefined ? { body: opts.body } : {}),
      }),
    );
  }

  /** A BYE from the callee (§15.1.1). */
  bye(): Promise<SipMessageText> {
    return this.inDialog("BYE");
  }
}

// ---------------------------------------------------------------- helpers

const REASONS: Record<number, string> = {
  100: "Trying",
  180: "Ringing",
  200: "OK",
  480: "Temporarily Unavailable",
  486: "Busy Here",
  487: "Request Terminated",
  603: "Decline",
};

export function rand(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** The remote target: the Contact URI of a message (§12.1). */
export function remoteTarget(m: SipMessageText): string {
  const c = m.header("Contact") ?? "";
  const lt = c.indexOf("<");
  return lt >= 0 ? c.slice(lt + 1, c.indexOf(">", lt)) : c.split(";")[0]!.trim();
}

/** Record-Route entries (each header may list several) in order. */
export function recordRoutes(m: SipMessageText): string[] {
  return m.headers("Record-Route").flatMap((v) => v.split(/,(?=\s*<)/).map((s) => s.trim()));
}

/** The route set: the callee's is the Record-Route in order, the caller's reversed (§12.1.1, §12.1.2). */
export function routeSet(m: SipMessageText, side: "caller" | "callee"): string[] {
  const rr = recordRoutes(m);
  return side === "caller" ? rr.reverse() : rr;
}

interface RequestParts {
  method: string;
  uri: string;
  via: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  cseqMethod?: string;
  maxForwards?: number;
  headers?: string[];
  body?: string;
}

export function request(p: RequestParts): string {
  const lines = [
    `${p.method} ${p.uri} SIP/2.0`,
    `Via: ${p.via}`,
    `Max-Forwards: ${p.maxForwards ?? 70}`,
    `From: ${p.from}`,
    `To: ${p.to}`,
    `Call-ID: ${p.callId}`,
    `CSeq: ${p.cseq} ${p.cseqMethod ?? p.method}`,
    ...(p.headers ?? []),
  ];
  return withBody(lines, p.body);
}

function withBody(lines: string[], body: string | undefined): string {
  const b = body ?? "";
  return [...lines, `Content-Length: ${Buffer.byteLength(b)}`].join("\r\n") + "\r\n\r\n" + b;
}

export { headersOf };
