import { InputError } from "./input-error.ts";

/**
 * A gateway written on one line, as the CLI takes it, SIP-URI-like:
 * `host[:port][;transport=udp|tcp|tls][;priority=N][;weight=N]`, with an
 * optional `sip:` (or `sips:`, which means TLS) in front and IPv6 in brackets:
 *   sip.carrier.example            192.0.2.10:5080;transport=tcp
 *   [2001:db8::5]:5061;transport=tls;priority=20;weight=5
 * Returns the API's gateway object (the API checks the values).
 */
export function parseGatewaySpec(text: string): Record<string, string | number> {
  const usage = `gateway "${text}" must look like host[:port][;transport=udp|tcp|tls][;priority=N][;weight=N], e.g. 192.0.2.10:5060;transport=udp`;
  let rest = text.trim();
  const out: Record<string, string | number> = {};
  const scheme = /^(sips?):/i.exec(rest);
  if (scheme !== null) {
    if (scheme[1]!.toLowerCase() === "sips") out.transport = "tls";
    rest = rest.slice(scheme[0].length);
  }
  const [hostPort = "", ...params] = rest.split(";");
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (m === null) throw new InputError("invalid_gateways", usage);
  out.host = m[1]!.replace(/^\[(.*)\]$/, "$1");
  if (m[2] !== undefined) out.port = Number(m[2]);
  for (const p of params) {
    const [name = "", value = ""] = p.split("=", 2).map((s) => s.trim());
    switch (name.toLowerCase()) {
      case "transport":
        out.transport = value.toLowerCase();
        break;
      case "priority":
      case "weight":
        if (!/^\d{1,5}$/.test(value)) throw new InputError("invalid_gateways", `${usage} (${name} takes a number)`);
        out[name.toLowerCase()] = Number(value);
        break;
      default:
        throw new InputError("invalid_gateways", `${usage} (unknown parameter "${name}")`);
    }
  }
  return out;
}
