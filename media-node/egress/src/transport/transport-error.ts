import type { TransportProtocol } from "./protocol.ts";

/**
 * A message could not be sent: the socket failed, a connection was refused,
 * reset or timed out. The transaction layer turns it into a 503 for the
 * transaction user (RFC 3261 §8.1.3.1, §17.1.4).
 */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly transport: TransportProtocol,
    readonly target: string,
    /** errno code when there is one (ECONNREFUSED, ETIMEDOUT, …). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  static from(transport: TransportProtocol, target: string, err: unknown): TransportError {
    if (err instanceof TransportError) return err;
    const e = err as NodeJS.ErrnoException | undefined;
    const code = typeof e?.code === "string" ? e.code : "EIO";
    return new TransportError(transport, target, code, `${transport} to ${target} failed: ${e?.message ?? String(err)}`);
  }
}
