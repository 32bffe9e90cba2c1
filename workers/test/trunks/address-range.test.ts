import { describe, expect, it } from "vitest";
import { addressInRanges, formatAddressRange, parseAddress, parseAddressRange } from "../../src/trunks/address-range.ts";
import { trunksForSource } from "../../src/trunks/inbound-source.ts";

const canonical = (text: string): string => {
  const r = parseAddressRange(text);
  if (typeof r === "string") throw new Error(r);
  return formatAddressRange(r);
};

describe("addresses and CIDR ranges", () => {
  it("parses IPv4 and refuses what is not a dotted quad", () => {
    expect(parseAddress("192.0.2.10")?.family).toBe(4);
    for (const bad of ["192.0.2", "192.0.2.256", "192.0.2.010", "1.2.3.4.5", "a.b.c.d", ""]) expect(parseAddress(bad), bad).toBeUndefined();
  });

  it("parses IPv6 with :: and embedded IPv4, refuses malformed", () => {
    for (const ok of ["::1", "::", "2001:db8::5", "2001:DB8:0:0:0:0:0:5", "::ffff:192.0.2.1", "64:ff9b::192.0.2.1", "1:2:3:4:5:6:7:8"]) {
      expect(parseAddress(ok)?.family, ok).toBe(6);
    }
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::ffff:192.0.2", "2001:db8::g", ":1:2:3:4:5:6:7", "fe80::1%eth0"]) {
      expect(parseAddress(bad), bad).toBeUndefined();
    }
  });

  it("writes ranges canonically (RFC 5952 for IPv6), single addresses without /bits", () => {
    expect(canonical("198.51.100.0/24")).toBe("198.51.100.0/24");
    expect(canonical("192.0.2.10/32")).toBe("192.0.2.10");
    expect(canonical("2001:DB8:0:0:0:0:0:5")).toBe("2001:db8::5");
    expect(canonical("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    expect(canonical("2001:db8::/32")).toBe("2001:db8::/32");
    expect(canonical("0.0.0.0/0")).toBe("0.0.0.0/0");
    expect(canonical("::")).toBe("::");
  });

  it("says what is wrong: not an address, a bad length, bits after the prefix", () => {
    expect(parseAddressRange("carrier.example")).toMatch(/not an IPv4 or IPv6 address/);
    expect(parseAddressRange("192.0.2.0/33")).toMatch(/0-32/);
    expect(parseAddressRange("192.0.2.10/24")).toMatch(/the range is 192\.0\.2\.0\/24/);
  });

  it("matches sources, including IPv4-mapped IPv6 as a dual-stack socket reports them", () => {
    const ranges = ["198.51.100.0/24", "192.0.2.10", "2001:db8::/32"];
    expect(addressInRanges("198.51.100.77", ranges)).toBe(true);
    expect(addressInRanges("192.0.2.10", ranges)).toBe(true);
    expect(addressInRanges("192.0.2.11", ranges)).toBe(false);
    expect(addressInRanges("::ffff:198.51.100.1", ranges)).toBe(true);
    expect(addressInRanges("2001:db8:1::9", ranges)).toBe(true);
    expect(addressInRanges("2001:db9::1", ranges)).toBe(false);
    expect(addressInRanges("not-an-ip", ranges)).toBe(false);
    expect(addressInRanges("192.0.2.10", [])).toBe(false);
    expect(addressInRanges("203.0.113.5", ["0.0.0.0/0"])).toBe(true);
  });

  it("trunksForSource: enabled trunks that allow the address", () => {
    const trunks = [
      { id: "a", enabled: true, allowed_sources: ["127.0.0.1"] },
      { id: "b", enabled: false, allowed_sources: ["127.0.0.0/8"] },
      { id: "c", enabled: true, allowed_sources: ["127.0.0.0/8"] },
    ];
    expect(trunksForSource(trunks, "127.0.0.1").map((t) => t.id)).toEqual(["a", "c"]);
    expect(trunksForSource(trunks, "127.0.0.2").map((t) => t.id)).toEqual(["c"]);
    expect(trunksForSource(trunks, "10.0.0.1")).toEqual([]);
  });
});
