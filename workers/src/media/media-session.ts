import type { MediaLeg } from "./profiles.ts";

/**
 * The rtpengine session of one call, as the DO that owns the call's media
 * keeps it (ARCHITECTURE.md "Who owns media"): which node has it, so every
 * command after the `offer` — answers, re-offers, the `delete` — goes to
 * that node even after the DO hibernated, and what the CDR needs.
 */
export interface MediaSession {
  callId: string;
  /** The caller's tag (the initial INVITE's From tag): rtpengine's `from-tag` for the call. */
  fromTag: string;
  /** The callee's tag, once an answer with SDP came. */
  toTag?: string;
  /** How the call's media is bridged, seen from the caller (the initial offerer). */
  leg: MediaLeg;
  nodeId: string;
  region: string;
  ngUrl: string;
  /** `user@host` of the From and To of the initial INVITE. */
  caller: string;
  callee: string;
  createdAt: number;
  /** When a 2xx answer went through, 0 while none. */
  answeredAt: number;
  /**
   * A fork to a user on browsers and phones (call-media.ts): the offer was
   * made under the browsers' `via-branch`, and (`phones`) again browser →
   * SIP under the phones' one. Set until a 2xx picks the branch, and so the leg.
   */
  fork?: "browsers" | "browsers+phones";
}

/** Sessions by Call-ID: one per call in a DO (a fork's answers share it, rtpengine tells them apart by to-tag). */
export interface MediaSessionStore {
  get(callId: string): MediaSession | undefined;
  put(session: MediaSession): void;
  delete(callId: string): void;
  list(): MediaSession[];
}

export const MEDIA_MIGRATIONS: ReadonlyArray<{ id: string; statements: string[] }> = [
  {
    id: "media-1",
    statements: ["CREATE TABLE media_sessions (call_id TEXT PRIMARY KEY, data TEXT NOT NULL)"],
  },
];

/** MediaSessionStore over the DO's SQLite (a JSON record per row, as the proxy's stores do). */
export class SqlMediaSessionStore implements MediaSessionStore {
  constructor(private readonly sql: SqlStorage) {}

  get(callId: string): MediaSession | undefined {
    const row = this.sql.exec<{ data: string }>("SELECT data FROM media_sessions WHERE call_id = ?", callId).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.data) as MediaSession);
  }

  put(session: MediaSession): void {
    this.sql.exec("INSERT OR REPLACE INTO media_sessions (call_id, data) VALUES (?, ?)", session.callId, JSON.stringify(session));
  }

  delete(callId: string): void {
    this.sql.exec("DELETE FROM media_sessions WHERE call_id = ?", callId);
  }

  list(): MediaSession[] {
    return this.sql
      .exec<{ data: string }>("SELECT data FROM media_sessions")
      .toArray()
      .map((r) => JSON.parse(r.data) as MediaSession);
  }
}

/** The same in memory, for tests of pure logic. */
export class MemoryMediaSessionStore implements MediaSessionStore {
  private readonly rows = new Map<string, string>();
  get(callId: string): MediaSession | undefined {
    const s = this.rows.get(callId);
    return s === undefined ? undefined : (JSON.parse(s) as MediaSession);
  }
  put(session: MediaSession): void {
    this.rows.set(session.callId, JSON.stringify(session));
  }
  delete(callId: string): void {
    this.rows.delete(callId);
  }
  list(): MediaSession[] {
    return [...this.rows.values()].map((s) => JSON.parse(s) as MediaSession);
  }
}
