/**
 * The table of media regions and where they are (ARCHITECTURE.md, "Choosing a
 * media node": the edge picks the region nearest the browser). It comes from
 * the `MEDIA_REGIONS` setting, in one of two spellings:
 *
 *   compact  `eu-central-1:50.11:8.68,us-east-1:38.9:-77.04`
 *   JSON     `[{"name":"eu-central-1","lat":50.11,"lon":8.68}, …]`
 *
 * `name` is what the media agents heartbeat as `region` (SIPEDGE_REGION);
 * `lat`/`lon` are degrees. The order matters once: a browser whose location
 * is unknown gets the regions in the order written, so put the default first.
 */
export interface MediaRegion {
  name: string;
  lat: number;
  lon: number;
}

/** A point on the globe in degrees: a region's, or the browser's from `request.cf`. */
export interface GeoPoint {
  lat: number;
  lon: number;
}

/** What is wrong with a MEDIA_REGIONS value; config.ts turns it into a ConfigError. */
export class MediaRegionsError extends Error {
  override name = "MediaRegionsError";
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseMediaRegions(text: string | undefined): MediaRegion[] {
  const value = (text ?? "").trim();
  if (value === "") return [];
  const regions = value.startsWith("[") ? fromJson(value) : fromCompact(value);
  const seen = new Set<string>();
  for (const r of regions) {
    if (!NAME.test(r.name)) throw new MediaRegionsError(`region name "${r.name}" must be letters, digits, ".", "_" or "-" (as the agents' SIPEDGE_REGION)`);
    if (!(Number.isFinite(r.lat) && r.lat >= -90 && r.lat <= 90)) throw new MediaRegionsError(`region ${r.name}: latitude ${r.lat} is not within -90..90`);
    if (!(Number.isFinite(r.lon) && r.lon >= -180 && r.lon <= 180)) throw new MediaRegionsError(`region ${r.name}: longitude ${r.lon} is not within -180..180`);
    if (seen.has(r.name)) throw new MediaRegionsError(`region ${r.name} is listed twice`);
    seen.add(r.name);
  }
  return regions;
}

function fromCompact(value: string): MediaRegion[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((entry) => {
      const parts = entry.split(":").map((p) => p.trim());
      if (parts.length !== 3 || parts.some((p) => p === "")) {
        throw new MediaRegionsError(`"${entry}" is not name:latitude:longitude (e.g. eu-central-1:50.11:8.68)`);
      }
      const [name, lat, lon] = parts as [string, string, string];
      return { name, lat: number(lat, `${name} latitude`), lon: number(lon, `${name} longitude`) };
    });
}

function fromJson(value: string): MediaRegion[] {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    throw new MediaRegionsError(`not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(json)) throw new MediaRegionsError("JSON form must be an array of {name, lat, lon}");
  return json.map((item: unknown, i) => {
    const o = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof o.name !== "string") throw new MediaRegionsError(`entry ${i} has no "name" string`);
    if (typeof o.lat !== "number" || typeof o.lon !== "number") throw new MediaRegionsError(`entry ${i} (${o.name}) needs numbers "lat" and "lon"`);
    return { name: o.name, lat: o.lat, lon: o.lon };
  });
}

function number(text: string, what: string): number {
  // Number("") is 0 and Number("0x10") is 16: accept plain decimals only.
  if (!/^[-+]?\d+(\.\d+)?$/.test(text)) throw new MediaRegionsError(`${what} "${text}" is not a decimal number of degrees`);
  return Number(text);
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in kilometres (haversine; good to well under 1 % for choosing a region). */
export function greatCircleKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The browser's location from `request.cf` (`latitude`/`longitude` come as
 * strings there) or from a stored ClientLocation (numbers); undefined when
 * either is missing or out of range (a loopback client, a privacy relay).
 */
export function geoPointOf(loc: { latitude?: unknown; longitude?: unknown } | undefined): GeoPoint | undefined {
  if (loc === undefined) return undefined;
  const lat = toNumber(loc.latitude);
  const lon = toNumber(loc.longitude);
  if (lat === undefined || lon === undefined || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return { lat, lon };
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
