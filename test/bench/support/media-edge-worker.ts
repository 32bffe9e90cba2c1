import { NgClient } from "../../../workers/src/media/ng-client.ts";
import type { MediaLeg } from "../../../workers/src/media/profiles.ts";
import { callSetup, type NgSend } from "./media-setup.ts";

/**
 * The edge's side of a call setup, run where the edge runs it: in workerd,
 * with the edge's own NgClient (workerd's fetch, WebCrypto HMAC) and SDP
 * fix-ups. test/bench/media.ts bundles this file and sends `POST /setup`
 * for each setup; `POST /ping` sends one ng `ping` (the per-request cost
 * without rtpengine's work); `POST /noop` measures the trigger's own round trip.
 */
interface Env {
  NG_URL: string;
  NG_SECRET: string;
  LEG: string;
  OFFER_SDP: string;
  ANSWER_SDP: string;
}

let client: NgClient | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    // Read the body on every route: workerd closes a connection whose request body was left unread.
    const callId = await request.text();
    if (path === "/noop") return new Response("ok");
    if (path !== "/setup" && path !== "/ping") return new Response("not found", { status: 404 });
    client ??= new NgClient({ url: env.NG_URL, secret: env.NG_SECRET, timeoutMs: 10_000 });
    const ng = client;
    const send: NgSend = (command, dict) => ng.request(command, dict as never);
    try {
      if (path === "/ping") await send("ping", {});
      else await callSetup(send, callId, { leg: env.LEG as MediaLeg, offerSdp: env.OFFER_SDP, answerSdp: env.ANSWER_SDP, fixups: true });
      return new Response("ok");
    } catch (err) {
      return new Response((err as Error).message, { status: 500 });
    }
  },
};
