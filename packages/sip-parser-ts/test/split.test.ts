import { describe, expect, it } from "vitest";
import { isListHeader, splitHeaderValues } from "../src/index.ts";

describe("splitting list-valued headers (RFC 3261 §7.3.1)", () => {
  it("splits on top-level commas and trims", () => {
    expect(splitHeaderValues("INVITE, ACK ,BYE")).toEqual(["INVITE", "ACK", "BYE"]);
    expect(splitHeaderValues("single")).toEqual(["single"]);
    expect(splitHeaderValues("  padded  ")).toEqual(["padded"]);
  });

  it("never splits inside quoted strings, honouring escapes", () => {
    expect(splitHeaderValues('"Watson, Thomas" <sip:t@example.org>, <sip:b@example.org>')).toEqual([
      '"Watson, Thomas" <sip:t@example.org>',
      "<sip:b@example.org>",
    ]);
    expect(splitHeaderValues('"a \\", b" <sip:a@x.example>, <sip:c@x.example>')).toEqual(['"a \\", b" <sip:a@x.example>', "<sip:c@x.example>"]);
    expect(splitHeaderValues('<sip:a@x.example>;p="1,2",<sip:b@x.example>')).toEqual(['<sip:a@x.example>;p="1,2"', "<sip:b@x.example>"]);
  });

  it("never splits inside angle brackets", () => {
    expect(splitHeaderValues("<sip:a@x.example;p=1,2>, <sip:b@x.example>")).toEqual(["<sip:a@x.example;p=1,2>", "<sip:b@x.example>"]);
  });

  it("keeps empty elements for typed parsers to refuse", () => {
    expect(splitHeaderValues("a,,b,")).toEqual(["a", "", "b", ""]);
    expect(splitHeaderValues(";;,;,,")).toEqual([";;", ";", "", ""]);
  });

  it("knows which headers are lists", () => {
    for (const key of ["via", "contact", "route", "record-route", "path", "allow", "supported", "require", "accept", "service-route", "security-client", "p-associated-uri"]) {
      expect(isListHeader(key), key).toBe(true);
    }
    for (const key of ["www-authenticate", "authorization", "proxy-authenticate", "proxy-authorization", "date", "to", "from", "x-unknown", "subject", "user-agent"]) {
      expect(isListHeader(key), key).toBe(false);
    }
  });
});
