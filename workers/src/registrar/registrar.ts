import { SipError } from "../sip-error.ts";
import type { Binding, BindingChanges, BindingStore } from "./binding.ts";

/** The registrar's numbers. Seconds unless named otherwise. */
export interface RegistrarPolicy {
  /** Below this (and not 0) a REGISTER is refused 423 with Min-Expires (RFC 3261 §10.3 step 7, §21.4.17). */
  minExpires: number;
  /** Longer requested lifetimes are shortened to this (RFC 3261 §10.3 step 7 lets the registrar decrease it). */
  maxExpires: number;
  /** When neither the contact's `expires` nor an Expires header says (RFC 3261 §10.2.1.1). */
  defaultExpires: number;
  /** Contacts one AOR may hold; more is refused 403 (a bound on what one user can make us store). */
  maxBindings: number;
  /**
   * Flow-Timer sent under outbound rules (RFC 5626 §5.4): the UA keeps the
   * flow alive with CRLF keep-alives at 80–100 % of it. Below the ~100 s idle
   * timeout of proxies and load balancers in front of WebSockets (PITFALLS 14).
   */
  flowTimer: number;
}

export const DEFAULT_REGISTRAR_POLICY: Readonly<RegistrarPolicy> = Object.freeze({
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  maxBindings: 10,
  flowTimer: 60,
});

/** Option tags the registrar understands in Require (RFC 3261 §8.2.2.3). */
const SUPPORTED_EXTENSIONS = new Set(["outbound", "path"]);

/** One Contact of a REGISTER, as the registrar needs it (register-request.ts builds it). */
export interface ContactSpec {
  /** The contact URI as sent. */
  uri: string;
  /** The URI normalised for comparison (RFC 3261 §19.1.4). */
  uriKey: string;
  expires?: number;
  q?: number;
  instance?: string;
  regId?: number;
}

/** A REGISTER reduced to what §10.3 looks at. */
export interface RegisterRequest {
  callId: string;
  cseq: number;
  /** The Expires header field, if present. */
  expires?: number;
  /** Absent Contact header: a query. "*": remove all (step 6). */
  contacts: ContactSpec[] | "*";
  supported: string[];
  require: string[];
  path: string[];
  userAgent?: string;
}

export interface RegisterContext {
  flowId: string;
  nowMs: number;
}

export interface RegisterResult {
  /** Header fields for the 200 (Contact list, Date, outbound ones), in order. */
  headers: Array<[string, string]>;
  /** Every binding after this REGISTER. */
  bindings: Binding[];
  added: number;
  refreshed: number;
  removed: number;
  outbound: boolean;
  /**
   * Flows whose bindings this REGISTER moved onto its own flow: the same
   * device (instance + reg-id, or the same Contact URI) came back on a new
   * socket (RFC 5626 §6; PITFALLS 13).
   */
  replacedFlows: string[];
}

/**
 * The registrar of one AOR (RFC 3261 §10.3) with RFC 5626 outbound. Steps 1
 * (Request-URI domain), 3–4 (authentication, authorization) and 5 (To is this
 * AOR) are done by the caller before `register`; this does 2 and 6–8.
 */
export class Registrar {
  constructor(
    private readonly store: BindingStore,
    readonly policy: Readonly<RegistrarPolicy> = DEFAULT_REGISTRAR_POLICY,
  ) {}

  /** RFC 3261 §10.3 step 2: a Require we do not support is refused 420 with Unsupported (§8.2.2.3). */
  checkRequire(req: RegisterRequest): void {
    const unsupported = req.require.filter((tag) => !SUPPORTED_EXTENSIONS.has(tag.toLowerCase()));
    if (unsupported.length > 0) throw new SipError(420, "Bad Extension", [["Unsupported", unsupported.join(", ")]], "unsupported-require");
  }

  register(req: RegisterRequest, ctx: RegisterContext): RegisterResult {
    this.checkRequire(req);
    const { nowMs } = ctx;
    const current = this.store.list(nowMs);
    const byKey = new Map(current.map((b) => [b.key, b]));
    const changes: BindingChanges = { put: [], removeKeys: [] };
    let added = 0;
    let refreshed = 0;
    const replacedFlows = new Set<string>();

    if (req.contacts === "*") {
      // Step 6: "*" only with Expires: 0 (the caller has checked that it stands alone).
      if (req.expires !== 0) throw new SipError(400, "Bad Request - Wildcard Contact requires Expires: 0", [], "wildcard-expires");
      for (const b of current) {
        // Step 6: same Call-ID needs a higher CSeq, else the request fails.
        if (b.callId === req.callId && req.cseq <= b.cseq) throw outOfOrder();
        changes.removeKeys.push(b.key);
      }
    } else {
      const outbound = usesOutbound(req);
      if (outbound && req.contacts.filter((c) => c.regId !== undefined).length > 1) {
        // RFC 5626 §6: one flow per REGISTER; several reg-id Contacts are refused.
        throw new SipError(400, "Bad Request - More than one Contact with reg-id", [], "multiple-reg-id");
      }
      const planned: Array<{ c: ContactSpec; expires: number }> = [];
      for (const c of req.contacts) {
        const expires = c.expires ?? req.expires ?? this.policy.defaultExpires;
        if (expires !== 0 && expires < this.policy.minExpires) {
          // Step 7 (RFC 3261 §10.3, §20.23): 423 with Min-Expires; nothing is changed.
          throw new SipError(423, "Interval Too Brief", [["Min-Expires", String(this.policy.minExpires)]], "interval-too-brief");
        }
        planned.push({ c, expires: Math.min(expires, this.policy.maxExpires) });
      }
      for (const { c, expires } of planned) {
        const viaOutbound = outbound && c.instance !== undefined && c.regId !== undefined;
        const key = viaOutbound ? `i:${c.instance}#${c.regId}` : `u:${c.uriKey}`;
        const existing = byKey.get(key);
        // Step 7: a binding refreshed with the same Call-ID needs a higher CSeq.
        if (existing !== undefined && existing.callId === req.callId && req.cseq <= existing.cseq) throw outOfOrder();
        if (expires === 0) {
          if (existing !== undefined) changes.removeKeys.push(key);
          byKey.delete(key);
          continue;
        }
        // Under outbound rules the new flow replaces the device's old one
        // (RFC 5626 §6; PITFALLS 13): the key is instance + reg-id, whatever socket.
        const binding: Binding = {
          key,
          uri: c.uri,
          ...(c.instance !== undefined ? { instance: c.instance } : {}),
          ...(c.regId !== undefined ? { regId: c.regId } : {}),
          flowId: ctx.flowId,
          expiresAt: nowMs + expires * 1000,
          ...(c.q !== undefined ? { q: c.q } : {}),
          callId: req.callId,
          cseq: req.cseq,
          path: req.path,
          outbound: viaOutbound,
          ...(req.userAgent !== undefined ? { userAgent: req.userAgent } : {}),
          registeredAt: existing?.registeredAt ?? nowMs,
        };
        if (existing === undefined) added++;
        else refreshed++;
        if (existing !== undefined && existing.flowId !== ctx.flowId) replacedFlows.add(existing.flowId);
        byKey.set(key, binding);
        changes.put.push(binding);
      }
      if (byKey.size > this.policy.maxBindings && added > 0) {
        throw new SipError(403, "Forbidden - Too many registered contacts", [], "too-many-bindings");
      }
    }

    const removed = changes.removeKeys.length;
    if (changes.put.length > 0 || removed > 0) this.store.commit(changes);
    const bindings = req.contacts === "*" ? [] : [...byKey.values()];
    const outbound = req.contacts !== "*" && usesOutbound(req);
    return { headers: this.responseHeaders(bindings, req, nowMs, outbound), bindings, added, refreshed, removed, outbound, replacedFlows: [...replacedFlows] };
  }

  /** Step 8: the 200 lists every current binding with its remaining lifetime, and a Date. */
  private responseHeaders(bindings: Binding[], req: RegisterRequest, nowMs: number, outbound: boolean): Array<[string, string]> {
    const headers: Array<[string, string]> = [];
    for (const b of bindings) headers.push(["Contact", contactValue(b, nowMs)]);
    if (req.path.length > 0) for (const p of req.path) headers.push(["Path", p]); // RFC 3327 §5.3
    if (outbound) {
      // RFC 5626 §6: the registrar that applied outbound rules says so with Require: outbound.
      headers.push(["Require", "outbound"]);
      headers.push(["Flow-Timer", String(this.policy.flowTimer)]);
    }
    headers.push(["Supported", "outbound, path"]);
    headers.push(["Date", new Date(nowMs).toUTCString()]);
    return headers;
  }
}

/** RFC 5626 §6: outbound rules apply when the UA supports outbound and a Contact has +sip.instance and reg-id. */
function usesOutbound(req: RegisterRequest): boolean {
  if (req.contacts === "*" || !req.supported.some((t) => t.toLowerCase() === "outbound")) return false;
  return req.contacts.some((c) => c.instance !== undefined && c.regId !== undefined);
}

export function contactValue(b: Binding, nowMs: number): string {
  const left = Math.max(0, Math.ceil((b.expiresAt - nowMs) / 1000));
  let v = `<${b.uri}>;expires=${left}`;
  if (b.instance !== undefined) v += `;+sip.instance="${b.instance}"`;
  if (b.regId !== undefined) v += `;reg-id=${b.regId}`;
  if (b.q !== undefined) v += `;q=${b.q}`;
  return v;
}

/**
 * RFC 3261 §10.3 steps 6–7 say only that the request "fails" when the same
 * Call-ID comes with a CSeq not above the stored one; we answer as §12.2.2
 * does for an out-of-order in-dialog request: 500.
 */
function outOfOrder(): SipError {
  return new SipError(500, "Server Internal Error - CSeq out of order", [], "cseq-out-of-order");
}
