// Concurrent calls with one key share one run: MCM runs many syncs at once and may ask twice for the same
// machine; only one allocation may come of it.

export interface SingleFlight<T> {
  run(key: string, fn: () => Promise<T>): Promise<T>;
  /** Keys with a run in progress. */
  readonly size: number;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const running = new Map<string, Promise<T>>();
  return {
    run(key, fn) {
      const current = running.get(key);
      if (current) return current;
      const p = (async () => {
        try {
          return await fn();
        } finally {
          running.delete(key);
        }
      })();
      running.set(key, p);
      return p;
    },
    get size() {
      return running.size;
    },
  };
}
