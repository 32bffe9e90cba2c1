import type { CredentialSource, SubscriberSecrets } from "../auth/authenticator.ts";
import type { SubscriberDirectory } from "../directory/subscribers.ts";
import { logEvent } from "../log.ts";
import { SipError } from "../sip-error.ts";

/**
 * How long a subscriber record read from DynamoDB is trusted. Every change
 * through the admin API invalidates the cache at once (RPC
 * `subscriberChanged`), so this only bounds how late an edit made directly in
 * DynamoDB takes effect; long enough that registration refreshes (every few
 * minutes) do not read DynamoDB.
 */
export const SUBSCRIBER_TTL_MS = 15 * 60_000;
/** A missing subscriber is remembered for less: a new one created behind the API's back shows up soon. */
export const MISSING_SUBSCRIBER_TTL_MS = 60_000;

interface Entry {
  record: SubscriberSecrets | undefined;
  fetchedAt: number;
}

/**
 * The AOR's credentials, cached in memory and in the DO's SQLite (memory is
 * lost on hibernation, which comes after ~10 s idle, i.e. before every
 * refresh), read from DynamoDB when both are stale.
 */
export class SubscriberCache implements CredentialSource {
  private memo: Entry | undefined;
  private inflight: Promise<SubscriberSecrets | undefined> | undefined;
  /** Bumped by invalidate(), so a read that was in flight then does not store what it got. */
  private generation = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly directory: () => SubscriberDirectory,
    private readonly now: () => number = Date.now,
  ) {}

  async get(aor: string): Promise<SubscriberSecrets | undefined> {
    const now = this.now();
    if (this.memo !== undefined && fresh(this.memo, now)) return this.memo.record;
    const row = this.sql.exec<{ record: string | null; fetched_at: number }>("SELECT record, fetched_at FROM subscriber_cache WHERE aor = ?", aor).toArray()[0];
    if (row !== undefined) {
      const entry: Entry = { record: row.record === null ? undefined : (JSON.parse(row.record) as SubscriberSecrets), fetchedAt: row.fetched_at };
      if (fresh(entry, now)) {
        this.memo = entry;
        return entry.record;
      }
    }
    this.inflight ??= this.fetch(aor).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(aor: string): Promise<SubscriberSecrets | undefined> {
    const generation = this.generation;
    let full;
    try {
      full = await this.directory().get(aor);
    } catch (err) {
      logEvent("directory-unreachable", { aor, message: err instanceof Error ? err.message : String(err) }, "error");
      throw new SipError(503, "Service Unavailable", [["Retry-After", "5"]], "directory-unreachable");
    }
    // Keep only what digest needs.
    const record: SubscriberSecrets | undefined =
      full === undefined ? undefined : { enabled: full.enabled !== false, ha1_md5: full.ha1_md5, ha1_sha256: full.ha1_sha256 };
    const entry: Entry = { record, fetchedAt: this.now() };
    if (generation !== this.generation) return record;
    this.memo = entry;
    this.sql.exec(
      "INSERT OR REPLACE INTO subscriber_cache (aor, record, fetched_at) VALUES (?, ?, ?)",
      aor,
      record === undefined ? null : JSON.stringify(record),
      entry.fetchedAt,
    );
    return record;
  }

  invalidate(): void {
    this.generation++;
    this.inflight = undefined;
    this.memo = undefined;
    this.sql.exec("DELETE FROM subscriber_cache");
  }
}

function fresh(e: Entry, now: number): boolean {
  return now - e.fetchedAt < (e.record === undefined ? MISSING_SUBSCRIBER_TTL_MS : SUBSCRIBER_TTL_MS);
}
