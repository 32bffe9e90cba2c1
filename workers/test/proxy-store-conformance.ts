// One conformance suite for every ProxyStore (STYLE.md: Hono's
// common.case.test.ts): the in-memory store runs it under vitest, the SQL
// store runs it inside workerd over a Durable Object's real SQLite
// (proxy-store.test.ts). Plain code, no vitest: it also runs in workerd.

import type { Dialog } from "../src/proxy/dialog.ts";
import type { ProxyStore } from "../src/proxy/proxy-store.ts";
import type { ProxyTransaction } from "../src/proxy/proxy-transaction.ts";

export function sampleTransaction(id: string, key: string): ProxyTransaction {
  return {
    id,
    key,
    method: "INVITE",
    role: "in",
    source: { kind: "user", aor: "alice@example.com" },
    loop: "0badcafe",
    request: "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS example.com;branch=z9hG4bKx\r\nContent-Length: 3\r\n\r\nv=0",
    inDialog: false,
    createdAt: 1000,
    finalStatus: 0,
    canceled: false,
    branches: [
      { n: 0, target: { kind: "flow", flowId: "f1" }, requestUri: "sip:x@y.invalid;transport=ws", state: "calling", status: 0, cancel: "no", timerAt: 33000 },
      { n: 1, target: { kind: "flow", flowId: "f2" }, requestUri: "sip:z@w.invalid;transport=ws", state: "proceeding", status: 180, cancel: "wanted", timerAt: 181000 },
    ],
    best: null,
    challenges: [],
  };
}

export function sampleDialog(id: string, flowId: string): Dialog {
  return {
    id,
    side: "callee",
    callId: "call-" + id,
    fromTag: "a",
    toTag: "b",
    caller: { aor: "alice@example.com", nameAddr: "<sip:alice@example.com>;tag=a", contact: "sip:a@a.invalid;transport=ws", cseq: 2 },
    callee: { aor: "bob@example.com", nameAddr: "<sip:bob@example.com>;tag=b", contact: "sip:b@b.invalid;transport=ws", cseq: 0 },
    recordRoute: ["<sip:t1.00@example.com;transport=ws;lr>", "<sip:t2.00@example.com;transport=ws;lr>"],
    flowId,
    createdAt: 1,
    lastActivityAt: 2,
    sessionExpires: 90,
    sessionExpiresAt: 90_001,
    maxLifetimeAt: 43_200_001,
  };
}

/** Runs every case against fresh stores from `make`; returns the failures (empty when all pass). */
export function runProxyStoreConformance(make: () => ProxyStore): string[] {
  const failures: string[] = [];
  const check = (name: string, cond: boolean, detail?: unknown) => {
    if (!cond) failures.push(`${name}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
  };
  const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

  {
    const s = make();
    const tx = sampleTransaction("t1", "z9hG4bKx|host:");
    s.insertTransaction(tx);
    check("insert then get returns the record", same(s.getTransaction("t1"), tx), s.getTransaction("t1"));
    check("find by match key", s.findTransaction("z9hG4bKx|host:")?.id === "t1");
    check("unknown id is undefined", s.getTransaction("nope") === undefined);
    check("unknown key is undefined", s.findTransaction("nope") === undefined);
    const copy = s.getTransaction("t1")!;
    copy.branches[0]!.state = "completed";
    check("records come out as copies", s.getTransaction("t1")!.branches[0]!.state === "calling");
  }
  {
    const s = make();
    const tx = sampleTransaction("t2", "k2");
    s.insertTransaction(tx);
    const changed = { ...tx, request: "SHOULD NOT BE WRITTEN", finalStatus: 200, best: { status: 486, text: "SIP/2.0 486 Busy Here\r\n\r\n", synthesized: false } };
    changed.branches = tx.branches.map((b) => ({ ...b, state: "completed" as const, status: 486 }));
    s.updateTransaction(changed);
    const got = s.getTransaction("t2")!;
    check("update writes the record", got.finalStatus === 200 && got.best?.status === 486 && got.branches.every((b) => b.state === "completed"), got);
    check("update never rewrites the request", got.request === tx.request, got.request);
    s.updateTransaction(sampleTransaction("absent", "k"));
    check("update of an absent record inserts nothing", s.getTransaction("absent") === undefined);
  }
  {
    const s = make();
    s.insertTransaction(sampleTransaction("a", "ka"));
    s.insertTransaction(sampleTransaction("b", "kb"));
    check("list holds every transaction", same(s.listTransactions().map((t) => t.id).sort(), ["a", "b"]), s.listTransactions().map((t) => t.id));
    s.deleteTransaction("a");
    check("delete removes it", s.getTransaction("a") === undefined && s.findTransaction("ka") === undefined);
    check("delete leaves the others", same(s.listTransactions().map((t) => t.id), ["b"]));
    s.deleteTransaction("a");
    check("delete twice is harmless", s.listTransactions().length === 1);
  }
  {
    const s = make();
    const d = sampleDialog("callee|c|a|b", "f1");
    s.putDialog(d);
    check("dialog put then get", same(s.getDialog(d.id), d), s.getDialog(d.id));
    s.putDialog({ ...d, lastActivityAt: 99, callee: { ...d.callee, cseq: 5 } });
    check("dialog put replaces", s.getDialog(d.id)?.lastActivityAt === 99 && s.getDialog(d.id)?.callee.cseq === 5);
    s.putDialog(sampleDialog("caller|c|a|b", "f2"));
    check("dialog list", same(s.listDialogs().map((x) => x.id).sort(), ["callee|c|a|b", "caller|c|a|b"]));
    const copy = s.getDialog(d.id)!;
    copy.recordRoute.push("x");
    check("dialogs come out as copies", s.getDialog(d.id)!.recordRoute.length === 2);
    s.deleteDialog(d.id);
    check("dialog delete", s.getDialog(d.id) === undefined && s.listDialogs().length === 1);
  }
  return failures;
}

/** JSON with object keys sorted: equality that ignores key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
