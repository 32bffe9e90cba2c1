// A small in-memory world for the proxy core's unit tests: one simulated
// UserAgent DO per AOR (its own ProxyCore, MemoryProxyStore, timer table and
// fake WebSocket flows), wired together by "RPC" that passes text, as the
// real DO-to-DO hop does. Pure logic only (STYLE.md: fakes for pure logic);
// the real DOs are tested against workerd elsewhere.

import { createHmac } from "node:crypto";
import { SipRequest, SipResponse, createResponse, parseMessage } from "sip-parser-ts";
import { SipError } from "../src/sip-error.ts";
import { MemoryProxyStore } from "../src/proxy/memory-proxy-store.ts";
import { ProxyCore } from "../src/proxy/proxy-core.ts";
import type { AuthOutcome, FlowBinding, ProxyConfig, ProxyHost } from "../src/proxy/proxy-host.ts";
import type { ProxyMedia } from "../src/proxy/proxy-media.ts";

export const DOMAIN = "example.com";
export const SECRET = "test-secret";

export class World {
  now = 1_700_000_000_000;
  readonly users = new Map<string, UserAgentDO>();
  /** Subscribers that exist (userExists). */
  readonly subscribers = new Set<string>();
  readonly logs: Array<{ aor: string; event: string; fields: Record<string, unknown> }> = [];
  readonly signer = { sign: (d: string) => createHmac("sha256", SECRET).update(d).digest("hex") };
  config: Partial<ProxyConfig> = {};
  /** Each DO's media layer (ProxyHost.media), by AOR; none: SDP passes untouched. */
  readonly media = new Map<string, ProxyMedia>();
  /** When set, every DO-to-DO RPC waits for it before it is delivered (an RPC still in flight). */
  rpcGate: Promise<void> | undefined;

  user(aor: string): UserAgentDO {
    let u = this.users.get(aor);
    if (u === undefined) {
      u = new UserAgentDO(this, aor);
      this.users.set(aor, u);
    }
    return u;
  }

  /** Moves the clock and fires every due timer, earliest first, across all DOs. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      let next: { u: UserAgentDO; key: string; due: number } | undefined;
      for (const u of this.users.values()) {
        for (const [key, due] of u.timers) if (due <= until && (next === undefined || due < next.due)) next = { u, key, due };
      }
      if (next === undefined) break;
      this.now = Math.max(this.now, next.due);
      next.u.timers.delete(next.key);
      await next.u.core.onTimer(next.key);
    }
    this.now = until;
  }

  events(event: string): Array<{ aor: string; fields: Record<string, unknown> }> {
    return this.logs.filter((l) => l.event === event);
  }
}

/** A fake UserAgent DO: what the lead's DO does around the ProxyCore. */
export class UserAgentDO {
  readonly store = new MemoryProxyStore();
  readonly timers = new Map<string, number>();
  readonly flows = new Map<string, Flow>();
  core: ProxyCore;
  readonly host: ProxyHost;
  /** RPC messages received, for assertions on the DO-to-DO hop. */
  readonly rpcIn: string[] = [];
  /** Lost flow → the flow its device came back on (ProxyHost.currentFlow; platform/lost-flows.ts). */
  readonly successors = new Map<string, string>();

  constructor(
    readonly world: World,
    readonly aor: string,
  ) {
    const self = this;
    this.host = {
      self: { aor, domain: DOMAIN },
      now: () => world.now,
      isLocalDomain: (h) => h === DOMAIN,
      flows: (): FlowBinding[] =>
        [...self.flows.values()].filter((f) => f.open && f.contact !== undefined).map((f) => ({ flowId: f.id, contact: f.contact! })),
      currentFlow: (flowId) => self.liveFlow(flowId),
      sendToFlow(flowId, text) {
        const f = self.flows.get(self.liveFlow(flowId));
        if (f === undefined || !f.open) return false;
        f.inbox.push(parseMessage(text));
        return true;
      },
      async sendToUser(to, text) {
        if (world.rpcGate !== undefined) await world.rpcGate;
        const target = world.user(to);
        target.rpcIn.push(text);
        await target.core.onUserMessage(aor, text);
      },
      userExists: async (a) => world.subscribers.has(a),
      async authenticate(req, flowId): Promise<AuthOutcome> {
        const pa = req.get("Proxy-Authorization");
        if (pa !== undefined && pa.includes(`username="${aor.split("@")[0]}"`)) return { ok: true, user: aor };
        // In a dialog, a flow that registered (authenticated) is trusted, as the lead's DO would.
        if (req.to.tag !== undefined && self.flows.get(flowId)?.contact !== undefined) return { ok: true, user: aor };
        return {
          ok: false,
          error: new SipError(407, "Proxy Authentication Required", [
            ["Proxy-Authenticate", `Digest realm="${DOMAIN}", nonce="n0nce", algorithm=MD5, qop="auth"`],
          ]),
        };
      },
      get media() {
        return world.media.get(aor);
      },
      signer: world.signer,
      store: this.store,
      setTimer: (key, due) => void self.timers.set(key, due),
      clearTimer: (key) => void self.timers.delete(key),
      log: (event, fields) => void world.logs.push({ aor, event, fields }),
    };
    this.core = new ProxyCore(this.host, world.config);
  }

  /** A flow, or the one its device came back on if it was lost (as the real host's currentFlow). */
  liveFlow(flowId: string): string {
    return this.flows.get(flowId)?.open === true ? flowId : (this.successors.get(flowId) ?? flowId);
  }

  /** Drops the ProxyCore (in-memory state lost, as on hibernation); a new one reads the same store. */
  hibernate(): void {
    this.core = new ProxyCore(this.host, this.world.config);
  }

  /** A browser tab: a socket with a registered binding (JsSIP-style Contact). */
  connect(id: string, registered = true): Flow {
    const f = new Flow(this, id, registered ? `sip:${id}@${id}.invalid;transport=ws;ob` : undefined);
    this.flows.set(id, f);
    return f;
  }

  /** The socket closed (webSocketClose). */
  async close(flowId: string): Promise<void> {
    this.flows.get(flowId)!.open = false;
    await this.core.flowClosed(flowId);
  }
}

/** A WebSocket flow and a minimal JsSIP-like UA on it. */
export class Flow {
  open = true;
  readonly inbox: Array<SipRequest | SipResponse> = [];
  private cseq = 100;

  constructor(
    readonly agent: UserAgentDO,
    readonly id: string,
    readonly contact: string | undefined,
  ) {}

  /** What the flow's UA sends. */
  async send(text: string): Promise<void> {
    await this.agent.core.onFlowMessage(this.id, parseMessage(text));
  }

  /** Takes every message received so far. */
  take(): Array<SipRequest | SipResponse> {
    return this.inbox.splice(0);
  }

  requests(method?: string): SipRequest[] {
    return this.inbox.filter((m): m is SipRequest => m instanceof SipRequest && (method === undefined || m.method === method));
  }

  responses(status?: number): SipResponse[] {
    return this.inbox.filter((m): m is SipResponse => m instanceof SipResponse && (status === undefined || m.status === status));
  }

  lastRequest(method: string): SipRequest {
    const r = this.requests(method);
    if (r.length === 0) throw new Error(`${this.id} received no ${method}; inbox: ${this.inbox.map(startLine).join(" | ")}`);
    return r[r.length - 1]!;
  }

  lastResponse(status?: number): SipResponse {
    const r = this.responses(status);
    if (r.length === 0) throw new Error(`${this.id} received no response ${status ?? ""}; inbox: ${this.inbox.map(startLine).join(" | ")}`);
    return r[r.length - 1]!;
  }

  /** Answers a request it received, as a UAS (JsSIP copies Record-Route into dialog-creating responses). */
  async reply(req: SipRequest, status: number, opts: { toTag?: string; headers?: Array<[string, string]>; body?: string } = {}): Promise<SipResponse> {
    const headers: Array<[string, string]> = [];
    if (status > 100 && status < 300 && req.method === "INVITE") {
      for (const rr of req.getAll("Record-Route")) headers.push(["Record-Route", rr]);
      headers.push(["Contact", `<${this.contact ?? `sip:${this.id}@${this.id}.invalid;transport=ws`}>`]);
    }
    headers.push(...(opts.headers ?? []));
    const res = createResponse(req, status, undefined, {
      toTag: opts.toTag ?? `tag-${this.id}`,
      headers,
      ...(opts.body !== undefined ? { body: opts.body, contentType: "application/sdp" } : {}),
    });
    await this.send(res.toString());
    return res;
  }

  nextCSeq(): number {
    return ++this.cseq;
  }
}

export function startLine(m: SipRequest | SipResponse): string {
  return m instanceof SipRequest ? `${m.method} ${m.requestUri}` : `${m.status} ${m.reason} (${m.cseq.method})`;
}

export const SDP = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=rtcp-mux",
  "a=setup:actpass",
  "a=mid:0",
  "a=rtpmap:111 opus/48000/2",
  "",
].join("\r\n");

/** A JsSIP-style request from a browser (Via `*.invalid` over WSS, Contact with ;ob). */
export function browserRequest(o: {
  method: string;
  uri: string;
  from: string;
  fromTag: string;
  to: string;
  toTag?: string;
  callId: string;
  cseq: number;
  branch: string;
  host: string;
  maxForwards?: number;
  routes?: string[];
  headers?: Array<[string, string]>;
  body?: string;
}): string {
  const lines = [
    `${o.method} ${o.uri} SIP/2.0`,
    ...(o.routes ?? []).map((r) => `Route: ${r}`),
    `Via: SIP/2.0/WSS ${o.host}.invalid;branch=${o.branch}`,
    `Max-Forwards: ${o.maxForwards ?? 69}`,
    `To: <sip:${o.to}>${o.toTag === undefined ? "" : `;tag=${o.toTag}`}`,
    `From: <sip:${o.from}>;tag=${o.fromTag}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${o.method}`,
  ];
  if (o.method !== "ACK" && o.method !== "CANCEL" && o.method !== "BYE") {
    lines.push(`Contact: <sip:${o.host}@${o.host}.invalid;transport=ws;ob>`);
    lines.push("Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY");
    lines.push("Supported: timer,ice,replaces,outbound");
  }
  for (const [n, v] of o.headers ?? []) lines.push(`${n}: ${v}`);
  lines.push("User-Agent: JsSIP 3.13.8");
  const body = o.body ?? "";
  if (body !== "") lines.push("Content-Type: application/sdp");
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join("\r\n") + "\r\n\r\n" + body;
}

export const ALICE = "alice@example.com";
export const BOB = "bob@example.com";

/** alice (flow a1) and bob (flows given) registered, both subscribers. */
export function aliceAndBob(bobFlows: string[] = ["b1"]): { w: World; alice: UserAgentDO; bob: UserAgentDO; a1: Flow; b: Flow[] } {
  const w = new World();
  w.subscribers.add(ALICE);
  w.subscribers.add(BOB);
  const alice = w.user(ALICE);
  const bob = w.user(BOB);
  const a1 = alice.connect("a1");
  const b = bobFlows.map((id) => bob.connect(id));
  return { w, alice, bob, a1, b };
}

let seq = 0;

/** An authenticated INVITE from alice's flow to `to`. */
export function invite(o: { to?: string; callId?: string; branch?: string; cseq?: number; headers?: Array<[string, string]>; maxForwards?: number; from?: string } = {}): string {
  seq++;
  return browserRequest({
    method: "INVITE",
    uri: `sip:${o.to ?? BOB}`,
    from: o.from ?? ALICE,
    fromTag: "atag",
    to: o.to ?? BOB,
    callId: o.callId ?? `call${seq}`,
    cseq: o.cseq ?? 2,
    branch: o.branch ?? `z9hG4bKinv${seq}`,
    host: "ahost",
    ...(o.maxForwards !== undefined ? { maxForwards: o.maxForwards } : {}),
    headers: [["Proxy-Authorization", `Digest username="alice", realm="example.com", nonce="n0nce", uri="sip:bob@example.com", response="00"`], ...(o.headers ?? [])],
    body: SDP,
  });
}

/** The route set a UAC builds from a 2xx (§12.1.2: Record-Route reversed). */
export function uacRouteSet(ok: SipResponse): string[] {
  return ok.getAll("Record-Route").reverse();
}

/** An in-dialog request from the caller's UA (a1) following the route set. */
export function callerInDialog(method: string, ok: SipResponse, cseq: number, extra: Array<[string, string]> = [], branch = `z9hG4bKcaller${++seq}`): string {
  return browserRequest({
    method,
    uri: ok.contacts === "*" ? "" : ok.contacts[0]!.uri.toString(),
    from: ALICE,
    fromTag: ok.from.tag!,
    to: BOB,
    toTag: ok.to.tag!,
    callId: ok.callId,
    cseq,
    branch,
    host: "ahost",
    routes: uacRouteSet(ok),
    headers: extra,
  });
}

/** An in-dialog request from the callee's UA (on `flow`) following its route set (§12.1.1: Record-Route in order). */
export function calleeInDialog(method: string, inv: SipRequest, ok: SipResponse, cseq: number, extra: Array<[string, string]> = []): string {
  return browserRequest({
    method,
    uri: inv.contacts === "*" ? "" : inv.contacts[0]!.uri.toString(),
    from: BOB,
    fromTag: ok.to.tag!,
    to: ALICE,
    toTag: inv.from.tag!,
    callId: inv.callId,
    cseq,
    branch: `z9hG4bKcallee${++seq}`,
    host: "bhost",
    routes: inv.getAll("Record-Route"),
    headers: extra,
  });
}

/** alice calls bob on every flow of bob's, `answerer` answers; returns the messages of the established call. */
export async function establishCall(
  ctx: { a1: Flow; b: Flow[] },
  o: { answerer?: number; okHeaders?: Array<[string, string]>; inviteHeaders?: Array<[string, string]> } = {},
): Promise<{ inv: SipRequest; ok: SipResponse; answered: Flow }> {
  await ctx.a1.send(invite({ headers: o.inviteHeaders ?? [] }));
  const answered = ctx.b[o.answerer ?? 0]!;
  for (const f of ctx.b) await f.reply(f.lastRequest("INVITE"), 180);
  const inv = answered.lastRequest("INVITE");
  await answered.reply(inv, 200, { body: SDP, headers: o.okHeaders ?? [] });
  const ok = ctx.a1.lastResponse(200);
  await ctx.a1.send(callerInDialog("ACK", ok, ok.cseq.seq));
  return { inv, ok, answered };
}
