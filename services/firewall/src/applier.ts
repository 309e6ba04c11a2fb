// The apply protocol: check, apply in one transaction, read back and verify, and on any failure put
// the last good ruleset back. One apply at a time; the last good ruleset is kept on disk.

import { writeFileSync } from "node:fs";
import type { Logger } from "@metal-kube/logging";
import { ApplyStage } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { createLiveTable, type LiveTable } from "./live-table.js";
import { locateNftError, type NftRunner } from "./nft.js";
import type { NftSession } from "./nft-session.js";
import { diffRulesets } from "./ruleset-diff.js";
import type { RulesetModel } from "./ruleset-model.js";
import type { RenderedRuleset } from "./ruleset-text.js";
import type { LastGood, StateStore } from "./state-store.js";

/**
 * Up to this many rendered elements the read-back compares every chain and set; above, it reads the
 * marker, the chain names and the sets the apply changed (a full read-back of 10,000 elements costs as
 * much as the apply).
 */
export const DEFAULT_DEEP_VERIFY_MAX_ELEMENTS = 2_000;

export interface Failure {
  stage: ApplyStage;
  message: string;
  line: number;
  lineText: string;
  restored: boolean;
}

export interface ApplyAttempt {
  outcome: "applied" | "unchanged" | "dry-run" | "rolled-back";
  /** How the table was changed: the whole file, or only what differs from the live ruleset. */
  mode?: "full" | "incremental";
  failure?: Failure;
  /** The checksum the live table carries after the attempt. */
  activeChecksum: string | undefined;
  /** Milliseconds per stage. */
  stages: Partial<Record<"read" | "diff" | "check" | "apply" | "verify" | "save" | "restore", number>>;
}

export interface ApplierOptions {
  nft: NftRunner;
  /** A long-lived nft for the marker reads (see nft-session.ts); without it nft is started for each. */
  session?: NftSession;
  table: string;
  store: StateStore;
  logger: Logger;
  deepVerifyMaxElements?: number;
  /** Called with the pending file just before `nft -f` (tests use it to kill the process there). */
  onApplying?: (path: string) => void;
}

export interface Applier {
  readonly live: LiveTable;
  lastGood(): LastGood | undefined;
  /** Applies a rendered ruleset (dry run: check only). */
  apply(r: RenderedRuleset, o?: { dryRun?: boolean; checkOnly?: boolean }): Promise<ApplyAttempt>;
  /** Puts the last good ruleset back when the live table is not it (at start). */
  restore(): Promise<{ restored: boolean; checksum: string | undefined; error?: string }>;
  /** Compares the live table with the last good ruleset. */
  verify(deep: boolean): Promise<{ ok: boolean; message: string; checksum: string | undefined }>;
  /** Runs fn while no apply runs (for writers of set elements). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

export function createApplier(o: ApplierOptions): Applier {
  const live = createLiveTable(o.nft, o.table, o.session);
  const deepMax = o.deepVerifyMaxElements ?? DEFAULT_DEEP_VERIFY_MAX_ELEMENTS;
  /** The model is known only for rulesets this process applied (a restart applies the full file once). */
  let lastGood: { meta: LastGood; text: string; model?: RulesetModel } | undefined = o.store.load();
  let chain: Promise<unknown> = Promise.resolve();

  const withLock = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  const timed = async <T>(
    stages: ApplyAttempt["stages"],
    name: keyof ApplyAttempt["stages"],
    fn: () => Promise<T>,
  ) => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      stages[name] = Math.round((performance.now() - t) * 10) / 10;
    }
  };

  /** What differs between the live table and the expected one; "" when nothing. */
  async function differences(expected: {
    checksum: string;
    chainRules: Record<string, number>;
    elements: number;
    setElements?: Record<string, number>;
    dynamicSets: string[];
  }): Promise<string> {
    if (expected.elements <= deepMax) {
      const d = await live.deep();
      if (!d) return "the table is gone";
      if (d.checksum !== expected.checksum)
        return `the table carries checksum ${d.checksum ?? "none"}, not ${expected.checksum}`;
      for (const [name, n] of Object.entries(expected.chainRules))
        if (d.chainRules[name] !== n)
          return `chain ${name} has ${d.chainRules[name] ?? "no"} rules, not ${n}`;
      const extra = Object.keys(d.chainRules).filter((c) => !(c in expected.chainRules));
      if (extra.length) return `unexpected chains ${extra.join(", ")}`;
      for (const [name, n] of Object.entries(expected.setElements ?? {}))
        if (!expected.dynamicSets.includes(name) && d.setElements[name] !== n)
          return `set ${name} has ${d.setElements[name] ?? "no"} elements, not ${n}`;
      return "";
    }
    const [checksum, chains] = await Promise.all([live.checksum(), live.chains()]);
    if (checksum !== expected.checksum)
      return `the table carries checksum ${checksum ?? "none"}, not ${expected.checksum}`;
    const want = Object.keys(expected.chainRules).sort().join(",");
    if ([...chains].sort().join(",") !== want)
      return `chains differ: ${chains.length} live, ${Object.keys(expected.chainRules).length} expected`;
    return "";
  }

  const expectedOf = (r: {
    checksum: string;
    chainRules: Record<string, number>;
    summary: LastGood["summary"];
    dynamicSets: string[];
  }) => ({
    checksum: r.checksum,
    chainRules: r.chainRules,
    elements: r.summary.elements,
    setElements: Object.fromEntries(r.summary.setDetails.map((s) => [s.name, s.elements])),
    dynamicSets: r.dynamicSets,
  });

  /** Applies the last good ruleset again (carrying set elements over from whatever is live). */
  async function putBack(): Promise<{ ok: boolean; message: string }> {
    if (!lastGood) return { ok: false, message: "no last good ruleset to put back" };
    const carry = await live.carryOver(lastGood.meta.dynamicSets).catch(() => []);
    writeFileSync(o.store.pendingPath, lastGood.text + carry.map((l) => `${l}\n`).join(""), { mode: 0o600 });
    const r = await o.nft.run(["-f", o.store.pendingPath]);
    if (r.code !== 0)
      return { ok: false, message: `putting back ${lastGood.meta.checksum} failed: ${r.stderr.trim()}` };
    const diff = await differences(expectedOf({ ...lastGood.meta }));
    return diff
      ? { ok: false, message: `put back ${lastGood.meta.checksum} but ${diff}` }
      : { ok: true, message: "" };
  }

  const lineOf = (text: string, line: number) => (line > 0 ? (text.split("\n")[line - 1] ?? "").trim() : "");

  return {
    live,
    lastGood: () => lastGood?.meta,
    withLock,
    apply(r, opts = {}) {
      return withLock(async (): Promise<ApplyAttempt> => {
        const stages: ApplyAttempt["stages"] = {};
        const before = await timed(stages, "read", () => live.checksum());
        if (before === r.checksum && lastGood?.meta.checksum === r.checksum)
          return { outcome: "unchanged", activeChecksum: before, stages };
        // The live table is the last good ruleset this process applied: only what differs is sent.
        const diffStart = performance.now();
        const diff =
          lastGood?.model && before === lastGood.meta.checksum
            ? diffRulesets(lastGood.model, r.model, r.checksum)
            : undefined;
        stages.diff = Math.round((performance.now() - diffStart) * 10) / 10;
        const mode = diff ? "incremental" : "full";
        const carry = opts.dryRun || diff ? [] : await live.carryOver(r.dynamicSets);
        const text = diff ? diff.text : r.text + carry.map((l) => `${l}\n`).join("");
        writeFileSync(o.store.pendingPath, text, { mode: 0o600 });
        const checked = await timed(stages, "check", () => o.nft.run(["-c", "-f", o.store.pendingPath]));
        if (checked.code !== 0) {
          const at = locateNftError(checked.stderr);
          return {
            outcome: "rolled-back",
            activeChecksum: before,
            stages,
            failure: {
              stage: ApplyStage.APPLY_STAGE_CHECK,
              message: checked.stderr.trim(),
              line: at.line,
              lineText: lineOf(text, at.line),
              restored: false,
            },
          };
        }
        if (opts.dryRun) return { outcome: "dry-run", mode, activeChecksum: before, stages };
        o.onApplying?.(o.store.pendingPath);
        o.logger.info({ checksum: r.checksum, previous: before, mode }, "applying ruleset");
        const applied = await timed(stages, "apply", () => o.nft.run(["-f", o.store.pendingPath]));
        let failure: Failure | undefined;
        if (applied.code !== 0) {
          const at = locateNftError(applied.stderr);
          failure = {
            stage: ApplyStage.APPLY_STAGE_APPLY,
            message: applied.stderr.trim() || `nft exited with ${applied.code}`,
            line: at.line,
            lineText: lineOf(text, at.line),
            restored: false,
          };
        } else {
          const diff = await timed(stages, "verify", () =>
            differences(expectedOf({ ...r, summary: r.summary })),
          );
          if (diff)
            failure = {
              stage: ApplyStage.APPLY_STAGE_VERIFY,
              message: diff,
              line: 0,
              lineText: "",
              restored: false,
            };
        }
        if (!failure) {
          const meta: LastGood = {
            checksum: r.checksum,
            appliedAt: new Date().toISOString(),
            summary: r.summary,
            chainRules: r.chainRules,
            dynamicSets: r.dynamicSets,
          };
          await timed(stages, "save", async () => o.store.save(meta, r.text));
          lastGood = { meta, text: r.text, model: r.model };
          return { outcome: "applied", mode, activeChecksum: r.checksum, stages };
        }
        // A transaction nft refused leaves the table as it was; anything else is put back.
        const now = await live.checksum().catch(() => undefined);
        if (
          failure.stage === ApplyStage.APPLY_STAGE_APPLY &&
          now === before &&
          (before === undefined || before === lastGood?.meta.checksum)
        )
          return { outcome: "rolled-back", mode, activeChecksum: now, stages, failure };
        const back = await timed(stages, "restore", putBack);
        failure.restored = back.ok;
        if (!back.ok) failure.message += `\n${back.message}`;
        o.logger.warn(
          { checksum: r.checksum, stage: ApplyStage[failure.stage], restored: back.ok },
          "apply failed, last good ruleset put back",
        );
        return {
          outcome: "rolled-back",
          activeChecksum: await live.checksum().catch(() => undefined),
          stages,
          failure,
        };
      });
    },
    restore() {
      return withLock(async () => {
        if (!lastGood) return { restored: false, checksum: await live.checksum() };
        const now = await live.checksum();
        if (now === lastGood.meta.checksum && !(await differences(expectedOf(lastGood.meta))))
          return { restored: false, checksum: now };
        const back = await putBack();
        return back.ok
          ? { restored: true, checksum: lastGood.meta.checksum }
          : { restored: false, checksum: await live.checksum(), error: back.message };
      });
    },
    verify(deep) {
      return withLock(async () => {
        const checksum = await live.checksum();
        if (!lastGood)
          return {
            ok: checksum === undefined,
            message: checksum ? "a table of ours is live but no last good ruleset is known" : "",
            checksum,
          };
        const exp = expectedOf(lastGood.meta);
        const diff = await differences(deep ? exp : { ...exp, elements: Number.POSITIVE_INFINITY });
        return { ok: diff === "", message: diff, checksum };
      });
    },
  };
}
