/** Exponential backoff with jitter: attempt 0 waits ~initialMs, doubling up to maxMs. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, jitter: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * jitter;
  return Math.max(0, Math.round(base - spread + Math.random() * 2 * spread));
}
