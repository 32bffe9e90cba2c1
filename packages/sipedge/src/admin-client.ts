/**
 * A small client of the edge's admin API (/v1, bearer token): what the
 * `sipedge user …` and `sipedge registrations …` commands call.
 */
export interface Subscriber {
  aor: string;
  display_name?: string;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface Registration {
  contact: string;
  instance?: string;
  reg_id?: number;
  flow_id: string;
  flow_connected: boolean;
  /** A legacy phone's binding: the egress it registered through. */
  egress?: string;
  outbound: boolean;
  expires_in: number;
  expires_at: string;
  registered_at: string;
  user_agent?: string;
}

/** An answer of the API other than success, with its `{error:{code,message}}`. */
export class AdminApiError extends Error {
  override name = "AdminApiError";
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** One API call; public so typed wrappers for other resources can live beside their commands (trunk-client.ts). */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl.replace(/\/$/, "") + path, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.message : String(err));
      throw new AdminApiError(0, "unreachable", `cannot reach the edge at ${this.baseUrl} (${cause}); is it running (npm start)? use --edge URL or SIPEDGE_URL`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AdminApiError(res.status, "bad_response", `the edge answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } }).error;
      throw new AdminApiError(res.status, e?.code ?? "error", e?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  createSubscriber(aor: string, password: string, displayName?: string): Promise<Subscriber> {
    return this.call("POST", "/v1/subscribers", { aor, password, ...(displayName !== undefined ? { display_name: displayName } : {}) });
  }

  async listSubscribers(): Promise<Subscriber[]> {
    const all: Subscriber[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.call<{ subscribers: Subscriber[]; next_cursor?: string }>(
        "GET",
        `/v1/subscribers?limit=200${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      all.push(...page.subscribers);
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    return all.sort((a, b) => a.aor.localeCompare(b.aor));
  }

  getSubscriber(aor: string): Promise<Subscriber> {
    return this.call("GET", `/v1/subscribers/${encodeURIComponent(aor)}`);
  }

  updateSubscriber(aor: string, patch: { enabled?: boolean; password?: string; display_name?: string }): Promise<Subscriber> {
    return this.call("PATCH", `/v1/subscribers/${encodeURIComponent(aor)}`, patch);
  }

  deleteSubscriber(aor: string): Promise<void> {
    return this.call("DELETE", `/v1/subscribers/${encodeURIComponent(aor)}`);
  }

  async registrations(aor: string): Promise<Registration[]> {
    return (await this.call<{ registrations: Registration[] }>("GET", `/v1/subscribers/${encodeURIComponent(aor)}/registrations`)).registrations;
  }
}
