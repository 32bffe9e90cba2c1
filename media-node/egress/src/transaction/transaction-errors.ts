/**
 * The transaction user asked for something the state machine does not allow
 * (a response after the final one, a provisional after a 2xx). A bug in the
 * caller, reported at once rather than sent on the wire.
 */
export class TransactionStateError extends Error {
  override name = "TransactionStateError";
  constructor(
    readonly state: string,
    message: string,
  ) {
    super(message);
  }
}
