import { describe, expect, it } from "vitest";
import { freeUdpPort } from "../../../packages/sipedge/src/stack/ports.ts";
import { startRtpengine } from "../../../packages/sipedge/src/stack/rtpengine.ts";
import { stopChild } from "../../../packages/sipedge/src/stack/stack.ts";
import { NgUdpChannel, NgUdpTimeoutError } from "../src/ng-udp-channel.ts";

// The channel's socket is connected to rtpengine's ng port (no address
// lookup per send). Media ports 33400-33499.
describe("the ng channel's connected UDP socket", () => {
  it("times out while rtpengine is down and works again once rtpengine is back on its port (PITFALLS 25)", async () => {
    const port = await freeUdpPort();
    const channel = new NgUdpChannel({ host: "127.0.0.1", port, timeoutMs: 300, retransmitMs: 100 });
    await channel.open();
    try {
      // Nobody listens: the kernel answers with ICMP port-unreachable, which a
      // connected socket sees as errors. They must surface as a timeout...
      await expect(channel.request({ command: "ping" })).rejects.toThrow(NgUdpTimeoutError);
      // How many retransmissions fit in the 300 ms depends on the machine; the message names its own timeout.
      await expect(channel.request({ command: "ping" })).rejects.toThrow(/within 300 ms \(\d+ retransmissions?\)/);
      // ...and must not leave the socket broken for when rtpengine returns.
      const rtpengine = await startRtpengine({ host: "127.0.0.1", ngPort: port, portMin: 33400, portMax: 33499, log: () => undefined });
      try {
        expect(await channel.request({ command: "ping" })).toEqual({ result: "pong" });
      } finally {
        await stopChild(rtpengine.process);
      }
    } finally {
      channel.close();
    }
  });
});
