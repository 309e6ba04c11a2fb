import { parseOptions } from "./parse-options.js";

export const DEFAULT_BACKOFF_BASE_MS = 200;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
export const DEFAULT_BACKOFF_FACTOR = 2;
/** Fraction of the delay randomised so that many keys failing together do not retry in lockstep. */
export const DEFAULT_BACKOFF_JITTER = 0.1;

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  factor?: number;
  jitter?: number;
  /** Source of randomness in [0,1); tests pass a constant. */
  random?: () => number;
}

/** Per-key exponential backoff: base * factor^failures, capped at max, forgotten on success. */
export interface Backoff {
  /** Records a failure of `key` and returns how long to wait before the next attempt. */
  next(key: string): number;
  /** Clears the failure count of `key` (after a success). */
  forget(key: string): void;
  failures(key: string): number;
  /** Keys with a failure count (for tests and diagnostics). */
  readonly size: number;
}

export function backoffDelay(
  failures: number,
  o: { baseMs: number; maxMs: number; factor: number; jitter: number },
  random: () => number = Math.random,
): number {
  const raw = o.baseMs * o.factor ** Math.max(0, failures - 1);
  const capped = Math.min(o.maxMs, raw);
  const j = capped * o.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(o.maxMs, Math.round(capped + j)));
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const o = parseOptions(
    {
      baseMs: DEFAULT_BACKOFF_BASE_MS,
      maxMs: DEFAULT_BACKOFF_MAX_MS,
      factor: DEFAULT_BACKOFF_FACTOR,
      jitter: DEFAULT_BACKOFF_JITTER,
    },
    options,
    "BackoffOptions",
  );
  if (o.factor < 1) throw new TypeError(`BackoffOptions.factor: must be >= 1, got ${o.factor}`);
  if (o.jitter > 1) throw new TypeError(`BackoffOptions.jitter: must be <= 1, got ${o.jitter}`);
  const random = o.random ?? Math.random;
  const counts = new Map<string, number>();
  return {
    next(key) {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return backoffDelay(n, o, random);
    },
    forget(key) {
      counts.delete(key);
    },
    failures(key) {
      return counts.get(key) ?? 0;
    },
    get size() {
      return counts.size;
    },
  };
}
