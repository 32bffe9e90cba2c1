import { TRUNKS_READ_TIMEOUT_MS, TrunkCache, TrunkDirectory, type TrunksTableConfig } from "../../../../workers/src/directory/trunks.ts";
import type { TrunkRecord } from "../../../../workers/src/trunks/index.ts";

/** The trunks this egress carries (those whose `egress` is its id), as the proxy and the plug-ins read them. */
export interface TrunkSource {
  /** Every trunk of this egress, enabled or not. Rejects when the directory cannot be read and nothing recent is cached. */
  trunks(): Promise<readonly TrunkRecord[]>;
  /**
   * The same, read again if the cached list is older than MISS_RELOAD_MS:
   * for a lookup driven by what a stranger sends (the source address of a
   * carrier's request) that found nothing, so a flood of packets cannot
   * make us scan the table more than once a second.
   */
  trunksAfterMiss(): Promise<readonly TrunkRecord[]>;
}

/** A TrunkSource that can also be read again now (the proxy: a trunk the edge names that we do not know yet, created a moment ago). */
export interface ReloadableTrunkSource extends TrunkSource {
  reload(): Promise<readonly TrunkRecord[]>;
}

/** Reloads after a stranger's miss at most this often. */
export const MISS_RELOAD_MS = 1_000;

/**
 * The `trunks` table through the edge's own TrunkDirectory and TrunkCache
 * (workers/src/directory/trunks.ts): cached for TRUNKS_CACHE_MS (5 s), the
 * last good list kept for a minute when DynamoDB fails. Reloads are shared
 * by whoever asks while one is under way.
 */
export class DirectoryTrunkSource implements ReloadableTrunkSource {
  private readonly cache: TrunkCache;
  private loadedAt = -Infinity;
  private reloading: Promise<readonly TrunkRecord[]> | undefined;

  constructor(
    readonly egressId: string,
    config: TrunksTableConfig,
    private readonly now: () => number = Date.now,
  ) {
    const directory = new TrunkDirectory(config);
    this.cache = new TrunkCache(async () => {
      const all = await directory.list(AbortSignal.timeout(TRUNKS_READ_TIMEOUT_MS));
      this.loadedAt = this.now();
      return all;
    }, now);
  }

  async trunks(): Promise<readonly TrunkRecord[]> {
    return (await this.cache.trunks()).filter((t) => t.egress === this.egressId);
  }

  trunksAfterMiss(): Promise<readonly TrunkRecord[]> {
    return this.now() - this.loadedAt >= MISS_RELOAD_MS ? this.reload() : this.trunks();
  }

  reload(): Promise<readonly TrunkRecord[]> {
    if (this.reloading === undefined) {
      this.cache.invalidate();
      this.reloading = this.trunks().finally(() => (this.reloading = undefined));
    }
    return this.reloading;
  }
}
