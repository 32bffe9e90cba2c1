// Header field names. Names are case-insensitive (RFC 3261 §7.3.1) and many
// have a compact form (§7.3.3, with later forms registered by IANA in the
// "Header Fields" registry of the SIP Parameters).
//
// Keys (lowercased full names) are string literals, so V8 interns them and
// comparing a header's key with "via" anywhere in the library is a pointer
// comparison. The parser finds a name's key with keyAt(), which looks at the
// text in place (by length and first letter) instead of slicing and hashing.

/** [canonical spelling, key] of the header fields we know. */
const KNOWN: ReadonlyArray<readonly [string, string]> = [
  ["Accept", "accept"], ["Accept-Contact", "accept-contact"], ["Accept-Encoding", "accept-encoding"],
  ["Accept-Language", "accept-language"], ["Accept-Resource-Priority", "accept-resource-priority"],
  ["Alert-Info", "alert-info"], ["Allow", "allow"], ["Allow-Events", "allow-events"],
  ["Answer-Mode", "answer-mode"], ["Authentication-Info", "authentication-info"],
  ["Authorization", "authorization"], ["Call-ID", "call-id"], ["Call-Info", "call-info"],
  ["Contact", "contact"], ["Content-Disposition", "content-disposition"],
  ["Content-Encoding", "content-encoding"], ["Content-ID", "content-id"],
  ["Content-Language", "content-language"], ["Content-Length", "content-length"],
  ["Content-Type", "content-type"], ["CSeq", "cseq"], ["Date", "date"], ["Error-Info", "error-info"],
  ["Event", "event"], ["Expires", "expires"], ["Feature-Caps", "feature-caps"], ["Flow-Timer", "flow-timer"],
  ["From", "from"], ["Geolocation", "geolocation"], ["Geolocation-Error", "geolocation-error"],
  ["Geolocation-Routing", "geolocation-routing"], ["History-Info", "history-info"], ["Identity", "identity"],
  ["Identity-Info", "identity-info"], ["Info-Package", "info-package"], ["In-Reply-To", "in-reply-to"],
  ["Join", "join"], ["Max-Breadth", "max-breadth"], ["Max-Forwards", "max-forwards"],
  ["MIME-Version", "mime-version"], ["Min-Expires", "min-expires"], ["Min-SE", "min-se"],
  ["Organization", "organization"], ["P-Access-Network-Info", "p-access-network-info"],
  ["P-Asserted-Identity", "p-asserted-identity"], ["P-Associated-URI", "p-associated-uri"],
  ["P-Called-Party-ID", "p-called-party-id"],
  ["P-Charging-Function-Addresses", "p-charging-function-addresses"],
  ["P-Charging-Vector", "p-charging-vector"], ["P-Early-Media", "p-early-media"],
  ["P-Preferred-Identity", "p-preferred-identity"], ["P-Visited-Network-ID", "p-visited-network-id"],
  ["Path", "path"], ["Permission-Missing", "permission-missing"], ["Policy-ID", "policy-id"],
  ["Priority", "priority"], ["Privacy", "privacy"], ["Proxy-Authenticate", "proxy-authenticate"],
  ["Proxy-Authorization", "proxy-authorization"], ["Proxy-Require", "proxy-require"], ["RAck", "rack"],
  ["Reason", "reason"], ["Record-Route", "record-route"], ["Recv-Info", "recv-info"],
  ["Refer-Sub", "refer-sub"], ["Refer-To", "refer-to"], ["Referred-By", "referred-by"],
  ["Reject-Contact", "reject-contact"], ["Replaces", "replaces"], ["Reply-To", "reply-to"],
  ["Request-Disposition", "request-disposition"], ["Require", "require"],
  ["Resource-Priority", "resource-priority"], ["Retry-After", "retry-after"], ["Route", "route"],
  ["RSeq", "rseq"], ["Security-Client", "security-client"], ["Security-Server", "security-server"],
  ["Security-Verify", "security-verify"], ["Server", "server"], ["Service-Route", "service-route"],
  ["Session-Expires", "session-expires"], ["Session-ID", "session-id"], ["SIP-ETag", "sip-etag"],
  ["SIP-If-Match", "sip-if-match"], ["Subject", "subject"], ["Subscription-State", "subscription-state"],
  ["Supported", "supported"], ["Suppress-If-Match", "suppress-if-match"], ["Target-Dialog", "target-dialog"],
  ["Timestamp", "timestamp"], ["To", "to"], ["Trigger-Consent", "trigger-consent"],
  ["Unsupported", "unsupported"], ["User-Agent", "user-agent"], ["User-to-User", "user-to-user"],
  ["Via", "via"], ["Warning", "warning"], ["WWW-Authenticate", "www-authenticate"],
];

/**
 * Compact forms: RFC 3261 §7.3.3 (c e f i k l m s t v), RFC 3841 (a j d),
 * RFC 3892 (b), RFC 3515 (r), RFC 6665 (o u), RFC 4028 (x), RFC 8224 (y).
 */
const COMPACT: ReadonlyArray<readonly [string, string]> = [
  ["a", "accept-contact"], ["b", "referred-by"], ["c", "content-type"], ["d", "request-disposition"],
  ["e", "content-encoding"], ["f", "from"], ["i", "call-id"], ["j", "reject-contact"],
  ["k", "supported"], ["l", "content-length"], ["m", "contact"], ["o", "event"],
  ["r", "refer-to"], ["s", "subject"], ["t", "to"], ["u", "allow-events"], ["v", "via"],
  ["x", "session-expires"], ["y", "identity"],
];

/** Name as written (the spellings we pre-register) → key. */
const KEY_OF = new Map<string, string>();
/** Key → canonical spelling. */
const NAME_OF = new Map<string, string>();
/** keyAt's table: index (length * 32 + first letter & 31) → [spelling, lowercased spelling, key, ...]. */
const MAX_SHAPE_LENGTH = 32;
// Dense from the start: a sparse array would fall back to dictionary elements.
const BY_SHAPE: Array<string[] | undefined> = new Array<string[] | undefined>(MAX_SHAPE_LENGTH * 32).fill(undefined);

function addShape(spelling: string, key: string): void {
  const i = spelling.length * 32 + (spelling.charCodeAt(0) & 31);
  (BY_SHAPE[i] ??= []).push(spelling, spelling.toLowerCase(), key);
}

for (const [name, key] of KNOWN) {
  NAME_OF.set(key, name);
  KEY_OF.set(key, key);
  KEY_OF.set(name, key);
  KEY_OF.set(name.toUpperCase(), key);
  if (name.length < MAX_SHAPE_LENGTH) addShape(name, key);
}
for (const [compact, key] of COMPACT) {
  KEY_OF.set(compact, key);
  KEY_OF.set(compact.toUpperCase(), key);
  addShape(compact, key);
}

/**
 * The lowercased full name for a header name in any case or compact form:
 * "v" → "via", "CALL-ID" → "call-id", "X-Foo" → "x-foo".
 */
export function headerKey(name: string): string {
  const key = KEY_OF.get(name);
  if (key !== undefined) return key;
  const lower = name.toLowerCase();
  return KEY_OF.get(lower) ?? lower;
}

/**
 * The key of the known header whose name is s[start, end), compared
 * case-insensitively; undefined when the name is not one we know.
 */
export function keyAt(s: string, start: number, end: number): string | undefined {
  const len = end - start;
  if (len >= MAX_SHAPE_LENGTH) return undefined;
  const candidates = BY_SHAPE[len * 32 + (s.charCodeAt(start) & 31)];
  if (candidates === undefined) return undefined;
  for (let i = 0; i < candidates.length; i += 3) {
    // Most stacks write the canonical spelling: one native comparison for
    // the longer names.
    if (len > 4 && s.startsWith(candidates[i]!, start)) return candidates[i + 2];
    const lower = candidates[i + 1]!;
    let j = 0;
    for (; j < len; j++) {
      const c = s.charCodeAt(start + j);
      const k = lower.charCodeAt(j);
      if (c !== k && !(k >= 97 && k <= 122 && (c | 0x20) === k)) break;
    }
    if (j === len) return candidates[i + 2];
  }
  return undefined;
}

/**
 * The spelling to write for a header: canonical for the ones we know
 * ("call-id" → "Call-ID", "m" → "Contact"), else the name as given.
 */
export function canonicalHeaderName(name: string): string {
  return NAME_OF.get(headerKey(name)) ?? name;
}

/** Whether the name is one of the compact forms of §7.3.3 and its successors. */
export function isCompactForm(name: string): boolean {
  return name.length === 1 && KEY_OF.has(name);
}
