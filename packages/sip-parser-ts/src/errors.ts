export class SipParseError extends Error { constructor(public status: 400 | 513, public reason: string, public partial?: unknown) { super(reason); this.name = "SipParseError"; } }
