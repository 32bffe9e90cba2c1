// What JsSIP and SIP.js actually send (PITFALLS 24), from the libraries' own
// code: a 401/407 built from our challenges is parsed by each library's
// message parser, its DigestAuthentication answers it, and our server judges
// the answer. The exact Authorization values are regression data in
// fixtures/digest/clients.json; this test regenerates them and compares.
// Regenerate the file with UPDATE_DIGEST_FIXTURES=1 after a deliberate change.
//
// Cnonces: JsSIP's authenticate() takes one (its "test interface"); SIP.js
// draws 12 base-32 digits from Math.random, which we stub for the fixtures so
// its cnonce is "0123456789ab".

import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LoggerFactory } from "sip.js/lib/core/log/logger-factory.js";
import { DigestAuthentication as SipJsDigestAuthentication } from "sip.js/lib/core/messages/digest-authentication.js";
import type { OutgoingRequestMessage } from "sip.js/lib/core/messages/outgoing-request-message.js";
import { Parser as SipJsParser } from "sip.js/lib/core/messages/parser.js";
import { Grammar as SipJsGrammar } from "sip.js/lib/grammar/grammar.js";
import { parseAuthHeader } from "../src/digest/auth-header.ts";
import { computeHA1, computeResponse } from "../src/digest/digest.ts";
import { MemoryNonceCountStore } from "../src/digest/nonce.ts";
import { authenticate, buildChallenges, type AuthenticateOptions, type AuthFailure } from "../src/digest/server.ts";
import type { DigestAlgorithm } from "../src/digest/algorithm.ts";

// --- The libraries ---------------------------------------------------------

const require = createRequire(import.meta.url);

interface JsSipDigest {
  authenticate(request: { method: string; ruri: unknown; body?: string }, challenge: unknown, cnonce?: string | null): boolean;
  toString(): string;
}
const JsSipDigestAuthentication = require("jssip/lib/DigestAuthentication.js") as new (credentials: {
  username: string;
  password?: string;
  realm?: string;
  ha1?: string;
}) => JsSipDigest;
const JsSipParser = require("jssip/lib/Parser.js") as {
  parseMessage(data: string, ua?: unknown): { parseHeader(name: string): unknown } | undefined;
};
const JsSipURI = require("jssip/lib/URI.js") as { parse(uri: string): unknown };
const versions = {
  jssip: (require("jssip/package.json") as { version: string }).version,
  "sip.js": (require("sip.js/package.json") as { version: string }).version,
};

const sipJsLoggers = new LoggerFactory();
sipJsLoggers.builtinEnabled = false;
const sipJsLogger = sipJsLoggers.getLogger("test");

type Lib = "jssip" | "sipjs";
const LIBS: Lib[] = ["jssip", "sipjs"];

/** A 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) carrying `challenges`, one header field each. */
function response(status: 401 | 407, challenges: readonly string[]): string {
  const name = status === 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
  return [
    `SIP/2.0 ${status} ${status === 401 ? "Unauthorized" : "Proxy Authentication Required"}`,
    "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776asdhds",
    "From: <sip:alice@sip.example.com>;tag=1928301774",
    "To: <sip:alice@sip.example.com>;tag=a6c85cf",
    "Call-ID: a84b4c76e66710",
    "CSeq: 1 REGISTER",
    ...challenges.map((c) => `${name}: ${c}`),
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** The challenge each library takes from a response: the one its message parser keeps. */
function parsedChallenge(lib: Lib, status: 401 | 407, challenges: readonly string[]): Record<string, unknown> {
  const header = status === 401 ? "www-authenticate" : "proxy-authenticate";
  const msg =
    lib === "jssip" ? JsSipParser.parseMessage(response(status, challenges)) : SipJsParser.parseMessage(response(status, challenges), sipJsLogger);
  expect(msg, `${lib} parses the ${status}`).toBeDefined();
  const parsed = msg!.parseHeader(header) as Record<string, unknown> | undefined;
  expect(parsed, `${lib} parses ${header}`).toBeDefined();
  return parsed!;
}

interface Answerer {
  answer(status: 401 | 407, challenges: readonly string[]): string | null;
}

/** One client's DigestAuthentication, kept across challenges like the libraries keep it across a stale retry. */
function client(lib: Lib, opts: { method: string; ruri: string; username: string; password: string; cnonce?: string; stubRandom?: boolean }): Answerer {
  if (lib === "jssip") {
    const auth = new JsSipDigestAuthentication({ username: opts.username, password: opts.password });
    const request = { method: opts.method, ruri: JsSipURI.parse(opts.ruri) };
    return {
      answer: (status, challenges) =>
        auth.authenticate(request, parsedChallenge(lib, status, challenges), opts.cnonce ?? null) ? auth.toString() : null,
    };
  }
  const auth = new SipJsDigestAuthentication(sipJsLoggers, undefined, opts.username, opts.password);
  const request = { method: opts.method, ruri: SipJsGrammar.URIParse(opts.ruri) } as unknown as OutgoingRequestMessage;
  return {
    answer: (status, challenges) => {
      const challenge = parsedChallenge(lib, status, challenges);
      if (opts.stubRandom) {
        let k = 0;
        vi.spyOn(Math, "random").mockImplementation(() => ((k++ % 32) + 0.5) / 32);
      }
      try {
        return auth.authenticate(request, challenge) ? auth.toString() : null;
      } finally {
        vi.restoreAllMocks();
      }
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

// --- Our side --------------------------------------------------------------

const SECRET = "sipedge digest client-compat fixture secret";
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const MINUTE = 60_000;
const REALM = "sip.example.com";
const zeroRandom = (b: Uint8Array): void => void b.fill(0);

function challenges(opts: { algorithms?: DigestAlgorithm[]; nowMs?: number; opaque?: string; stale?: boolean; random?: (b: Uint8Array) => void }): string[] {
  return buildChallenges({
    realm: REALM,
    secret: SECRET,
    nowMs: opts.nowMs ?? T0,
    random: opts.random ?? zeroRandom,
    ...(opts.algorithms ? { algorithms: opts.algorithms } : {}),
    ...(opts.opaque !== undefined ? { opaque: opts.opaque } : {}),
    ...(opts.stale ? { stale: true } : {}),
  });
}

function judge(authorization: string, over: Partial<AuthenticateOptions> & { username?: string; password?: string } = {}) {
  const username = over.username ?? "alice";
  const password = over.password ?? "wonderland";
  return authenticate({
    credentials: [authorization],
    method: "REGISTER",
    realm: REALM,
    secret: SECRET,
    nowMs: T0,
    maxAgeMs: 5 * MINUTE,
    ha1ByAlgorithm: { MD5: computeHA1("MD5", username, REALM, password), "SHA-256": computeHA1("SHA-256", username, REALM, password) },
    nonceCounts: new MemoryNonceCountStore(100),
    ...over,
  });
}

// --- The scenarios ---------------------------------------------------------

interface Scenario {
  name: string;
  status: 401 | 407;
  challenges: string[];
  method: string;
  ruri: string;
  username: string;
  password: string;
  /** What our server makes of each library's answer (null: the library gave up). */
  expect: Record<Lib, { ok: true } | { why: AuthFailure } | null>;
  requireQop?: boolean;
}

const JSSIP_CNONCE = "8ijc0b1tfsh4"; // JsSIP-shaped: 12 base-32 digits

const SCENARIOS: Scenario[] = [
  {
    name: "REGISTER, MD5, qop=auth (our default challenge)",
    status: 401,
    challenges: challenges({}),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "wonderland",
    expect: { jssip: { ok: true }, sipjs: { ok: true } },
  },
  {
    name: "INVITE via 407, MD5, qop=auth, opaque, a tel-style user part",
    status: 407,
    challenges: challenges({ opaque: "b7d1a4c2" }),
    method: "INVITE",
    ruri: "sip:+15551234567@SIP.Example.com;user=phone",
    username: "alice",
    password: "wonderland",
    expect: { jssip: { ok: true }, sipjs: { ok: true } },
  },
  {
    name: "REGISTER, MD5, no qop (RFC 2069 form)",
    status: 401,
    challenges: challenges({}).map((c) => c.replace(', qop="auth"', "")),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "wonderland",
    expect: { jssip: { ok: true }, sipjs: { ok: true } },
    requireQop: false,
  },
  {
    name: 'REGISTER, MD5, qop="auth,auth-int" (we never send this: JsSIP picks auth-int)',
    status: 401,
    challenges: challenges({}).map((c) => c.replace('qop="auth"', 'qop="auth,auth-int"')),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "wonderland",
    expect: { jssip: { why: "malformed" }, sipjs: { ok: true } },
  },
  {
    name: "REGISTER, SHA-256 only: both give up",
    status: 401,
    challenges: challenges({ algorithms: ["SHA-256"] }),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "wonderland",
    expect: { jssip: null, sipjs: null },
  },
  {
    name: "REGISTER, two challenges MD5 then SHA-256: both keep the LAST header field and give up",
    status: 401,
    challenges: challenges({ algorithms: ["MD5", "SHA-256"] }),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "wonderland",
    expect: { jssip: null, sipjs: null },
  },
  {
    name: "REGISTER, two challenges SHA-256 then MD5: both answer the last, MD5",
    status: 401,
    challenges: challenges({ algorithms: ["SHA-256", "MD5"] }),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "wonderland",
    expect: { jssip: { ok: true }, sipjs: { ok: true } },
  },
  {
    name: "REGISTER, MD5, non-ASCII (BMP) password",
    status: 401,
    challenges: challenges({}),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "pässwörd-日本",
    expect: { jssip: { ok: true }, sipjs: { ok: true } },
  },
  {
    name: "REGISTER, MD5, password outside the BMP: JsSIP hashes surrogates one by one (not UTF-8)",
    status: 401,
    challenges: challenges({}),
    method: "REGISTER",
    ruri: "sip:sip.example.com",
    username: "alice",
    password: "key-🔑",
    expect: { jssip: { why: "bad-response" }, sipjs: { ok: true } },
  },
];

interface FixtureCase {
  name: string;
  status: 401 | 407;
  challenges: string[];
  method: string;
  ruri: string;
  username: string;
  password: string;
  jssip: { cnonce: string; authorization: string | null };
  sipjs: { cnonce: string; authorization: string | null };
}
interface Fixture {
  about: string;
  versions: typeof versions;
  secret: string;
  nowMs: number;
  cases: FixtureCase[];
  staleRetry: Record<Lib, { first: string; second: string }>;
}

function runScenario(s: Scenario): FixtureCase {
  const out = (lib: Lib): string | null =>
    client(lib, { method: s.method, ruri: s.ruri, username: s.username, password: s.password, cnonce: JSSIP_CNONCE, stubRandom: true }).answer(
      s.status,
      s.challenges,
    );
  return {
    name: s.name,
    status: s.status,
    challenges: s.challenges,
    method: s.method,
    ruri: s.ruri,
    username: s.username,
    password: s.password,
    jssip: { cnonce: JSSIP_CNONCE, authorization: out("jssip") },
    sipjs: { cnonce: "0123456789ab", authorization: out("sipjs") },
  };
}

/**
 * The stale flow: the first answer uses a nonce issued 10 minutes ago (our
 * server: "stale"), the re-challenge carries stale=true and a fresh nonce,
 * and the library answers it with the same DigestAuthentication object.
 */
function runStaleRetry(lib: Lib): { first: string; second: string } {
  const c = client(lib, { method: "REGISTER", ruri: "sip:sip.example.com", username: "alice", password: "wonderland", cnonce: JSSIP_CNONCE, stubRandom: true });
  const first = c.answer(401, challenges({ nowMs: T0 - 10 * MINUTE }));
  const second = c.answer(401, challenges({ stale: true, random: (b) => void b.fill(1) }));
  return { first: first!, second: second! };
}

function generate(): Fixture {
  return {
    about:
      "Authorization values JsSIP and SIP.js compute for our challenges (test/digest-clients.test.ts regenerates and compares). " +
      "Nonces were made by buildChallenges with `secret` at `nowMs` and zero random bytes.",
    versions,
    secret: SECRET,
    nowMs: T0,
    cases: SCENARIOS.map(runScenario),
    staleRetry: { jssip: runStaleRetry("jssip"), sipjs: runStaleRetry("sipjs") },
  };
}

const FIXTURE_PATH = fileURLToPath(new URL("./fixtures/digest/clients.json", import.meta.url));
if (process.env["UPDATE_DIGEST_FIXTURES"] === "1") writeFileSync(FIXTURE_PATH, JSON.stringify(generate(), null, 2) + "\n");
const fixture = JSON.parse(readFileSync(FIXTURE_PATH, "utf8")) as Fixture;

// --- The tests -------------------------------------------------------------

describe("fixtures/digest/clients.json", () => {
  it("was made with the library versions installed", () => {
    expect(fixture.versions).toEqual(versions);
  });

  it("matches what the libraries compute today, case by case", () => {
    const now = generate();
    expect(now.cases.map((c) => c.name)).toEqual(fixture.cases.map((c) => c.name));
    for (let i = 0; i < now.cases.length; i++) expect(now.cases[i], now.cases[i]!.name).toEqual(fixture.cases[i]);
    expect(now.staleRetry).toEqual(fixture.staleRetry);
  });
});

describe.each(SCENARIOS.map((s, i) => [s.name, s, i] as const))("%s", (_name, scenario, i) => {
  it.each(LIBS)("%s: our server's verdict", (lib) => {
    const authorization = fixture.cases[i]![lib].authorization;
    const expected = scenario.expect[lib];
    if (expected === null) {
      expect(authorization).toBeNull();
      return;
    }
    expect(authorization).not.toBeNull();
    const verdict = judge(authorization!, {
      method: scenario.method,
      password: scenario.password,
      ...(scenario.requireQop === undefined ? {} : { requireQop: scenario.requireQop }),
    });
    if ("ok" in expected) expect(verdict).toMatchObject({ ok: true, username: "alice", algorithm: "MD5" });
    else expect(verdict).toMatchObject({ ok: false, why: expected.why });
  });
});

describe.each(LIBS)("%s: the shape of the Authorization", (lib) => {
  it("algorithm=MD5 first and unquoted; username, realm, nonce, uri, response, opaque, cnonce quoted; qop and nc=8LHEX unquoted", () => {
    const a = fixture.cases[1]![lib].authorization!;
    const p = parseAuthHeader(a).params;
    const cnonce = fixture.cases[1]![lib].cnonce;
    expect(a).toBe(
      `Digest algorithm=MD5, username="alice", realm="sip.example.com", nonce="${p["nonce"]}", ` +
        `uri="sip:+15551234567@sip.example.com;user=phone", response="${p["response"]}", opaque="b7d1a4c2", ` +
        `qop=auth, cnonce="${cnonce}", nc=00000001`,
    );
    // The uri is the library's serialization of the Request-URI (host lowercased), which is what it sends as the Request-URI too.
    expect(
      computeResponse({
        algorithm: "MD5",
        password: "wonderland",
        username: "alice",
        realm: REALM,
        nonce: p["nonce"]!,
        cnonce,
        nc: 1,
        qop: "auth",
        method: "INVITE",
        uri: p["uri"]!,
      }),
    ).toBe(p["response"]);
  });

  it("reads our stale=true as a boolean (quoted, it would be silently dropped) and keeps counting nc on the retry", () => {
    expect(parsedChallenge(lib, 401, challenges({ stale: true }))["stale"]).toBe(true);
    expect(parsedChallenge(lib, 401, challenges({}).map((c) => c + ', stale="true"'))["stale"]).toBeUndefined();
    const { first, second } = fixture.staleRetry[lib];
    expect(parseAuthHeader(first).params["nc"]).toBe("00000001");
    expect(parseAuthHeader(second).params["nc"]).toBe("00000002");
    expect(parseAuthHeader(first).params["nonce"]).not.toBe(parseAuthHeader(second).params["nonce"]);
    const nonceCounts = new MemoryNonceCountStore(10);
    expect(judge(first, { nonceCounts })).toMatchObject({ ok: false, why: "stale" });
    expect(judge(second, { nonceCounts })).toMatchObject({ ok: true, username: "alice" });
  });

  it("with its own random cnonce: 12 base-32 digits, accepted", () => {
    for (let i = 0; i < 20; i++) {
      const c = client(lib, { method: "REGISTER", ruri: "sip:sip.example.com", username: "alice", password: "wonderland" });
      const a = c.answer(401, challenges({}))!;
      expect(parseAuthHeader(a).params["cnonce"]).toMatch(/^[0-9a-v]{12}$/);
      expect(judge(a, { nonceCounts: new MemoryNonceCountStore(10) })).toMatchObject({ ok: true });
    }
  });

  describe("rejections", () => {
    const good = (): string => fixture.cases[0]![lib].authorization!;

    it("wrong password -> bad-response", () => {
      const a = client(lib, { method: "REGISTER", ruri: "sip:sip.example.com", username: "alice", password: "not-it", stubRandom: true }).answer(
        401,
        challenges({}),
      )!;
      expect(judge(a)).toMatchObject({ ok: false, why: "bad-response" });
    });

    it("credentials for another realm -> wrong-realm", () => {
      expect(judge(good(), { realm: "other.example.com" })).toEqual({ ok: false, why: "wrong-realm" });
    });

    it("the same nc again -> replay", () => {
      const nonceCounts = new MemoryNonceCountStore(10);
      expect(judge(good(), { nonceCounts })).toMatchObject({ ok: true });
      expect(judge(good(), { nonceCounts })).toMatchObject({ ok: false, why: "replay" });
    });

    it("a nonce past its lifetime -> stale", () => {
      expect(judge(good(), { nowMs: T0 + 5 * MINUTE + 1 })).toMatchObject({ ok: false, why: "stale" });
    });

    it("a tampered uri -> bad-response", () => {
      expect(judge(good().replace('uri="sip:sip.example.com"', 'uri="sip:attacker.example.com"'))).toMatchObject({ ok: false, why: "bad-response" });
    });

    it("a tampered nonce -> bad-nonce", () => {
      const a = good();
      const nonce = parseAuthHeader(a).params["nonce"]!;
      expect(judge(a.replace(nonce, nonce.slice(0, -1) + (nonce.endsWith("A") ? "B" : "A")))).toMatchObject({ ok: false, why: "bad-nonce" });
    });
  });
});
