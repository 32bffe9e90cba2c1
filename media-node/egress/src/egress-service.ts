import type { Gateway, TrunkRecord } from "../../../workers/src/trunks/index.ts";
import type { Registry } from "../../agent/src/metrics.ts";
import type { Logger } from "./log.ts";
import type { TransactionLayer } from "./transaction/transaction-layer.ts";
import type { TransportProtocol } from "./transport/protocol.ts";
import type { SipTransportLayer } from "./transport/sip-transport-layer.ts";
import type { TrunkSource } from "./trunks/trunk-source.ts";
import type { TrunkDirectory } from "../../../workers/src/directory/trunks.ts";

/**
 * A part of the egress that runs beside the proxy on the carrier side:
 * registration to carriers (trunk-registration.ts), OPTIONS health checks
 * (gateway-health.ts). The egress starts each one after its SIP listeners
 * and link are up (egress.ts `services`), in order, and stops them in
 * reverse order before it closes its sockets.
 */
export interface EgressService {
  /** For logs: "trunk-registration", "gateway-health". */
  readonly name: string;
  start(ctx: EgressContext): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** What a service gets to work with. */
export interface EgressContext {
  /** This egress's id (the trunks whose `egress` is it are ours). */
  egressId: string;
  /** The carrier side's transaction layer: send REGISTER, OPTIONS in client transactions. */
  transactions: TransactionLayer;
  transport: SipTransportLayer;
  /** This egress's trunks (cached; `trunksAfterMiss` to read again). */
  trunks: TrunkSource;
  /** The table, to report what the egress sees (`setStatus`: gateway health, registration). */
  directory: TrunkDirectory;
  /** Register families here; /metrics renders them. */
  metrics: Registry;
  logger: Logger;
  /**
   * Our address as carriers reach it over `transport` (public address,
   * listener port): for Contact and the like. Undefined when we do not
   * listen on that transport.
   */
  localAddress(transport: TransportProtocol): { host: string; port: number } | undefined;
  /**
   * Tells the proxy whether a gateway should get calls now. The proxy asks
   * it for every call; without a health service every gateway is live.
   */
  setGatewayHealth(health: GatewayHealth): void;
}

/** Which gateways are up, as a health checker sees them. */
export interface GatewayHealth {
  isLive(trunk: TrunkRecord, gateway: Gateway): boolean;
}
