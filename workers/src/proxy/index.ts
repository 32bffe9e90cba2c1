/**
 * The proxy core and dialogs of a UserAgent DO (RFC 3261 §16, §12; RFC 4028;
 * RFC 5626 flow tokens), as pure logic: no `cloudflare:*`, no I/O. The DO
 * implements `ProxyHost` and calls the `ProxyCore` entry points; see
 * proxy-host.ts for the contract and proxy-core.ts for the design.
 */
export { ProxyCore, ALLOW } from "./proxy-core.ts";
export { DEFAULT_PROXY_CONFIG, type AuthOutcome, type FlowBinding, type ProxyConfig, type ProxyHost, type TrunkRoute } from "./proxy-host.ts";
export type { ProxyStore } from "./proxy-store.ts";
export { SIP_BRANCH_ANSWER_HEADER, SIP_BRANCH_OFFER_HEADER, type ProxyMedia } from "./proxy-media.ts";
export { MemoryProxyStore } from "./memory-proxy-store.ts";
export { SqlProxyStore, type SqlExec } from "./sql-proxy-store.ts";
export { PROXY_MIGRATIONS } from "./proxy-schema.ts";
export type { Dialog, DialogEnd, DialogSummary } from "./dialog.ts";
export type { ClientBranch, ProxyTransaction } from "./proxy-transaction.ts";
export type { FlowToken, TokenSigner } from "./flow-token.ts";
export type { Hop } from "./hop.ts";
export { TIMER_PREFIX, parseTimerKey } from "./proxy-timers.ts";
