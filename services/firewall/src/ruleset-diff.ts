// The change from the live ruleset to the next one as one nft transaction: only the chains, sets,
// elements and counters that differ. A large table (10,000 addresses) costs nft about as much to parse
// as the kernel to load; a change of one policy then touches a few lines instead of the whole table.
// The result is the same table the full file makes (the same marker, chains, rules and elements), and
// it is still one transaction: old or new, never a mix.

import { MARKER_SET } from "./names.js";
import { CHECKSUM_PLACEHOLDER } from "./ruleset-builder.js";
import type { NftChain, NftSet, RulesetModel } from "./ruleset-model.js";

export interface RulesetDiff {
  text: string;
  /** Sets whose elements the transaction changes (what a read-back should count). */
  changedSets: string[];
  /** Statements in the transaction (0: nothing to do but the marker). */
  statements: number;
}

const str = (s: string) => `"${s.replace(/["\\]/g, "")}"`;
const keyOf = (s: NftSet, element: string) => (s.type.includes(":") ? element.split(" : ")[0]! : element);
const kindOf = (s: NftSet) => (s.type.includes(":") ? "map" : "set");
const declOf = (s: NftSet) => JSON.stringify([s.type, s.flags, s.comment ?? ""]);
const ELEMENTS_PER_STATEMENT = 500;
/** Past this many statements (or a tenth of the rules) the full file is cheaper to check and apply. */
export const MAX_STATEMENTS = 200;

function setBody(s: NftSet, checksum: string): string {
  const parts = [`type ${s.type};`];
  if (s.flags.length) parts.push(`flags ${s.flags.join(", ")};`);
  if (s.comment) parts.push(`comment ${str(s.comment.replace(CHECKSUM_PLACEHOLDER, checksum))};`);
  if (s.elements.length) parts.push(`elements = { ${s.elements.join(", ")} };`);
  return `{ ${parts.join(" ")} }`;
}

const sameElements = (a: NftSet, b: NftSet) =>
  a.elements.length === b.elements.length && a.elements.every((e, i) => e === b.elements[i]);

/** What a chain's rules refer to by name: sets (`@x`), chains (`jump x`) and counters (`counter name "x"`). */
function references(c: NftChain): Set<string> {
  const out = new Set<string>();
  for (const r of c.rules) {
    for (const m of r.matchAll(/@([A-Za-z0-9_]+)/g)) out.add(`set:${m[1]}`);
    for (const m of r.matchAll(/\b(?:jump|goto) ([A-Za-z0-9_]+)/g)) out.add(`chain:${m[1]}`);
    for (const m of r.matchAll(/counter name "([^"]+)"/g)) out.add(`counter:${m[1]}`);
  }
  return out;
}

/**
 * The transaction turning `prev` (the live table) into `next`; undefined when only the full file can do
 * it (another table or comment, or a base chain declared differently).
 */
export function diffRulesets(
  prev: RulesetModel,
  next: RulesetModel,
  checksum: string,
): RulesetDiff | undefined {
  if (prev.table !== next.table || prev.comment !== next.comment) return undefined;
  const t = `inet ${next.table}`;
  const prevSets = new Map(prev.sets.map((s) => [s.name, s]));
  const nextSets = new Map(next.sets.map((s) => [s.name, s]));
  const prevChains = new Map(prev.chains.map((c) => [c.name, c]));
  const nextChains = new Map(next.chains.map((c) => [c.name, c]));
  const prevCounters = new Map(prev.counters.map((c) => [c.name, c]));
  const nextCounters = new Map(next.counters.map((c) => [c.name, c]));

  const setsGone = new Set<string>();
  const setsNew: NftSet[] = [];
  for (const s of prev.sets) if (s.name !== MARKER_SET && !nextSets.has(s.name)) setsGone.add(s.name);
  for (const s of next.sets) {
    if (s.name === MARKER_SET) continue;
    const p = prevSets.get(s.name);
    if (!p) setsNew.push(s);
    else if (declOf(p) !== declOf(s) || (s.flags.includes("interval") && !sameElements(p, s))) {
      // Its elements would be lost: only the full file carries them over.
      if (p.dynamic) return undefined;
      // nft 1.0 adds to or deletes from an existing interval set at a cost that grows with the set (a
      // single element in a set of 9,000 costs 280 ms); a set made anew in the transaction costs one
      // load of its elements, and the rules using it are put back after it.
      setsGone.add(s.name);
      setsNew.push(s);
    }
  }
  const countersGone = new Set<string>();
  for (const c of prev.counters) {
    const n = nextCounters.get(c.name);
    if (!n || n.comment !== c.comment) countersGone.add(c.name);
  }
  const chainsGone = new Set([...prevChains.keys()].filter((n) => !nextChains.has(n)));
  const chainsNew = next.chains.filter((c) => !prevChains.has(c.name));
  const flushed = new Set<string>();
  const gone = [
    ...[...setsGone].map((x) => `set:${x}`),
    ...[...chainsGone].map((x) => `chain:${x}`),
    ...[...countersGone].map((x) => `counter:${x}`),
  ];
  for (const c of next.chains) {
    const p = prevChains.get(c.name);
    if (!p) continue;
    if ((p.base ?? "") !== (c.base ?? "")) return undefined;
    if (p.rules.length !== c.rules.length || p.rules.some((r, i) => r !== c.rules[i])) flushed.add(c.name);
    // An unchanged chain is refilled too when it refers to something the transaction deletes.
    else if (gone.length) {
      const refs = references(p);
      if (gone.some((g) => refs.has(g))) flushed.add(c.name);
    }
  }

  const lines: string[] = [];
  for (const c of [...flushed, ...chainsGone]) lines.push(`flush chain ${t} ${c}`);
  const changedSets: string[] = [];
  const adds: string[] = [];
  for (const s of next.sets) {
    const p = prevSets.get(s.name);
    if (!p || s.name === MARKER_SET || setsGone.has(s.name) || s.dynamic || sameElements(p, s)) continue;
    const before = new Set(p.elements);
    const after = new Set(s.elements);
    const removed = p.elements.filter((e) => !after.has(e)).map((e) => keyOf(p, e));
    const added = s.elements.filter((e) => !before.has(e));
    if (removed.length + added.length === 0) continue;
    changedSets.push(s.name);
    for (let i = 0; i < removed.length; i += ELEMENTS_PER_STATEMENT)
      lines.push(
        `delete element ${t} ${s.name} { ${removed.slice(i, i + ELEMENTS_PER_STATEMENT).join(", ")} }`,
      );
    for (let i = 0; i < added.length; i += ELEMENTS_PER_STATEMENT)
      adds.push(`add element ${t} ${s.name} { ${added.slice(i, i + ELEMENTS_PER_STATEMENT).join(", ")} }`);
  }
  for (const name of setsGone) lines.push(`delete ${kindOf(prevSets.get(name)!)} ${t} ${name}`);
  for (const c of chainsGone) lines.push(`delete chain ${t} ${c}`);
  for (const c of countersGone) lines.push(`delete counter ${t} ${c}`);
  for (const c of next.counters)
    if (!prevCounters.has(c.name) || countersGone.has(c.name))
      lines.push(`add counter ${t} ${c.name} { comment ${str(c.comment)}; }`);
  // Chains first (map elements jump to them), then sets (rules refer to them), then the rules.
  for (const c of chainsNew) lines.push(`add chain ${t} ${c.name}${c.base ? ` { ${c.base} }` : ""}`);
  for (const s of setsNew) {
    lines.push(`add ${kindOf(s)} ${t} ${s.name} ${setBody(s, checksum)}`);
    changedSets.push(s.name);
  }
  for (const c of next.chains)
    if (flushed.has(c.name) || !prevChains.has(c.name))
      for (const r of c.rules) lines.push(`add rule ${t} ${c.name} ${r}`);
  lines.push(...adds);
  const statements = lines.length;
  const rules = next.chains.reduce((n, c) => n + c.rules.length, 0);
  if (statements > Math.max(MAX_STATEMENTS, rules / 10)) return undefined;
  const marker = nextSets.get(MARKER_SET);
  if (marker)
    lines.push(`delete set ${t} ${MARKER_SET}`, `add set ${t} ${MARKER_SET} ${setBody(marker, checksum)}`);
  return { text: `${lines.join("\n")}\n`, changedSets, statements };
}
