/**
 * Structured logs: one JSON object per line, one line per event (issue 3).
 * Every SIP event carries `call_id`. Never pass a password, an HA1 value or
 * an Authorization header here: `redact` drops fields with such names as a
 * second line of defence.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

const FORBIDDEN = /^(password|ha1.*|authorization|proxy-authorization|credentials|token|secret)$/i;

function redact(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const key of Object.keys(fields)) {
    if (FORBIDDEN.test(key)) {
      out ??= { ...fields };
      delete out[key];
    }
  }
  return out ?? fields;
}

export function logEvent(event: string, fields: LogFields = {}, level: "info" | "warn" | "error" = "info"): void {
  const line = JSON.stringify({ t: new Date().toISOString(), level, event, ...redact(fields) });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
