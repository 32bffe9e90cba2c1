/**
 * Signs `POST /ng` requests for the media agent with WebCrypto (runs in
 * workerd and in Node 20). The format, verified by
 * media-node/agent/src/request-signature.ts:
 *
 *   X-Sipedge-Timestamp: <Unix time in milliseconds>
 *   X-Sipedge-Signature: v1=<lower-case hex HMAC-SHA256(secret, timestamp + "\n" + body)>
 *
 * The agent refuses a timestamp more than 30 s off its clock and a
 * signature it has seen before.
 */
export const TIMESTAMP_HEADER = "X-Sipedge-Timestamp";
export const SIGNATURE_HEADER = "X-Sipedge-Signature";

const encoder = new TextEncoder();

export function importNgSecret(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

export async function signNgBody(key: CryptoKey, timestamp: string, body: Uint8Array): Promise<string> {
  const prefix = encoder.encode(`${timestamp}\n`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix, 0);
  message.set(body, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  let hex = "v1=";
  for (const b of mac) hex += b.toString(16).padStart(2, "0");
  return hex;
}
