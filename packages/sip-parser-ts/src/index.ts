// sip-parser-ts: SIP message syntax (RFC 3261 §7, §19, §20, §25). See README.md.

export { SipParseError } from "./errors.ts";
export { DEFAULT_LIMITS, type ParseLimits } from "./limits.ts";
export { canonicalHeaderName, headerKey, isCompactForm } from "./header-names.ts";
export { AbsoluteUri, SipUri, type SipUriInit, TelUri, type Uri, parseUri } from "./uri.ts";
export { NameAddr, parseNameAddr } from "./name-addr.ts";
export { Contact } from "./contact.ts";
export { Via, type ViaInit, parseVia } from "./via.ts";
export { LIST_HEADERS, isListHeader, splitHeaderValues } from "./split.ts";
export { type CSeq, type RAck, parseCSeq, parseRAck } from "./cseq.ts";
export { type SessionExpires } from "./session-timer.ts";
export { type EventHeader } from "./event.ts";
export { ReferTo, type Replaces, parseReplaces } from "./refer-to.ts";
export { type HeaderField, SipMessage, SipRequest, SipResponse } from "./message.ts";
export { parseMessage } from "./parse.ts";
export { type FramerEvent, StreamFramer } from "./framer.ts";
export { type RequestOptions, type ResponseOptions, createRequest, createResponse, newBranch, randomToken } from "./build.ts";
export { reasonPhrase } from "./reason-phrases.ts";
// Digest authentication (RFC 2617, 7616, 8760): src/digest/.
export * from "./digest/index.ts";
