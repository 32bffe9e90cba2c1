/**
 * The call-quality panel's figures from `RTCPeerConnection.getStats()`
 * (W3C webrtc-stats): the audio stream's codec, packets each way, loss,
 * jitter and round-trip time. Pure over the report's entries (plain
 * objects), so it is unit-tested without a browser.
 *
 * PLATFORM.md's real-audio check reads the same fields: inbound-rtp
 * `packetsReceived` and `audioLevel` > 0, DTLS transport `connected`; and
 * the selected ICE candidate pair says where the media really goes (the
 * relay's address, not the other browser's).
 */
export interface IceEndpoint {
  address: string;
  port: number;
  /** "udp" or "tcp". */
  protocol?: string;
  /** "host", "srflx", "prflx", "relay". */
  candidateType?: string;
}

export interface CallQuality {
  /** "opus/48000", "PCMU/8000", … */
  codec?: string;
  packetsSent: number;
  packetsReceived: number;
  /** Inbound packets the browser counted as lost. */
  packetsLost: number;
  /** Inbound loss, 0..100. */
  lossPercent: number;
  jitterMs?: number;
  roundTripMs?: number;
  /** Inbound audio level 0..1 (0 = silence). */
  audioLevel?: number;
  bytesSent: number;
  bytesReceived: number;
  /** DTLS transport state ("new", "connecting", "connected", …). */
  dtlsState?: string;
  /** The selected ICE candidate pair's ends: this browser's, and the one it sends media to. */
  localCandidate?: IceEndpoint;
  remoteCandidate?: IceEndpoint;
}

type Entry = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const isAudio = (e: Entry): boolean => (e.kind ?? e.mediaType) === "audio";

export function summariseStats(entries: Iterable<Entry>): CallQuality {
  const byId = new Map<string, Entry>();
  const all: Entry[] = [];
  for (const e of entries) {
    all.push(e);
    if (typeof e.id === "string") byId.set(e.id, e);
  }
  const q: CallQuality = { packetsSent: 0, packetsReceived: 0, packetsLost: 0, lossPercent: 0, bytesSent: 0, bytesReceived: 0 };
  let codecId: string | undefined;
  for (const e of all) {
    if (e.type === "outbound-rtp" && isAudio(e)) {
      q.packetsSent += num(e.packetsSent) ?? 0;
      q.bytesSent += num(e.bytesSent) ?? 0;
      codecId ??= str(e.codecId);
    } else if (e.type === "inbound-rtp" && isAudio(e)) {
      q.packetsReceived += num(e.packetsReceived) ?? 0;
      q.packetsLost += Math.max(0, num(e.packetsLost) ?? 0);
      q.bytesReceived += num(e.bytesReceived) ?? 0;
      const jitter = num(e.jitter);
      if (jitter !== undefined) q.jitterMs = Math.max(q.jitterMs ?? 0, jitter * 1000);
      const level = num(e.audioLevel);
      if (level !== undefined) q.audioLevel = Math.max(q.audioLevel ?? 0, level);
      // Inbound first: the codec we hear is the one the far side chose.
      codecId = str(e.codecId) ?? codecId;
    } else if (e.type === "remote-inbound-rtp" && isAudio(e)) {
      // RTT from RTCP receiver reports: what the far side's relay measures too.
      const rtt = num(e.roundTripTime);
      if (rtt !== undefined) q.roundTripMs = rtt * 1000;
    } else if (e.type === "transport") {
      q.dtlsState = str(e.dtlsState) ?? q.dtlsState;
      const pair = byId.get(str(e.selectedCandidatePairId) ?? "");
      if (q.roundTripMs === undefined) {
        const rtt = num(pair?.currentRoundTripTime);
        if (rtt !== undefined) q.roundTripMs = rtt * 1000;
      }
      const local = endpointOf(byId.get(str(pair?.localCandidateId) ?? ""));
      const remote = endpointOf(byId.get(str(pair?.remoteCandidateId) ?? ""));
      if (local !== undefined) q.localCandidate = local;
      if (remote !== undefined) q.remoteCandidate = remote;
    }
  }
  const total = q.packetsReceived + q.packetsLost;
  q.lossPercent = total > 0 ? (100 * q.packetsLost) / total : 0;
  const codec = codecId !== undefined ? byId.get(codecId) : undefined;
  if (codec !== undefined) {
    const mime = str(codec.mimeType)?.replace(/^audio\//i, "");
    const rate = num(codec.clockRate);
    if (mime) q.codec = rate ? `${mime}/${rate}` : mime;
  }
  return q;
}

/** A `local-candidate`/`remote-candidate` entry → its address and port (`ip` is the pre-2021 name of `address`). */
function endpointOf(c: Entry | undefined): IceEndpoint | undefined {
  const address = str(c?.address) ?? str(c?.ip);
  const port = num(c?.port);
  if (address === undefined || port === undefined) return undefined;
  const out: IceEndpoint = { address, port };
  const protocol = str(c?.protocol);
  const candidateType = str(c?.candidateType);
  if (protocol !== undefined) out.protocol = protocol;
  if (candidateType !== undefined) out.candidateType = candidateType;
  return out;
}
