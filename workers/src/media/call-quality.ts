import type { NgReply } from "./ng-client.ts";

/**
 * The quality figures rtpengine reports in its `delete` reply (ng protocol,
 * rtpengine 10.5 as measured here): `totals` (RTP/RTCP packets, bytes,
 * errors), per tag the streams' `stats`, and per SSRC the RTCP-derived
 * `average MOS` block (MOS ×10, jitter, packet loss, round-trip time) when
 * the endpoints sent RTCP. Anything absent stays absent: a call that never
 * carried media has packets 0 and no MOS.
 */
export interface CallQuality {
  rtpPackets: number;
  rtpBytes: number;
  rtpErrors: number;
  rtcpPackets: number;
  /** RTP packets rtpengine received from each end (the first stream of each tag's media). */
  packetsFromCaller?: number;
  packetsFromCallee?: number;
  /** Mean of the per-SSRC average MOS (1.0–5.0), when RTCP allowed rtpengine to compute one. */
  mos?: number;
  /** Worst per-SSRC average jitter (ms) and packet loss (%) rtpengine saw, when reported. */
  jitterMs?: number;
  packetLossPercent?: number;
  roundTripMs?: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function callQualityOf(reply: NgReply, tags: { fromTag: string; toTag?: string }): CallQuality {
  const totals = obj(reply.totals);
  const rtp = obj(totals?.RTP);
  const rtcp = obj(totals?.RTCP);
  const q: CallQuality = {
    rtpPackets: num(rtp?.packets) ?? 0,
    rtpBytes: num(rtp?.bytes) ?? 0,
    rtpErrors: num(rtp?.errors) ?? 0,
    rtcpPackets: num(rtcp?.packets) ?? 0,
  };
  const tagMap = obj(reply.tags);
  const fromCaller = packetsOfTag(obj(tagMap?.[tags.fromTag]));
  if (fromCaller !== undefined) q.packetsFromCaller = fromCaller;
  const fromCallee = tags.toTag !== undefined ? packetsOfTag(obj(tagMap?.[tags.toTag])) : undefined;
  if (fromCallee !== undefined) q.packetsFromCallee = fromCallee;

  const mos: number[] = [];
  for (const entry of Object.values(obj(reply.SSRC) ?? {})) {
    const avg = obj(obj(entry)?.["average MOS"]);
    if (avg === undefined) continue;
    const m = num(avg.MOS);
    if (m !== undefined && m > 0) mos.push(m / 10); // rtpengine reports MOS ×10
    const jitter = num(avg.jitter);
    if (jitter !== undefined) q.jitterMs = Math.max(q.jitterMs ?? 0, jitter);
    const loss = num(avg["packet loss"]);
    if (loss !== undefined) q.packetLossPercent = Math.max(q.packetLossPercent ?? 0, loss);
    const rtt = num(avg["round-trip time"]);
    if (rtt !== undefined) q.roundTripMs = Math.max(q.roundTripMs ?? 0, rtt / 1000); // µs
  }
  if (mos.length > 0) q.mos = Math.round((mos.reduce((a, b) => a + b, 0) / mos.length) * 100) / 100;
  return q;
}

/** RTP packets received from one end: the first (RTP) stream of each of its media sections. */
function packetsOfTag(tag: Obj | undefined): number | undefined {
  const medias = tag?.medias;
  if (!Array.isArray(medias)) return undefined;
  let total = 0;
  for (const m of medias) {
    const streams = obj(m)?.streams;
    const first = Array.isArray(streams) ? obj(streams[0]) : undefined;
    total += num(obj(first?.stats)?.packets) ?? 0;
  }
  return total;
}
