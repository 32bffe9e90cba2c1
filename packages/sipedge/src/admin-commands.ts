import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AdminClient, type Registration, type Subscriber } from "./admin-client.ts";

/** A command-line mistake: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {}

export const ADMIN_USAGE = `admin commands (talk to a running edge's /v1 API):
  user add AOR [--password P | --password-stdin] [--name DISPLAY_NAME]
                         create a subscriber; without a password one is generated and printed
  user list              list subscribers
  user show AOR          show one subscriber
  user disable AOR       refuse its registrations at once (open sockets are closed)
  user enable AOR
  user passwd AOR [--password P | --password-stdin]
  user delete AOR
  registrations AOR      show the AOR's current registrations

admin options:
  --edge URL        the edge (default $SIPEDGE_URL, else http://127.0.0.1:8787, the local \`npm start\`)
  --token T         admin token (default $SIPEDGE_ADMIN_TOKEN, else ADMIN_TOKEN in .state/secrets.json)
  --json            print JSON instead of text
`;

const AOR = /^[^@\s]+@[^@\s]+$/;

export function resolveTarget(values: { edge?: string; token?: string }, repoRoot: string): AdminClient {
  const edge = values.edge ?? process.env.SIPEDGE_URL ?? "http://127.0.0.1:8787";
  if (!/^https?:\/\/[^\s/]+/.test(edge)) throw new UsageError(`--edge "${edge}" is not an http(s) URL`);
  let token = values.token ?? process.env.SIPEDGE_ADMIN_TOKEN;
  if (token === undefined) {
    const file = join(repoRoot, ".state", "secrets.json");
    if (existsSync(file)) token = (JSON.parse(readFileSync(file, "utf8")) as { ADMIN_TOKEN?: string }).ADMIN_TOKEN;
  }
  if (token === undefined || token === "") {
    throw new UsageError("no admin token: pass --token T, set SIPEDGE_ADMIN_TOKEN, or run `npm start` once so .state/secrets.json exists");
  }
  return new AdminClient(edge, token);
}

function aorArg(positionals: string[], index: number, what: string): string {
  const aor = positionals[index];
  if (aor === undefined) throw new UsageError(`${what} needs an AOR, e.g. alice@example.com`);
  if (!AOR.test(aor)) throw new UsageError(`"${aor}" is not an AOR (user@domain)`);
  return aor;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

async function passwordOption(values: { password?: string; "password-stdin"?: boolean }): Promise<string | undefined> {
  if (values.password !== undefined && values["password-stdin"] === true) throw new UsageError("use either --password or --password-stdin");
  if (values["password-stdin"] === true) return readStdin();
  return values.password;
}

function subscriberLine(s: Subscriber): string {
  return `${s.aor}\t${s.enabled ? "enabled" : "disabled"}\t${s.display_name ?? ""}\tcreated ${s.created_at}`;
}

function registrationLine(r: Registration): string {
  const device = r.instance !== undefined ? ` instance ${r.instance} reg-id ${r.reg_id ?? "-"}` : "";
  return `${r.contact}\texpires in ${r.expires_in}s\t${r.egress !== undefined ? `legacy phone via egress ${r.egress}` : `flow ${r.flow_id}${r.flow_connected ? "" : " (closed)"}`}${device}${r.user_agent !== undefined ? `\t${r.user_agent}` : ""}`;
}

/** `sipedge user …` and `sipedge registrations …`; returns the exit code. */
export async function adminCommand(command: "user" | "registrations", argv: string[], repoRoot: string, out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      edge: { type: "string" },
      token: { type: "string" },
      password: { type: "string" },
      "password-stdin": { type: "boolean" },
      name: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  const json = values.json === true;
  const print = (value: unknown, text: () => string[]): void => {
    if (json) out(JSON.stringify(value, null, 2));
    else for (const line of text()) out(line);
  };

  if (command === "registrations") {
    const aor = aorArg(positionals, 0, "registrations");
    const regs = await resolveTarget(values, repoRoot).registrations(aor);
    print(regs, () => (regs.length === 0 ? [`${aor}: no registrations`] : regs.map(registrationLine)));
    return 0;
  }

  const [sub] = positionals;
  switch (sub) {
    case "add": {
      const aor = aorArg(positionals, 1, "user add");
      let password = await passwordOption(values);
      const generated = password === undefined;
      password ??= randomBytes(12).toString("base64url");
      const s = await resolveTarget(values, repoRoot).createSubscriber(aor, password, values.name);
      print(generated ? { ...s, password } : s, () => [`created ${s.aor}`, ...(generated ? [`password ${password}`] : [])]);
      return 0;
    }
    case "list": {
      const all = await resolveTarget(values, repoRoot).listSubscribers();
      print(all, () => (all.length === 0 ? ["no subscribers"] : all.map(subscriberLine)));
      return 0;
    }
    case "show": {
      const s = await resolveTarget(values, repoRoot).getSubscriber(aorArg(positionals, 1, "user show"));
      print(s, () => [subscriberLine(s)]);
      return 0;
    }
    case "disable":
    case "enable": {
      const s = await resolveTarget(values, repoRoot).updateSubscriber(aorArg(positionals, 1, `user ${sub}`), { enabled: sub === "enable" });
      print(s, () => [`${s.aor} ${s.enabled ? "enabled" : "disabled"}`]);
      return 0;
    }
    case "passwd": {
      const aor = aorArg(positionals, 1, "user passwd");
      const password = await passwordOption(values);
      if (password === undefined) throw new UsageError("user passwd needs --password P or --password-stdin");
      const s = await resolveTarget(values, repoRoot).updateSubscriber(aor, { password });
      print(s, () => [`${s.aor} password changed`]);
      return 0;
    }
    case "delete": {
      const aor = aorArg(positionals, 1, "user delete");
      await resolveTarget(values, repoRoot).deleteSubscriber(aor);
      print({ deleted: aor }, () => [`deleted ${aor}`]);
      return 0;
    }
    case undefined:
      throw new UsageError("user needs a subcommand: add, list, show, disable, enable, passwd, delete");
    default:
      throw new UsageError(`unknown user subcommand "${sub}"`);
  }
}
