import type { Logger } from "@metal-kube/logging";
import type { KeyedMutex } from "../state/mutex.js";
import type { Persistence } from "../state/persistence.js";
import type { Store } from "../state/store.js";
import type { MachineRecord } from "../state/types.js";

/** What the domain operations share. */
export interface Ctx {
  store: Store;
  persist: Persistence;
  /** Serialises allocations per partition. */
  locks: KeyedMutex;
  log: Logger;
  now: () => Date;
  /** The provisioning clock: called whenever a machine should step on. */
  schedule(m: MachineRecord, delayMs?: number): void;
}

export const iso = (ctx: Ctx) => ctx.now().toISOString();
