import { parseUri } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { SipError } from "../../src/sip-error.ts";
import { dialledNumber, unroutableNumber } from "../../src/trunks/dialled-number.ts";
import { e164FromInput, isE164, isE164Prefix, longestPrefix, removeVisualSeparators } from "../../src/trunks/e164.ts";
import { DEFAULT_NUMBERING_PLAN, readNumberingPlan, toE164, type NumberingPlan } from "../../src/trunks/numbering-plan.ts";

const NANP = DEFAULT_NUMBERING_PLAN;
const UK: NumberingPlan = readNumberingPlan({ DEFAULT_COUNTRY_CODE: "44" });

const classify = (uri: string, plan = NANP) => dialledNumber(parseUri(uri), plan);

describe("E.164 syntax", () => {
  it("accepts + country code and 7-15 digits, nothing else", () => {
    expect(isE164("+15550100199")).toBe(true);
    expect(isE164("+6834001")).toBe(true); // Niue: 7 digits in all
    expect(isE164("+123456789012345")).toBe(true);
    expect(isE164("+1234567890123456")).toBe(false); // 16 digits
    expect(isE164("+0441234567")).toBe(false); // no country code 0
    expect(isE164("15550100199")).toBe(false);
    expect(isE164("+1555010019a")).toBe(false);
    expect(isE164("+123456")).toBe(false);
  });

  it("prefixes: + and 1-15 digits", () => {
    expect(isE164Prefix("+1")).toBe(true);
    expect(isE164Prefix("+4420")).toBe(true);
    expect(isE164Prefix("+")).toBe(false);
    expect(isE164Prefix("+0")).toBe(false);
    expect(isE164Prefix("44")).toBe(false);
  });

  it("removes RFC 3966 visual separators; operator input may also have spaces", () => {
    expect(removeVisualSeparators("+1-(555).010-0199")).toBe("+15550100199");
    expect(e164FromInput("+1 (555) 010-0199")).toBe("+15550100199");
    expect(e164FromInput("555 0100")).toBeUndefined();
  });

  it("longestPrefix: the most specific match, \"\" matches anything", () => {
    expect(longestPrefix("+442079460000", ["", "+44", "+4420"])).toBe("+4420");
    expect(longestPrefix("+15550100", ["", "+44"])).toBe("");
    expect(longestPrefix("+15550100", ["+44"])).toBeUndefined();
  });
});

describe("normalisation to E.164 (numbering plan)", () => {
  it("NANP: 10 digits, 1 + 10 digits, 011 international", () => {
    expect(toE164("2125550123", NANP)).toBe("+12125550123");
    expect(toE164("12125550123", NANP)).toBe("+12125550123");
    expect(toE164("011442079460000", NANP)).toBe("+442079460000");
    expect(toE164("+442079460000", NANP)).toBe("+442079460000");
  });

  it("a plan with 0 / 00 (UK)", () => {
    expect(toE164("02079460000", UK)).toBe("+442079460000");
    expect(toE164("00491701234567", UK)).toBe("+491701234567");
    expect(toE164("2079460000", UK)).toBe("+442079460000");
  });

  it("a global phone-context is put in front of a local number (RFC 3966 §5.1.5)", () => {
    expect(toE164("5550123", NANP, "+1-212")).toBe("+12125550123");
  });

  it("too short or too long is no number", () => {
    expect(toE164("12", NANP)).toBeUndefined();
    expect(toE164("+1234567890123456", NANP)).toBeUndefined();
  });
});

describe("dialledNumber: which Request-URIs are telephone numbers", () => {
  it("tel: URIs, global and local", () => {
    expect(classify("tel:+1-201-555-0123")).toEqual({ ok: true, number: "+12015550123", dialled: "+12015550123", source: "tel" });
    expect(classify("tel:555-0123;phone-context=+1-201")).toMatchObject({ ok: true, number: "+12015550123" });
    // A domain phone-context (RFC 3966 §5.1.5) says nothing about digits: the home plan reads it.
    expect(classify("tel:2015550123;phone-context=example.com")).toMatchObject({ ok: true, number: "+12015550123" });
  });

  it("SIP URIs with user=phone, separators and telephone-subscriber parameters in the user part (RFC 3261 §19.1.1)", () => {
    expect(classify("sip:+1-212-555-0123@example.com;user=phone")).toEqual({ ok: true, number: "+12125550123", dialled: "+12125550123", source: "user=phone" });
    expect(classify("sip:+1-212-555-0123;isub=1411@example.com;user=phone")).toMatchObject({ ok: true, number: "+12125550123" });
    expect(classify("sip:5550123;phone-context=+1-212@example.com;user=phone")).toMatchObject({ ok: true, number: "+12125550123" });
    expect(classify("sips:02079460000@example.com;USER=Phone", UK)).toMatchObject({ ok: true, number: "+442079460000" });
    // What the softphone sends (workers/softphone/dial-target.ts).
    expect(classify("sip:+15550100199@example.com;user=phone")).toMatchObject({ ok: true, number: "+15550100199" });
    expect(classify("sip:2125550123@example.com;user=phone")).toMatchObject({ ok: true, number: "+12125550123" });
  });

  it("a user part that is + and digits is a number even without user=phone; escapes are decoded", () => {
    expect(classify("sip:+15550100199@example.com")).toEqual({ ok: true, number: "+15550100199", dialled: "+15550100199", source: "user-part" });
    expect(classify("sip:+1(555)010-0199@example.com")).toMatchObject({ ok: true, number: "+15550100199" });
    expect(classify("sip:%2B15550100199@example.com")).toMatchObject({ ok: true, number: "+15550100199" });
  });

  it("user names, extensions of digits alone, and other URIs are not numbers", () => {
    expect(classify("sip:alice@example.com")).toBeUndefined();
    expect(classify("sip:1001@example.com")).toBeUndefined();
    expect(classify("sip:+alice@example.com")).toBeUndefined();
    expect(classify("sip:example.com")).toBeUndefined();
    expect(classify("urn:service:sos")).toBeUndefined();
  });

  it("numbers that cannot be routed say why; the answer is 484 for too short, 404 otherwise", () => {
    const star = classify("sip:*67@example.com;user=phone");
    expect(star).toEqual({ ok: false, dialled: "*67", source: "user=phone", problem: "not-digits" });
    expect(classify("tel:#31#")).toMatchObject({ ok: false, problem: "not-digits" });
    expect(classify("tel:+1-55")).toMatchObject({ ok: false, problem: "too-short" });
    expect(classify("sip:+12345678901234567@example.com")).toMatchObject({ ok: false, problem: "too-long" });
    expect(classify("sip:+0441234567@example.com")).toMatchObject({ ok: false, problem: "bad-country-code" });

    const short = classify("tel:+1-55");
    if (short === undefined || short.ok) throw new Error("expected a problem");
    const e = unroutableNumber(short);
    expect(e).toBeInstanceOf(SipError);
    expect([e.status, e.reason, e.why]).toEqual([484, "Address Incomplete", "number-too-short"]);
    if (star === undefined || star.ok) throw new Error("expected a problem");
    expect([unroutableNumber(star).status, unroutableNumber(star).why]).toEqual([404, "number-not-digits"]);
  });
});
