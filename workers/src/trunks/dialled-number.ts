import { SipUri, TelUri, type Uri } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import { removeVisualSeparators } from "./e164.ts";
import { globalForm, toE164, type NumberingPlan } from "./numbering-plan.ts";

/** How the Request-URI said it was a telephone number. */
export type NumberSource = "tel" | "user=phone" | "user-part";

/** Why a number cannot be routed: letters, `*` or `#` (service codes), or an E.164 form that is too short, too long or has country code 0. */
export type NumberProblem = "not-digits" | "too-short" | "too-long" | "bad-country-code";

export type DialledNumber =
  | { ok: true; /** E.164, e.g. "+15550100199". */ number: string; /** As in the URI, visual separators removed. */ dialled: string; source: NumberSource }
  | { ok: false; dialled: string; source: NumberSource; problem: NumberProblem };

/**
 * Whether a Request-URI names a telephone number, and which (ARCHITECTURE.md
 * "Browser to carrier": a number goes to a trunk, a user of ours to that
 * user's DO). Undefined when it does not: the URI is then an AOR's business
 * (proxy/uri-aor.ts).
 *
 * A number is
 *  - a tel URI (RFC 3966 §3), with `phone-context` for a local number (§5.1.5);
 *  - a SIP/SIPS URI with `user=phone`, whose user part is then a
 *    telephone-subscriber, parameters included (RFC 3261 §19.1.1);
 *  - a SIP/SIPS URI whose user part is "+" and digits (visual separators
 *    allowed, RFC 3966 §3): a global number is never a user name of ours.
 * A user part of digits alone without `user=phone` ("sip:1001@…") stays a
 * user name: extensions like that are common and must not leak to a trunk.
 * Visual separators are removed (RFC 3966 §4), a local number is made E.164
 * with the numbering plan (numbering-plan.ts).
 */
export function dialledNumber(uri: Uri, plan: NumberingPlan): DialledNumber | undefined {
  if (uri instanceof TelUri) return readNumber(uri.number, paramValue(uri.uriParam("phone-context")), "tel", plan);
  if (!(uri instanceof SipUri) || uri.user === undefined) return undefined;
  const user = uri.userDecoded ?? "";
  if (uri.uriParam("user")?.toLowerCase() === "phone") {
    const semi = user.indexOf(";");
    const subscriber = semi < 0 ? user : user.slice(0, semi);
    const context = semi < 0 ? undefined : telParam(user.slice(semi + 1), "phone-context");
    return readNumber(subscriber, context, "user=phone", plan);
  }
  if (/^\+[0-9().-]*[0-9][0-9().-]*$/.test(user)) return readNumber(user, undefined, "user-part", plan);
  return undefined;
}

function readNumber(text: string, phoneContext: string | undefined, source: NumberSource, plan: NumberingPlan): DialledNumber {
  const dialled = removeVisualSeparators(text);
  if (!/^\+?[0-9]+$/.test(dialled)) return { ok: false, dialled, source, problem: "not-digits" };
  const number = toE164(dialled, plan, phoneContext);
  if (number !== undefined) return { ok: true, number, dialled, source };
  const global = globalForm(dialled, plan, phoneContext);
  const digits = global.length - 1;
  const problem: NumberProblem = !/^\+?[0-9]+$/.test(global) ? "not-digits" : global.startsWith("+0") ? "bad-country-code" : digits < 7 ? "too-short" : "too-long";
  return { ok: false, dialled, source, problem };
}

function paramValue(v: string | null | undefined): string | undefined {
  return v === null || v === undefined ? undefined : v;
}

/** A parameter of a telephone-subscriber's own parameter list ("isub=1;phone-context=+1-914"). */
function telParam(params: string, name: string): string | undefined {
  for (const p of params.split(";")) {
    const eq = p.indexOf("=");
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === name) return p.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The answer to a number that cannot be routed: 484 Address Incomplete for
 * one too short (RFC 3261 §21.4.22), 404 otherwise (§21.4.5). `why` is for
 * the log.
 */
export function unroutableNumber(d: Extract<DialledNumber, { ok: false }>): SipError {
  if (d.problem === "too-short") return new SipError(484, "Address Incomplete", [], "number-too-short");
  return new SipError(404, "Not Found - Invalid Number", [], `number-${d.problem}`);
}
