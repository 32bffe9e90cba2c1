import { type SipRequest, type SipResponse, computeHA1, createResponse, parseAuthHeader, verifyCredentials } from "sip-parser-ts";
import { jsonLogger } from "../../src/log.ts";
import { TransactionLayer } from "../../src/transaction/transaction-layer.ts";
import type { EgressTrunk, Gateway, TrunkStatus } from "../../src/trunks/egress-trunk.ts";
import { TrunkStatusBoard } from "../../src/trunks/trunk-status-board.ts";
import { ManualClock } from "./manual-clock.ts";
import { RecordingTransport, udpSource } from "./recording-transport.ts";

/** 2026-01-01T00:00:00Z: the wall clock of the manual-clock tests starts here. */
export const T0 = Date.UTC(2026, 0, 1);

export function gateway(host: string, extra: Partial<Gateway> = {}): Gateway {
  return { host, port: 5060, transport: "udp", priority: 10, weight: 100, ...extra };
}

export function trunk(extra: Partial<EgressTrunk> = {}): EgressTrunk {
  return {
    id: "carrier",
    enabled: true,
    gateways: [gateway("192.0.2.30")],
    credentials: { username: "trunk-user", password: "s3cret" },
    register: true,
    register_expires: 3600,
    ...extra,
  };
}

export interface StatusWrite {
  trunkId: string;
  status: TrunkStatus;
}

/** The transaction layer over a recording transport with a manual clock, a status board that records its writes, JSON logs kept. */
export function trunkSetup() {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const transactions = new TransactionLayer({ transport, clock });
  const writes: StatusWrite[] = [];
  const lines: string[] = [];
  const logger = jsonLogger("debug", (l) => lines.push(l));
  const board = new TrunkStatusBoard({
    sink: async (trunkId, status) => {
      writes.push({ trunkId, status });
    },
    clock,
    logger,
    wallClock: () => T0 + clock.now(),
  });
  const events = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { clock, transport, transactions, board, writes, lines, logger, events };
}

/** Lets every pending promise callback run (responses travel through several awaits). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Moves the manual clock in steps, letting promise callbacks run between them. */
export async function advance(clock: ManualClock, ms: number, step = 1000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}

/** Distinct requests of a method sent (a retransmission is the same message object). */
export function distinct(transport: RecordingTransport, method: string): Array<{ at: number; request: SipRequest; host: string | undefined }> {
  const seen = new Set<unknown>();
  const out: Array<{ at: number; request: SipRequest; host: string | undefined }> = [];
  for (const s of transport.requests(method)) {
    if (seen.has(s.message)) continue;
    seen.add(s.message);
    out.push({ at: s.at, request: s.message as SipRequest, host: s.destination?.host });
  }
  return out;
}

/** The peer answers `request` (from the gateway's address). */
export function reply(transport: RecordingTransport, request: SipRequest, status: number, headers: Array<[string, string]> = [], reason?: string): SipResponse {
  const response = createResponse(request, status, reason, { toTag: "registrar", headers });
  transport.deliver(response, udpSource("192.0.2.30", 5060));
  return response;
}

export const CHALLENGE = 'Digest realm="carrier.test", nonce="n0nce-1", qop="auth", algorithm=MD5';

/** Whether the request's credentials header answers a challenge of `realm` with the password. */
export function validDigest(request: SipRequest, header: "Authorization" | "Proxy-Authorization", realm = "carrier.test", password = "s3cret"): boolean {
  const value = request.get(header);
  if (value === undefined) return false;
  const credentials = parseAuthHeader(value, header).params;
  return verifyCredentials({ credentials, method: request.method, expectedRealm: realm, ha1ByAlgorithm: { MD5: computeHA1("MD5", "trunk-user", realm, password) } });
}
