/**
 * A setting that is missing or malformed, named so an operator can fix it.
 * On its own (config.ts re-exports it) so code that only checks a setting —
 * e.g. trunks/numbering-plan.ts, which Node tools share — does not pull in
 * the edge's Env and with it the Durable Objects' types.
 */
export class ConfigError extends Error {
  constructor(public readonly setting: string, problem: string) {
    super(`${setting}: ${problem} (set it in wrangler.toml [vars], or with \`wrangler secret put ${setting}\`)`);
    this.name = "ConfigError";
  }
}
