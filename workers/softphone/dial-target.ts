/**
 * What the person typed in "Call" → a SIP request URI. Pure, unit-tested.
 *
 *   bob                  sip:bob@<own domain>
 *   bob@other.example    sip:bob@other.example
 *   sip:bob@x / sips:…   as written
 *   +1 (555) 010-0199    sip:+15550100199@<own domain>;user=phone   (RFC 3261 §19.1.1)
 *   5550100              sip:5550100@<own domain>;user=phone
 *
 * A number routes to a trunk (ARCHITECTURE.md "Browser to carrier");
 * `user=phone` says the user part is a telephone number.
 */
export function dialTarget(input: string, ownDomain: string): string | undefined {
  const text = input.trim();
  if (text === "") return undefined;
  if (/^sips?:[^\s@]+@[^\s@]+$/i.test(text)) return text;
  if (/^\+?[0-9][0-9 ().-]*$/.test(text)) {
    const digits = text.replace(/[ ().-]/g, "");
    if (digits.replace("+", "").length < 2) return undefined;
    return `sip:${digits}@${ownDomain};user=phone`;
  }
  const at = text.lastIndexOf("@");
  const user = at < 0 ? text : text.slice(0, at);
  const domain = at < 0 ? ownDomain : text.slice(at + 1);
  // RFC 3261 §25.1 "user" characters, without escapes: enough for names people type.
  if (!/^(?=.*[A-Za-z0-9])[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/.test(user)) return undefined;
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(domain)) return undefined;
  return `sip:${user}@${domain.toLowerCase()}`;
}

/** "alice" or "alice@example.com" → the AOR to sign in as, using `defaultDomain` when none is given. */
export function signInAor(input: string, defaultDomain: string | undefined): string | undefined {
  const text = input.trim().replace(/^sips?:/i, "");
  const at = text.lastIndexOf("@");
  const user = at < 0 ? text : text.slice(0, at);
  const domain = (at < 0 ? defaultDomain : text.slice(at + 1))?.toLowerCase();
  if (!user || !domain) return undefined;
  if (!/^(?=.*[A-Za-z0-9])[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/.test(user)) return undefined;
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(domain)) return undefined;
  return `${user}@${domain}`;
}

/** The SIP WebSocket of the page's own edge (workers/README.md): ws(s)://<host>/ws/<aor>. */
export function webSocketUrl(pageUrl: string, aor: string): string {
  const u = new URL(pageUrl);
  const scheme = u.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${u.host}/ws/${encodeURIComponent(aor).replace(/%40/g, "@")}`;
}
