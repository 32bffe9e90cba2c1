import { createWriteStream, mkdtempSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { startEdge, type Edge, type EdgeOptions } from "../../packages/sipedge/src/stack/edge.ts";
import { freeTcpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { edgeBindings } from "../../packages/sipedge/src/stack/stack.ts";
import { adminFetch, eventually, registrationsOf } from "../harness/admin.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { SipPhone } from "../harness/sip-phone.ts";
import type { StackInfo } from "../harness/stack-info.ts";
import "../harness/stack-info.ts";

/**
 * A workerd process restart with the same storage (a crash, or a deploy:
 * Cloudflare restarts Durable Objects on every code update and every
 * WebSocket drops). This file runs its own edge on a persist folder, against
 * the harness's dynalite (same demo users and secrets), and restarts it.
 *
 * What we hold to be right (platform/lost-flows.ts): the restart is the
 * edge's doing, not the users', so registrations and dialogs survive in the
 * DOs' SQLite and calls are not ended by it. The sockets are gone: a binding
 * whose socket is gone is no call target (480) until its device registers
 * again. A device that comes back on a new socket as the same device (same
 * +sip.instance/reg-id, or the same Contact) takes over its old flow's
 * dialogs, so a BYE routed by the old flow token reaches the new socket.
 * A device that does not come back within the grace period
 * (LOST_FLOW_GRACE_S, default 120 s) is treated as a closed socket: its
 * calls are ended with a BYE to the other side (PITFALLS 13).
 */
describe("restart the workerd process with the same storage", () => {
  const stack = inject("stack");
  const alice = stack.users[0]!;
  const bob = stack.users[1]!;
  let edge: Edge | undefined;
  let base: Omit<EdgeOptions, "bindings"> & { bindings: Record<string, string> };
  let log: WriteStream;
  const phones: SipPhone[] = [];

  const start = async (graceS?: number): Promise<void> => {
    edge = await startEdge({ ...base, bindings: { ...base.bindings, ...(graceS !== undefined ? { LOST_FLOW_GRACE_S: String(graceS) } : {}) } });
  };
  /** Stops workerd and starts it again on the same folder and port. */
  const restart = async (graceS?: number): Promise<void> => {
    await edge!.miniflare.dispose();
    await start(graceS);
  };
  const info = (): StackInfo => ({ ...stack, edgeUrl: edge!.url });
  const open = async (user: { aor: string; password: string }, opts: Parameters<typeof SipPhone.open>[3] = {}): Promise<SipPhone> => {
    const p = await SipPhone.open(edge!.url, user.aor, user.password, opts);
    phones.push(p);
    expect((await p.register()).status).toBe(200);
    return p;
  };
  /** The same device again (same instance, Contact and registration Call-ID) on a new socket. */
  const reopen = (user: { aor: string; password: string }, old: SipPhone): Promise<SipPhone> => open(user, { identity: old.identity, registerCSeq: old.nextRegisterCSeq });
  const dialogs = async (aor: string): Promise<Array<Record<string, unknown>>> => (await adminFetch(info(), "GET", `/v1/subscribers/${encodeURIComponent(aor)}/dialogs`)).json.dialogs;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipedge-restart-"));
    const port = await freeTcpPort();
    const host = "127.0.0.1";
    log = createWriteStream(join(stack.logDir, "restart-edge.log"), { flags: "a" });
    base = {
      host,
      port,
      bindings: edgeBindings({ host, ports: { edge: port }, domain: stack.domain, secrets: stack.secrets }, stack.dynamoEndpoint),
      persistDir: join(dir, "durable-objects"),
      buildDir: join(dir, "build"),
      log: (line) => log.write(line + "\n"),
    };
    await start();
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await edge?.miniflare.dispose();
    log?.end();
  });

  it("registrations and an established dialog survive; the devices come back and the BYE still routes", async () => {
    const a1 = await open(alice, { outbound: true });
    const b1 = await open(bob, { outbound: true });
    const call = await a1.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const inc = await b1.incoming();
    inc.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await inc.ack();
    const [bobBefore] = await registrationsOf(info(), bob.aor);

    await restart();
    // Every socket dropped with the process.
    await Promise.all([a1.client.closed, b1.client.closed]);

    // The registration is still stored, its socket is not.
    const regs = await registrationsOf(info(), bob.aor);
    expect(regs).toHaveLength(1);
    expect(regs[0]).toMatchObject({ flow_id: bobBefore!.flow_id, flow_connected: false });
    // So is the dialog, on both sides.
    expect(await dialogs(alice.aor)).toMatchObject([{ call_id: call.callId, side: "caller", flow_connected: false }]);
    expect(await dialogs(bob.aor)).toMatchObject([{ call_id: call.callId, side: "callee", flow_connected: false }]);

    // alice's device comes back first. bob's binding has no socket: it is no target (480), not an error.
    const a2 = await reopen(alice, a1);
    const probe = await a2.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const r480 = await probe.final();
    expect(r480.status).toBe(480);
    probe.ackFailure(r480);

    // bob's device comes back: its registration moves to the new socket, and it carries the old dialog.
    const b2 = await reopen(bob, b1);
    const after = await registrationsOf(info(), bob.aor);
    expect(after).toHaveLength(1);
    expect(after[0]!.flow_id).not.toBe(bobBefore!.flow_id);
    expect(after[0]!.flow_connected).toBe(true);
    expect(await dialogs(bob.aor)).toMatchObject([{ call_id: call.callId, flow_connected: true }]);

    // alice's UA still holds the dialog: its BYE, with the route set of before the restart, reaches bob's new socket.
    call.phone = a2;
    inc.phone = b2;
    const bye = call.bye();
    b2.respond(await inc.request("BYE"), 200);
    expect((await bye).status).toBe(200);
    expect(await dialogs(alice.aor)).toEqual([]);
    expect(await dialogs(bob.aor)).toEqual([]);
  });

  it("a device that does not come back within the grace period: the other side gets the BYE", async () => {
    await restart(3); // LOST_FLOW_GRACE_S=3 for this test (the dialog watch then runs every 3 s too)
    const a1 = await open(alice, { outbound: true });
    const b1 = await open(bob, { outbound: true });
    const call = await a1.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const inc = await b1.incoming();
    inc.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await inc.ack();

    await restart(3);
    await Promise.all([a1.client.closed, b1.client.closed]);
    const a2 = await reopen(alice, a1);
    // bob never comes back. Nothing wakes bob's DO but its own alarm (the dialog watch): it finds the
    // flow lost, waits the grace period, and ends the call as if the socket had closed.
    const bye = await a2.nextRequest("BYE", 20_000, (m) => m.includes(call.callId));
    expect(bye.header("Reason")).toMatch(/cause=480/);
    a2.respond(bye, 200);
    await eventually(() => dialogs(alice.aor), (d) => d.length === 0, 5_000, "alice's dialog to end");
    expect(await dialogs(bob.aor)).toEqual([]);
    expect(await registrationsOf(info(), bob.aor)).toEqual([]); // the lost flow's binding went with it
  });
});
