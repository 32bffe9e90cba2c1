import type { StackInfo } from "./stack-info.ts";

/** Calls the admin API with the stack's token (or the given one). */
export async function adminFetch(stack: StackInfo, method: string, path: string, body?: unknown, token: string | null = stack.secrets.ADMIN_TOKEN): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack.edgeUrl}${path}`, {
    method,
    headers: {
      ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? undefined : JSON.parse(text) };
}

export interface RegistrationRow {
  contact: string;
  instance?: string;
  reg_id?: number;
  flow_id: string;
  flow_connected: boolean;
  expires_in: number;
  outbound: boolean;
}

export async function registrationsOf(stack: StackInfo, aor: string): Promise<RegistrationRow[]> {
  const r = await adminFetch(stack, "GET", `/v1/subscribers/${encodeURIComponent(aor)}/registrations`);
  if (r.status !== 200) throw new Error(`registrations of ${aor}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.registrations as RegistrationRow[];
}

/**
 * Waits until `check` returns a value that passes `done`, asking again every
 * 25 ms: for state that can only be observed by asking (e.g. the DO has
 * processed a socket close), never as a stand-in for a message we could wait on.
 */
export async function eventually<T>(check: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 5_000, what = "a condition"): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T = await check();
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
    last = await check();
  }
  return last;
}

/** A fresh subscriber for one test, created through the admin API. */
export async function newSubscriber(stack: StackInfo, user: string, password = "correct horse battery"): Promise<{ aor: string; password: string }> {
  const aor = `${user}-${Math.random().toString(36).slice(2, 8)}@${stack.domain}`;
  const r = await adminFetch(stack, "POST", "/v1/subscribers", { aor, password });
  if (r.status !== 201) throw new Error(`creating ${aor}: ${r.status} ${JSON.stringify(r.json)}`);
  return { aor, password };
}
