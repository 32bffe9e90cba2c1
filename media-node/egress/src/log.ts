/**
 * Structured logs: one JSON object per line (`t`, `level`, `event`, fields),
 * the same logger as the media agent's (secret-looking field names are
 * dropped). The egress never passes message bodies or credential headers
 * (Authorization, Proxy-Authorization) as fields: only method, status,
 * Call-ID, CSeq, addresses and reasons.
 */
export { jsonLogger, silentLogger, isLogLevel, type Logger, type LogFields, type LogLevel } from "../../agent/src/log.ts";
