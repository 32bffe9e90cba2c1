import { ConfigError } from "../config-error.ts";
import { isE164, isE164Prefix, removeVisualSeparators } from "./e164.ts";
import { DEFAULT_HIGH_RISK_DESTINATIONS, type HighRiskDestination } from "./high-risk-destinations.ts";

/**
 * How the edge reads numbers that are not already E.164, and what counts as
 * "national" for the call-out policy. One plan per deployment (wrangler.toml
 * [vars], readNumberingPlan); a subscriber's `allowed_prefixes` defaults to
 * the home country.
 */
export interface NumberingPlan {
  /** Home country code, digits only: "1" (NANP), "44", "49". */
  countryCode: string;
  /** Dialled before a national number, removed when it is made E.164: "1" in NANP, "0" in most of Europe, "" for none. */
  nationalPrefix: string;
  /** Dialled before an international number, replaced by "+": "011" in NANP, "00" in most countries, "" for none. */
  internationalPrefix: string;
  /** Denied unless a subscriber's allowed_prefixes names them (high-risk-destinations.ts). */
  highRisk: readonly HighRiskDestination[];
}

export const DEFAULT_NUMBERING_PLAN: NumberingPlan = {
  countryCode: "1",
  nationalPrefix: "1",
  internationalPrefix: "011",
  highRisk: DEFAULT_HIGH_RISK_DESTINATIONS,
};

/** The settings the plan is read from (declared in env.ts's Env). */
export interface NumberingPlanSettings {
  DEFAULT_COUNTRY_CODE?: string;
  NATIONAL_PREFIX?: string;
  INTERNATIONAL_PREFIX?: string;
  HIGH_RISK_PREFIXES?: string;
}

// Read on every call set-up: parse each distinct setting once per isolate.
let memo: { key: string; plan: NumberingPlan } | undefined;

/**
 * The plan from DEFAULT_COUNTRY_CODE, NATIONAL_PREFIX, INTERNATIONAL_PREFIX
 * and HIGH_RISK_PREFIXES. Unset: country code 1; prefixes 1 and 011 in
 * NANP, else 0 and 00 (set NATIONAL_PREFIX="" where there is none, as in Italy).
 * HIGH_RISK_PREFIXES is a comma-separated list of E.164 prefixes, where the
 * word `default` stands for the built-in table and `none` for no list at all:
 * "default,+1555" extends the table, "+1900" replaces it.
 * Throws ConfigError naming the setting that is wrong.
 */
export function readNumberingPlan(env: NumberingPlanSettings): NumberingPlan {
  const cc = env.DEFAULT_COUNTRY_CODE?.trim().replace(/^\+/, "") || undefined;
  const national = env.NATIONAL_PREFIX?.trim();
  const international = env.INTERNATIONAL_PREFIX?.trim();
  const highRisk = env.HIGH_RISK_PREFIXES?.trim() ?? "";
  const key = `${cc}|${national}|${international}|${highRisk}`;
  if (memo?.key === key) return memo.plan;
  if (cc !== undefined && !/^[1-9][0-9]{0,2}$/.test(cc)) {
    throw new ConfigError("DEFAULT_COUNTRY_CODE", `"${cc}" is not a country code: 1 to 3 digits, not starting with 0 (e.g. "1", "44")`);
  }
  for (const [setting, value] of [["NATIONAL_PREFIX", national], ["INTERNATIONAL_PREFIX", international]] as const) {
    if (value !== undefined && !/^[0-9]{0,4}$/.test(value)) throw new ConfigError(setting, `"${value}" must be up to 4 digits, or empty for none (e.g. "0", "00", "011")`);
  }
  const countryCode = cc ?? DEFAULT_NUMBERING_PLAN.countryCode;
  // NANP dials 1 / 011; most other plans 0 / 00 (ITU-T E.164 Supplement 1 calls them trunk and international prefixes).
  const nanp = countryCode === "1";
  const plan: NumberingPlan = {
    countryCode,
    nationalPrefix: national ?? (nanp ? "1" : "0"),
    internationalPrefix: international ?? (nanp ? "011" : "00"),
    highRisk: highRiskTable(highRisk),
  };
  memo = { key, plan };
  return plan;
}

function highRiskTable(text: string): readonly HighRiskDestination[] {
  if (text === "") return DEFAULT_HIGH_RISK_DESTINATIONS;
  const out: HighRiskDestination[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    if (item.toLowerCase() === "default") out.push(...DEFAULT_HIGH_RISK_DESTINATIONS);
    else if (item.toLowerCase() === "none") continue;
    else if (isE164Prefix(item)) out.push({ prefix: item, category: "configured", note: "HIGH_RISK_PREFIXES" });
    else throw new ConfigError("HIGH_RISK_PREFIXES", `"${item}" is not an E.164 prefix ("+" and digits, e.g. "+1900"), "default" or "none"`);
  }
  return out;
}


/**
 * A dialled number (visual separators already removed) as E.164, or
 * undefined if it cannot be one.
 *  - "+…" is global already (RFC 3966 §5.1.4);
 *  - a local number with a global `phone-context` ("+1-914-555") takes that
 *    context's digits in front (RFC 3966 §5.1.5);
 *  - otherwise it is read in the home plan: the international prefix becomes
 *    "+", the national prefix is replaced by "+<country code>", and a number
 *    with neither gets "+<country code>" in front.
 */
export function toE164(digits: string, plan: NumberingPlan, phoneContext?: string): string | undefined {
  const e164 = globalForm(digits, plan, phoneContext);
  return isE164(e164) ? e164 : undefined;
}

/** toE164 without the final check: "+" and whatever digits the rules give (for saying what is wrong with a number). */
export function globalForm(digits: string, plan: NumberingPlan, phoneContext?: string): string {
  if (digits.startsWith("+")) return digits;
  if (phoneContext !== undefined && phoneContext.startsWith("+")) return removeVisualSeparators(phoneContext) + digits;
  if (plan.internationalPrefix !== "" && digits.startsWith(plan.internationalPrefix)) return "+" + digits.slice(plan.internationalPrefix.length);
  if (plan.nationalPrefix !== "" && digits.startsWith(plan.nationalPrefix)) return `+${plan.countryCode}${digits.slice(plan.nationalPrefix.length)}`;
  return `+${plan.countryCode}${digits}`;
}

/** Whether an E.164 number is in the home country (for the policy's wording: national vs international). */
export function isNational(number: string, plan: NumberingPlan): boolean {
  return number.startsWith(`+${plan.countryCode}`);
}
