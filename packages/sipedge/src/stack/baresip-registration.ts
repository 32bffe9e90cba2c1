// What baresip 1.0.0 says about its registration (baresip-config.ts,
// `registration`), read back from its output: its log lines for the
// outcome of each REGISTER, and its SIP trace (-s) for the unregistration
// at quit, which it does not log. Pure, so it is tested on captured lines.
import { plainLine, type TracedSipMessage } from "./baresip-output.ts";

export type RegistrationState =
  /** Its REGISTER is on the way (or being challenged: a 401/407 it answers is not logged). */
  | "registering"
  | "registered"
  /** The registrar refused it, or it timed out; baresip tries again later. */
  | "failed"
  /** It quits: its REGISTER with expires=0 is on the way. */
  | "unregistering"
  /** The registrar answered its REGISTER with expires=0 with a 2xx. */
  | "unregistered";

export interface RegistrationStatus {
  state: RegistrationState;
  /** The registrar's answer ("200 OK", "403 Forbidden - Wrong password") or the error ("Register: Connection timed out"). */
  detail?: string;
  /** How many bindings the AOR has, as the last 2xx listed them (RFC 3261 §10.3 step 8). */
  bindings?: number;
}

/**
 * Follows one registered account of baresip:
 * - "carol@example.com: {0/UDP/v4} 200 OK (server) [1 binding]" once a
 *   REGISTER succeeds (printed again only when the status code changes);
 * - "reg: sip:carol@example.com: 403 Forbidden (server)" or
 *   "reg: sip:carol@example.com: Register: Connection timed out" when it fails;
 * - in the trace, a REGISTER whose Contact has expires=0 (RFC 3261 §10.2.2),
 *   and the 2xx to it (same Call-ID and CSeq).
 */
export class BaresipRegistrationLog {
  status: RegistrationStatus = { state: "registering" };
  private readonly ok: RegExp;
  private readonly failed: RegExp;
  /** Call-ID and CSeq number of each REGISTER with expires=0 it sent. */
  private readonly unregisters = new Set<string>();

  /** `aor`: `user@domain`, as in the account. */
  constructor(aor: string) {
    const quoted = aor.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    // Not a longer AOR ending in ours: nothing of a user name right before it.
    this.ok = new RegExp(`(?<![\\w.+-])${quoted}: \\{\\d+/[A-Z]+/v[46]\\} (2\\d\\d [^(]*?) \\(.*\\) \\[(\\d+) bindings?\\]`);
    this.failed = new RegExp(`reg: sips?:${quoted}: (.*?)\\s*$`);
  }

  /** Takes one output line; true when it changed the status. */
  line(raw: string): boolean {
    const line = plainLine(raw);
    let m = this.ok.exec(line);
    if (m) {
      if (this.status.state === "unregistering" || this.status.state === "unregistered") return false;
      this.status = { state: "registered", detail: m[1]!.trim(), bindings: Number(m[2]) };
      return true;
    }
    m = this.failed.exec(line);
    if (m) {
      // "403 Forbidden (server)": the server's name in brackets says nothing.
      this.status = { state: "failed", detail: m[1]!.replace(/\s*\([^()]*\)$/, "") };
      return true;
    }
    return false;
  }

  /** Takes one message of its SIP trace; true when it changed the status. */
  message(m: TracedSipMessage): boolean {
    const end = m.text.indexOf("\r\n\r\n");
    const head = end < 0 ? m.text : m.text.slice(0, end);
    const key = `${header(head, "Call-ID")} ${(header(head, "CSeq") ?? "").split(/\s+/)[0]}`;
    if (m.text.startsWith("REGISTER ")) {
      if (!isUnregister(head)) return false;
      this.unregisters.add(key);
      if (this.status.state === "unregistering") return false;
      this.status = { state: "unregistering" };
      return true;
    }
    const status = /^SIP\/2\.0 (\d{3}) ?(.*)/.exec(m.text);
    if (status === null || !this.unregisters.has(key)) return false;
    const code = Number(status[1]);
    // A challenge is answered by baresip with a new REGISTER (a new CSeq), a provisional is no answer yet.
    if (code < 200 || code === 401 || code === 407) return false;
    this.status = code < 300 ? { state: "unregistered", detail: `${code} ${status[2]!.trim()}` } : { state: "failed", detail: `unregister: ${code} ${status[2]!.trim()}` };
    return true;
  }
}

/** A header's value in a message head (compact forms: baresip sends full names). */
function header(head: string, name: string): string | undefined {
  const m = new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, "mi").exec(head);
  return m?.[1]?.trim();
}

/** RFC 3261 §10.2.2: expires=0 on every Contact, or `Expires: 0` with no Contact saying otherwise. */
function isUnregister(head: string): boolean {
  const contact = header(head, "Contact");
  if (contact === undefined) return false;
  const param = /;\s*expires\s*=\s*(\d+)/i.exec(contact);
  if (param !== null) return Number(param[1]) === 0;
  return header(head, "Expires") === "0";
}
