import type { BencodeValue } from "./bencode.ts";
import { prometheusLabels } from "./metrics.ts";

/**
 * What the agent reads from rtpengine's ng `statistics` reply. Measured on
 * rtpengine 10.5: the reply holds `statistics.currentstatistics`
 * (`sessionsown`, `sessionsforeign`, `sessionstotal`, `transcodedmedia`,
 * packet/byte/error rates), `totalstatistics` (`uptime` as a string,
 * `managedsessions`, `rejectedsessions`, the timeout counters, relayed
 * packets/bytes, …), `intervalstatistics`, `mos`, `controlstatistics`
 * (`totaloffercount` etc.) and `interfaces[].ports` (`used`, `totals`).
 * It has no load figure of its own, so `load` is ours: the larger of
 * sessions/capacity and the share of media ports in use.
 */
export interface RtpengineSample {
  sessions: number;
  sessionsOwn: number;
  portsUsed: number;
  portsTotal: number;
  /** 0..1 (more when over capacity): what the edge sorts nodes by. */
  load: number;
  current: Record<string, number>;
  totals: Record<string, number>;
  control: Record<string, number>;
}

type Dict = { [k: string]: BencodeValue };

function dict(v: BencodeValue | undefined): Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v : {};
}

/** rtpengine writes some figures as strings ("uptime": "18", "avgcallduration": "0.000000"). */
function numericFields(d: Dict): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(d)) {
    const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
    if (n !== undefined && Number.isFinite(n)) out[k] = n;
  }
  return out;
}

export function readStatistics(reply: Dict, capacity: number): RtpengineSample {
  const stats = dict(reply.statistics);
  const current = numericFields(dict(stats.currentstatistics));
  const totals = numericFields(dict(stats.totalstatistics));
  const control = numericFields(dict(stats.controlstatistics));
  let portsUsed = 0;
  let portsTotal = 0;
  const interfaces = stats.interfaces;
  if (Array.isArray(interfaces)) {
    for (const i of interfaces) {
      const ports = numericFields(dict(dict(i).ports));
      portsUsed += ports.used ?? 0;
      portsTotal += ports.totals ?? 0;
    }
  }
  const sessions = current.sessionstotal ?? 0;
  const load = Math.max(capacity > 0 ? sessions / capacity : 0, portsTotal > 0 ? portsUsed / portsTotal : 0);
  return {
    sessions,
    sessionsOwn: current.sessionsown ?? sessions,
    portsUsed,
    portsTotal,
    load: Math.round(load * 1000) / 1000,
    current,
    totals,
    control,
  };
}

function metricName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_]/g, "_");
}

/** Prometheus lines for the last sample: gauges for current figures, counters for totals. */
export function statisticsMetrics(sample: RtpengineSample | undefined): string[] {
  if (sample === undefined) return [];
  const lines: string[] = [];
  const family = (name: string, help: string, type: "gauge" | "counter", series: [Record<string, string>, number][]): void => {
    if (series.length === 0) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of series) lines.push(`${name}${prometheusLabels(labels)} ${v}`);
  };
  family("rtpengine_sessions", "Sessions rtpengine holds (statistics currentstatistics).", "gauge", [
    [{ kind: "total" }, sample.sessions],
    [{ kind: "own" }, sample.sessionsOwn],
  ]);
  family("rtpengine_ports_used", "Media ports in use over all interfaces.", "gauge", [[{}, sample.portsUsed]]);
  family("rtpengine_ports_total", "Media ports configured over all interfaces.", "gauge", [[{}, sample.portsTotal]]);
  for (const [k, v] of Object.entries(sample.current)) {
    if (k.startsWith("sessions")) continue;
    family(`rtpengine_current_${metricName(k)}`, `rtpengine currentstatistics.${k}`, "gauge", [[{}, v]]);
  }
  for (const [k, v] of Object.entries(sample.totals)) {
    const isGauge = k === "uptime" || k.startsWith("avg") || k.endsWith("stddev") || k.endsWith("duration2");
    family(`rtpengine_${metricName(k)}${isGauge ? "" : "_total"}`, `rtpengine totalstatistics.${k}`, isGauge ? "gauge" : "counter", [[{}, v]]);
  }
  const commands = Object.entries(sample.control)
    .filter(([k]) => k.startsWith("total") && k.endsWith("count"))
    .map(([k, v]): [Record<string, string>, number] => [{ command: k.slice("total".length, -"count".length) }, v]);
  family("rtpengine_ng_commands_total", "ng commands rtpengine has processed (controlstatistics).", "counter", commands);
  return lines;
}
