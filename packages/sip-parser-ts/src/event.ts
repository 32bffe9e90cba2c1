// Event (RFC 6665 §8.2.1): event-type *( SEMI event-param ), where
// event-type = event-package *( "." event-template ) and the "id" parameter
// tells apart subscriptions of one dialog (§8.2.1, §4.1.2.1).

import { scanToken, skipWsp, trimWspEnd } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import { type ParamList, type Params, parseHeaderParams } from "./params.ts";

export interface EventHeader {
  /** The event type as written ("presence", "refer", "dialog.winfo"); compare as tokens. */
  type: string;
  id?: string;
  /** Parameters; names lowercased, values as written. */
  params: Params;
}

export function parseEvent(value: string, what = "Event"): EventHeader {
  const end = trimWspEnd(value, 0, value.length);
  const start = skipWsp(value, 0, end);
  const i = scanToken(value, start, end);
  if (i === start) throw malformed(what);
  const list: ParamList = [];
  parseHeaderParams(value, i, end, list, what);
  const params: Params = new Map();
  for (let k = 0; k < list.length; k += 2) if (!params.has(list[k]!)) params.set(list[k]!, list[k + 1]!);
  const id = params.get("id");
  if (id === null) throw malformed(what);
  const event: EventHeader = { type: value.slice(start, i), params };
  if (id !== undefined) event.id = id;
  return event;
}
