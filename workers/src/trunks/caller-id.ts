import { CallOutDenied, type CallOutPolicy } from "./call-out-policy.ts";
import type { Trunk } from "./trunk.ts";

/**
 * The E.164 caller ID a call leaves on `trunk` with (the trunk's rule,
 * trunk.ts CallerIdRule): its fixed number, or the subscriber's own caller
 * ID, else the trunk's default number. Throws CallOutDenied "no-caller-id"
 * when there is none: a call must not leave with a made-up identity.
 */
export function callerIdFor(trunk: Pick<Trunk, "caller_id">, policy: CallOutPolicy, subscriber: string, destination: string): string {
  const rule = trunk.caller_id;
  if (rule.mode === "fixed") return rule.number;
  const number = policy.callerId ?? rule.default_number;
  if (number === undefined) throw new CallOutDenied("no-caller-id", subscriber, destination);
  return number;
}
