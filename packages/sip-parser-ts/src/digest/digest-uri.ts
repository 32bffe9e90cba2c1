// RFC 2617 §3.2.2.5: "the server SHOULD check that the URI in the
// Authorization header matches the URI in the request-line", so that
// credentials computed for one request cannot be presented with another
// Request-URI (a captured INVITE to one number replayed towards another).
//
// Compared as resources, not as text: scheme, user and host:port must be
// the same; URI parameters and headers are not (clients differ in whether
// they copy `;transport=ws` or `;user=phone` into the digest uri). Hosts
// compare case-insensitively (RFC 3261 §19.1.4); a tel number ignores its
// visual separators (RFC 3966 §5.1.1).

import { SipParseError } from "../errors.ts";
import { parseUri, SipUri, TelUri, type Uri } from "../uri.ts";

const VISUAL_SEPARATORS = /[-.()]/g;

/** Whether a digest `uri` directive names the same resource as the Request-URI. */
export function digestUriMatches(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  let d: Uri;
  let r: Uri;
  try {
    d = parseUri(digestUri);
    r = parseUri(requestUri);
  } catch (e) {
    if (e instanceof SipParseError) return false;
    throw e;
  }
  if (d instanceof SipUri && r instanceof SipUri) {
    return (
      d.scheme === r.scheme &&
      d.userDecoded === r.userDecoded &&
      d.host.toLowerCase() === r.host.toLowerCase() &&
      d.port === r.port
    );
  }
  if (d instanceof TelUri && r instanceof TelUri) {
    return d.number.replace(VISUAL_SEPARATORS, "") === r.number.replace(VISUAL_SEPARATORS, "");
  }
  return d.toString().toLowerCase() === r.toString().toLowerCase();
}
