/**
 * The part of sdp-transform 3.0.0 (clux/sdp-transform, MIT) that the media
 * code uses. The package ships no types and `@types/sdp-transform` is not a
 * dependency of this repository; this declaration covers only what
 * `sdp-fixups.ts` touches. Every attribute sdp-transform's grammar does not
 * know lands in `invalid` as `{ value }` (the text after `a=`).
 */
declare module "sdp-transform" {
  export interface SdpAttributes {
    [attribute: string]: unknown;
    invalid?: { value: string }[];
  }
  export interface MediaDescription extends SdpAttributes {
    type: string;
    port: number;
    protocol: string;
    payloads?: string;
    connection?: { version: number; ip: string };
    mid?: string | number;
  }
  export interface SessionDescription extends SdpAttributes {
    connection?: { version: number; ip: string };
    groups?: { type: string; mids: string }[];
    media: MediaDescription[];
  }
  export function parse(sdp: string): SessionDescription;
  export function write(session: SessionDescription): string;
}
