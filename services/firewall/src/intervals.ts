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
 * order labels first appear in the input), and merges neighbours with the same labels: a sweep over the
 * sorted boundaries, O(n log n + output · covering labels). The sweep runs on numbers: IPv4 boundaries
 * are exact as numbers, IPv6 ones are replaced by their rank among all boundaries first (bigint
 * arithmetic in the sweep cost more than the rest of a render).
 */
export function partition<L>(items: readonly Labeled<L>[]): Segment<L>[] {
  const order = new Map<L, number>();
  const valid = items.filter((it) => it.hi >= it.lo);
  const n = valid.length;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = valid[i]!.label;
    let r = order.get(label);
    if (r === undefined) {
      r = order.size;
      order.set(label, r);
    }
    rank[i] = r;
  }
  const labelsByOrder = [...order.keys()];
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  let back: (x: number) => bigint;
  if (valid.every((it) => it.hi < 1n << 52n)) {
    for (let i = 0; i < n; i++) {
      start[i] = Number(valid[i]!.lo);
      end[i] = Number(valid[i]!.hi) + 1;
    }
    back = (x) => BigInt(x);
  } else {
    const sorted = valid.flatMap((it) => [it.lo, it.hi + 1n]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const points = sorted.filter((p, i) => i === 0 || p !== sorted[i - 1]);
    // Binary search: a Map keyed by bigints hashes them slowly enough to dominate a render.
    const rankOf = (v: bigint) => {
      let lo = 0;
      let hi = points.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (points[mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (let i = 0; i < n; i++) {
      start[i] = rankOf(valid[i]!.lo);
      end[i] = rankOf(valid[i]!.hi + 1n);
    }
    back = (x) => points[x]!;
  }
  // Event e < n starts item e; event n + e ends it; at one point ends come first. Sorted as numbers
  // (position, then start bit, then event) packed into one double, which a typed array sorts without a
  // comparator; exact while position * 2 * 2^bits + event stays below 2^53.
  const total = 2 * n;
  const bits = Math.max(1, Math.ceil(Math.log2(total + 1)));
  const scale = 2 ** bits;
  const pos = (e: number) => (e < n ? start[e]! : end[e - n]!);
  let events: Int32Array;
  let maxPos = 0;
  for (let i = 0; i < n; i++) if (end[i]! > maxPos) maxPos = end[i]!;
  if ((maxPos * 2 + 1) * scale + scale < 2 ** 53) {
    const keys = new Float64Array(total);
    for (let e = 0; e < total; e++) keys[e] = (pos(e) * 2 + (e < n ? 1 : 0)) * scale + e;
    keys.sort();
    events = new Int32Array(total);
    for (let k = 0; k < total; k++) events[k] = keys[k]! % scale;
  } else {
    events = new Int32Array(total);
    for (let e = 0; e < total; e++) events[e] = e;
    events.sort((a, b) => pos(a) - pos(b) || (a >= n ? 0 : 1) - (b >= n ? 0 : 1));
  }

  const counts = new Int32Array(order.size);
  let active: number[] = [];
  const out: Segment<L>[] = [];
  let last: { seg: Segment<L>; end: number; ranks: number[] } | undefined;
  let k = 0;
  while (k < events.length) {
    const point = pos(events[k]!);
    let changed = false;
    for (; k < events.length && pos(events[k]!) === point; k++) {
      const e = events[k]!;
      const r = rank[e < n ? e : e - n]!;
      if (e < n) {
        counts[r] = counts[r]! + 1;
        if (counts[r] === 1) {
          active = insertSorted(active, r);
          changed = true;
        }
      } else {
        counts[r] = counts[r]! - 1;
        if (counts[r] !== 0) continue;
        active = active.filter((x) => x !== r);
        changed = true;
      }
    }
    if (k >= events.length || active.length === 0) {
      last = undefined;
      continue;
    }
    const next = pos(events[k]!);
    if (last && last.end === point && (!changed || sameRanks(last.ranks, active))) {
      last.seg.hi = back(next) - 1n;
      last.end = next;
      continue;
    }
    const seg = { lo: back(point), hi: back(next) - 1n, labels: active.map((r) => labelsByOrder[r]!) };
    out.push(seg);
    last = { seg, end: next, ranks: active };
  }
  return out;
}

function insertSorted(a: number[], v: number): number[] {
  const out = [...a, v];
  for (let i = out.length - 1; i > 0 && out[i - 1]! > out[i]!; i--)
    [out[i - 1], out[i]] = [out[i]!, out[i - 1]!];
  return out;
}

function sameRanks(a: number[], b: number[]) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
