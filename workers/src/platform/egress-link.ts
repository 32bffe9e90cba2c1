import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/** One per egress proxy connection: the trunk side's door into the edge. */
export class EgressLink extends DurableObject<Env> {}
