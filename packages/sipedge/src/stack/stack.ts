import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { createTables, LOCAL_AWS, startDynalite, type Dynalite } from "./dynalite.ts";
import { LOCAL_CF, startEdge, type Edge } from "./edge.ts";
import type { Log } from "./log.ts";
import { assertTcpPortFree, assertUdpPortFree } from "./ports.ts";
import { provisionDemoLegacyPhone, startDemoLegacyPhone, type DemoLegacyPhone } from "./demo-legacy-phone.ts";
import { startEgress } from "./egress.ts";
import { startMediaAgent } from "./media-agent.ts";
import { startRtpengine, type Rtpengine } from "./rtpengine.ts";

/** The region the local media node heartbeats under. */
export const LOCAL_MEDIA_REGION = "local";
/** The id of the local egress proxy (its EgressLink, the `egress` of local trunks). */
export const LOCAL_EGRESS_ID = "local";
import { demoPassword, loadOrCreate, seedSubscribers, type DemoUser, type LocalSecrets } from "./seed.ts";

export interface StackPorts {
  edge: number;
  dynalite: number;
  ng: number;
  /** The media agent's HTTP port (signed ng, /healthz, /metrics). */
  agent: number;
  rtpMin: number;
  rtpMax: number;
  /** The egress proxy's SIP port (UDP and TCP) and its HTTP port (/healthz, /metrics). */
  egressSip: number;
  egressHttp: number;
  /** The demo legacy phone (baresip) on this SIP port (UDP and TCP; TLS on the next). Absent: none (tests start their own). */
  legacyPhone?: number;
}

export interface StackOptions {
  host: string;
  ports: StackPorts;
  /** Everything the stack writes goes below this folder. */
  stateDir: string;
  /** Keep DynamoDB data across runs (npm start) or not (tests). */
  persistDirectory: boolean;
  domain: string;
  /** Origins allowed to open the SIP WebSocket, besides the edge's own. */
  extraOrigins?: string[];
  secrets: LocalSecrets;
  users: DemoUser[];
  logFor: (component: string) => Log;
}

export interface Stack {
  edgeUrl: string;
  dynamoEndpoint: string;
  ngAddress: { host: string; port: number };
  /** The local media agent's signed ng endpoint. */
  mediaAgentUrl: string;
  /** The local egress proxy: where carriers and SIP phones send SIP, and its /healthz. */
  egress: { sip: { host: string; port: number }; httpUrl: string };
  /** The demo legacy phone, when `ports.legacyPhone` is set: its lines for the start-up message. */
  legacyPhone?: DemoLegacyPhone;
  options: StackOptions;
  edge: Edge;
  dynalite: Dynalite;
  /** Stops and starts workerd again on the same storage (a process restart). */
  restartEdge(): Promise<void>;
  stop(): Promise<void>;
}

/** The Worker's bindings for a local edge on `host:ports.edge` against a local DynamoDB (also for tests that run their own edge). */
export function edgeBindings(opts: Pick<StackOptions, "host" | "domain" | "secrets" | "extraOrigins"> & { ports: Pick<StackPorts, "edge"> }, dynamoEndpoint: string): Record<string, string> {
  const self = [`http://${opts.host}:${opts.ports.edge}`, `http://localhost:${opts.ports.edge}`];
  return {
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
    SIP_DOMAINS: opts.domain,
    ALLOWED_ORIGINS: [...self, ...(opts.extraOrigins ?? [])].join(","),
    // The one local media region, where every local request "comes from" (LOCAL_CF).
    MEDIA_REGIONS: `${LOCAL_MEDIA_REGION}:${LOCAL_CF.latitude}:${LOCAL_CF.longitude}`,
    ...opts.secrets,
  };
}

/** Stops a child process: SIGTERM, then SIGKILL if it lingers. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts the whole local system: dynalite with the directory tables and demo
 * users, a userspace rtpengine, and the Worker with its Durable Objects in
 * workerd. Used by `npm start` and by the integration tests alike.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const { host, ports } = opts;
  await assertTcpPortFree("the edge (workerd)", host, ports.edge, "--edge-port");
  await assertTcpPortFree("DynamoDB (dynalite)", host, ports.dynalite, "--dynamo-port");
  await assertUdpPortFree("rtpengine ng control", host, ports.ng, "--ng-port");
  await assertTcpPortFree("the media agent", host, ports.agent, "--agent-port");
  await assertUdpPortFree("the egress proxy's SIP (UDP)", host, ports.egressSip, "--egress-sip-port");
  await assertTcpPortFree("the egress proxy's SIP (TCP)", host, ports.egressSip, "--egress-sip-port");
  await assertTcpPortFree("the egress proxy's HTTP", host, ports.egressHttp, "--egress-http-port");
  mkdirSync(opts.stateDir, { recursive: true });

  const started: ChildProcess[] = [];
  // Last resort if this process exits without stop(): never leave a
  // dynalite or rtpengine behind holding its ports.
  const killLeftovers = (): void => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  process.on("exit", killLeftovers);
  let edge: Edge | undefined;
  const stopAll = async (): Promise<void> => {
    await edge?.miniflare.dispose().catch(() => undefined);
    // In reverse order of start: the media agent removes its media_nodes row
    // on the way out, so DynamoDB must still be up when it stops.
    for (const c of [...started].reverse()) await stopChild(c);
    process.off("exit", killLeftovers);
  };
  try {
    const dynalite = await startDynalite({
      host,
      port: ports.dynalite,
      ...(opts.persistDirectory ? { path: join(opts.stateDir, "dynalite") } : {}),
      log: opts.logFor("dynalite"),
    });
    started.push(dynalite.process);
    await createTables(dynalite.client);
    await seedSubscribers(dynalite.client, "subscribers", opts.users);

    const rtpengine: Rtpengine = await startRtpengine({
      host,
      ngPort: ports.ng,
      portMin: ports.rtpMin,
      portMax: ports.rtpMax,
      // The logical interfaces the edge's media profiles name (media/profiles.ts, media-node/rtpengine/rtpengine.conf), both on loopback here.
      interfaces: [`internal/${host}`, `external/${host}`],
      log: opts.logFor("rtpengine"),
    });
    started.push(rtpengine.process);

    const agent = await startMediaAgent({
      host,
      port: ports.agent,
      nodeId: "local-1",
      region: LOCAL_MEDIA_REGION,
      rtpengineNg: rtpengine.ngAddress,
      dynamoEndpoint: dynalite.endpoint,
      secret: opts.secrets.NG_SECRET,
      capacity: 500,
      log: opts.logFor("media-agent"),
    });
    started.push(agent.process);

    const edgeOptions = {
      host,
      port: ports.edge,
      bindings: edgeBindings(opts, dynalite.endpoint),
      persistDir: join(opts.stateDir, "durable-objects"),
      buildDir: join(opts.stateDir, "build"),
      log: opts.logFor("edge"),
    };
    edge = await startEdge(edgeOptions);

    // The demo trunk goes into the directory before the egress reads it; the phone starts after the egress (it registers through it).
    const desk = ports.legacyPhone === undefined ? undefined : loadOrCreate(join(opts.stateDir, `demo-desk-phone-${opts.domain}.json`), () => ({ password: demoPassword() }));
    const demo = { host, egressId: LOCAL_EGRESS_ID, dynamo: { client: dynalite.client, endpoint: dynalite.endpoint }, users: opts.users, domain: opts.domain, deskPassword: desk?.password ?? "" };
    if (ports.legacyPhone !== undefined) await provisionDemoLegacyPhone({ ...demo, sipPort: ports.legacyPhone });
    const egress = await startEgress({
      id: LOCAL_EGRESS_ID,
      host,
      sipPort: ports.egressSip,
      httpPort: ports.egressHttp,
      edgeUrl: edge.url,
      dynamoEndpoint: dynalite.endpoint,
      secret: opts.secrets.EGRESS_SECRET,
      // Legacy phones of the demo domain may register through it (issue 5).
      phoneDomains: [opts.domain],
      log: opts.logFor("egress"),
    });
    started.push(egress.process);
    let legacyPhone: DemoLegacyPhone | undefined;
    if (ports.legacyPhone !== undefined) {
      legacyPhone = await startDemoLegacyPhone({
        ...demo,
        sipPort: ports.legacyPhone,
        egressSip: egress.sip,
        dir: join(opts.stateDir, "legacy-phone"),
        log: opts.logFor("legacy-phone"),
        portOption: "--legacy-phone-port",
      });
      started.push(legacyPhone.phone.process, legacyPhone.desk.process);
    }

    const stack: Stack = {
      edgeUrl: edge.url,
      dynamoEndpoint: dynalite.endpoint,
      ngAddress: rtpengine.ngAddress,
      mediaAgentUrl: agent.ngUrl,
      egress: { sip: egress.sip, httpUrl: egress.httpUrl },
      ...(legacyPhone !== undefined ? { legacyPhone } : {}),
      options: opts,
      edge,
      dynalite,
      async restartEdge() {
        await stack.edge.miniflare.dispose();
        edge = await startEdge(edgeOptions);
        stack.edge = edge;
      },
      stop: stopAll,
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
