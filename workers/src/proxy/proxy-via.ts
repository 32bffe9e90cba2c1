/**
 * The Via this DO's proxy inserts (RFC 3261 §16.6 item 8) and how it
 * recognizes it on responses (§16.7 step 3) and in loop checks (§16.3 item 4):
 *
 *   Via: SIP/2.0/WSS example.com;branch=z9hG4bK<loop>.<tx>.<n>;ua=alice%40example.com
 *
 * `ua` names the DO (its AOR, percent-encoded so it is a token): a response
 * whose next Via after ours carries `ua` goes to that DO by RPC; one without
 * it is our own user's client and goes to the server transaction's flow.
 * The branch carries the loop hash, the transaction id and the branch index,
 * so a response finds its transaction with one keyed read. Two other forms:
 * `<loop>.<rand>.s` for requests forwarded statelessly (ACK for 2xx,
 * §16.11), `<loop>.<rand>.l` for requests this DO originates itself (BYE on
 * socket close or session expiry), whose responses are absorbed here.
 */
export const MAGIC = "z9hG4bK";

export type OurBranch =
  | { kind: "tx"; loop: string; txId: string; n: number }
  | { kind: "stateless"; loop: string }
  | { kind: "local"; loop: string };

export function txBranch(loop: string, txId: string, n: number): string {
  return `${MAGIC}${loop}.${txId}.${n}`;
}

export function statelessBranch(loop: string, rand: string): string {
  return `${MAGIC}${loop}.${rand}.s`;
}

export function localBranch(rand: string): string {
  return `${MAGIC}00000000.${rand}.l`;
}

export function parseOurBranch(branch: string | undefined): OurBranch | undefined {
  if (branch === undefined || !branch.startsWith(MAGIC)) return undefined;
  const rest = branch.slice(MAGIC.length);
  const a = rest.indexOf(".");
  const b = rest.lastIndexOf(".");
  if (a !== 8 || b <= a + 1 || b === rest.length - 1) return undefined;
  const loop = rest.slice(0, a);
  const mid = rest.slice(a + 1, b);
  const last = rest.slice(b + 1);
  if (last === "s") return { kind: "stateless", loop };
  if (last === "l") return { kind: "local", loop };
  if (!/^\d{1,4}$/.test(last)) return undefined;
  return { kind: "tx", loop, txId: mid, n: Number(last) };
}

/** The Via header value for a copy forwarded by the DO of `aor`. */
export function ourVia(domain: string, aor: string, branch: string): string {
  return viaHead(domain) + branch + ";ua=" + encodeViaAor(aor);
}

/** Our Via up to the branch value (the proxy core keeps it, and the encoded AOR, precomputed). */
export function viaHead(domain: string): string {
  return `SIP/2.0/WSS ${domain};branch=`;
}

/** AOR → Via parameter token: %XX for everything that is not a token character (RFC 3261 §25.1). */
export function encodeViaAor(aor: string): string {
  let out = "";
  for (const ch of aor) {
    if (/^[A-Za-z0-9\-.!*_+`'~]$/.test(ch)) out += ch;
    else for (const b of new TextEncoder().encode(ch)) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function decodeViaAor(param: string | null | undefined): string | undefined {
  if (param === undefined || param === null || param === "") return undefined;
  try {
    return decodeURIComponent(param);
  } catch {
    return undefined;
  }
}
