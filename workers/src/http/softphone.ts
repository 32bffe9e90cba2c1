import type { Context } from "hono";
import { readConfig } from "../config.ts";
import type { Env } from "../env.ts";
import pageHtml from "../../softphone/index.html";
import softphoneCss from "../../softphone/dist/softphone.css.txt";
import softphoneJs from "../../softphone/dist/softphone.js.txt";

/**
 * The softphone page (workers/softphone/): `GET /` and its two assets,
 * bundled into the Worker as text modules, so the page works with no CDN and
 * no network but the edge itself.
 *
 * Caching: the page is `no-cache` (a deploy shows at the next load); it links
 * the assets as `/softphone.js?v=<hash of their content>`, and an asset asked
 * for with its current hash is immutable for a year. Any other request for an
 * asset revalidates with its ETag.
 */
type Ctx = Context<{ Bindings: Env }>;

/** FNV-1a, 32 bits: a content version, not a security measure. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

let version: string | undefined;
/** The assets' version (computed once per isolate, on first use). */
export function softphoneVersion(): string {
  return (version ??= fnv1a(softphoneJs + "\0" + softphoneCss));
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function softphonePage(c: Ctx): Response {
  const url = new URL(c.req.url);
  const domain = readConfig(c.env).domains[0] ?? "";
  const html = pageHtml.replaceAll("{{DOMAIN}}", escapeHtml(domain)).replaceAll("{{VERSION}}", softphoneVersion());
  const ws = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  return new Response(html, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      // Everything comes from this origin; the SIP WebSocket is this origin's /ws.
      "Content-Security-Policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self' ${ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      "Permissions-Policy": "microphone=(self), camera=()",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

function asset(c: Ctx, body: string, contentType: string): Response {
  const etag = `"${softphoneVersion()}"`;
  const current = c.req.query("v") === softphoneVersion();
  const headers = {
    "Content-Type": contentType,
    "Cache-Control": current ? "public, max-age=31536000, immutable" : "no-cache",
    ETag: etag,
    "X-Content-Type-Options": "nosniff",
  };
  const inm = c.req.header("If-None-Match");
  if (inm !== undefined && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) return new Response(null, { status: 304, headers });
  return new Response(body, { headers });
}

export const softphoneScript = (c: Ctx): Response => asset(c, softphoneJs, "text/javascript; charset=utf-8");
export const softphoneStyle = (c: Ctx): Response => asset(c, softphoneCss, "text/css; charset=utf-8");
