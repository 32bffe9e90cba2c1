import { describe, expect, it } from "vitest";
import { bdecode, bencode, BencodeError } from "../src/bencode.ts";

const dec = (s: string | Buffer) => bdecode(typeof s === "string" ? Buffer.from(s, "utf8") : s);

describe("bencode (the ng protocol's encoding)", () => {
  it("encodes the four types, dictionary keys in byte order", () => {
    expect(bencode({ command: "ping" }).toString()).toBe("d7:command4:pinge");
    expect(bencode({ b: 1, a: [-2, "x", { c: "" }] }).toString()).toBe("d1:ali-2e1:xd1:c0:ee1:bi1ee");
    expect(bencode(0).toString()).toBe("i0e");
    expect(bencode([]).toString()).toBe("le");
  });

  it("sorts keys by their UTF-8 bytes where UTF-16 order differs (astral vs U+E000-U+FFFF)", () => {
    // UTF-16 puts 😀 (D83D DE00) before ！ (FF01); UTF-8 puts ！ (EF BC 81) before 😀 (F0 9F 98 80).
    expect(bencode({ "😀": 1, "！": 2, a: 3 }).toString("utf8")).toBe("d1:ai3e3:！i2e4:😀i1ee");
  });

  it("counts UTF-8 bytes, not UTF-16 code units, in string lengths", () => {
    expect(bencode("é").toString("latin1")).toBe("2:\u00c3\u00a9");
    expect(bencode("s=Café ☎").subarray(0, 3).toString()).toBe("11:"); // 5 ASCII + é (2) + space + ☎ (3)
    expect(dec(bencode({ sdp: "s=Café ☎ 🎧\r\n" }))).toEqual({ sdp: "s=Café ☎ 🎧\r\n" });
  });

  it("round-trips an ng reply and accepts rtpengine's unsorted keys", () => {
    const reply = { result: "ok", sdp: "v=0\r\n", "created_us": 526258, tags: { ft1: { medias: [{ index: 1 }] } } };
    expect(dec(bencode(reply))).toEqual(reply);
    expect(dec("d6:result2:ok3:sdp4:v=0\ne")).toEqual({ result: "ok", sdp: "v=0\n" });
  });

  it('keeps a "__proto__" key as an ordinary key, not a prototype', () => {
    const d = dec("d9:__proto__d1:ai1ee1:b1:xe") as Record<string, unknown>;
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(["__proto__", "b"]);
    expect(JSON.stringify(d)).toBe('{"__proto__":{"a":1},"b":"x"}');
    expect((d as { a?: unknown }).a).toBeUndefined();
  });

  it.each([
    ["i03e", /leading zero/],
    ["i-0e", /negative zero/],
    ["ie", /empty integer/],
    ["i1x2e", /unexpected byte/],
    ["i12", /end of input/],
    ["03:abc", /leading zero/],
    ["-1:a", /unexpected byte/],
    ["5:abc", /runs past the end/],
    ["4:pingX", /trailing bytes/],
    ["l4:ping", /end of input/],
    ["di1e1:ae", /not a byte string/],
    ["d1:ai1e1:ai2ee", /duplicate dictionary key "a"/],
    ["x", /unexpected byte 0x78/],
    ["", /end of input/],
    ["i99999999999999999999e", /too large/],
  ])("refuses malformed input %j", (input, why) => {
    expect(() => dec(input)).toThrow(BencodeError);
    expect(() => dec(input)).toThrow(why);
  });

  it("refuses invalid UTF-8 in byte strings", () => {
    expect(() => dec(Buffer.from([0x32, 0x3a, 0xc3, 0x28]))).toThrow(/not valid UTF-8/);
  });

  it("refuses nesting beyond the limit in both directions", () => {
    expect(() => dec("l".repeat(40) + "e".repeat(40))).toThrow(/nested deeper/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => bencode(deep)).toThrow(/nested deeper/);
  });

  it.each([[1.5], [true], [null], [undefined], [new Date(0)], [Number.MAX_SAFE_INTEGER + 2]])("has no encoding for %j", (v) => {
    expect(() => bencode({ v })).toThrow(BencodeError);
  });
});
