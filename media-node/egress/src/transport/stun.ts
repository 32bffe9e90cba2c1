// STUN keep-alives on the SIP UDP port (RFC 5626 §5.4 and §8: an edge proxy
// MUST answer STUN Binding requests there; a UA using outbound over UDP —
// baresip/libre, Linphone — sends one every Flow-Timer and, unanswered,
// declares the flow dead and re-registers). Only what §8 needs of RFC 5389:
// a Binding request without authentication gets a Binding success response
// carrying XOR-MAPPED-ADDRESS (§15.2), the address the request came from,
// so the UA also notices a NAT rebinding. SIP never starts with the two
// zero bits and magic cookie STUN does (RFC 5389 §6), so the demultiplexing
// of RFC 5626 §8 is one look at the first bytes.
import { isIPv4, isIPv6 } from "node:net";

const HEADER_BYTES = 20;
const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;

/** RFC 5389 §6: top two bits 0, a length that is a multiple of 4 and matches, the magic cookie. */
export function isStunMessage(data: Uint8Array): boolean {
  if (data.length < HEADER_BYTES || (data[0]! & 0xc0) !== 0) return false;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint16(2);
  return length % 4 === 0 && HEADER_BYTES + length === data.length && view.getUint32(4) === MAGIC_COOKIE;
}

/**
 * The Binding success response to a Binding request from `from`, or
 * undefined for any other STUN message (a response, an indication, another
 * method): those are dropped (RFC 5389 §7.3).
 */
export function stunBindingResponse(request: Uint8Array, from: { address: string; port: number }): Uint8Array | undefined {
  if (!isStunMessage(request)) return undefined;
  const view = new DataView(request.buffer, request.byteOffset, request.byteLength);
  if (view.getUint16(0) !== BINDING_REQUEST) return undefined;
  const transactionId = request.subarray(8, HEADER_BYTES);
  const address = xorMappedAddress(from, transactionId);
  if (address === undefined) return undefined;
  const out = new Uint8Array(HEADER_BYTES + 4 + address.length);
  const w = new DataView(out.buffer);
  w.setUint16(0, BINDING_SUCCESS);
  w.setUint16(2, 4 + address.length);
  w.setUint32(4, MAGIC_COOKIE);
  out.set(transactionId, 8);
  w.setUint16(HEADER_BYTES, XOR_MAPPED_ADDRESS);
  w.setUint16(HEADER_BYTES + 2, address.length);
  out.set(address, HEADER_BYTES + 4);
  return out;
}

/** RFC 5389 §15.2: family, port XOR the cookie's top 16 bits, address XOR the cookie (IPv6: cookie + transaction id). */
function xorMappedAddress(from: { address: string; port: number }, transactionId: Uint8Array): Uint8Array | undefined {
  const mask = new Uint8Array(16);
  new DataView(mask.buffer).setUint32(0, MAGIC_COOKIE);
  mask.set(transactionId, 4);
  const ip = addressBytes(from.address);
  if (ip === undefined) return undefined;
  const value = new Uint8Array(4 + ip.length);
  const v = new DataView(value.buffer);
  v.setUint8(1, ip.length === 4 ? 0x01 : 0x02);
  v.setUint16(2, from.port ^ (MAGIC_COOKIE >>> 16));
  for (let i = 0; i < ip.length; i++) value[4 + i] = ip[i]! ^ mask[i]!;
  return value;
}

function addressBytes(address: string): Uint8Array | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return addressBytes(mapped[1]!);
  if (isIPv4(address)) return Uint8Array.from(address.split(".").map(Number));
  if (!isIPv6(address)) return undefined;
  const [head, tail] = address.split("::") as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s === undefined || s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) return undefined; // e.g. an IPv4 tail other than ::ffff:
  const out = new Uint8Array(16);
  all.forEach((g, i) => new DataView(out.buffer).setUint16(i * 2, g));
  return out;
}
