import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { assertTcpPortFree, assertUdpPortFree, StackError } from "../../packages/sipedge/src/stack/ports.ts";

describe("port checks of the local stack", () => {
  it("names the TCP port, what needed it and the option that moves it", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const err = await assertTcpPortFree("the edge (workerd)", "127.0.0.1", port, "--edge-port").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StackError);
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).message).toContain("the edge (workerd)");
      expect((err as Error).message).toContain("--edge-port");
    } finally {
      server.close();
    }
    await expect(assertTcpPortFree("the edge (workerd)", "127.0.0.1", port, "--edge-port")).resolves.toBeUndefined();
  });

  it("detects a taken UDP port", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((r) => socket.bind({ address: "127.0.0.1", port: 0 }, () => r()));
    const { port } = socket.address();
    try {
      await expect(assertUdpPortFree("rtpengine ng control", "127.0.0.1", port, "--ng-port")).rejects.toThrow(/UDP port 127\.0\.0\.1:\d+ \(rtpengine ng control\)/);
    } finally {
      socket.close();
    }
  });
});
