import { parseArgs } from "node:util";
import { parseAor } from "../../../workers/src/aor.ts";
import { gatewayKey } from "../../../workers/src/trunks/trunk.ts";
import { parseGatewaySpec } from "../../../workers/src/trunks/gateway-spec.ts";
import { InputError } from "../../../workers/src/trunks/input-error.ts";
import { TRUNK_ID } from "../../../workers/src/trunks/trunk-input.ts";
import { resolveTarget, UsageError } from "./admin-commands.ts";
import {
  assignDid,
  createTrunk,
  deleteTrunk,
  getCallOutPolicy,
  getDid,
  getTrunk,
  listDids,
  listTrunks,
  removeDid,
  updateCallOutPolicy,
  updateTrunk,
  type CallOutPolicyView,
  type PublicTrunk,
} from "./trunk-client.ts";

export const TRUNK_USAGE = `trunk, DID and call-out commands (same admin options as above):
  trunk add ID --egress EGRESS_ID --gateway SPEC [--gateway SPEC …] [trunk options]
                         create a trunk; SPEC is host[:port][;transport=udp|tcp|tls][;priority=N][;weight=N]
  trunk update ID [trunk options]   change the options given (lists given replace the stored ones)
  trunk list             every trunk: state, egress, gateways up, prefixes
  trunk show ID          one trunk (the password is only ever shown as "set")
  trunk status ID        gateways up/down and registration, as the egress last reported
  trunk delete ID
  did assign NUMBER AOR  ring AOR when NUMBER (E.164, e.g. +15550100199) is called
  did list [--aor AOR]   | did show NUMBER | did remove NUMBER
  user policy AOR [--can-call-out | --no-call-out] [--allow +1,+44 | --allow-default]
                  [--max-concurrent N] [--max-cpm N] [--caller-id +E164 | --no-caller-id]
                         show, or change, whether and where AOR may call out (no options: show)

trunk options:
  --name TEXT            display name (default: the id)
  --egress ID            the egress proxy that carries the trunk (the id it dials the edge with)
  --gateway SPEC         repeatable; e.g. --gateway 192.0.2.10 --gateway "sip.carrier.example:5080;transport=tcp;priority=20"
  --prefix P[,P…]        E.164 prefixes carried out, e.g. +1,+44; "default" = every number; none = inbound only
  --allow-source A[,A…]  addresses / CIDR ranges that may send us calls, e.g. 198.51.100.0/24
  --username U  --password P | --password-stdin  [--realm R]    digest credentials for the carrier
  --no-credentials       (update) remove the credentials
  --register [--register-expires S] | --no-register
  --caller-id subscriber | +E164 | subscriber:+E164   whose number calls leave with (subscriber:+E164 = fallback)
  --enable | --disable
`;

const TRUNK_OPTIONS = {
  edge: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  name: { type: "string" },
  egress: { type: "string" },
  gateway: { type: "string", multiple: true },
  prefix: { type: "string", multiple: true },
  "allow-source": { type: "string", multiple: true },
  username: { type: "string" },
  password: { type: "string" },
  "password-stdin": { type: "boolean" },
  realm: { type: "string" },
  "no-credentials": { type: "boolean" },
  register: { type: "boolean" },
  "no-register": { type: "boolean" },
  "register-expires": { type: "string" },
  "caller-id": { type: "string" },
  enable: { type: "boolean" },
  disable: { type: "boolean" },
  aor: { type: "string" },
} as const;

type Out = (line: string) => void;

/** `sipedge trunk …` and `sipedge did …` (issue 5); returns the exit code. */
export async function trunkCommand(command: "trunk" | "did", argv: string[], repoRoot: string, out: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: TRUNK_OPTIONS, allowPositionals: true, strict: true });
  const print = (value: unknown, text: () => string[]): void => {
    if (values.json === true) out(JSON.stringify(value, null, 2));
    else for (const line of text()) out(line);
  };
  const [sub] = positionals;
  if (command === "did") return didCommand(sub, positionals, values, repoRoot, print);
  switch (sub) {
    case "add": {
      const id = trunkIdArg(positionals, "trunk add");
      if (values.egress === undefined) throw new UsageError("trunk add needs --egress ID: the egress proxy that carries this trunk");
      if (values.gateway === undefined) throw new UsageError("trunk add needs at least one --gateway host[:port][;transport=…]");
      const body = { id, ...(await trunkFields(values)) };
      const t = await createTrunk(resolveTarget(values, repoRoot), body);
      print(t, () => [`created trunk ${t.id}`, ...trunkDetails(t)]);
      return 0;
    }
    case "update": {
      const id = trunkIdArg(positionals, "trunk update");
      const patch = await trunkFields(values);
      if (Object.keys(patch).length === 0) throw new UsageError("trunk update needs at least one option to change (see trunk options)");
      const t = await updateTrunk(resolveTarget(values, repoRoot), id, patch);
      print(t, () => [`updated trunk ${t.id}`, ...trunkDetails(t)]);
      return 0;
    }
    case "list": {
      const trunks = await listTrunks(resolveTarget(values, repoRoot));
      print(trunks, () => (trunks.length === 0 ? ["no trunks (add one with `sipedge trunk add`)"] : trunks.map(trunkLine)));
      return 0;
    }
    case "show": {
      const t = await getTrunk(resolveTarget(values, repoRoot), trunkIdArg(positionals, "trunk show"));
      print(t, () => trunkDetails(t));
      return 0;
    }
    case "status": {
      const t = await getTrunk(resolveTarget(values, repoRoot), trunkIdArg(positionals, "trunk status"));
      print({ id: t.id, enabled: t.enabled, status: t.status ?? null }, () => statusLines(t));
      return 0;
    }
    case "delete": {
      const id = trunkIdArg(positionals, "trunk delete");
      await deleteTrunk(resolveTarget(values, repoRoot), id);
      print({ deleted: id }, () => [`deleted trunk ${id}`]);
      return 0;
    }
    case undefined:
      throw new UsageError("trunk needs a subcommand: add, update, list, show, status, delete");
    default:
      throw new UsageError(`unknown trunk subcommand "${sub}" (add, update, list, show, status, delete)`);
  }
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof TRUNK_OPTIONS; allowPositionals: true; strict: true }>>["values"];

async function didCommand(sub: string | undefined, positionals: string[], values: Values, repoRoot: string, print: (value: unknown, text: () => string[]) => void): Promise<number> {
  const numberArg = (what: string): string => {
    const n = positionals[1];
    if (n === undefined) throw new UsageError(`${what} needs a number in E.164, e.g. +15550100199`);
    return n;
  };
  switch (sub) {
    case "assign": {
      const number = numberArg("did assign");
      const aor = aorArg(positionals[2], "did assign NUMBER");
      const d = await assignDid(resolveTarget(values, repoRoot), number, aor);
      print(d, () => [`${d.did} → ${d.aor}`]);
      return 0;
    }
    case "list": {
      const aor = values.aor === undefined ? undefined : aorArg(values.aor, "--aor");
      const dids = await listDids(resolveTarget(values, repoRoot), aor);
      print(dids, () => (dids.length === 0 ? ["no DIDs assigned"] : dids.map((d) => `${d.did}\t${d.aor}\tsince ${d.created_at}`)));
      return 0;
    }
    case "show": {
      const d = await getDid(resolveTarget(values, repoRoot), numberArg("did show"));
      print(d, () => [`${d.did}\t${d.aor}\tsince ${d.created_at}\tupdated ${d.updated_at}`]);
      return 0;
    }
    case "remove": {
      const number = numberArg("did remove");
      await removeDid(resolveTarget(values, repoRoot), number);
      print({ removed: number }, () => [`removed ${number}`]);
      return 0;
    }
    case undefined:
      throw new UsageError("did needs a subcommand: assign, list, show, remove");
    default:
      throw new UsageError(`unknown did subcommand "${sub}" (assign, list, show, remove)`);
  }
}

const POLICY_OPTIONS = {
  edge: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  "can-call-out": { type: "boolean" },
  "no-call-out": { type: "boolean" },
  allow: { type: "string", multiple: true },
  "allow-default": { type: "boolean" },
  "max-concurrent": { type: "string" },
  "max-cpm": { type: "string" },
  "caller-id": { type: "string" },
  "no-caller-id": { type: "boolean" },
} as const;

/** `sipedge user policy AOR [options]`: shows the call-out policy, or changes the fields given; returns the exit code. */
export async function callOutPolicyCommand(argv: string[], repoRoot: string, out: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: POLICY_OPTIONS, allowPositionals: true, strict: true });
  const aor = aorArg(positionals[0], "user policy");
  if (positionals.length > 1) throw new UsageError(`user policy takes one AOR (got ${positionals.length})`);
  const patch: Record<string, unknown> = {};
  if (values["can-call-out"] === true && values["no-call-out"] === true) throw new UsageError("use either --can-call-out or --no-call-out");
  if (values["can-call-out"] === true) patch.can_call_out = true;
  if (values["no-call-out"] === true) patch.can_call_out = false;
  if (values.allow !== undefined && values["allow-default"] === true) throw new UsageError("use either --allow or --allow-default");
  if (values.allow !== undefined) patch.allowed_prefixes = commaList(values.allow);
  if (values["allow-default"] === true) patch.allowed_prefixes = null;
  if (values["max-concurrent"] !== undefined) patch.max_concurrent_calls = count(values["max-concurrent"], "--max-concurrent");
  if (values["max-cpm"] !== undefined) patch.max_calls_per_minute = count(values["max-cpm"], "--max-cpm");
  if (values["caller-id"] !== undefined && values["no-caller-id"] === true) throw new UsageError("use either --caller-id or --no-caller-id");
  if (values["caller-id"] !== undefined) patch.caller_id = values["caller-id"];
  if (values["no-caller-id"] === true) patch.caller_id = null;
  const client = resolveTarget(values, repoRoot);
  const view = Object.keys(patch).length === 0 ? await getCallOutPolicy(client, aor) : await updateCallOutPolicy(client, aor, patch);
  if (values.json === true) out(JSON.stringify(view, null, 2));
  else for (const line of policyLines(view)) out(line);
  return 0;
}

function trunkIdArg(positionals: string[], what: string): string {
  const id = positionals[1];
  if (id === undefined) throw new UsageError(`${what} needs a trunk id, e.g. carrier-a (\`sipedge trunk list\` shows them)`);
  if (positionals.length > 2) throw new UsageError(`${what} takes one trunk id (got ${positionals.length - 1}); quote a gateway with ";" in it`);
  if (!TRUNK_ID.test(id)) throw new UsageError(`"${id}" is not a trunk id (1-63 of lowercase letters, digits, "-" and "_")`);
  return id;
}

function aorArg(text: string | undefined, what: string): string {
  if (text === undefined) throw new UsageError(`${what} needs an AOR, e.g. alice@example.com`);
  const aor = parseAor(text);
  if (aor === undefined) throw new UsageError(`"${text}" is not an AOR (user@domain)`);
  return aor.aor;
}

function commaList(items: string[]): string[] {
  return items.flatMap((i) => i.split(",")).map((s) => s.trim());
}

function count(text: string, option: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`${option} takes a whole number, e.g. ${option} 2 (got "${text}")`);
  return Number(text);
}

/** The API body for the trunk options given (add: everything; update: only what changes). */
async function trunkFields(values: Values): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  if (values.name !== undefined) body.name = values.name;
  if (values.egress !== undefined) body.egress = values.egress;
  if (values.gateway !== undefined) {
    try {
      body.gateways = values.gateway.map(parseGatewaySpec);
    } catch (err) {
      if (err instanceof InputError) throw new UsageError(err.message);
      throw err;
    }
  }
  if (values.prefix !== undefined) body.prefixes = commaList(values.prefix).map((p) => (p.toLowerCase() === "default" ? "" : p));
  if (values["allow-source"] !== undefined) body.allowed_sources = commaList(values["allow-source"]).filter((s) => s !== "");
  if (values.enable === true && values.disable === true) throw new UsageError("use either --enable or --disable");
  if (values.enable === true) body.enabled = true;
  if (values.disable === true) body.enabled = false;
  if (values.register === true && values["no-register"] === true) throw new UsageError("use either --register or --no-register");
  if (values.register === true) body.register = true;
  if (values["no-register"] === true) body.register = false;
  if (values["register-expires"] !== undefined) body.register_expires = count(values["register-expires"], "--register-expires");
  if (values["caller-id"] !== undefined) body.caller_id = callerIdOption(values["caller-id"]);
  const password = await passwordOption(values);
  const wantsCredentials = values.username !== undefined || password !== undefined || values.realm !== undefined;
  if (values["no-credentials"] === true) {
    if (wantsCredentials) throw new UsageError("--no-credentials cannot go with --username, --password or --realm");
    body.credentials = null;
  } else if (wantsCredentials) {
    if (values.username === undefined) throw new UsageError("credentials need --username U (with --password P or --password-stdin)");
    body.credentials = { username: values.username, ...(password !== undefined ? { password } : {}), ...(values.realm !== undefined ? { realm: values.realm } : {}) };
  }
  return body;
}

function callerIdOption(text: string): Record<string, string> {
  if (text === "subscriber") return { mode: "subscriber" };
  const fallback = /^subscriber:(.+)$/.exec(text);
  if (fallback !== null) return { mode: "subscriber", default_number: fallback[1]! };
  if (text.startsWith("+")) return { mode: "fixed", number: text };
  throw new UsageError(`--caller-id takes "subscriber", a number like +15550100100, or "subscriber:+15550100100" (got "${text}")`);
}

async function passwordOption(values: Values): Promise<string | undefined> {
  if (values.password !== undefined && values["password-stdin"] === true) throw new UsageError("use either --password or --password-stdin");
  if (values["password-stdin"] !== true) return values.password;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

function gatewaysUp(t: PublicTrunk): string {
  const up = t.gateways.filter((g) => t.status?.gateways.find((s) => gatewayKey(s) === gatewayKey(g))?.up !== false).length;
  return t.status === undefined ? `${t.gateways.length} gateway(s), no status yet` : `${up}/${t.gateways.length} gateway(s) up`;
}

function prefixText(prefixes: string[]): string {
  return prefixes.length === 0 ? "none (inbound only)" : prefixes.map((p) => (p === "" ? "default" : p)).join(" ");
}

function trunkLine(t: PublicTrunk): string {
  return `${t.id}\t${t.enabled ? "enabled" : "disabled"}\tegress ${t.egress}\t${gatewaysUp(t)}\tprefixes ${prefixText(t.prefixes)}`;
}

function trunkDetails(t: PublicTrunk): string[] {
  const callerId = t.caller_id.mode === "fixed" ? `fixed ${t.caller_id.number}` : `the subscriber's${t.caller_id.default_number !== undefined ? `, else ${t.caller_id.default_number}` : ""}`;
  return [
    `${t.id}  "${t.name}"  ${t.enabled ? "enabled" : "disabled"}  egress ${t.egress}`,
    ...t.gateways.map((g) => `  gateway      ${gatewayKey(g)}  priority ${g.priority} weight ${g.weight}`),
    `  prefixes     ${prefixText(t.prefixes)}`,
    `  sources      ${t.allowed_sources.length === 0 ? "none (no inbound calls)" : t.allowed_sources.join(" ")}`,
    `  credentials  ${t.credentials === undefined ? "none" : `user ${t.credentials.username}, password set${t.credentials.realm !== undefined ? `, realm ${t.credentials.realm}` : ""}`}`,
    `  register     ${t.register ? `yes, every ${t.register_expires} s` : "no"}`,
    `  caller ID    ${callerId}`,
    `  updated      ${t.updated_at}`,
  ];
}

function statusLines(t: PublicTrunk): string[] {
  const s = t.status;
  if (s === undefined) return [`${t.id}: no status reported yet (the egress ${t.egress} has not reported on this trunk)`];
  const lines = [`${t.id}  ${t.enabled ? "enabled" : "disabled"}  reported ${s.updated_at}${s.link_connected === undefined ? "" : s.link_connected ? "  egress link up" : "  egress link DOWN"}`];
  for (const g of t.gateways) {
    const seen = s.gateways.find((x) => gatewayKey(x) === gatewayKey(g));
    lines.push(`  ${gatewayKey(g)}\t${seen === undefined ? "not checked" : seen.up ? "up" : "DOWN"}${seen !== undefined ? `\tchecked ${seen.checked_at}` : ""}${seen?.last_error !== undefined ? `\t${seen.last_error}` : ""}`);
  }
  if (s.registration !== undefined) {
    const r = s.registration;
    lines.push(`  registration ${r.state}${r.expires_at !== undefined ? ` until ${r.expires_at}` : ""}${r.last_error !== undefined ? ` (${r.last_error})` : ""}`);
  }
  if (s.active_calls !== undefined) lines.push(`  active calls ${s.active_calls}`);
  return lines;
}

function policyLines(v: CallOutPolicyView): string[] {
  const d = (field: CallOutPolicyView["defaults"][number]): string => (v.defaults.includes(field) ? "  (default)" : "");
  return [
    `${v.aor}`,
    `  can call out        ${v.can_call_out ? "yes" : "no"}${d("can_call_out")}`,
    `  allowed prefixes    ${v.allowed_prefixes.length === 0 ? "none" : v.allowed_prefixes.join(" ")}${d("allowed_prefixes")}`,
    `  max concurrent      ${v.max_concurrent_calls}${d("max_concurrent_calls")}`,
    `  max calls / minute  ${v.max_calls_per_minute}${d("max_calls_per_minute")}`,
    `  caller ID           ${v.caller_id ?? "none"}`,
  ];
}
