import type { SipRequest } from "sip-parser-ts";
import type { SipError } from "../sip-error.ts";
import type { TokenSigner } from "./flow-token.ts";
import type { ProxyMedia } from "./proxy-media.ts";
import type { ProxyStore } from "./proxy-store.ts";

/**
 * Everything the proxy core needs from the UserAgent DO around it, and
 * nothing more (STYLE.md: the core never touches a socket; SIP.js's
 * `transport.ts`). All state the proxy needs later is in `store`, all time
 * is `now()` and `setTimer`, so a ProxyCore can be dropped at any moment
 * (hibernation) and a new one built over the same host carries on.
 *
 * Messages cross this interface as text: a WebSocket frame and a DO RPC
 * argument are strings anyway, and the proxy serializes each message once.
 */
export interface ProxyHost {
  /** This DO's user. `aor` is `user@domain` (workers/src/aor.ts), `domain` is the host of our Record-Route/Via. */
  readonly self: { readonly aor: string; readonly domain: string };
  now(): number;
  /** Domains this edge serves: a Request-URI in one of them names a user of ours (usually just `self.domain`). */
  isLocalDomain(host: string): boolean;

  /**
   * This user's live flows that carry a registered binding: the targets of
   * a request for the user (§16.5). One entry per flow (if a flow holds
   * several bindings, the most recent). A socket without a binding is not a
   * target.
   */
  flows(): FlowBinding[];
  /**
   * Sends on one of this DO's sockets. False when the socket is gone
   * (closed, or not known after a restart): the proxy then treats the
   * branch as failed and skips it (PITFALLS 15). Never throws.
   */
  sendToFlow(flowId: string, text: string): boolean;
  /**
   * The flow that carries `flowId`'s dialogs now: `flowId` itself, or, when
   * that socket vanished without a close (a process restart) and the same
   * device registered again on a new socket, the new one. A flow token in a
   * Route names the flow of the dialog's creation; the core asks this before
   * it routes by one, so the branch (and the responses matched against it)
   * names the live socket. Absent: always `flowId`.
   */
  currentFlow?(flowId: string): string;
  /**
   * Hands a request or response to another user's DO: the DO-to-DO hop,
   * which ends in that DO's `ProxyCore.onUserMessage(self.aor, message)`.
   * Rejects if the RPC fails. (A DO may name itself: the core never does,
   * it calls itself directly.)
   */
  sendToUser(aor: string, text: string): Promise<void>;

  /**
   * Whether `aor` is a subscriber (DynamoDB, the DO's cache): asked only
   * when a request for our user finds no flow, to answer 404 or 480.
   */
  userExists(aor: string): Promise<boolean>;
  /**
   * Digest authentication of a request from one of our flows (every method
   * but ACK and CANCEL, which cannot be challenged, §22.1; called after the
   * From check). Resolves with the authenticated user name, or with the
   * SipError to answer (407 with Proxy-Authenticate, 403, ...). Policy is
   * the host's: challenge every out-of-dialog INVITE (issue 3: no
   * unauthenticated call leaves a user's DO); let in-dialog requests
   * (`req.to.tag` set) through when the flow has authenticated before (it
   * registered or passed a digest), challenge them otherwise. The core
   * removes the Proxy-Authorization before forwarding (§22.3: the callee
   * must never see our user's credentials).
   */
  authenticate(req: SipRequest, flowId: string): Promise<AuthOutcome>;

  /** HMAC for flow tokens (flow-token.ts); the same secret in every DO. */
  readonly signer: TokenSigner;
  /**
   * The call's media (ARCHITECTURE.md "Who owns media"): SDP offers and
   * answers pass through it, and it hears when a call ends. Absent: SDP
   * passes untouched (unit tests of pure signalling).
   */
  readonly media?: ProxyMedia;
  /**
   * Browser to carrier (issue 5; ARCHITECTURE.md): a request from our user
   * whose Request-URI is a telephone number. Resolves with the egress link
   * it leaves by, its new Request-URI and headers to add, after the host's
   * call-out policy; undefined when the URI is not a number; throws the
   * SipError to answer (403 with the policy's reason, 404, 484, 503). An
   * INVITE admitted here counts against the user's limits until `callEnded`.
   */
  routeToTrunk?(req: SipRequest): Promise<TrunkRoute | undefined>;
  /** A call is over (its INVITE failed or its dialog ended; called more than once for some). */
  callEnded?(callId: string): void;
  /** Transactions and dialogs: must survive hibernation and eviction (DO SQLite: `SqlProxyStore`). */
  readonly store: ProxyStore;
  /**
   * Timers on the DO's one alarm (platform/timer-table.ts). Keys start with
   * `proxy:`; when one is due call `ProxyCore.onTimer(key)`. Scheduling an
   * existing key moves it. At-least-once is fine: the core re-checks.
   */
  setTimer(key: string, dueAt: number): void;
  clearTimer(key: string): void;

  /** One structured log line; fields never hold credentials. */
  log(event: string, fields: Record<string, string | number | boolean | null | undefined>): void;
}

export interface FlowBinding {
  flowId: string;
  /** The binding's Contact URI (no angle brackets, no header parameters): the branch's Request-URI (§16.6 item 2). */
  contact: string;
  /** `+sip.instance`, if any: for logs. */
  instance?: string;
}

/** Where a call to a number leaves (ProxyHost.routeToTrunk). */
export interface TrunkRoute {
  /** The EgressLink that carries the trunk (proxy/egress-hop.ts). */
  linkId: string;
  requestUri: string;
  /** Header fields added for the egress (the trunk to use, the caller ID). */
  headers: Array<[string, string]>;
}

export type AuthOutcome = { ok: true; user: string } | { ok: false; error: SipError };

/** Policy knobs; the defaults are what the issue asks for. */
export interface ProxyConfig {
  /**
   * RFC 4028 Min-SE we enforce (422 below it; PITFALLS 19: JsSIP may ask
   * for 60). The RFC's own floor is 90.
   */
  minSessionExpires: number;
  /** A dialog older than this is ended by BYE both ways, whatever its session timer says. */
  maxDialogLifetimeMs: number;
  /**
   * RFC 4028 §10: the refresher refreshes at half the interval and the other
   * side gives up shortly before expiry; we end the dialog this long after
   * the interval ran out with no refresh.
   */
  sessionExpiryGraceMs: number;
}

export const DEFAULT_PROXY_CONFIG: ProxyConfig = {
  minSessionExpires: 90,
  maxDialogLifetimeMs: 12 * 60 * 60 * 1000,
  sessionExpiryGraceMs: 2_000,
};
