/**
 * Choosing the response to send upstream (RFC 3261 §16.7 step 6), as a
 * ranking: a final response replaces the stored best one only if it ranks
 * strictly better, so among equals the first one stays.
 *
 *  - any 6xx wins ("the proxy MUST choose from the 6xx class");
 *  - otherwise the lowest class wins (3xx over 4xx over 5xx);
 *  - within 4xx, 401, 407, 415, 420 and 484 are preferred, because they
 *    tell the UAC how to succeed on a retry.
 * 2xx are never stored: every 2xx is forwarded at once (§16.7 step 5).
 */
const PREFERRED_4XX = new Set([401, 407, 415, 420, 484]);

export function finalRank(status: number): number {
  if (status >= 600) return 0;
  const cls = Math.floor(status / 100);
  return cls * 10 + (cls === 4 && PREFERRED_4XX.has(status) ? 0 : 1);
}

export function isBetterFinal(candidate: number, best: number | undefined): boolean {
  return best === undefined || finalRank(candidate) < finalRank(best);
}

/**
 * §16.7 step 6: "If the only response that was received is a 503 (Service
 * Unavailable), the proxy SHOULD generate a 500": forwarding a 503 would tell
 * the UAC that this proxy, not one callee, is unavailable.
 */
export function upstreamStatus(best: number): number {
  return best === 503 ? 500 : best;
}

/** §16.7 step 7: these challenges are collected from every 401/407 into the one forwarded. */
export function challengeHeaderFor(status: number): string | undefined {
  return status === 401 ? "WWW-Authenticate" : status === 407 ? "Proxy-Authenticate" : undefined;
}
