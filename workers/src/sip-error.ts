/**
 * An error that carries the SIP answer it should become (drachtio-srf's
 * SipError; STYLE.md point 4). Logic layers (registrar, auth, proxy) throw
 * it; the platform layer turns it into a response in exactly one place
 * (`sip-responses.ts`), so no layer invents wire strings of its own.
 */
export class SipError extends Error {
  override name = "SipError";
  constructor(
    public readonly status: number,
    public readonly reason: string,
    /** Extra header fields for the response, in order (e.g. WWW-Authenticate, Min-Expires). */
    public readonly headers: ReadonlyArray<readonly [string, string]> = [],
    /** Why, for the log only: never sent on the wire (e.g. "wrong-password"). */
    public readonly why?: string,
  ) {
    super(`${status} ${reason}`);
  }
}
