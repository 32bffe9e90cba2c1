import type { Clock } from "../clock.ts";
import type { TransactionCounters } from "../counters.ts";
import type { Logger } from "../log.ts";
import type { Timers } from "./timers.ts";
import type { TransactionTransport } from "./transaction-transport.ts";

/** What every transaction gets from the TransactionLayer that made it. */
export interface TransactionContext {
  transport: TransactionTransport;
  clock: Clock;
  timers: Readonly<Timers>;
  counters: TransactionCounters;
  logger: Logger;
}
