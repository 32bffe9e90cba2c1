import { parseArgs } from "node:util";
import { MEDIA_NODE_ID, type MediaNodeView } from "../../../workers/src/media/media-node-status.ts";
import type { AdminClient } from "./admin-client.ts";
import { resolveTarget, UsageError } from "./admin-commands.ts";

export const NODE_USAGE = `media node commands (same admin options as above):
  node list              every media node: region, state, live or expired, sessions, load, last heartbeat
  node show ID           one media node
  node drain ID          stop giving the node new calls; its calls continue (the agent follows within a heartbeat, 5 s)
  node activate ID       give the node new calls again
`;

/** The admin API's `/v1/media-nodes` (workers/src/http/admin-media-nodes.ts), typed. */
export const mediaNodesApi = {
  async list(client: AdminClient): Promise<MediaNodeView[]> {
    return (await client.call<{ media_nodes: MediaNodeView[] }>("GET", "/v1/media-nodes")).media_nodes;
  },
  get(client: AdminClient, id: string): Promise<MediaNodeView> {
    return client.call("GET", `/v1/media-nodes/${encodeURIComponent(id)}`);
  },
  /** `drain` or `activate`; the answer carries the state the row had before. */
  setState(client: AdminClient, id: string, action: "drain" | "activate"): Promise<MediaNodeView & { previous_state: string | null }> {
    return client.call("POST", `/v1/media-nodes/${encodeURIComponent(id)}/${action}`);
  },
};

/** `sipedge node …` (issue 4): the operator's side of drain; returns the exit code. */
export async function nodeCommand(argv: string[], repoRoot: string, out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { edge: { type: "string" }, token: { type: "string" }, json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  const print = (value: unknown, text: () => string[]): void => {
    if (values.json === true) out(JSON.stringify(value, null, 2));
    else for (const line of text()) out(line);
  };
  const [sub] = positionals;
  switch (sub) {
    case "list": {
      if (positionals.length > 1) throw new UsageError(`node list takes no arguments (got "${positionals[1]}")`);
      const nodes = await mediaNodesApi.list(resolveTarget(values, repoRoot));
      print(nodes, () => (nodes.length === 0 ? ["no media nodes (no agent has sent a heartbeat into media_nodes)"] : nodeTable(nodes)));
      return 0;
    }
    case "show": {
      const node = await mediaNodesApi.get(resolveTarget(values, repoRoot), nodeIdArg(positionals, "node show"));
      print(node, () => nodeDetails(node));
      return 0;
    }
    case "drain":
    case "activate": {
      const id = nodeIdArg(positionals, `node ${sub}`);
      const node = await mediaNodesApi.setState(resolveTarget(values, repoRoot), id, sub);
      print(node, () => [stateChangeLine(node, node.previous_state)]);
      return 0;
    }
    case undefined:
      throw new UsageError("node needs a subcommand: list, show, drain, activate");
    default:
      throw new UsageError(`unknown node subcommand "${sub}" (list, show, drain, activate)`);
  }
}

function nodeIdArg(positionals: string[], what: string): string {
  const id = positionals[1];
  if (id === undefined) throw new UsageError(`${what} needs a media node id, e.g. local-1 (\`sipedge node list\` shows them)`);
  if (positionals.length > 2) throw new UsageError(`${what} takes one media node id (got ${positionals.length - 1})`);
  if (!MEDIA_NODE_ID.test(id)) throw new UsageError(`"${id}" is not a media node id (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)`);
  return id;
}

const percent = (load: number): string => `${Math.round(load * 100)}%`;

function liveness(n: MediaNodeView): string {
  if ("malformed" in n) return "malformed";
  return n.live ? "live" : "expired";
}

/** `node list` as aligned columns, a header first. */
export function nodeTable(nodes: readonly MediaNodeView[]): string[] {
  const rows = [
    ["ID", "REGION", "STATE", "HEARTBEAT", "NEW CALLS", "SESSIONS", "LOAD", "LAST SEEN", "NG URL"],
    ...nodes.map((n) =>
      "malformed" in n
        ? [n.id, "-", n.state ?? "-", "malformed", "no", "-", "-", "-", "-"]
        : [n.id, n.region, n.state, liveness(n), n.accepting ? "yes" : `no (${n.reason ?? "?"})`, `${n.sessions}/${n.capacity}`, percent(n.load), `${n.heartbeat_age_s}s ago`, n.ng_url],
    ),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

/** `node show` as `key  value` lines. */
export function nodeDetails(n: MediaNodeView): string[] {
  if ("malformed" in n) return [`${n.id}: malformed row: ${n.message}`, ...(n.state !== undefined ? [`state      ${n.state}`] : [])];
  return [
    `id         ${n.id}`,
    `region     ${n.region}`,
    `state      ${n.state}`,
    `heartbeat  ${liveness(n)}, last ${n.heartbeat_age_s}s ago (${n.heartbeat_at}; row expires ${n.expires_at})`,
    `new calls  ${n.accepting ? "yes" : `no (${n.reason ?? "?"})`}`,
    `sessions   ${n.sessions} of ${n.capacity}, load ${percent(n.load)}`,
    `ng url     ${n.ng_url}`,
    `addresses  public ${n.addresses.public}, private ${n.addresses.private}`,
  ];
}

/** What `node drain` / `node activate` say: the new state, the old one, and what it means for calls. */
export function stateChangeLine(n: MediaNodeView, previous: string | null): string {
  const state = n.state ?? "?";
  const head = previous === state ? `${n.id}: already ${state}` : `${n.id}: ${state} (was ${previous ?? "unset"})`;
  if ("malformed" in n) return `${head}; the row is malformed, so the edge skips it anyway`;
  const expired = n.live ? "" : "; its heartbeat has expired (is its agent running?)";
  if (state === "active") return `${head}: takes new calls${expired}`;
  return `${head}: no new calls; its ${n.sessions} call${n.sessions === 1 ? "" : "s"} continue${n.sessions === 1 ? "s" : ""}${expired}`;
}
