// What baresip 1.0.0 prints about its calls, read back into call records:
// its standard output is the only structured-enough report it gives
// without an unauthenticated control port (baresip-config.ts). Pure, so
// it is tested on captured lines.

/** RTP packet counts of one call's audio stream, as baresip counts them. */
export interface RtpCounts {
  packetsSent: number;
  packetsReceived: number;
}

export interface BaresipCall {
  direction: "incoming" | "outgoing";
  /** The other side's URI as baresip names it. */
  peer: string;
  established: boolean;
  /** Why it ended ("Connection reset by peer", "404 Not Found", …), once it has. */
  closed?: string;
  /** RFC 4733 telephone-events received, in order (one character per key press). */
  dtmfReceived: string;
  /** The counts baresip logs when the call ends (`rtp_stats yes`). */
  final?: RtpCounts;
}

const ANSI = /\x1b\[[0-9;]*m/g;

// Each pattern is unanchored: stdio echoes typed commands as "/\r/d\r/di…"
// without a newline, so a log line can follow an echo on the same line.
const OUTGOING = /call: connecting to '([^']+)'/;
// "<aor>: Incoming call from: <display name> <uri> - (press 'a' to accept)"; the name may be empty.
const INCOMING_MANUAL = /Incoming call from: .*?(sips?:\S+) - /;
const ANSWERING = /call: answering call on line \d+ from (\S+)/;
const ESTABLISHED = /: Call established: (\S+)/;
const DTMF = /received event: '(.)' \(end=([01])\)/;
const SESSION_CLOSED = /: session closed: (.*)$/;
const TERMINATED = /: Call with (\S+) terminated/;
// Our own hang-up; the "Call with … terminated" line that usually follows is sometimes not printed.
const HUNG_UP = /call: terminate call '[^']*' with (\S+)/;
const FINAL_PACKETS = /^packets:\s+(\d+)\s+(\d+)\s*$/;

/** A line as printed, without colours. */
export function plainLine(line: string): string {
  return line.replace(ANSI, "");
}

/**
 * Follows baresip's output line by line and keeps a record per call (one
 * call at a time is what a legacy phone in a test does; a second call's
 * lines update the newest record).
 */
export class BaresipCallLog {
  readonly calls: BaresipCall[] = [];
  /** The digit whose start (end=0) was seen last, so its end packets do not count again. */
  private dtmfOpen: string | undefined;
  /** The newest call that ended, until its packet counts arrive. */
  private awaitingFinal: BaresipCall | undefined;

  /** The newest call, if any. */
  get current(): BaresipCall | undefined {
    return this.calls[this.calls.length - 1];
  }

  /** Takes one output line; true when it changed a call record. */
  line(raw: string): boolean {
    const line = plainLine(raw);
    let m: RegExpExecArray | null;
    if ((m = OUTGOING.exec(line))) return this.open("outgoing", m[1]!);
    if ((m = INCOMING_MANUAL.exec(line))) return this.open("incoming", m[1]!);
    if ((m = ANSWERING.exec(line))) {
      // Manual mode printed "Incoming call" first: answering it is the same call.
      const c = this.current;
      if (c !== undefined && c.direction === "incoming" && !c.established && c.closed === undefined && c.peer === m[1]) return false;
      return this.open("incoming", m[1]!);
    }
    const c = this.current;
    if (c === undefined) return false;
    if (ESTABLISHED.test(line)) {
      c.established = true;
      return true;
    }
    if ((m = DTMF.exec(line))) {
      const digit = m[1]!;
      if (m[2] === "0") {
        // RFC 4733 §2.5.1.3: a sender repeats the start of an event; one key press is one digit.
        if (this.dtmfOpen === digit) return false;
        this.dtmfOpen = digit;
        c.dtmfReceived += digit;
        return true;
      }
      // An end whose start was lost still is a key press (§2.5.1.4).
      const counted = this.dtmfOpen === digit;
      this.dtmfOpen = undefined;
      if (counted) return false;
      c.dtmfReceived += digit;
      return true;
    }
    if ((m = SESSION_CLOSED.exec(line))) return this.close(c, m[1]!.trim());
    if (HUNG_UP.test(line)) return this.close(c, "hung up here");
    if (TERMINATED.test(line)) return this.close(c, "terminated");
    if ((m = FINAL_PACKETS.exec(line))) {
      // Printed as the call is torn down: it belongs to the call that just ended (or is ending).
      const ended = this.awaitingFinal ?? (c.final === undefined ? c : undefined);
      if (ended === undefined) return false;
      ended.final = { packetsSent: Number(m[1]), packetsReceived: Number(m[2]) };
      this.awaitingFinal = undefined;
      return true;
    }
    return false;
  }

  private open(direction: BaresipCall["direction"], peer: string): boolean {
    this.calls.push({ direction, peer, established: false, dtmfReceived: "" });
    this.dtmfOpen = undefined;
    return true;
  }

  private close(c: BaresipCall, reason: string): boolean {
    // "session closed: <why>" comes first; the "terminated" line after it keeps the reason.
    if (c.closed !== undefined) return false;
    c.closed = reason;
    this.awaitingFinal = c;
    return true;
  }
}

/**
 * The live counts from the `audio_debug` command's report: "TX:
 * packets=N" for what it sent, and the RTCP members' "rcvd=N" for what it
 * received (summed: a new SSRC mid-call is a new member). Undefined when
 * there is no call (the command is not found then).
 */
export function parseAudioDebug(lines: readonly string[]): RtpCounts | undefined {
  let sent: number | undefined;
  let received = 0;
  let sawStream = false;
  for (const raw of lines) {
    const line = plainLine(raw);
    if (line.includes("--- Audio stream ---")) sawStream = true;
    const tx = /TX: packets=(\d+)/.exec(line);
    if (tx) sent = Number(tx[1]);
    for (const r of line.matchAll(/\brcvd=(\d+)/g)) received += Number(r[1]);
  }
  if (!sawStream) return undefined;
  return { packetsSent: sent ?? 0, packetsReceived: received };
}

/** One SIP message from baresip's trace (`-s`): what it sent or received, over which transport, between which addresses. */
export interface TracedSipMessage {
  transport: string;
  source: string;
  destination: string;
  /** The message as on the wire, CRLF line ends. */
  text: string;
}

const TRACE_START = /^(UDP|TCP|TLS|WS|WSS) (\S+) -> (\S+)$/;
const TRACE_END = "\x1b[;m";

/**
 * Collects the messages of baresip's SIP trace: each is a coloured "#"
 * line, "UDP a -> b", the message, and a colour reset.
 */
export class SipTraceLog {
  readonly messages: TracedSipMessage[] = [];
  private open: { head: Omit<TracedSipMessage, "text">; lines: string[] } | undefined;

  line(raw: string): void {
    if (this.open !== undefined) {
      const end = raw.indexOf(TRACE_END);
      if (end < 0) {
        this.open.lines.push(raw);
        return;
      }
      if (end > 0) this.open.lines.push(raw.slice(0, end));
      this.messages.push({ ...this.open.head, text: this.open.lines.join("\r\n") });
      this.open = undefined;
      return;
    }
    const m = TRACE_START.exec(plainLine(raw));
    if (m) this.open = { head: { transport: m[1]!, source: m[2]!, destination: m[3]! }, lines: [] };
  }
}
