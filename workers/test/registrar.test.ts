import { describe, expect, it } from "vitest";
import type { Binding, BindingChanges, BindingStore } from "../src/registrar/binding.ts";
import { Registrar, type ContactSpec, type RegisterRequest } from "../src/registrar/registrar.ts";
import { SipError } from "../src/sip-error.ts";

/** An in-memory BindingStore: a fake for pure registrar logic. */
class MapBindingStore implements BindingStore {
  readonly rows = new Map<string, Binding>();
  commits = 0;
  list(nowMs: number): Binding[] {
    return [...this.rows.values()].filter((b) => b.expiresAt > nowMs);
  }
  commit(c: BindingChanges): void {
    this.commits++;
    for (const k of c.removeKeys) this.rows.delete(k);
    for (const b of c.put) this.rows.set(b.key, b);
  }
  removeFlow(flowId: string): Binding[] {
    const out = [...this.rows.values()].filter((b) => b.flowId === flowId);
    for (const b of out) this.rows.delete(b.key);
    return out;
  }
  removeExpired(nowMs: number): number {
    let n = 0;
    for (const [k, b] of this.rows) if (b.expiresAt <= nowMs) (this.rows.delete(k), n++);
    return n;
  }
  nextExpiry(): number | undefined {
    const all = [...this.rows.values()].map((b) => b.expiresAt);
    return all.length === 0 ? undefined : Math.min(...all);
  }
}

const T0 = 1_700_000_000_000;

function contact(user: string, extra: Partial<ContactSpec> = {}): ContactSpec {
  const uri = `sip:${user}@abc.invalid;transport=ws`;
  return { uri, uriKey: `sip:${user}@abc.invalid:;ws`, ...extra };
}

function req(o: Partial<RegisterRequest> & { contacts: RegisterRequest["contacts"] }): RegisterRequest {
  return { callId: "c1", cseq: 1, supported: [], require: [], path: [], ...o };
}

function sipError(f: () => unknown): SipError {
  try {
    f();
  } catch (err) {
    if (err instanceof SipError) return err;
    throw err;
  }
  throw new Error("expected a SipError");
}

describe("Registrar (RFC 3261 §10.3)", () => {
  it("adds a binding on the flow and lists it in the 200 with its expires", () => {
    const store = new MapBindingStore();
    const r = new Registrar(store).register(req({ contacts: [contact("a")], expires: 600 }), { flowId: "f1", nowMs: T0 });
    expect(r.added).toBe(1);
    expect(store.rows.size).toBe(1);
    expect([...store.rows.values()][0]!.flowId).toBe("f1");
    expect(r.headers).toContainEqual(["Contact", "<sip:a@abc.invalid;transport=ws>;expires=600"]);
    expect(r.headers.find(([n]) => n === "Date")).toBeDefined();
  });

  it("a query (no Contact) lists current bindings and writes nothing", () => {
    const store = new MapBindingStore();
    const reg = new Registrar(store);
    reg.register(req({ contacts: [contact("a")], expires: 600 }), { flowId: "f1", nowMs: T0 });
    const q = reg.register(req({ contacts: [], cseq: 2 }), { flowId: "f1", nowMs: T0 + 100_000 });
    expect(store.commits).toBe(1);
    expect(q.headers.filter(([n]) => n === "Contact")).toEqual([["Contact", "<sip:a@abc.invalid;transport=ws>;expires=500"]]);
  });

  it("refuses 423 with Min-Expires below 60 s, and caps long lifetimes at 3600 s", () => {
    const store = new MapBindingStore();
    const reg = new Registrar(store);
    const e = sipError(() => reg.register(req({ contacts: [contact("a")], expires: 30 }), { flowId: "f1", nowMs: T0 }));
    expect(e.status).toBe(423);
    expect(e.headers).toContainEqual(["Min-Expires", "60"]);
    expect(store.rows.size).toBe(0);
    reg.register(req({ contacts: [contact("a", { expires: 99999 })] }), { flowId: "f1", nowMs: T0 });
    expect([...store.rows.values()][0]!.expiresAt).toBe(T0 + 3600_000);
  });

  it("removes with expires 0, and '*' only with Expires: 0", () => {
    const store = new MapBindingStore();
    const reg = new Registrar(store);
    reg.register(req({ contacts: [contact("a"), contact("b")], expires: 600 }), { flowId: "f1", nowMs: T0 });
    reg.register(req({ contacts: [contact("a", { expires: 0 })], cseq: 2 }), { flowId: "f1", nowMs: T0 });
    expect([...store.rows.keys()]).toEqual(["u:sip:b@abc.invalid:;ws"]);
    expect(sipError(() => reg.register(req({ contacts: "*", cseq: 3, expires: 60 }), { flowId: "f1", nowMs: T0 })).status).toBe(400);
    expect(sipError(() => reg.register(req({ contacts: "*", cseq: 3 }), { flowId: "f1", nowMs: T0 })).status).toBe(400);
    const r = reg.register(req({ contacts: "*", cseq: 3, expires: 0 }), { flowId: "f1", nowMs: T0 });
    expect(r.removed).toBe(1);
    expect(store.rows.size).toBe(0);
  });

  it("same Call-ID needs a higher CSeq (step 7), and nothing changes when it is not", () => {
    const store = new MapBindingStore();
    const reg = new Registrar(store);
    reg.register(req({ contacts: [contact("a")], cseq: 5, expires: 600 }), { flowId: "f1", nowMs: T0 });
    expect(sipError(() => reg.register(req({ contacts: [contact("a")], cseq: 5, expires: 300 }), { flowId: "f1", nowMs: T0 })).status).toBe(500);
    expect(sipError(() => reg.register(req({ contacts: "*", cseq: 4, expires: 0 }), { flowId: "f1", nowMs: T0 })).status).toBe(500);
    expect(store.rows.size).toBe(1);
    // Another Call-ID (a restarted UA) may replace it whatever its CSeq.
    reg.register(req({ contacts: [contact("a")], callId: "c2", cseq: 1, expires: 300 }), { flowId: "f2", nowMs: T0 });
    expect([...store.rows.values()][0]!.flowId).toBe("f2");
  });

  it("RFC 5626: instance + reg-id key the binding, so a new flow replaces the device's old one", () => {
    const store = new MapBindingStore();
    const reg = new Registrar(store);
    const inst = "<urn:uuid:1>";
    const r1 = reg.register(req({ contacts: [contact("x1", { instance: inst, regId: 1 })], supported: ["outbound"], expires: 600 }), { flowId: "f1", nowMs: T0 });
    expect(r1.outbound).toBe(true);
    expect(r1.headers).toContainEqual(["Require", "outbound"]);
    expect(r1.headers).toContainEqual(["Flow-Timer", "60"]);
    expect(r1.replacedFlows).toEqual([]);
    // Reconnected: new socket, new Contact URI, new Call-ID; same instance and reg-id.
    const r2 = reg.register(req({ contacts: [contact("x2", { instance: inst, regId: 1 })], supported: ["outbound"], callId: "c9", expires: 600 }), { flowId: "f2", nowMs: T0 });
    expect(r2.replacedFlows).toEqual(["f1"]); // the platform hands f1's dialogs to f2 after a restart (lost-flows.ts)
    expect(store.rows.size).toBe(1);
    const b = [...store.rows.values()][0]!;
    expect(b.flowId).toBe("f2");
    expect(b.uri).toContain("x2@");
    // A second device keeps its own binding.
    reg.register(req({ contacts: [contact("y", { instance: "<urn:uuid:2>", regId: 1 })], supported: ["outbound"], callId: "c3", expires: 600 }), { flowId: "f3", nowMs: T0 });
    expect(store.rows.size).toBe(2);
  });

  it("without Supported: outbound, instance/reg-id are stored but the contact URI keys the binding", () => {
    const store = new MapBindingStore();
    const r = new Registrar(store).register(req({ contacts: [contact("x1", { instance: "<urn:uuid:1>", regId: 1 })], expires: 600 }), { flowId: "f1", nowMs: T0 });
    expect(r.outbound).toBe(false);
    expect(r.headers.find(([n]) => n === "Require")).toBeUndefined();
    expect([...store.rows.keys()][0]).toMatch(/^u:/);
  });

  it("refuses several reg-id Contacts under outbound (RFC 5626 §6) and an unsupported Require (420)", () => {
    const reg = new Registrar(new MapBindingStore());
    const two = [contact("a", { instance: "<urn:uuid:1>", regId: 1 }), contact("b", { instance: "<urn:uuid:1>", regId: 2 })];
    expect(sipError(() => reg.register(req({ contacts: two, supported: ["outbound"], expires: 600 }), { flowId: "f", nowMs: T0 })).status).toBe(400);
    const e = sipError(() => reg.register(req({ contacts: [contact("a")], require: ["foo", "outbound"] }), { flowId: "f", nowMs: T0 }));
    expect(e.status).toBe(420);
    expect(e.headers).toContainEqual(["Unsupported", "foo"]);
  });

  it("caps the number of contacts per AOR", () => {
    const reg = new Registrar(new MapBindingStore());
    const many = Array.from({ length: 11 }, (_, i) => contact(`u${i}`));
    expect(sipError(() => reg.register(req({ contacts: many, expires: 600 }), { flowId: "f", nowMs: T0 })).status).toBe(403);
  });

  it("expired bindings are not listed and are swept", () => {
    const store = new MapBindingStore();
    new Registrar(store).register(req({ contacts: [contact("a")], expires: 60 }), { flowId: "f1", nowMs: T0 });
    expect(store.nextExpiry()).toBe(T0 + 60_000);
    expect(store.list(T0 + 60_000)).toEqual([]);
    expect(store.removeExpired(T0 + 60_000)).toBe(1);
  });
});
