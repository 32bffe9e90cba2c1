import { SipUri, type SipRequest } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import type { ContactSpec, RegisterRequest } from "./registrar.ts";

/**
 * Reduces a parsed REGISTER to what the registrar looks at, validating as it
 * goes. A header that does not parse raises SipParseError from the accessor;
 * the caller answers it 400 like any other malformed message.
 */
export function registerRequestOf(req: SipRequest): RegisterRequest {
  const contacts = req.contacts;
  let specs: ContactSpec[] | "*";
  if (contacts === "*") {
    // RFC 3261 §10.3 step 6: "*" must stand alone.
    if (req.getAll("Contact").length !== 1) throw new SipError(400, "Bad Request - Wildcard Contact must be alone", [], "wildcard-not-alone");
    specs = "*";
  } else {
    specs = (contacts ?? []).map((c) => {
      const uri = c.uri;
      // A binding's contact must be a SIP(S) URI: we route only over flows.
      if (!(uri instanceof SipUri)) throw new SipError(400, "Bad Request - Contact must be a SIP URI", [], "contact-scheme");
      const spec: ContactSpec = { uri: uri.toString(), uriKey: uriKey(uri) };
      const expires = c.expires;
      if (expires !== undefined) spec.expires = expires;
      const q = c.q;
      if (q !== undefined) spec.q = q;
      const instance = c.instance;
      if (instance !== undefined) spec.instance = instance;
      const regId = c.regId;
      if (regId !== undefined) spec.regId = regId;
      return spec;
    });
  }
  const out: RegisterRequest = {
    callId: req.callId,
    cseq: req.cseq.seq,
    contacts: specs,
    supported: req.supported,
    require: req.require,
    path: req.getAll("Path"),
  };
  const expires = req.expires;
  if (expires !== undefined) out.expires = expires;
  const ua = req.get("User-Agent");
  if (ua !== undefined) out.userAgent = ua.slice(0, 200);
  return out;
}

/**
 * A contact URI reduced for comparison (RFC 3261 §19.1.4): scheme and host
 * case-insensitive, user case-sensitive, port and transport significant;
 * other parameters ignored.
 */
export function uriKey(uri: SipUri): string {
  const transport = uri.uriParam("transport");
  return `${uri.scheme}:${uri.user ?? ""}@${uri.host.toLowerCase()}:${uri.port ?? ""};${typeof transport === "string" ? transport.toLowerCase() : ""}`;
}
