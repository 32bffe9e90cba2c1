// sip-parser-ts runs in workerd and Node alike and may use only what both
// provide. We compile it against lib ES2022 alone (no DOM, no @types/node), so
// any platform API must be declared here on purpose.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
