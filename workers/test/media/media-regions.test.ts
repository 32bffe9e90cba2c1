import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "smol-toml";
import { ConfigError, readConfig } from "../../src/config.ts";
import type { Env } from "../../src/env.ts";
import { geoPointOf, greatCircleKm, parseMediaRegions } from "../../src/media/media-regions.ts";

describe("MEDIA_REGIONS", () => {
  it("reads the compact form name:lat:lon,…", () => {
    expect(parseMediaRegions(" eu-central-1:50.11:8.68, us-east-1:38.9:-77.04 ")).toEqual([
      { name: "eu-central-1", lat: 50.11, lon: 8.68 },
      { name: "us-east-1", lat: 38.9, lon: -77.04 },
    ]);
  });

  it("reads the JSON form", () => {
    expect(parseMediaRegions('[{"name":"local","lat":50.1109,"lon":8.6821}]')).toEqual([{ name: "local", lat: 50.1109, lon: 8.6821 }]);
  });

  it("empty means no table", () => {
    expect(parseMediaRegions("")).toEqual([]);
    expect(parseMediaRegions(undefined)).toEqual([]);
  });

  it.each([
    ["eu-central-1:50.11", /name:latitude:longitude/],
    ["eu:50.11:8.68:1", /name:latitude:longitude/],
    ["eu:north:8.68", /latitude "north" is not a decimal/],
    ["eu:0x10:8", /not a decimal/],
    ["eu:91:8", /latitude 91 is not within -90..90/],
    ["eu:50:181", /longitude 181 is not within/],
    ["eu:1:1,eu:2:2", /listed twice/],
    ["e u:1:1", /region name "e u"/],
    ["[{\"name\":\"x\",\"lat\":\"1\",\"lon\":2}]", /needs numbers/],
    ["[oops", /not valid JSON/],
  ])("refuses %s", (value, problem) => {
    expect(() => parseMediaRegions(value)).toThrow(problem);
  });
});

describe("readConfig and MEDIA_REGIONS", () => {
  const env = (over: Partial<Env>): Env => ({ SIP_DOMAINS: "example.com", ...over }) as Env;

  it("turns a malformed value into a ConfigError naming the setting and the expected form", () => {
    let err: unknown;
    try {
      readConfig(env({ MEDIA_REGIONS: "frankfurt:50.1" }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe("MEDIA_REGIONS");
    expect((err as Error).message).toMatch(/^MEDIA_REGIONS: "frankfurt:50.1" is not name:latitude:longitude.*expected name:lat:lon/);
  });

  it("reads the regions and the penalty durations (defaults 60 s and 10 s)", () => {
    const c = readConfig(env({ MEDIA_REGIONS: "a:1:2" }));
    expect(c.media.regions).toEqual([{ name: "a", lat: 1, lon: 2 }]);
    expect(c.media.penalties).toEqual({ timeoutMs: 60_000, capacityMs: 10_000 });
    expect(readConfig(env({ MEDIA_NODE_PENALTY_S: "30", MEDIA_NODE_CAPACITY_PENALTY_S: "2.5" })).media.penalties).toEqual({ timeoutMs: 30_000, capacityMs: 2_500 });
    expect(() => readConfig(env({ MEDIA_NODE_PENALTY_S: "soon" }))).toThrow(ConfigError);
  });

  it("wrangler.toml's MEDIA_REGIONS is valid", () => {
    const toml = parse(readFileSync(new URL("../../../wrangler.toml", import.meta.url), "utf8")) as { vars: Record<string, string> };
    expect(readConfig(env({ MEDIA_REGIONS: toml.vars.MEDIA_REGIONS })).media.regions.length).toBeGreaterThan(0);
  });
});

describe("geography", () => {
  it("great-circle distances are about right", () => {
    // Frankfurt–New York is about 6,200 km; a point to itself is 0.
    expect(greatCircleKm({ lat: 50.11, lon: 8.68 }, { lat: 40.71, lon: -74.0 })).toBeGreaterThan(6100);
    expect(greatCircleKm({ lat: 50.11, lon: 8.68 }, { lat: 40.71, lon: -74.0 })).toBeLessThan(6300);
    expect(greatCircleKm({ lat: 1, lon: 2 }, { lat: 1, lon: 2 })).toBe(0);
  });

  it("takes the browser's location from request.cf strings or stored numbers, and nothing else", () => {
    expect(geoPointOf({ latitude: "50.1109", longitude: "8.6821" })).toEqual({ lat: 50.1109, lon: 8.6821 });
    expect(geoPointOf({ latitude: 1.5, longitude: -2 })).toEqual({ lat: 1.5, lon: -2 });
    expect(geoPointOf({ latitude: "", longitude: "8" })).toBeUndefined();
    expect(geoPointOf({ latitude: "95", longitude: "8" })).toBeUndefined();
    expect(geoPointOf({})).toBeUndefined();
    expect(geoPointOf(undefined)).toBeUndefined();
  });
});
