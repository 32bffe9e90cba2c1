import type { SipRequest, SipResponse } from "sip-parser-ts";
import type { Destination } from "../transport/protocol.ts";
import { grantedExpires } from "../trunks/register-request.ts";

/**
 * NAT keep-alive for legacy phones registered through this egress (issue 5;
 * what Kamailio's nathelper `natping_interval` does): a phone behind NAT is
 * reachable only while its NAT keeps the binding its REGISTER opened, often
 * 30-60 s for UDP. Every interval each registered phone gets a CRLFCRLF
 * ping at the address its REGISTER came from, until its registration
 * expires or it unregisters.
 */
export class PhoneKeepAlive {
  private readonly phones = new Map<string, { destination: Destination; until: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Pings sent and failed, for /metrics. */
  sent = 0;
  failed = 0;

  constructor(
    private readonly ping: (d: Destination) => Promise<void>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A 2xx to a phone's REGISTER: ping it until `expiresS` from now (0: it unregistered). */
  registered(destination: Destination, expiresS: number): void {
    const key = `${destination.transport} ${destination.host} ${destination.port}`;
    if (expiresS <= 0) this.phones.delete(key);
    else this.phones.set(key, { destination, until: this.now() + expiresS * 1000 });
  }

  /** Whether a phone is registered through us from exactly this address (transport, host, port). */
  has(source: { transport: string; address: string; port: number }): boolean {
    const p = this.phones.get(`${source.transport} ${source.address} ${source.port}`);
    return p !== undefined && p.until > this.now();
  }

  get size(): number {
    return this.phones.size;
  }

  /** One round of pings; registrations past their expiry are forgotten. */
  async tick(): Promise<void> {
    const now = this.now();
    const due: Destination[] = [];
    for (const [key, p] of this.phones) {
      if (p.until <= now) this.phones.delete(key);
      else due.push(p.destination);
    }
    await Promise.all(
      due.map((d) =>
        this.ping(d).then(
          () => void this.sent++,
          () => void this.failed++,
        ),
      ),
    );
  }

  /**
   * RFC 5626 §4.4.1: a phone that registered under outbound rules (the 2xx
   * says Require: outbound) sends keep-alives of its own — STUN on UDP,
   * CRLFCRLF on TCP/TLS, both answered by the transport — every Flow-Timer
   * seconds. The user's DO sets that for WebSockets (60 s); a UDP NAT in
   * front of a phone often forgets sooner (30 s is common, as the class
   * comment says). This egress sees the NAT side, so it lowers the value to
   * its own keep-alive interval.
   */
  lowerFlowTimer(ok: SipResponse): void {
    const seconds = Math.floor(this.intervalMs / 1000);
    if (seconds <= 0 || !ok.getAll("Require").some((v) => v.split(",").some((t) => t.trim().toLowerCase() === "outbound"))) return;
    const current = Number(ok.get("Flow-Timer"));
    if (!(Number.isInteger(current) && current > 0 && current <= seconds)) ok.set("Flow-Timer", String(seconds));
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * How long a 2xx to a phone's REGISTER keeps that phone registered (RFC 3261
 * §10.2.4): the `expires` of the phone's own Contact in the 2xx (which lists
 * every binding of the user), else the Expires header, else what it asked
 * for; 0 for an unregistration (`*`, or expires 0 asked).
 */
export function phoneRegistrationExpires(register: SipRequest, ok: SipResponse): number {
  try {
    const contacts = register.contacts;
    if (contacts === "*" || contacts.length === 0) return 0;
    const contact = contacts[0]!;
    const asked = contact.expires ?? register.expires ?? 3600;
    if (asked === 0) return 0;
    return grantedExpires(ok, contact.uri.toString(), asked).seconds;
  } catch {
    return 0; // a malformed Contact or Expires: not a registration we can keep alive
  }
}
