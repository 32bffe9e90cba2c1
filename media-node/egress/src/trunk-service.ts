// Registration to carriers and gateway health checks as one EgressService
// (egress-service.ts): both report into one trunk status board, because
// TrunkDirectory.setStatus replaces a trunk's whole status and each knows
// only its half. Health starts first so registration can skip gateways it
// knows are down; registration stops first so its un-REGISTERs still find
// the transaction layer open.
import { type Clock, systemClock } from "./clock.ts";
import type { EgressContext, EgressService } from "./egress-service.ts";
import { GatewayHealth, type GatewayHealthOptions } from "./gateway-health.ts";
import { TrunkRegistrations, type TrunkRegistrationOptions } from "./trunk-registration.ts";
import { PROTOCOLS, type TransportProtocol } from "./transport/protocol.ts";
import type { EgressTrunk } from "./trunks/egress-trunk.ts";
import { healthMetrics, registrationMetrics } from "./trunks/trunk-metrics.ts";
import { TrunkStatusBoard } from "./trunks/trunk-status-board.ts";

export interface TrunkServiceSettings {
  health?: Pick<GatewayHealthOptions, "intervalMs" | "downIntervalMs" | "failuresToDown" | "successesToUp">;
  registration?: Pick<TrunkRegistrationOptions, "refreshMarginS" | "backoffBaseMs" | "backoffMaxMs">;
  /** How often the trunk list is read again, so admin changes (a trunk added, disabled, re-credentialed) take effect. Default 30 000 ms. */
  trunkPollMs?: number;
  /** OPTIONS health checks of the gateways (default true); without them every gateway counts as up. */
  checkGateways?: boolean;
  /** How long stop() waits for the last status writes. Default 2000 ms. */
  statusFlushMs?: number;
  clock?: Clock;
}

export class TrunkService implements EgressService {
  readonly name = "trunks";
  /** Set once started (main.ts may report link fields through it: board.setLink). */
  board: TrunkStatusBoard | undefined;
  health: GatewayHealth | undefined;
  registrations: TrunkRegistrations | undefined;
  private poll: ReturnType<Clock["setTimeout"]> | undefined;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly settings: TrunkServiceSettings = {}) {
    this.clock = settings.clock ?? systemClock;
    const poll = settings.trunkPollMs ?? 30_000;
    if (!(Number.isFinite(poll) && poll > 0)) throw new RangeError(`trunks: trunkPollMs must be a positive number of milliseconds, got ${String(settings.trunkPollMs)}`);
  }

  async start(ctx: EgressContext): Promise<void> {
    const ports: Partial<Record<TransportProtocol, number>> = {};
    let host: string | undefined;
    for (const t of PROTOCOLS) {
      const a = ctx.localAddress(t);
      if (a === undefined) continue;
      ports[t] = a.port;
      host ??= a.host;
    }
    if (host === undefined) throw new Error("trunks: the egress listens on no SIP transport, so it can neither register nor check gateways");
    const { logger } = ctx;
    const board = new TrunkStatusBoard({ sink: (id, status) => ctx.directory.setStatus(id, status), clock: this.clock, logger });
    const trunks = (await this.read(ctx)) ?? [];
    const health = new GatewayHealth({ transactions: ctx.transactions, clock: this.clock, logger, status: board, trunks, fromHost: host, ...this.settings.health });
    const registrations = new TrunkRegistrations({
      transactions: ctx.transactions,
      clock: this.clock,
      logger,
      status: board,
      trunks,
      contact: { host, ports },
      isGatewayUp: (g) => health.isUp(g),
      ...this.settings.registration,
    });
    this.board = board;
    this.health = health;
    this.registrations = registrations;
    ctx.setGatewayHealth({ isLive: (_trunk, gateway) => health.isUp(gateway) });
    ctx.metrics.registerDynamic(() => [...healthMetrics(health.snapshot()), ...registrationMetrics(registrations.snapshot())]);
    if (this.settings.checkGateways !== false) health.start();
    registrations.start();
    this.schedulePoll(ctx);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll !== undefined) this.clock.clearTimeout(this.poll);
    await this.registrations?.stop();
    this.health?.stop();
    const board = this.board;
    if (board === undefined) return;
    // The final states (unregistered) go out if the edge answers soon; shutdown does not wait on it longer.
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, this.settings.statusFlushMs ?? 2_000);
      void board.idle().then(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
    board.stop();
  }

  private schedulePoll(ctx: EgressContext): void {
    if (this.stopped) return;
    this.poll = this.clock.setTimeout(() => {
      void this.read(ctx).then((trunks) => {
        if (trunks !== undefined && !this.stopped) {
          this.health?.update(trunks);
          this.registrations?.update(trunks);
        }
        this.schedulePoll(ctx);
      });
    }, this.settings.trunkPollMs ?? 30_000);
  }

  /** This egress's trunks, or undefined (logged) when the directory cannot be read: the last list stays in force. */
  private async read(ctx: EgressContext): Promise<readonly EgressTrunk[] | undefined> {
    try {
      return await ctx.trunks.trunks();
    } catch (err) {
      ctx.logger.warn("trunks-read-failed", { error: err instanceof Error ? err.message : String(err), service: this.name });
      return undefined;
    }
  }
}
