// Interval arithmetic for nftables interval sets and maps: the kernel refuses overlapping elements, so
// every set is rendered from disjoint intervals.

import type { Interval } from "./ip.js";

const byLo = (a: Interval, b: Interval) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0);

/** Sorted, disjoint, non-adjacent intervals covering exactly the union of the input. */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort(byLo);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.lo <= last.hi + 1n) {
      if (iv.hi > last.hi) last.hi = iv.hi;
    } else out.push({ lo: iv.lo, hi: iv.hi });
  }
  return out;
}

/** `from` minus every interval of `holes`, sorted and disjoint. */
export function subtract(from: readonly Interval[], holes: readonly Interval[]): Interval[] {
  const h = union(holes);
  const out: Interval[] = [];
  for (const base of union(from)) {
    let lo = base.lo;
    for (const hole of h) {
      if (hole.hi < lo) continue;
      if (hole.lo > base.hi) break;
      if (hole.lo > lo) out.push({ lo, hi: hole.lo - 1n });
      lo = hole.hi + 1n;
      if (lo > base.hi) break;
    }
    if (lo <= base.hi) out.push({ lo, hi: base.hi });
  }
  return out;
}

/** An interval carrying what it stands for (a rule's chain). */
export interface Labeled<L> extends Interval {
  label: L;
}

/** A piece of the partition: every label whose interval covers it, in first-seen order. */
export interface Segment<L> extends Interval {
  labels: L[];
}

/**
 * Cuts overlapping labeled intervals into disjoint segments, each with the labels covering it (in the
 * order labels first appear in the input), and merges neighbours with the same labels. A sweep over the
 * sorted boundaries: O(n log n + output · covering labels).
 */
export function partition<L>(items: readonly Labeled<L>[]): Segment<L>[] {
  const order = new Map<L, number>();
  for (const it of items) if (!order.has(it.label)) order.set(it.label, order.size);
  const labelsByOrder = [...order.keys()];
  // Starts at lo, ends after hi; an end and a start at the same point: the end first.
  const events: Array<{ at: bigint; delta: 1 | -1; rank: number }> = [];
  for (const it of items) {
    if (it.hi < it.lo) continue;
    const rank = order.get(it.label)!;
    events.push({ at: it.lo, delta: 1, rank }, { at: it.hi + 1n, delta: -1, rank });
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.delta - b.delta));
  const active = new Map<number, number>();
  const out: Segment<L>[] = [];
  let prevKey = "";
  let i = 0;
  while (i < events.length) {
    const at = events[i]!.at;
    while (i < events.length && events[i]!.at === at) {
      const e = events[i]!;
      const n = (active.get(e.rank) ?? 0) + e.delta;
      if (n === 0) active.delete(e.rank);
      else active.set(e.rank, n);
      i++;
    }
    if (i >= events.length || active.size === 0) {
      prevKey = "";
      continue;
    }
    const next = events[i]!.at;
    const ranks = [...active.keys()].sort((a, b) => a - b);
    const key = ranks.join(",");
    const last = out[out.length - 1];
    if (last && key === prevKey && last.hi + 1n === at) last.hi = next - 1n;
    else out.push({ lo: at, hi: next - 1n, labels: ranks.map((r) => labelsByOrder[r]!) });
    prevKey = key;
  }
  return out;
}
