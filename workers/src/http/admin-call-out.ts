import { Hono } from "hono";
import { readConfig } from "../config.ts";
import { readCallOutPolicy, updateCallOutPolicy } from "../directory/call-out-policies.ts";
import { DidDirectory } from "../directory/dids.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { callOutPolicyPatch, callOutPolicyView } from "../trunks/call-out-policy.ts";
import { readNumberingPlan } from "../trunks/numbering-plan.ts";
import { jsonBody, servedAor } from "./admin.ts";
import { checkInput } from "./admin-input.ts";
import { ApiError } from "./api-error.ts";

/**
 * `/v1/subscribers/:aor/call-out` (issue 5): whether and where a subscriber
 * may call out, and how much (the toll-fraud policy, trunks/call-out-policy.ts).
 * Mounted by admin.ts under /subscribers.
 *
 *   GET   /subscribers/:aor/call-out   the policy in force, defaults filled in and named
 *   PATCH /subscribers/:aor/call-out   {can_call_out?, allowed_prefixes?, max_concurrent_calls?,
 *                                       max_calls_per_minute?, caller_id?}; null = back to the default
 *
 * A caller_id must be a DID assigned to this subscriber: nobody sends
 * someone else's number through our trunks. The subscriber's DO forgets its
 * cached record at once, so the next call sees the change.
 */
export function adminCallOut(): Hono<{ Bindings: Env }> {
  const api = new Hono<{ Bindings: Env }>();

  api.get("/:aor/call-out", async (c) => {
    const config = readConfig(c.env);
    const aor = servedAor(config, c.req.param("aor"));
    const stored = await readCallOutPolicy(config, aor.aor);
    if (stored === undefined) throw notFound(aor.aor);
    return c.json(callOutPolicyView(aor.aor, stored, readNumberingPlan(c.env)));
  });

  api.patch("/:aor/call-out", async (c) => {
    const config = readConfig(c.env);
    const plan = readNumberingPlan(c.env);
    const aor = servedAor(config, c.req.param("aor"));
    const body = await jsonBody(c);
    const patch = checkInput(() => callOutPolicyPatch(body));
    if (patch.set.caller_id !== undefined) {
      const did = await new DidDirectory(config).get(patch.set.caller_id);
      if (did?.aor !== aor.aor) {
        throw new ApiError(400, "caller_id_not_assigned", `caller_id ${patch.set.caller_id} is not a DID of ${aor.aor}: assign it first (PUT /v1/dids/${patch.set.caller_id} {"aor": "${aor.aor}"})`);
      }
    }
    const stored = await updateCallOutPolicy(config, aor.aor, patch, new Date().toISOString());
    if (stored === undefined) throw notFound(aor.aor);
    await c.env.USER_AGENT.get(c.env.USER_AGENT.idFromName(aor.aor)).subscriberChanged(aor.aor, "updated");
    const view = callOutPolicyView(aor.aor, stored, plan);
    logEvent("admin-call-out-policy-updated", {
      aor: aor.aor,
      can_call_out: view.can_call_out,
      allowed_prefixes: view.allowed_prefixes,
      max_concurrent_calls: view.max_concurrent_calls,
      max_calls_per_minute: view.max_calls_per_minute,
      fields: Object.keys(body),
    });
    return c.json(view);
  });

  return api;
}

function notFound(aor: string): ApiError {
  return new ApiError(404, "not_found", `no subscriber ${aor}`);
}
