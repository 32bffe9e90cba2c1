import { InputError } from "../trunks/input-error.ts";
import { ApiError } from "./api-error.ts";

/** Runs a pure input check; its InputError becomes the API's 400 with the same code and message. */
export function checkInput<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InputError) throw new ApiError(400, err.code, err.message);
    throw err;
  }
}

/** `?limit=` of a paginated list: an integer 1..max, `fallback` when absent. */
export function pageLimit(text: string | undefined, fallback: number, max: number): number {
  const limit = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new ApiError(400, "invalid_limit", `limit must be an integer from 1 to ${max}`);
  return limit;
}
