import { createHash, randomBytes } from "node:crypto";
import WebSocket from "ws";

/**
 * A raw SIP-over-WebSocket client (RFC 7118) for the cases JsSIP and SIP.js
 * cannot produce: it sends exactly the text it is given and waits on what
 * arrives, always with a timeout and never with a sleep.
 */
export interface ConnectOptions {
  /** Subprotocols offered; default ["sip"]. */
  protocols?: string[];
  headers?: Record<string, string>;
  /** Bind to this local address (e.g. 127.0.0.2) to look like another client source. */
  localAddress?: string;
  origin?: string;
  timeoutMs?: number;
}

export interface Closed {
  code: number;
  reason: string;
}

/** The HTTP answer to an upgrade that was refused. */
export interface Refusal {
  status: number;
  body: string;
}

export class SipWsClient {
  private readonly inbox: string[] = [];
  private waiters: Array<{ match: (m: string) => boolean; resolve: (m: string) => void }> = [];
  readonly closed: Promise<Closed>;
  private cseq = 1;
  readonly callId = `reg-${randomBytes(8).toString("hex")}`;
  /** A `.invalid` Contact host like the browser libraries use (RFC 7118 §5). */
  readonly contactHost = `${randomBytes(6).toString("hex")}.invalid`;
  readonly instance = `<urn:uuid:${crypto.randomUUID()}>`;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
      const i = this.waiters.findIndex((w) => w.match(text));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w!.resolve(text);
      } else {
        this.inbox.push(text);
      }
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, opts: ConnectOptions = {}): Promise<SipWsClient> {
    const ws = new WebSocket(url, opts.protocols ?? ["sip"], {
      ...(opts.headers !== undefined ? { headers: opts.headers } : {}),
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
      handshakeTimeout: opts.timeoutMs ?? 10_000,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { refusal: { status: res.statusCode ?? 0, body } satisfies Refusal })));
      });
    });
    return new SipWsClient(ws);
  }

  /** Connects expecting a refusal; resolves with its status and body. */
  static async refused(url: string, opts: ConnectOptions = {}): Promise<Refusal> {
    try {
      const c = await SipWsClient.connect(url, opts);
      c.ws.terminate();
    } catch (err) {
      const refusal = (err as { refusal?: Refusal }).refusal;
      if (refusal !== undefined) return refusal;
      throw err;
    }
    throw new Error(`expected ${url} to be refused, but it opened`);
  }

  send(text: string | Buffer): void {
    this.ws.send(text);
  }

  /** The next frame (already received or to come) that matches; rejects after timeoutMs. */
  next(match: (m: string) => boolean = () => true, timeoutMs = 5_000, what = "a frame"): Promise<string> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: string) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; unclaimed frames: ${JSON.stringify(this.inbox.map((m) => m.slice(0, 80)))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Frames received that no wait claimed. */
  unclaimed(): string[] {
    return [...this.inbox];
  }

  /** Sends a request and waits for its final response (same Call-ID and CSeq). */
  async request(text: string, timeoutMs = 5_000): Promise<SipMessageText> {
    const callId = headerOf(text, "Call-ID");
    const cseq = headerOf(text, "CSeq");
    this.send(text);
    const res = await this.next(
      (m) => m.startsWith("SIP/2.0 ") && statusOf(m) >= 200 && headerOf(m, "Call-ID") === callId && headerOf(m, "CSeq") === cseq,
      timeoutMs,
      `the final response to ${cseq}`,
    );
    return new SipMessageText(res);
  }

  nextCSeq(): number {
    return this.cseq++;
  }

  close(code = 1000): Promise<Closed> {
    this.ws.close(code);
    return this.closed;
  }
}

/** A received message with a few accessors (by text, independent of the code under test). */
export class SipMessageText {
  constructor(readonly text: string) {}
  get status(): number {
    return statusOf(this.text);
  }
  get reason(): string {
    return /^SIP\/2\.0 \d{3} (.*)\r\n/.exec(this.text)?.[1] ?? "";
  }
  header(name: string): string | undefined {
    return headerOf(this.text, name);
  }
  headers(name: string): string[] {
    return headersOf(this.text, name);
  }
}

export function statusOf(text: string): number {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
  return m === null ? 0 : Number(m[1]);
}

const COMPACT: Record<string, string> = { "call-id": "i", contact: "m", from: "f", to: "t", via: "v", "content-length": "l", supported: "k", expires: "" };

export function headersOf(text: string, name: string): string[] {
  const head = text.split("\r\n\r\n")[0]!.split("\r\n").slice(1);
  const want = name.toLowerCase();
  const compact = COMPACT[want];
  const out: string[] = [];
  for (const line of head) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const n = line.slice(0, colon).trim().toLowerCase();
    if (n === want || (compact !== undefined && compact !== "" && n === compact)) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

export function headerOf(text: string, name: string): string | undefined {
  return headersOf(text, name)[0];
}

// ------------------------------------------------------------------ REGISTER

export interface RegisterOptions {
  aor: string;
  callId: string;
  cseq: number;
  contactHost: string;
  /** Contact header value override (e.g. "*"). */
  contact?: string;
  expires?: number;
  /** Contact parameters, e.g. `;+sip.instance="<urn:uuid:…>";reg-id=1`. */
  contactParams?: string;
  supported?: string;
  authorization?: string;
  /** To AOR when it should differ from aor. */
  toAor?: string;
  extraHeaders?: string[];
}

export function registerMessage(o: RegisterOptions): string {
  const domain = o.aor.slice(o.aor.indexOf("@") + 1);
  const user = o.aor.slice(0, o.aor.indexOf("@"));
  const branch = `z9hG4bK${randomBytes(6).toString("hex")}`;
  const lines = [
    `REGISTER sip:${domain} SIP/2.0`,
    `Via: SIP/2.0/WSS ${o.contactHost};branch=${branch}`,
    "Max-Forwards: 70",
    `To: <sip:${o.toAor ?? o.aor}>`,
    `From: <sip:${o.aor}>;tag=${randomBytes(4).toString("hex")}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} REGISTER`,
    `Contact: ${o.contact ?? `<sip:${user}-dev@${o.contactHost};transport=ws;ob>${o.contactParams ?? ""}`}`,
    ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
    ...(o.supported !== undefined ? [`Supported: ${o.supported}`] : []),
    ...(o.authorization !== undefined ? [`Authorization: ${o.authorization}`] : []),
    ...(o.extraHeaders ?? []),
    "User-Agent: sipedge-test",
    "Content-Length: 0",
  ];
  return lines.join("\r\n") + "\r\n\r\n";
}

// -------------------------------------------------------------------- digest

export interface Challenge {
  realm: string;
  nonce: string;
  algorithm: string;
  qop?: string;
  opaque?: string;
  stale: boolean;
  raw: string;
}

/** Parses a WWW-Authenticate / Proxy-Authenticate value (test side, by regex). */
export function parseChallenge(value: string): Challenge {
  const param = (n: string): string | undefined => {
    const m = new RegExp(`[\\s,]${n}=(?:"([^"]*)"|([^,\\s]+))`, "i").exec(" " + value.replace(/^Digest\s+/i, " "));
    return m === null ? undefined : (m[1] ?? m[2]);
  };
  return {
    realm: param("realm") ?? "",
    nonce: param("nonce") ?? "",
    algorithm: param("algorithm") ?? "MD5",
    ...(param("qop") !== undefined ? { qop: param("qop")! } : {}),
    ...(param("opaque") !== undefined ? { opaque: param("opaque")! } : {}),
    stale: (param("stale") ?? "").toLowerCase() === "true",
    raw: value,
  };
}

const hashOf = (alg: string, s: string): string => createHash(alg.toUpperCase().startsWith("SHA-256") ? "sha256" : "md5").update(s).digest("hex");

/** Computes an Authorization value (RFC 7616 §3.4.1; qop=auth when offered) with node:crypto, independently of the edge's code. */
export function digestAuthorization(o: { challenge: Challenge; method: string; uri: string; username: string; password: string; nc?: number; cnonce?: string }): string {
  const { challenge: c } = o;
  const alg = c.algorithm;
  const ha1 = hashOf(alg, `${o.username}:${c.realm}:${o.password}`);
  const ha2 = hashOf(alg, `${o.method}:${o.uri}`);
  const nc = (o.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = o.cnonce ?? randomBytes(8).toString("hex");
  const useQop = c.qop !== undefined && c.qop.split(",").map((q) => q.trim()).includes("auth");
  const response = useQop ? hashOf(alg, `${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`) : hashOf(alg, `${ha1}:${c.nonce}:${ha2}`);
  let v = `Digest username="${o.username}", realm="${c.realm}", nonce="${c.nonce}", uri="${o.uri}", response="${response}", algorithm=${alg}`;
  if (useQop) v += `, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  if (c.opaque !== undefined) v += `, opaque="${c.opaque}"`;
  return v;
}

export interface RegisteredResult {
  response: SipMessageText;
  challenge: Challenge;
}

/**
 * REGISTER → 401 → REGISTER with credentials (MD5, the first challenge, as
 * JsSIP and SIP.js do); returns the final response, whatever it is.
 */
export async function register(
  client: SipWsClient,
  o: { aor: string; password: string; expires?: number; contactParams?: string; supported?: string; username?: string; algorithm?: "MD5" | "SHA-256"; contact?: string },
): Promise<RegisteredResult> {
  const base = {
    aor: o.aor,
    callId: client.callId,
    contactHost: client.contactHost,
    ...(o.expires !== undefined ? { expires: o.expires } : {}),
    ...(o.contactParams !== undefined ? { contactParams: o.contactParams } : {}),
    ...(o.supported !== undefined ? { supported: o.supported } : {}),
    ...(o.contact !== undefined ? { contact: o.contact } : {}),
  };
  const first = await client.request(registerMessage({ ...base, cseq: client.nextCSeq() }));
  if (first.status !== 401) return { response: first, challenge: parseChallenge("") };
  const challenges = first.headers("WWW-Authenticate").map(parseChallenge);
  const challenge = challenges.find((c) => c.algorithm.toUpperCase() === (o.algorithm ?? "MD5")) ?? challenges[0]!;
  const domain = o.aor.slice(o.aor.indexOf("@") + 1);
  const authorization = digestAuthorization({ challenge, method: "REGISTER", uri: `sip:${domain}`, username: o.username ?? o.aor.slice(0, o.aor.indexOf("@")), password: o.password });
  const response = await client.request(registerMessage({ ...base, cseq: client.nextCSeq(), authorization }));
  return { response, challenge };
}

export function wsUrl(edgeUrl: string, aor: string): string {
  return `${edgeUrl.replace(/^http/, "ws")}/ws/${aor}`;
}

/** Clients a test file opens, closed together after each test. */
export function clientPool(edgeUrl: string): { connect(aor: string, localAddress?: string): Promise<SipWsClient>; closeAll(): Promise<void> } {
  const clients: SipWsClient[] = [];
  return {
    async connect(aor, localAddress) {
      const c = await SipWsClient.connect(wsUrl(edgeUrl, aor), localAddress !== undefined ? { localAddress } : {});
      clients.push(c);
      return c;
    },
    async closeAll() {
      await Promise.all(clients.splice(0).map((c) => (c.ws.readyState === c.ws.OPEN ? c.close() : undefined)));
    },
  };
}
