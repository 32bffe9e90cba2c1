/**
 * Destinations a subscriber may not call unless their `allowed_prefixes`
 * names them explicitly (call-out-policy.ts): premium-rate numbers, satellite
 * and international networks, and ranges known for international revenue
 * share fraud (IRSF) and "one-ring" (wangiri) call-back scams. An open path
 * to these is how a stolen softphone password becomes a carrier bill of
 * thousands in a night (ARCHITECTURE.md "Browser to carrier").
 *
 * This is a CONFIGURABLE DEFAULT, not a standard: no RFC defines it. It is
 * drawn from national regulators' premium ranges, the ITU's shared country
 * codes for international networks (ITU-T E.164 Annex), and the ranges fraud
 * teams and carriers commonly block by default. Operators replace or extend
 * it with HIGH_RISK_PREFIXES (numbering-plan.ts); review it for your market.
 */
/** `configured`: a prefix an operator listed in HIGH_RISK_PREFIXES. */
export type HighRiskCategory = "premium-rate" | "satellite" | "high-fraud" | "configured";

export interface HighRiskDestination {
  /** E.164 prefix, "+" and digits. */
  prefix: string;
  category: HighRiskCategory;
  note: string;
}

const premium = (prefix: string, note: string): HighRiskDestination => ({ prefix, category: "premium-rate", note });
const satellite = (prefix: string, note: string): HighRiskDestination => ({ prefix, category: "satellite", note });
const fraud = (prefix: string, note: string): HighRiskDestination => ({ prefix, category: "high-fraud", note });

export const DEFAULT_HIGH_RISK_DESTINATIONS: readonly HighRiskDestination[] = [
  // Premium rate, national ranges.
  premium("+1900", "NANP 900 premium-rate service"),
  premium("+1976", "NANP 976 (historic premium-rate code; the 976 exchange inside area codes cannot be told apart by prefix)"),
  premium("+449", "UK 09 premium rate"),
  premium("+4470", "UK 070 personal numbers (misused for revenue share)"),
  premium("+44871", "UK 0871 revenue-sharing"),
  premium("+44872", "UK 0872 revenue-sharing"),
  premium("+44873", "UK 0873 revenue-sharing"),
  premium("+49900", "Germany 0900 premium rate"),
  premium("+49137", "Germany 0137 mass calling / televoting"),
  premium("+3389", "France 089 premium rate"),
  premium("+31900", "Netherlands 0900 premium rate"),
  premium("+3290", "Belgium 090x premium rate"),
  premium("+34803", "Spain 803 premium rate"),
  premium("+34806", "Spain 806 premium rate"),
  premium("+34807", "Spain 807 premium rate"),
  premium("+34905", "Spain 905 mass calling"),
  premium("+39899", "Italy 899 premium rate"),
  premium("+61190", "Australia 190x premium rate"),
  premium("+64900", "New Zealand 0900 premium rate"),
  premium("+979", "International Premium Rate Service (ITU)"),
  // Satellite and international networks: shared country codes, no country's tariff.
  satellite("+870", "Inmarsat"),
  satellite("+881", "Global Mobile Satellite System (Iridium, Globalstar, Thuraya …)"),
  satellite("+882", "International Networks"),
  satellite("+883", "International Networks"),
  satellite("+888", "OCHA telecommunications for disaster relief"),
  // NANP destinations outside the US and Canada: dialled like national
  // numbers (+1), billed as international; the classic one-ring scam ranges.
  fraud("+1242", "Bahamas"),
  fraud("+1246", "Barbados"),
  fraud("+1264", "Anguilla"),
  fraud("+1268", "Antigua and Barbuda"),
  fraud("+1284", "British Virgin Islands"),
  fraud("+1345", "Cayman Islands"),
  fraud("+1441", "Bermuda"),
  fraud("+1473", "Grenada"),
  fraud("+1649", "Turks and Caicos"),
  fraud("+1658", "Jamaica"),
  fraud("+1664", "Montserrat"),
  fraud("+1721", "Sint Maarten"),
  fraud("+1758", "Saint Lucia"),
  fraud("+1767", "Dominica"),
  fraud("+1784", "Saint Vincent and the Grenadines"),
  fraud("+1809", "Dominican Republic"),
  fraud("+1829", "Dominican Republic"),
  fraud("+1849", "Dominican Republic"),
  fraud("+1868", "Trinidad and Tobago"),
  fraud("+1869", "Saint Kitts and Nevis"),
  fraud("+1876", "Jamaica"),
  // Country codes most often named in IRSF reports: high termination rates, small markets.
  fraud("+53", "Cuba"),
  fraud("+232", "Sierra Leone"),
  fraud("+239", "São Tomé and Príncipe"),
  fraud("+245", "Guinea-Bissau"),
  fraud("+247", "Ascension Island"),
  fraud("+252", "Somalia"),
  fraud("+290", "Saint Helena"),
  fraud("+672", "Norfolk Island, Australian Antarctic Territory"),
  fraud("+674", "Nauru"),
  fraud("+677", "Solomon Islands"),
  fraud("+678", "Vanuatu"),
  fraud("+682", "Cook Islands"),
  fraud("+683", "Niue"),
  fraud("+686", "Kiribati"),
  fraud("+688", "Tuvalu"),
  fraud("+690", "Tokelau"),
];

/** The most specific entry `number` falls in, or undefined. */
export function highRiskMatch(number: string, table: readonly HighRiskDestination[]): HighRiskDestination | undefined {
  let best: HighRiskDestination | undefined;
  for (const d of table) if (number.startsWith(d.prefix) && (best === undefined || d.prefix.length > best.prefix.length)) best = d;
  return best;
}
