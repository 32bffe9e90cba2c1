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
// Web Crypto's random source, for tags, branches and Call-IDs (RFC 3261
// §19.3 asks for cryptographically random tags). Declared as DOM declares it,
// so the two merge where both are in scope.
interface Crypto {
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
}
declare var crypto: Crypto;
// (src/digest uses crypto.getRandomValues too, for nonces and cnonces; never
// crypto.subtle, which is async and has no MD5.)
// TextEncoder.encodeInto (WHATWG Encoding; in workerd and Node): the digest
// hashes encode into a reused buffer, which is several times faster than
// encode() or a charCodeAt loop over the concatenated strings they hash.
interface TextEncoder {
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
