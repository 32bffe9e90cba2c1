// The egress's own Record-Route entries and how it finds them again in a
// Route set (RFC 3261 §16.6 item 4, §16.4, §16.12; PITFALLS 4, 5).
//
// The egress changes transport (WebSocket to the edge, UDP/TCP/TLS to the
// carrier), so it Record-Routes twice, one entry per side, each with its
// transport (Kamailio's enable_double_rr=2):
//
//   edge side     <sip:<id>@egress.invalid;transport=ws;lr>     (workers/src/proxy/egress-hop.ts)
//   carrier side  <sip:<token>@<public address>:<port>;transport=udp;lr>
//
// The carrier-side entry carries everything an in-dialog request needs, so
// the egress keeps no dialog state and a BYE still routes after a restart:
// the trunk (credentials for an in-dialog challenge, metrics) and the CSeq
// offset (trunk-auth.ts: a challenged INVITE is sent again with CSeq + 1, so
// requests from the edge side must be shifted the same way). The token is
// MACed over the Call-ID with a key derived from the egress secret, so a
// browser cannot make up a route set that turns the egress into an open
// relay to any host (an in-dialog request needs a token of a real dialog).
import { type NameAddr, SipUri, constantTimeEqual, hmacSha256Hex } from "sip-parser-ts";
import { egressLinkOfRoute, egressRecordRoute } from "../../../../workers/src/proxy/egress-hop.ts";
import { asProtocol, type Destination, type TransportProtocol } from "../transport/protocol.ts";
import { bareHost, hostReference } from "../transport/via-stamp.ts";

const TOKEN_VERSION = "eg1";
/**
 * A legacy phone's entry (issue 5): its Path and its dialogs' Record-Route
 * on the phone side, `ph1.<base64url(transport SP address SP port)>.<mac>`.
 * It names where the phone was seen (RFC 3581 received/rport: NAT holds),
 * MACed over that address, so requests from the edge reach the phone there
 * and nowhere a browser would choose. The edge side needs no entry: the
 * phone is a flow of its user's DO (workers/src/proxy/path-flow.ts).
 */
const PHONE_VERSION = "ph1";
/** 80 bits of MAC: a forgery is one online guess per request. */
const MAC_HEX = 20;
/** An offset larger than this is not one we made (a challenge per retry, a few retries). */
const MAX_OFFSET = 1000;

/** What the carrier-side Record-Route entry remembers for the dialog. */
export interface DialogToken {
  /** The trunk the dialog runs over. */
  trunk: string;
  /** Added to the CSeq of requests from the edge side (and taken off their responses). */
  cseqOffset: number;
}

/** Where the egress is reachable on the carrier side, per transport (public address, listener port). */
export interface CarrierAddress {
  host: string;
  ports: Partial<Record<TransportProtocol, number>>;
}

export class EgressRoutes {
  private readonly key: string;

  constructor(
    readonly linkId: string,
    secret: string,
    private readonly address: CarrierAddress,
  ) {
    // A key of its own, so a route MAC can never be mistaken for a link token.
    this.key = hmacSha256Hex(secret, `sipedge egress route key\n${linkId}`);
  }

  /** The edge-side entry: exactly what the edge's proxy recognizes (egress-hop.ts). */
  get edgeSide(): string {
    return egressRecordRoute(this.linkId);
  }

  /** The carrier-side entry for a dialog with this Call-ID over `transport`. */
  carrierSide(transport: TransportProtocol, callId: string, token: DialogToken): string {
    const port = this.address.ports[transport];
    if (port === undefined) throw new TypeError(`no ${transport} listener to Record-Route with`);
    const user = `${TOKEN_VERSION}.${token.trunk}.${token.cseqOffset}.${this.mac(callId, token)}`;
    return `<sip:${user}@${hostReference(this.address.host)}:${port};transport=${transport.toLowerCase()};lr>`;
  }

  /** The phone-side entry (Path, Record-Route) for a legacy phone at `phone`, a URI without angle brackets. */
  phoneEntry(phone: { transport: TransportProtocol; address: string; port: number }): string {
    const port = this.address.ports[phone.transport];
    if (port === undefined) throw new TypeError(`no ${phone.transport} listener to Path with`);
    const where = Buffer.from(`${phone.transport} ${phone.address} ${phone.port}`).toString("base64url");
    return `sip:${PHONE_VERSION}.${where}.${this.phoneMac(where)}@${hostReference(this.address.host)}:${port};transport=${phone.transport.toLowerCase()};lr`;
  }

  /**
   * §16.6 item 4 with two entries: the one facing where the request goes
   * ends up on top, so each side's route set starts with the entry for its
   * side (§12.1.1, §12.1.2: the UAS takes the Record-Route in order, the UAC
   * reversed).
   */
  recordRoute(towards: "carrier" | "edge", transport: TransportProtocol, callId: string, token: DialogToken): [top: string, second: string] {
    const carrier = this.carrierSide(transport, callId, token);
    return towards === "carrier" ? [carrier, this.edgeSide] : [this.edgeSide, carrier];
  }

  /**
   * §16.4: removes the Route entries that name this egress from the top of
   * the request's Route set and says what they carried. `forged` when an
   * entry names our carrier-side address but its token is not one we made
   * for this Call-ID.
   */
  consume(request: { routes: NameAddr[]; callId: string; removeFirst(name: string): string | undefined }): ConsumedRoutes {
    const out: ConsumedRoutes = { edgeSide: false, token: undefined, phone: undefined, forged: false };
    for (const route of request.routes) {
      const kind = this.classify(route, request.callId);
      if (kind.kind === "foreign") break;
      request.removeFirst("Route");
      if (kind.kind === "edge") out.edgeSide = true;
      else if (kind.kind === "carrier") out.token = kind.token;
      else if (kind.kind === "phone") out.phone = kind.phone;
      else out.forged = true;
    }
    return out;
  }

  private classify(route: NameAddr, callId: string): { kind: "edge" } | { kind: "carrier"; token: DialogToken } | { kind: "phone"; phone: Destination } | { kind: "forged" } | { kind: "foreign" } {
    let uri;
    try {
      uri = route.uri;
    } catch {
      return { kind: "foreign" };
    }
    if (egressLinkOfRoute(uri.toString()) === this.linkId) return { kind: "edge" };
    if (!(uri instanceof SipUri) || !this.isOurAddress(uri)) return { kind: "foreign" };
    if (uri.user?.startsWith(`${PHONE_VERSION}.`) === true) {
      const phone = this.readPhone(uri.user);
      return phone === undefined ? { kind: "forged" } : { kind: "phone", phone };
    }
    const token = this.readToken(uri.user, callId);
    return token === undefined ? { kind: "forged" } : { kind: "carrier", token };
  }

  private isOurAddress(uri: SipUri): boolean {
    if (bareHost(uri.host) !== bareHost(this.address.host)) return false;
    const port = uri.port ?? (uri.scheme === "sips" ? 5061 : 5060);
    return Object.values(this.address.ports).includes(port);
  }

  private readToken(user: string | undefined, callId: string): DialogToken | undefined {
    const parts = (user ?? "").split(".");
    if (parts.length !== 4 || parts[0] !== TOKEN_VERSION) return undefined;
    const [, trunk, offsetText, mac] = parts as [string, string, string, string];
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(trunk) || !/^\d{1,4}$/.test(offsetText)) return undefined;
    const token: DialogToken = { trunk, cseqOffset: Number(offsetText) };
    if (token.cseqOffset > MAX_OFFSET) return undefined;
    return constantTimeEqual(this.mac(callId, token), mac) ? token : undefined;
  }

  private readPhone(user: string): Destination | undefined {
    const parts = user.split(".");
    if (parts.length !== 3 || !constantTimeEqual(this.phoneMac(parts[1]!), parts[2]!)) return undefined;
    const [transport, address, port] = Buffer.from(parts[1]!, "base64url").toString().split(" ");
    const protocol = asProtocol(transport ?? "");
    if (protocol === undefined || address === undefined || !/^\d{1,5}$/.test(port ?? "") || Number(port) > 65535) return undefined;
    return { transport: protocol, host: address, port: Number(port), tcp: false };
  }

  private phoneMac(where: string): string {
    return hmacSha256Hex(this.key, `phone\n${where}`).slice(0, MAC_HEX);
  }

  private mac(callId: string, token: DialogToken): string {
    return hmacSha256Hex(this.key, `${callId}\n${token.trunk}\n${token.cseqOffset}`).slice(0, MAC_HEX);
  }
}

export interface ConsumedRoutes {
  /** Our edge-side entry was there. */
  edgeSide: boolean;
  /** What our carrier-side entry carried, when it was there and genuine. */
  token: DialogToken | undefined;
  /** Where the legacy phone our phone-side entry names is (its Path, or its dialog's Record-Route). */
  phone: Destination | undefined;
  /** An entry named our carrier-side address with a token we did not make. */
  forged: boolean;
}
