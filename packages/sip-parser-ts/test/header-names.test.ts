import { describe, expect, it } from "vitest";
import { canonicalHeaderName, headerKey, isCompactForm } from "../src/index.ts";

describe("header names (RFC 3261 §7.3.1, §7.3.3)", () => {
  it("map every spelling and compact form to one key", () => {
    const pairs: Array<[string, string]> = [
      ["Via", "via"], ["v", "via"], ["V", "via"], ["VIA", "via"], ["vIa", "via"],
      ["f", "from"], ["t", "to"], ["i", "call-id"], ["Call-Id", "call-id"], ["CALL-ID", "call-id"],
      ["m", "contact"], ["l", "content-length"], ["c", "content-type"], ["k", "supported"], ["s", "subject"],
      ["e", "content-encoding"], ["o", "event"], ["u", "allow-events"], ["r", "refer-to"], ["b", "referred-by"],
      ["x", "session-expires"], ["y", "identity"], ["a", "accept-contact"], ["j", "reject-contact"], ["d", "request-disposition"],
      ["cseq", "cseq"], ["WWW-Authenticate", "www-authenticate"], ["X-Custom-Thing", "x-custom-thing"],
    ];
    for (const [name, key] of pairs) expect(headerKey(name), name).toBe(key);
  });

  it("write our canonical spelling for known headers, the given one otherwise", () => {
    expect(canonicalHeaderName("call-id")).toBe("Call-ID");
    expect(canonicalHeaderName("i")).toBe("Call-ID");
    expect(canonicalHeaderName("CSEQ")).toBe("CSeq");
    expect(canonicalHeaderName("www-authenticate")).toBe("WWW-Authenticate");
    expect(canonicalHeaderName("rack")).toBe("RAck");
    expect(canonicalHeaderName("min-se")).toBe("Min-SE");
    expect(canonicalHeaderName("x")).toBe("Session-Expires");
    expect(canonicalHeaderName("X-Custom")).toBe("X-Custom");
  });

  it("know the compact forms", () => {
    for (const c of "abcdefijklmorstuvxy") expect(isCompactForm(c), c).toBe(true);
    for (const c of ["g", "h", "n", "p", "q", "w", "z", "Via", ""]) expect(isCompactForm(c), c).toBe(false);
  });
});
