import type { DemoUser, LocalSecrets } from "../../packages/sipedge/src/stack/seed.ts";

/** What the integration tests know about the stack global-setup started. */
export interface StackInfo {
  edgeUrl: string;
  dynamoEndpoint: string;
  ngAddress: { host: string; port: number };
  /** The local media agent's ng URL (`http://…/ng`). */
  mediaAgentUrl: string;
  /** The stack's rtpengine media ports (on 127.0.0.1): an anchored SDP names one of them. */
  rtpPorts: { min: number; max: number };
  domain: string;
  users: DemoUser[];
  secrets: LocalSecrets;
  logDir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}
