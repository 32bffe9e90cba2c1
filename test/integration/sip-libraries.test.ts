import JsSIP from "jssip";
import { Registerer, RegistererState, UserAgent } from "sip.js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, registrationsOf } from "../harness/admin.ts";
import "../harness/stack-info.ts";
import { wsUrl } from "../harness/sip-ws-client.ts";
import { installGlobalWebSocket } from "../harness/ws-global.ts";

describe("real SIP stacks register through the edge", () => {
  const stack = inject("stack");
  beforeAll(() => installGlobalWebSocket());

  const stops: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it("JsSIP 3.13 registers (answering the MD5 challenge) and its binding shows in the admin API", async () => {
    const { aor, password } = stack.users[0]!;
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(wsUrl(stack.edgeUrl, aor))],
      uri: `sip:${aor}`,
      password,
      register: true,
      register_expires: 300,
      session_timers: false,
    });
    stops.push(() => ua.stop());
    const outcome = new Promise<string>((resolve) => {
      ua.on("registered", () => resolve("registered"));
      ua.on("registrationFailed", (e: { cause?: string }) => resolve(`failed: ${e.cause}`));
    });
    ua.start();
    expect(await outcome).toBe("registered");
    const regs = await registrationsOf(stack, aor);
    expect(regs.some((r) => r.contact.includes(".invalid") && r.flow_connected)).toBe(true);
  });

  it("SIP.js 0.21 registers too, and unregistering removes its binding", async () => {
    const { aor, password } = stack.users[1]!;
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${aor}`)!,
      authorizationUsername: aor.split("@")[0]!,
      authorizationPassword: password,
      transportOptions: { server: wsUrl(stack.edgeUrl, aor) },
      logLevel: "error",
    });
    stops.push(() => ua.stop());
    await ua.start();
    const registerer = new Registerer(ua, { expires: 300 });
    const registered = new Promise<RegistererState>((resolve) => {
      registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Registered || s === RegistererState.Terminated) resolve(s);
      });
    });
    await registerer.register({ requestDelegate: { onReject: (r) => console.error("SIP.js REGISTER rejected", r.message.statusCode) } });
    expect(await registered).toBe(RegistererState.Registered);
    const regs = await registrationsOf(stack, aor);
    expect(regs.length).toBeGreaterThanOrEqual(1);
    const contact = regs.find((r) => r.flow_connected)!.contact;

    const unregistered = new Promise<void>((resolve) => {
      registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Unregistered) resolve();
      });
    });
    await registerer.unregister();
    await unregistered;
    await eventually(() => registrationsOf(stack, aor), (r) => !r.some((x) => x.contact === contact), 5_000, "SIP.js's binding to go");
  });
});
