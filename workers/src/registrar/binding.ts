/**
 * A binding of this DO's AOR to a contact (RFC 3261 §10), living on a flow
 * (RFC 5626): the WebSocket that registered it.
 */
export interface Binding {
  /**
   * Identity of the binding: "i:<instance>#<reg-id>" when registered under
   * outbound rules (RFC 5626 §6), else "u:<contact URI, normalised>"
   * (RFC 3261 §10.3 step 7, URI comparison §19.1.4).
   */
  key: string;
  /** The contact URI as the UA sent it; its host is often `.invalid` and is never resolved (PITFALLS 5). */
  uri: string;
  /** `+sip.instance` (RFC 5626 §4.1), without the quotes. */
  instance?: string;
  regId?: number;
  /** The WebSocket this binding routes to (PITFALLS 22: the received socket, not the Contact). */
  flowId: string;
  expiresAt: number;
  q?: number;
  callId: string;
  cseq: number;
  /** Path header values (RFC 3327), if a proxy in front added any. */
  path: string[];
  /** Registered under RFC 5626 outbound rules. */
  outbound: boolean;
  userAgent?: string;
  registeredAt: number;
}

/** One REGISTER's effect, applied all at once (RFC 3261 §10.3: atomic). */
export interface BindingChanges {
  put: Binding[];
  removeKeys: string[];
}

/**
 * Where bindings live. The UserAgent DO implements it over SQLite (sync, so
 * the registrar stays sync and a REGISTER is one transaction); unit tests use
 * a Map.
 */
export interface BindingStore {
  /** Bindings not yet expired at `nowMs`. */
  list(nowMs: number): Binding[];
  /** Applies the changes atomically. */
  commit(changes: BindingChanges): void;
  /** Removes every binding of a flow (its socket closed: PITFALLS 13); returns them. */
  removeFlow(flowId: string): Binding[];
  /** Removes bindings expired at `nowMs`; returns how many. */
  removeExpired(nowMs: number): number;
  /** When the next binding expires, if any. */
  nextExpiry(): number | undefined;
}
