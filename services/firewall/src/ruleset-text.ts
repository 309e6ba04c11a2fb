// Prints the table as one `nft -f` file that replaces the table in a single transaction, and names it
// by the SHA-256 of its bytes (the marker set's comment carries it into the kernel).

import { createHash } from "node:crypto";
import type { RulesetSummary } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { CHECKSUM_PLACEHOLDER } from "./ruleset-builder.js";
import type { RulesetModel } from "./ruleset-model.js";

export interface RenderedRuleset {
  text: string;
  /** What the text was printed from (the next apply diffs against it). */
  model: RulesetModel;
  checksum: string;
  summary: RulesetSummary;
  /** Rules per chain, as the read-back must find them. */
  chainRules: Record<string, number>;
  /** Names of the sets whose elements are carried over on re-apply. */
  dynamicSets: string[];
}

/** Elements per line in a set: short lines keep nft's error positions readable. */
const ELEMENTS_PER_LINE = 8;
/** nft strings cannot hold quotes or backslashes; names and comments are ours, this is belt and braces. */
const str = (s: string) => `"${s.replace(/["\\]/g, "")}"`;

/**
 * The file starts by creating the table (a no-op when it exists) and deleting it, so the definition
 * after it replaces whatever was there; nft -f runs all of it as one transaction.
 */
export function printRuleset(m: RulesetModel): RenderedRuleset {
  const lines: string[] = [];
  const t = `inet ${m.table}`;
  lines.push(`table ${t} {`, "}", `delete table ${t}`, "", `table ${t} {`, `\tcomment ${str(m.comment)}`, "");
  for (const c of m.counters) lines.push(`\tcounter ${c.name} {`, `\t\tcomment ${str(c.comment)}`, "\t}");
  lines.push("");
  for (const s of m.sets) {
    lines.push(`\t${s.type.includes(":") ? "map" : "set"} ${s.name} {`, `\t\ttype ${s.type}`);
    if (s.flags.length) lines.push(`\t\tflags ${s.flags.join(", ")}`);
    if (s.comment) lines.push(`\t\tcomment ${str(s.comment)}`);
    if (s.elements.length) {
      lines.push("\t\telements = {");
      for (let i = 0; i < s.elements.length; i += ELEMENTS_PER_LINE) {
        const chunk = s.elements.slice(i, i + ELEMENTS_PER_LINE).join(", ");
        lines.push(`\t\t\t${chunk}${i + ELEMENTS_PER_LINE < s.elements.length ? "," : ""}`);
      }
      lines.push("\t\t}");
    }
    lines.push("\t}", "");
  }
  const chainRules: Record<string, number> = {};
  let rules = 0;
  for (const c of m.chains) {
    lines.push(`\tchain ${c.name} {`);
    if (c.base) lines.push(`\t\t${c.base}`);
    for (const r of c.rules) lines.push(`\t\t${r}`);
    lines.push("\t}", "");
    chainRules[c.name] = c.rules.length;
    rules += c.rules.length;
  }
  if (lines[lines.length - 1] === "") lines.pop();
  lines.push("}", "");
  const draft = lines.join("\n");
  const checksum = createHash("sha256").update(draft).digest("hex");
  const elements = m.sets.reduce((n, s) => n + s.elements.length, 0);
  return {
    text: draft.replace(CHECKSUM_PLACEHOLDER, checksum),
    model: m,
    checksum,
    chainRules,
    dynamicSets: m.sets.filter((s) => s.dynamic).map((s) => s.name),
    summary: {
      rules,
      chains: m.chains.length,
      sets: m.sets.length,
      elements,
      counters: m.counters.length,
      setDetails: m.sets.map((s) => ({
        name: s.name,
        kind: s.kind,
        family: s.family === 4 ? "ip" : "ip6",
        elements: s.elements.length,
        selector: s.selector ?? "",
      })),
    },
  };
}
