import type { Destination } from "../transport/protocol.ts";

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

/** The longest expiry a 2xx to REGISTER grants (RFC 3261 §10.2.4: each Contact's `expires`, else the Expires header). */
export function grantedExpires(response: { get(name: string): string | undefined; getAll(name: string): string[] }): number {
  let best = -1;
  for (const value of response.getAll("Contact")) {
    for (const m of value.matchAll(/;\s*expires\s*=\s*(\d+)/gi)) best = Math.max(best, Number(m[1]));
  }
  if (best >= 0) return best;
  const header = Number(response.get("Expires") ?? "0");
  return Number.isFinite(header) ? header : 0;
}
