// Content-Type (RFC 3261 §20.15): media-type = m-type SLASH m-subtype
// *( SEMI m-parameter ). Types and subtypes are case-insensitive (RFC 2045
// §5.1), so we hand them out lowercased, without parameters:
// "application/sdp".

import { scanToken, skipWsp, trimWspEnd } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import { parseHeaderParams } from "./params.ts";

export function parseMediaType(value: string, what = "Content-Type"): string {
  const end = trimWspEnd(value, 0, value.length);
  const typeStart = skipWsp(value, 0, end);
  const typeEnd = scanToken(value, typeStart, end);
  if (typeEnd === typeStart) throw malformed(what);
  let i = skipWsp(value, typeEnd, end);
  if (value.charCodeAt(i) !== 47 /* / */) throw malformed(what);
  const subStart = skipWsp(value, i + 1, end);
  const subEnd = scanToken(value, subStart, end);
  if (subEnd === subStart) throw malformed(what);
  i = subEnd;
  if (i < end) parseHeaderParams(value, i, end, [], what);
  const type =
    typeEnd === subStart - 1 ? value.slice(typeStart, subEnd) : value.slice(typeStart, typeEnd) + "/" + value.slice(subStart, subEnd);
  return type.toLowerCase();
}
