/**
 * Operator input that cannot be accepted (a trunk, a DID, a call-out
 * policy): `code` is machine-readable, `message` says what is wrong and how
 * to write it. The admin API answers it as 400 `{error:{code,message}}`;
 * pure code here never imports the HTTP layer.
 */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Printable text without control characters or double quotes (they would need escaping inside SIP quoted-strings). */
export function plainText(value: unknown, field: string, max: number, code: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max || /[\x00-\x1f\x7f"\\]/.test(value)) {
    throw new InputError(code, `${field} must be a string of 1-${max} printable characters without quotes or backslashes`);
  }
  return value;
}

export function integerIn(value: unknown, field: string, min: number, max: number, code: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(code, `${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)?.slice(0, 40) ?? "nothing"})`);
  }
  return value;
}

export function booleanField(value: unknown, field: string, code: string): boolean {
  if (typeof value !== "boolean") throw new InputError(code, `${field} must be true or false`);
  return value;
}

/** Refuses keys outside `allowed`, naming them. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new InputError("invalid_field", `unknown field "${key}" in ${what} (allowed: ${allowed.join(", ")})`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
