// Refer-To (RFC 3515 §2.1) and the Replaces header it may carry inside its
// URI for an attended transfer (RFC 3891 §3, §6.1):
//
//   Refer-To: <sip:bob@example.com?Replaces=12345%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>
//
// The embedded value is %-escaped (RFC 3261 §19.1.1 headers); we decode it
// and parse it as a Replaces header field value.

import { CHAR, WORD, skipWsp, trimWspEnd } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import { unescapePercent } from "./escapes.ts";
import { NO_URI, NameAddr, parseNameAddrAt } from "./name-addr.ts";
import { type ParamList, parseHeaderParams } from "./params.ts";
import { SipUri } from "./uri.ts";

export interface Replaces {
  callId: string;
  toTag: string;
  fromTag: string;
  /** early-only: replace only an early dialog (RFC 3891 §3). */
  earlyOnly: boolean;
}

/** A Refer-To value: the refer target, and the Replaces it carries, if any. */
export class ReferTo extends NameAddr {
  declare replaces: Replaces | undefined;
}

export function parseReferTo(value: string): ReferTo {
  const referTo = parseNameAddrAt(new ReferTo(NO_URI), value, 0, value.length, "Refer-To");
  const uri = referTo.uri;
  if (uri instanceof SipUri && uri.headers.size > 0) {
    for (const [name, escaped] of uri.headers) {
      if (name.length === 8 && name.toLowerCase() === "replaces") {
        referTo.replaces = parseReplaces(unescapePercent(escaped), "Refer-To");
        break;
      }
    }
  }
  return referTo;
}

/**
 * Replaces = callid *( SEMI replaces-param ) (RFC 3891 §6.1); to-tag and
 * from-tag are both required there.
 */
export function parseReplaces(value: string, what = "Replaces"): Replaces {
  const end = trimWspEnd(value, 0, value.length);
  const start = skipWsp(value, 0, end);
  let i = start;
  // callid = word [ "@" word ]
  while (i < end) {
    const c = value.charCodeAt(i);
    if (c !== 64 && (c >= 128 || (CHAR[c]! & WORD) === 0)) break;
    i++;
  }
  if (i === start) throw malformed(what);
  const callId = value.slice(start, i);
  const list: ParamList = [];
  parseHeaderParams(value, i, end, list, what);
  let toTag: string | null | undefined;
  let fromTag: string | null | undefined;
  let earlyOnly = false;
  for (let k = 0; k < list.length; k += 2) {
    const name = list[k];
    if (name === "to-tag") toTag ??= list[k + 1];
    else if (name === "from-tag") fromTag ??= list[k + 1];
    else if (name === "early-only") earlyOnly = true;
  }
  if (typeof toTag !== "string" || typeof fromTag !== "string") throw malformed(what);
  return { callId, toTag, fromTag, earlyOnly };
}
