/**
 * Structured logs: one JSON object per line (same shape as the edge's
 * `workers/src/log.ts`: `t`, `level`, `event`, fields). Fields whose names
 * look like secrets are dropped as a second line of defence; the shared ng
 * secret is never passed here in the first place.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;
export type LogLevel = "debug" | "info" | "warn" | "error";

const FORBIDDEN = /^(secret|secrets|password|token|signature|authorization|x-sipedge-signature)$/i;
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}

export function jsonLogger(min: LogLevel = "info", write: (line: string) => void = (l) => process.stdout.write(l + "\n")): Logger {
  const emit = (level: LogLevel, event: string, fields: LogFields = {}): void => {
    if (ORDER[level] < ORDER[min]) return;
    const safe: LogFields = {};
    for (const [k, v] of Object.entries(fields)) if (!FORBIDDEN.test(k)) safe[k] = v;
    write(JSON.stringify({ t: new Date().toISOString(), level, event, ...safe }));
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
