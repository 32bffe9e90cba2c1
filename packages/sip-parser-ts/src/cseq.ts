// CSeq (RFC 3261 §20.16) and RAck (RFC 3262 §7.2): sequence numbers and a
// method, separated by LWS.

import { scanToken, skipWsp, trimWspEnd } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import { MAX_UINT32 } from "./scalars.ts";

export interface CSeq {
  /** "MUST be expressible as a 32-bit unsigned integer" (§8.1.1.5). */
  seq: number;
  method: string;
}

export interface RAck {
  /** The RSeq of the reliable provisional response being acknowledged. */
  rseq: number;
  cseq: number;
  method: string;
}

/** CSeq = 1*DIGIT LWS Method; throws SipParseError 400 "Bad Request - Malformed CSeq". */
export function parseCSeq(value: string): CSeq {
  return parseCSeqAt(value, 0, value.length, "CSeq");
}

/** @internal */
export function parseCSeqAt(s: string, from: number, to: number, what: string): CSeq {
  const end = trimWspEnd(s, from, to);
  let i = skipWsp(s, from, end);
  const seq = parseNumber(s, i, end, what);
  i = skipWsp(s, numberEnd, end);
  return { seq, method: parseMethod(s, i, end, what) };
}

/** RAck = response-num LWS CSeq-num LWS Method (RFC 3262 §7.2). */
export function parseRAck(value: string): RAck {
  const end = trimWspEnd(value, 0, value.length);
  let i = skipWsp(value, 0, end);
  const rseq = parseNumber(value, i, end, "RAck");
  i = skipWsp(value, numberEnd, end);
  const cseq = parseNumber(value, i, end, "RAck");
  i = skipWsp(value, numberEnd, end);
  return { rseq, cseq, method: parseMethod(value, i, end, "RAck") };
}

/** Where the last parseNumber stopped (single-threaded scratch, saves an allocation). */
let numberEnd = 0;

/** 1*DIGIT up to 2^32-1, then mandatory whitespace. */
function parseNumber(s: string, i: number, end: number, what: string): number {
  const start = i;
  let v = 0;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    if (v > MAX_UINT32) throw malformed(what); // RFC 4475 §3.1.2.4 scalar02
    i++;
  }
  if (i === start || i === end || (s.charCodeAt(i) !== 32 && s.charCodeAt(i) !== 9)) throw malformed(what);
  numberEnd = i;
  return v;
}

function parseMethod(s: string, i: number, end: number, what: string): string {
  if (scanToken(s, i, end) !== end || i === end) throw malformed(what);
  return s.slice(i, end);
}
