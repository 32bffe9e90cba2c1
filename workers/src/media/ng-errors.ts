/**
 * Typed failures of an ng request, so the caller can choose: skip the node
 * for a while and try the next one (timeouts, transport failures, capacity
 * errors — as Kamailio's and OpenSIPS' rtpengine modules do, PITFALLS 25),
 * or fail the call (any other rtpengine error).
 */
export class NgError extends Error {
  override name = "NgError";
  /** True when another node could serve the request: the caller should fail over. */
  readonly failover: boolean = false;
  constructor(
    readonly command: string,
    message: string,
    readonly reply?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** No answer in time: from rtpengine (the agent's 504) or from the agent itself. */
export class NgTimeoutError extends NgError {
  override name = "NgTimeoutError";
  override readonly failover = true;
}

/** The node is full or overloaded; another node may not be. */
export class NgCapacityError extends NgError {
  override name = "NgCapacityError";
  override readonly failover = true;
}

/** The agent could not be reached or answered something that is not an ng reply. */
export class NgTransportError extends NgError {
  override name = "NgTransportError";
  override readonly failover = true;
  constructor(
    command: string,
    message: string,
    readonly status?: number,
  ) {
    super(command, message);
  }
}

/** The agent refused our signature (401): a wrong secret or a skewed clock. A configuration error, logged loudly. */
export class NgAuthError extends NgTransportError {
  override name = "NgAuthError";
}

export class NgClosedError extends NgError {
  override name = "NgClosedError";
}

/**
 * The capacity errors OpenSIPS fails over on (opensips modules/rtpengine
 * README; PLATFORM.md "Choosing among RTPEngine nodes"), plus our agent's own
 * refusal while it drains (media-node/agent/src/ng-relay.ts).
 */
export const CAPACITY_REASONS: readonly string[] = [
  "Parallel session limit reached",
  "Ran out of ports",
  "CPU usage limit exceeded",
  "Load limit exceeded",
  "Bandwidth limit exceeded",
  "Node is draining",
];

export function isCapacityReason(reason: string): boolean {
  return CAPACITY_REASONS.some((r) => reason.includes(r));
}
