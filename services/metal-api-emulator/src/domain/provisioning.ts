import type { MachineRecord } from "../state/types.js";
import type { Ctx } from "./context.js";
import { addEvent, lastEvent, releaseMachine } from "./machines.js";

// The provisioning clock: what the machine (metal-hammer, the installed OS) would report next.
// Allocated: Waiting -> Installing -> Booting New Kernel -> Phoned Home (allocated mid-reclaim: on to Waiting first).
// Freed: Machine Reclaim -> (networks and allocation released) -> PXE Booting -> Preparing -> Registering -> Waiting.

const ALLOCATED_NEXT: Record<string, string> = {
  Waiting: "Installing",
  Installing: "Booting New Kernel",
  "Booting New Kernel": "Phoned Home",
};
const FREE_NEXT: Record<string, string> = {
  "Machine Reclaim": "PXE Booting",
  "PXE Booting": "Preparing",
  Preparing: "Registering",
  Registering: "Waiting",
};

export interface ProvisioningOptions {
  /** Time between two provisioning events. */
  stepMs: number;
  /** Time from a free call until networks and allocation are released. */
  freeDelayMs: number;
  /** Allocated machines phone home this often (the event's time is refreshed). */
  phoneHomeMs: number;
}

export interface Provisioner {
  schedule(m: MachineRecord, delayMs?: number): void;
  /** Re-arms timers for every machine mid-way (after a restart). */
  resume(): void;
  stop(): void;
}

export function nextEvent(m: MachineRecord): string | undefined {
  if (m.freeing) return undefined;
  const last = lastEvent(m);
  if (!m.allocation) return FREE_NEXT[last];
  // metal-api takes a `uuid` allocation of any unallocated machine, also one still coming back from a
  // reclaim: it boots on to Waiting, where metal-hammer's wait finds the allocation and installs at once
  return ALLOCATED_NEXT[last] ?? FREE_NEXT[last];
}

export function createProvisioner(getCtx: () => Ctx, o: ProvisioningOptions): Provisioner {
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  const step = (id: string) => {
    timers.delete(id);
    const ctx = getCtx();
    const m = ctx.store.machines.get(id);
    if (!m || stopped) return;
    if (m.freeing) {
      releaseMachine(ctx, m);
    } else {
      const next = nextEvent(m);
      if (!next) return;
      // metal-hammer finalizes the allocation right before it boots into the installed OS
      if (next === "Booting New Kernel" && m.allocation) m.allocation.succeeded = true;
      addEvent(ctx, m, next);
    }
    ctx.persist.commit().catch((err) => ctx.log.error({ err }, "persisting provisioning state failed"));
    if (nextEvent(m)) schedule(m);
  };

  function schedule(m: MachineRecord, delayMs?: number) {
    if (stopped) return;
    clearTimeout(timers.get(m.id));
    if (!m.freeing && !nextEvent(m)) return;
    const t = setTimeout(step, delayMs ?? (m.freeing ? o.freeDelayMs : o.stepMs), m.id);
    t.unref();
    timers.set(m.id, t);
  }

  const phoneHome = setInterval(() => {
    const ctx = getCtx();
    let changed = false;
    for (const m of ctx.store.machines.values()) {
      const e = m.events[0];
      if (m.allocation && !m.freeing && e?.event === "Phoned Home" && m.liveliness === "Alive") {
        e.time = ctx.now().toISOString();
        m.last_event_time = e.time;
        changed = true;
      }
    }
    if (changed) ctx.persist.commit().catch((err) => ctx.log.error({ err }, "persisting phone home failed"));
  }, o.phoneHomeMs);
  phoneHome.unref();

  return {
    schedule,
    resume() {
      for (const m of getCtx().store.machines.values()) if (m.freeing || nextEvent(m)) schedule(m);
    },
    stop() {
      stopped = true;
      clearInterval(phoneHome);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
