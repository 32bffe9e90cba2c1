// Safe defaults for what one message may cost us. A SIP message over UDP is
// at most 65,535 bytes (RFC 3261 §18.1.1 caps the datagram); on streams the
// same cap keeps one connection from making us buffer without bound.

export interface ParseLimits {
  /** Above this the message is refused with 513 Message Too Large (RFC 3261 §21.5.14). */
  maxMessageBytes: number;
  /** Header field lines per message; more is refused with 400. */
  maxHeaders: number;
  /**
   * Length of one header field line, folded continuation lines included, and
   * of the start line. Measured in characters of the decoded text (a lower
   * bound of its UTF-8 bytes; SIP header text is almost always ASCII).
   */
  maxHeaderLineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaders: 256,
  maxHeaderLineBytes: 8192,
});

export function resolveLimits(limits: Partial<ParseLimits> | undefined): Readonly<ParseLimits> {
  if (limits === undefined) return DEFAULT_LIMITS;
  return {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes,
    maxHeaders: limits.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
    maxHeaderLineBytes: limits.maxHeaderLineBytes ?? DEFAULT_LIMITS.maxHeaderLineBytes,
  };
}
