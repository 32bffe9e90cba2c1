import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/** One per AOR: registrar, location, proxy and dialog store for that user. */
export class UserAgent extends DurableObject<Env> {}
