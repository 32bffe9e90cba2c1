import { parseMediaNode } from "./media-node-record.ts";
import { unusableReason } from "./node-selection.ts";

/**
 * A `media_nodes` row as an operator sees it (`GET /v1/media-nodes`,
 * `sipedge node list`): what the agent last reported, plus how the edge
 * judges it right now — the same judgement a call set-up makes
 * (node-selection.ts `unusableReason`), so "live" here means what it means
 * to the node choice. Pure: the caller passes the unmarshalled row and the clock.
 */
export interface MediaNodeStatus {
  id: string;
  region: string;
  /** The stored `state`: "active", "draining", or whatever was written (anything but "active" counts as draining). */
  state: string;
  /** A fresh heartbeat as the edge judges it (`expires_at` ahead, `heartbeat_at` under 60 s old); false = expired. */
  live: boolean;
  /** Would get a new call now (live, active, under capacity), penalties of single isolates aside. */
  accepting: boolean;
  /** Why not, when not accepting. */
  reason?: "stale" | "draining" | "full";
  sessions: number;
  capacity: number;
  /** 0..1. */
  load: number;
  ng_url: string;
  addresses: { public: string; private: string };
  /** ISO time of the last heartbeat, and its age in whole seconds. */
  heartbeat_at: string;
  heartbeat_age_s: number;
  /** ISO time after which the row is dead. */
  expires_at: string;
}

/** A row the edge cannot use (a field missing or of the wrong type): shown, never guessed. */
export interface MalformedMediaNode {
  id: string;
  malformed: true;
  live: false;
  accepting: false;
  state?: string;
  message: string;
}

export type MediaNodeView = MediaNodeStatus | MalformedMediaNode;

export function mediaNodeView(item: Record<string, unknown>, now: number): MediaNodeView {
  const stored = typeof item.state === "string" ? item.state : undefined;
  const node = parseMediaNode(item);
  if (node === undefined) {
    return {
      id: typeof item.id === "string" ? item.id : "?",
      malformed: true,
      live: false,
      accepting: false,
      ...(stored !== undefined ? { state: stored } : {}),
      message: "the row lacks a field the edge needs (region, addresses, ng_url, capacity, sessions, load, heartbeat_at, expires_at); the edge skips it",
    };
  }
  const reason = unusableReason(node, now);
  return {
    id: node.id,
    region: node.region,
    state: stored ?? node.state,
    live: reason !== "stale",
    accepting: reason === undefined,
    ...(reason !== undefined ? { reason } : {}),
    sessions: node.sessions,
    capacity: node.capacity,
    load: node.load,
    ng_url: node.ngUrl,
    addresses: { public: node.publicAddress, private: node.privateAddress },
    heartbeat_at: isoOrRaw(node.heartbeatAt),
    heartbeat_age_s: Math.max(0, Math.floor((now - node.heartbeatAt) / 1000)),
    expires_at: isoOrRaw(node.expiresAt * 1000),
  };
}

/** Every row, by region then id. */
export function mediaNodeViews(items: readonly Record<string, unknown>[], now: number): MediaNodeView[] {
  const region = (v: MediaNodeView): string => ("region" in v ? v.region : "");
  return items.map((i) => mediaNodeView(i, now)).sort((a, b) => region(a).localeCompare(region(b)) || a.id.localeCompare(b.id));
}

// A hand-written row may hold a number Date cannot show (e.g. 1e20): say it as it is.
function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/**
 * A node id as agents are configured with it (media-node/agent/src/config.ts
 * checks `--node-id` against the same pattern); anything else cannot name a row.
 */
export const MEDIA_NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
