import type { Store } from "../state/store.js";
import type { MachineRecord } from "../state/types.js";

/**
 * Machine list responses, kept until the store's next revision: each machine's JSON, and whole answers
 * by query. Thousands of machines are otherwise rebuilt and serialized on every list (5,000 machines:
 * ~14 MB, ~70 ms), which would make the emulator, not its client, the slow side of a benchmark.
 */
export interface MachineJsonCache {
  /**
   * `[...]` of the machines' responses, UTF-8. key: what determines the list (the route and query);
   * select: computes the machines when that answer is not cached.
   */
  list(key: string, select: () => readonly MachineRecord[]): Buffer;
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");
/** Whole answers kept per revision; a poller's few queries fit, a scan of many distinct ones does not grow it. */
const MAX_ANSWERS = 32;

export function createMachineJsonCache(
  store: Store,
  render: (m: MachineRecord) => unknown,
): MachineJsonCache {
  let revision = -1;
  // Encoded once: an answer is then one copy of bytes, not a 14 MB string to join, measure and encode.
  let machines = new Map<string, Buffer>();
  let answers = new Map<string, Buffer>();
  return {
    list(key, select) {
      if (revision !== store.revision) {
        revision = store.revision;
        machines = new Map();
        answers = new Map();
      }
      const hit = answers.get(key);
      if (hit) return hit;
      const parts: Buffer[] = [OPEN];
      for (const m of select()) {
        let json = machines.get(m.id);
        if (json === undefined) {
          json = Buffer.from(JSON.stringify(render(m)));
          machines.set(m.id, json);
        }
        if (parts.length > 1) parts.push(COMMA);
        parts.push(json);
      }
      parts.push(CLOSE);
      const answer = Buffer.concat(parts);
      if (answers.size >= MAX_ANSWERS) answers.clear();
      answers.set(key, answer);
      return answer;
    },
  };
}
