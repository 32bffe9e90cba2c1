import { logEvent } from "../log.ts";
import type { ProxyCore } from "../proxy/index.ts";
import type { LostFlows } from "./lost-flows.ts";
import type { TimerTable } from "./timer-table.ts";

const LOST_FLOW_TIMER = "flows:lost";
const LOST_FLOW_KIND = "lost-flow";
const DIALOG_WATCH_TIMER = "flows:watch";
const DIALOG_WATCH_KIND = "dialog-watch";
/**
 * How long the device of a socket lost to a process restart has to register
 * again before its calls are ended (LOST_FLOW_GRACE_S). JsSIP and SIP.js
 * reconnect within seconds; a few backoff rounds fit.
 */
export const DEFAULT_LOST_FLOW_GRACE_S = 120;
/**
 * While the user is in a call the DO wakes at least this often (capped by
 * the grace period), so that after a restart it finds its lost flows even
 * if nothing else wakes it, and a peer that never comes back is BYEd within
 * about watch + grace.
 */
const DIALOG_WATCH_MS = 60_000;

export interface FlowRecoveryParts {
  sql: SqlStorage;
  timers: TimerTable;
  lostFlows: LostFlows;
  hasSocket(flowId: string): boolean;
  /** Closes a flow as if its socket had closed (user-agent.ts closeFlow). */
  closeFlow(flowId: string, how: string): Promise<void>;
  /** LOST_FLOW_GRACE_S as configured, if at all. */
  graceSetting: string | undefined;
  aor: string;
}

/**
 * What the UserAgent DO does about flows a process restart took away
 * (lost-flows.ts): find them when it wakes up, fail their transactions,
 * close the ones whose device did not come back in time, and keep itself
 * waking up while its user is in a call so that this happens even when
 * nothing else wakes it.
 */
export class FlowRecovery {
  readonly graceMs: number;
  /** The dialog watch is known to be armed (this instance armed it). */
  private watching = false;

  constructor(private readonly parts: FlowRecoveryParts) {
    const s = Number(parts.graceSetting);
    this.graceMs = (parts.graceSetting !== undefined && parts.graceSetting !== "" && Number.isFinite(s) && s >= 0 ? s : DEFAULT_LOST_FLOW_GRACE_S) * 1000;
    parts.timers.on(LOST_FLOW_KIND, () => this.closeExpired());
    parts.timers.on(DIALOG_WATCH_KIND, () => this.watch());
  }

  /**
   * A socket always has a close event unless the process went away: stored
   * state naming a flow without a socket means a restart (or a close being
   * delivered right now, which closeFlow then settles). Records such flows
   * as lost and returns the work of failing their transactions, which entry
   * points wait for; undefined when there is none. Idempotent.
   */
  findLost(proxy: ProxyCore): Promise<void> | undefined {
    const { parts } = this;
    const named = proxy.flowsInUse();
    for (const row of parts.sql.exec<{ flow_id: string }>("SELECT DISTINCT flow_id FROM bindings")) named.add(row.flow_id);
    const gone = [...named].filter((f) => !parts.hasSocket(f));
    if (gone.length === 0) return undefined;
    const lost = parts.lostFlows.record(gone, Date.now());
    if (lost.length === 0) return undefined;
    logEvent("flows-lost", { aor: parts.aor, flows: lost, grace_s: this.graceMs / 1000 }, "warn");
    this.scheduleCheck();
    return (async () => {
      for (const flowId of lost) {
        try {
          await proxy.flowLost(flowId);
        } catch (err) {
          logEvent("flow-lost-failed", { aor: parts.aor, flow: flowId, message: err instanceof Error ? err.message : String(err) }, "error");
        }
      }
    })();
  }

  /** The proxy stored a dialog: make sure the watch runs. */
  armWatch(): void {
    if (this.watching) return;
    this.parts.timers.scheduleNoLaterThan(DIALOG_WATCH_TIMER, Date.now() + this.watchMs(), DIALOG_WATCH_KIND);
    this.watching = true;
  }

  /** Timer: lost flows whose device did not come back in time are closed. */
  private async closeExpired(): Promise<void> {
    for (const flowId of this.parts.lostFlows.expired(Date.now(), this.graceMs)) await this.parts.closeFlow(flowId, "lost");
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    const next = this.parts.lostFlows.nextExpiry(this.graceMs);
    if (next !== undefined) this.parts.timers.schedule(LOST_FLOW_TIMER, next, LOST_FLOW_KIND);
  }

  /**
   * Timer: nothing to do but to have woken up. A DO that woke up in a new
   * process has already looked for lost flows (`findLost`); the watch goes
   * on while the user is in a dialog.
   */
  private watch(): void {
    this.watching = this.parts.sql.exec("SELECT 1 FROM proxy_dialogs LIMIT 1").toArray().length > 0;
    // The firing row is still in the table: move it (scheduleNoLaterThan would keep the spent time).
    if (this.watching) this.parts.timers.schedule(DIALOG_WATCH_TIMER, Date.now() + this.watchMs(), DIALOG_WATCH_KIND);
  }

  private watchMs(): number {
    return Math.max(1_000, Math.min(DIALOG_WATCH_MS, this.graceMs));
  }
}
