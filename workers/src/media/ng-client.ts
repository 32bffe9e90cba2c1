import { isCapacityReason, NgAuthError, NgCapacityError, NgClosedError, NgError, NgTimeoutError, NgTransportError } from "./ng-errors.ts";
import { importNgSecret, SIGNATURE_HEADER, signNgBody, TIMESTAMP_HEADER } from "./ng-signature.ts";

/**
 * The edge's ng channel to one media node's agent: JSON over a signed
 * `fetch` POST to the node's `ng_url` (ARCHITECTURE.md: "HTTPS ng (JSON,
 * HMAC-signed)"). Shaped like mediasoup's Channel (STYLE.md): request id →
 * pending `{resolve, reject, timer}`, size limits, a closed flag; callers
 * never see framing. No `cloudflare:*` import: it runs in workerd and Node.
 *
 * Over HTTP a large reply cannot be lost the way a UDP datagram can
 * (PITFALLS 17); the agent's UDP hop to rtpengine stays on loopback.
 */
export type NgValue = string | number | NgValue[] | { [key: string]: NgValue };
export type NgDict = { [key: string]: NgValue };

export interface NgReply {
  result: string;
  "error-reason"?: string;
  warning?: string;
  sdp?: string;
  [key: string]: unknown;
}

export interface NgClientOptions {
  /** The agent's `ng_url` from the node's media_nodes row. */
  url: string;
  secret: string;
  /** Whole request, agent and rtpengine included; a little over the agent's own 3 s. */
  timeoutMs?: number;
  /** The agent refuses bodies over 64 KiB (413); refuse them here first. */
  maxRequestBytes?: number;
  maxReplyBytes?: number;
  fetch?: typeof fetch;
}

interface Pending {
  command: string;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  abort: AbortController;
}

export const NG_DEFAULTS = { timeoutMs: 3500, maxRequestBytes: 64 * 1024, maxReplyBytes: 512 * 1024 } as const;

const encoder = new TextEncoder();

export class NgClient {
  private readonly pending = new Map<number, Pending>();
  private readonly key: Promise<CryptoKey>;
  private readonly fetch: typeof fetch;
  private nextId = 0;
  private lastTimestamp = 0;
  private closed = false;

  constructor(private readonly opts: NgClientOptions) {
    this.key = importNgSecret(opts.secret);
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  get url(): string {
    return this.opts.url;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sends `command` with the other keys of `dict`. Resolves with a reply whose
   * `result` is not `error`; rejects with a typed NgError otherwise.
   */
  async request(command: string, dict: NgDict = {}, options: { timeoutMs?: number } = {}): Promise<NgReply> {
    if (this.closed) throw new NgClosedError(command, "ng client is closed");
    const text = JSON.stringify({ ...dict, command });
    const body = encoder.encode(text);
    const maxRequest = this.opts.maxRequestBytes ?? NG_DEFAULTS.maxRequestBytes;
    if (body.length > maxRequest) throw new NgError(command, `ng request of ${body.length} bytes is over the ${maxRequest}-byte limit`);
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs ?? NG_DEFAULTS.timeoutMs;

    // Unique per request even within one millisecond: the agent refuses a
    // signature it has already seen (a replay), and two identical bodies
    // (two `ping`s) signed in the same millisecond would be identical.
    const timestamp = String((this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1)));
    const signature = await signNgBody(await this.key, timestamp, body);

    const id = ++this.nextId;
    const abort = new AbortController();
    return new Promise<NgReply>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        const p = this.pending.get(id);
        if (p === undefined) return;
        clearTimeout(p.timer);
        this.pending.delete(id);
        fn();
      };
      const timer = setTimeout(() => {
        abort.abort();
        settle(() => reject(new NgTimeoutError(command, `no answer from ${this.opts.url} within ${timeoutMs} ms`)));
      }, timeoutMs);
      this.pending.set(id, { command, reject, timer, abort });
      // fetch sends the string as UTF-8: the same bytes that were signed.
      this.exchange(command, text, timestamp, signature, abort.signal).then(
        (reply) => settle(() => resolve(reply)),
        (err: unknown) => settle(() => reject(err)),
      );
    });
  }

  private async exchange(command: string, body: string, timestamp: string, signature: string, signal: AbortSignal): Promise<NgReply> {
    let res: Response;
    try {
      res = await this.fetch(this.opts.url, {
        method: "POST",
        headers: { "content-type": "application/json", [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature },
        body,
        signal,
      });
    } catch (err) {
      throw new NgTransportError(command, `cannot reach ${this.opts.url}: ${(err as Error).message}`);
    }
    const text = await this.readLimited(command, res);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NgTransportError(command, `${this.opts.url} answered ${res.status} with a body that is not JSON`, res.status);
    }
    const obj = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
    if (res.status === 504) throw new NgTimeoutError(command, `rtpengine behind ${this.opts.url} did not answer: ${String(obj.reason ?? "")}`, obj);
    if (res.status === 401) throw new NgAuthError(command, `${this.opts.url} refused our signature (${String(obj.reason ?? "?")}): check the shared secret and the clocks`, 401);
    if (res.status !== 200) throw new NgTransportError(command, `${this.opts.url} answered ${res.status}: ${String(obj.reason ?? obj.error ?? "")}`, res.status);
    if (typeof obj.result !== "string") throw new NgTransportError(command, `reply from ${this.opts.url} has no "result"`, 200);
    const reply = obj as NgReply;
    if (reply.result === "error") {
      const reason = typeof reply["error-reason"] === "string" ? reply["error-reason"] : "unknown error";
      const Cls = isCapacityReason(reason) ? NgCapacityError : NgError;
      throw new Cls(command, `rtpengine: ${reason}`, reply);
    }
    // The ng "load limit" extension answers this instead of an error (supports: ["load limit"]).
    if (reply.result === "load limit") throw new NgCapacityError(command, `rtpengine: load limit${reply.message ? ` (${String(reply.message)})` : ""}`, reply);
    return reply;
  }

  private async readLimited(command: string, res: Response): Promise<string> {
    const limit = this.opts.maxReplyBytes ?? NG_DEFAULTS.maxReplyBytes;
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > limit) {
      await res.body?.cancel();
      throw new NgTransportError(command, `reply of ${declared} bytes is over the ${limit}-byte limit`, res.status);
    }
    if (res.body === null) return "";
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw new NgTransportError(command, `reply is over the ${limit}-byte limit`, res.status);
      }
      chunks.push(value);
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all);
  }

  /** Rejects every pending request and refuses new ones. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.abort.abort();
      p.reject(new NgClosedError(p.command, "ng client closed"));
    }
    this.pending.clear();
  }
}
