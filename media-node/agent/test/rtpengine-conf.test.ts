import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipeLines } from "../../../packages/sipedge/src/stack/log.ts";
import { freeTcpPort, freeUdpPort, waitUntil } from "../../../packages/sipedge/src/stack/ports.ts";
import { ngPing, rtpengineBinary } from "../../../packages/sipedge/src/stack/rtpengine.ts";
import { stopChild } from "../../../packages/sipedge/src/stack/stack.ts";
import { isCapacityReason } from "../../../workers/src/media/ng-errors.ts";
import { ngDirect } from "./support/media-stack.ts";
import { chromiumOffer } from "./support/sdp-fixtures.ts";

// The shipped media-node/rtpengine/rtpengine.conf, run by the real rtpengine
// 10.5 with the VM placeholders filled in with loopback values.
const CONF = join(import.meta.dirname, "..", "..", "rtpengine", "rtpengine.conf");
let child: ChildProcess;
let ng: { host: string; port: number };
const lines: string[] = [];

beforeAll(async () => {
  ng = { host: "127.0.0.1", port: await freeUdpPort() };
  const conf = readFileSync(CONF, "utf8")
    .replace(/PRIVATE_IP/g, "127.0.0.1")
    .replace(/PUBLIC_IP/g, "127.0.0.2")
    .replace(/^max-sessions = CAPACITY$/m, "max-sessions = 1")
    .replace(/^listen-ng = .*$/m, `listen-ng = 127.0.0.1:${ng.port}`)
    .replace(/^listen-cli = .*$/m, `listen-cli = 127.0.0.1:${await freeTcpPort()}`)
    .replace(/^port-min = .*$/m, "port-min = 33300")
    .replace(/^port-max = .*$/m, "port-max = 33399");
  expect(conf).not.toMatch(/[A-Z]{2,}_IP|= CAPACITY/);
  const path = join(mkdtempSync(join(tmpdir(), "rtpengine-conf-")), "rtpengine.conf");
  writeFileSync(path, conf);
  child = spawn(rtpengineBinary(), [`--config-file=${path}`, "--foreground", "--log-stderr"], { stdio: ["ignore", "pipe", "pipe"] });
  pipeLines(child.stderr, (l) => lines.push(l));
  pipeLines(child.stdout, (l) => lines.push(l));
  await waitUntil(`rtpengine with ${CONF} (${lines.join(" | ")})`, () => ngPing(ng), 10_000, child);
});

afterAll(async () => {
  if (child) await stopChild(child);
});

const offer = (id: string, extra: Record<string, unknown> = {}) => ({
  command: "offer", "call-id": id, "from-tag": "ft", sdp: chromiumOffer(), ICE: "remove", DTLS: "off", "transport-protocol": "RTP/AVP", replace: ["origin", "session-connection"], ...extra,
});

describe("media-node/rtpengine/rtpengine.conf", () => {
  it("advertises the public address on `external` and the private one by default (PITFALLS 2)", async () => {
    const pub = await ngDirect(ng, offer("conf-1", { direction: ["external", "external"] }));
    expect(pub.sdp).toContain("c=IN IP4 127.0.0.2");
    // The trap the profiles avoid by always sending `direction`: the first interface is internal.
    const re = await ngDirect(ng, offer("conf-1"));
    expect(re.sdp).toContain("c=IN IP4 127.0.0.2"); // a re-offer keeps the interface it chose
  });

  it("refuses sessions over max-sessions with an error the edge fails over on", async () => {
    const second = await ngDirect(ng, offer("conf-2"));
    expect(second.result).toBe("error");
    expect(second["error-reason"]).toBe("Parallel session limit reached");
    expect(isCapacityReason(second["error-reason"] as string)).toBe(true);
  });

  it("frees a deleted call at once (delete-delay = 0, PITFALLS 18)", async () => {
    expect((await ngDirect(ng, { command: "delete", "call-id": "conf-1", "from-tag": "ft" })).result).toBe("ok");
    expect((await ngDirect(ng, { command: "list" })).calls).toEqual([]);
    const priv = await ngDirect(ng, offer("conf-3"));
    expect(priv.sdp).toContain("c=IN IP4 127.0.0.1");
    await ngDirect(ng, { command: "delete", "call-id": "conf-3", "from-tag": "ft" });
  });

  it("reads every option (no unknown keys)", () => {
    expect(lines.filter((l) => /unknown|invalid|error/i.test(l) && !/Parallel session limit/.test(l))).toEqual([]);
  });
});
