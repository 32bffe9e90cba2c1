import { SipUri, type Uri } from "sip-parser-ts";
import { parseAor } from "../aor.ts";

/**
 * The AOR (`user@domain`, workers/src/aor.ts) a SIP or SIPS URI names, or
 * undefined for a URI without a user, a tel: URI, `user=phone` (a number:
 * the trunk's business) or a user part outside the AOR syntax we accept.
 */
export function aorOfUri(uri: Uri): string | undefined {
  if (!(uri instanceof SipUri) || uri.user === undefined) return undefined;
  if (uri.uriParam("user")?.toLowerCase() === "phone") return undefined;
  return parseAor(`${uri.userDecoded}@${uri.host}`)?.aor;
}

/** A URI naming one of our domains itself, without a user (`sip:example.com`): the edge as a server. */
export function isDomainUri(uri: Uri, isLocalDomain: (host: string) => boolean): boolean {
  return uri instanceof SipUri && uri.user === undefined && isLocalDomain(uri.host.toLowerCase());
}
