/**
 * What the softphone tells a person when something fails: one plain
 * sentence per SIP answer or JsSIP cause. Pure (no DOM), unit-tested in
 * workers/test/softphone/.
 */

/** What JsSIP reports with `registrationFailed`, `failed` and `ended`. */
export interface Failure {
  /** JsSIP's cause (JsSIP.C.causes), e.g. "Authentication Error", "Canceled". */
  cause?: string;
  /** The SIP response, when one caused it. */
  status?: number;
  reason?: string;
  /** Who ended it: "local", "remote" or "system". */
  originator?: string;
}

/** Why signing in (REGISTER) failed. */
export function registrationMessage(f: Failure): string {
  if (f.status === 401 || f.status === 407 || f.cause === "Authentication Error") return "Wrong password";
  if (f.status === 403) {
    // The registrar's 403s say why (workers/src/auth/authenticator.ts).
    if (/too many/i.test(f.reason ?? "")) return "Too many failed sign-ins: wait a few minutes and try again";
    if (/disabled/i.test(f.reason ?? "")) return "This account is disabled";
    return `Sign-in refused${f.reason ? ` (${f.reason})` : ""}`;
  }
  if (f.status === 404) return "User not found";
  if (f.status === 503) return "The server is busy, try again";
  if (f.cause === "Connection Error") return "Cannot reach the server";
  if (f.cause === "Request Timeout") return "The server did not answer";
  return describe(f, "Sign-in failed");
}

/**
 * Why a call failed or ended, or undefined when nothing went wrong (a normal
 * hang-up, our own cancel or reject).
 */
export function callMessage(f: Failure): string | undefined {
  switch (f.status) {
    case 401:
    case 407:
      return "Wrong password";
    case 403:
      return `Call not allowed${f.reason && !/^forbidden$/i.test(f.reason) ? ` (${f.reason})` : ""}`;
    case 404:
    case 604:
      return "User not found";
    case 408:
      return "No answer";
    case 410:
    case 480:
      return "User offline";
    case 484:
      return "Incomplete number";
    case 486:
    case 600:
      return "Busy";
    case 487:
      return f.originator === "local" ? undefined : "Call cancelled";
    case 488:
    case 606:
      return "The other side cannot handle this call's audio";
    case 503:
      // sipedge answers 503 + Retry-After when no media relay can take the call
      // (workers/src/media/node-failover.ts, NoMediaNodeError).
      return "No media node available, try again";
    case 603:
      return "Call declined";
  }
  switch (f.cause) {
    case undefined:
    case "Terminated":
    case "Canceled":
      return undefined;
    case "Rejected":
      return f.originator === "local" ? undefined : "Call declined";
    case "User Denied Media Access":
      return "Microphone access was denied: allow it in the browser and try again";
    case "Connection Error":
      return "Connection to the server lost";
    case "Request Timeout":
      return "The server did not answer";
    case "No Answer":
      return "No answer";
    case "RTP Timeout":
      return "Audio stopped (media timeout)";
    case "WebRTC Error":
    case "Bad Media Description":
    case "Incompatible SDP":
    case "Missing SDP":
      return "The browser could not set up the audio";
  }
  return describe(f, "Call failed");
}

function describe(f: Failure, prefix: string): string {
  if (f.status !== undefined) return `${prefix}: ${f.status}${f.reason ? ` ${f.reason}` : ""}`;
  return f.cause ? `${prefix}: ${f.cause}` : prefix;
}
