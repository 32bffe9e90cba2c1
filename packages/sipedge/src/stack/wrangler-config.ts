import { readFileSync } from "node:fs";
import { parse } from "smol-toml";

/** What Miniflare needs from wrangler.toml to run the Worker as deployed. */
export interface WorkerSettings {
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
  durableObjects: Record<string, { className: string; useSQLite: boolean }>;
}

class WranglerConfigError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "WranglerConfigError";
  }
}

/**
 * Reads the parts of wrangler.toml the local stack uses. We read the file
 * ourselves because importing wrangler to do it costs seconds of start-up.
 * test/unit/wrangler-config.test.ts checks the result against wrangler's own
 * `unstable_getMiniflareWorkerOptions`.
 */
export function readWorkerSettings(file: string): WorkerSettings {
  const toml = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const str = (key: string): string => {
    const v = toml[key];
    if (typeof v !== "string" || v === "") throw new WranglerConfigError(file, `"${key}" must be a non-empty string`);
    return v;
  };
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries((toml.vars as Record<string, unknown> | undefined) ?? {})) {
    if (typeof v !== "string") throw new WranglerConfigError(file, `[vars] ${k} must be a string`);
    vars[k] = v;
  }
  const sqlite = new Set<string>();
  for (const m of (toml.migrations as { new_sqlite_classes?: string[] }[] | undefined) ?? []) {
    for (const c of m.new_sqlite_classes ?? []) sqlite.add(c);
  }
  const durableObjects: WorkerSettings["durableObjects"] = {};
  const dos = (toml.durable_objects as { bindings?: { name: string; class_name: string }[] } | undefined)?.bindings ?? [];
  for (const b of dos) {
    if (typeof b.name !== "string" || typeof b.class_name !== "string") {
      throw new WranglerConfigError(file, "every [[durable_objects.bindings]] needs name and class_name");
    }
    durableObjects[b.name] = { className: b.class_name, useSQLite: sqlite.has(b.class_name) };
  }
  const flags = toml.compatibility_flags;
  return {
    main: str("main"),
    compatibilityDate: str("compatibility_date"),
    compatibilityFlags: Array.isArray(flags) ? flags.map(String) : [],
    vars,
    durableObjects,
  };
}
