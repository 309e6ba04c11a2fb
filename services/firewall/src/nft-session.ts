// One long-lived `nft -j -i` for the cheap reads of the hot path (the marker of every reconcile): a
// command on its stdin costs well under a millisecond, starting nft for it costs 5-15 ms.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { NftJson, NftRunnerOptions } from "./nft.js";
import { DEFAULT_NFT_COMMAND } from "./nft.js";

/**
 * nft prints nothing on stdout for a command that fails (the error goes to stderr), so every command is
 * followed by one whose text output always ends with a known line: its arrival closes the command.
 */
const SENTINEL = "describe ct state";
const SENTINEL_END = /^\s*untracked\s/;
export const QUERY_TIMEOUT_MS = 5_000;

export interface NftSession {
  /** Runs one list command; undefined when nft refused it (e.g. the object does not exist). */
  query(command: string): Promise<NftJson | undefined>;
  /** The running nft's pid (undefined before the first query and after it ended). */
  readonly pid: number | undefined;
  close(): void;
}

export function createNftSession(o: NftRunnerOptions = {}): NftSession {
  const command = o.command ?? DEFAULT_NFT_COMMAND;
  let child: ChildProcess | undefined;
  let waiting: Array<{
    resolve: (j: NftJson | undefined) => void;
    reject: (e: Error) => void;
    json?: NftJson;
  }> = [];
  let chain: Promise<unknown> = Promise.resolve();

  const start = () => {
    const [file, argv] = o.netns
      ? ["ip", ["netns", "exec", o.netns, command, "-j", "-i"]]
      : [command, ["-j", "-i"]];
    const c = spawn(file, argv, { stdio: ["pipe", "pipe", "ignore"] });
    child = c;
    createInterface({ input: c.stdout! }).on("line", (line) => {
      const head = waiting[0];
      if (!head) return;
      if (line.startsWith('{"nftables"')) head.json = JSON.parse(line) as NftJson;
      else if (SENTINEL_END.test(line)) {
        waiting.shift();
        head.resolve(head.json);
      }
    });
    const fail = (err: Error) => {
      if (child === c) child = undefined;
      const w = waiting;
      waiting = [];
      for (const x of w) x.reject(err);
    };
    c.once("exit", (code) => fail(new Error(`nft -i exited with ${code}`)));
    c.once("error", (err) => fail(err));
    c.stdin!.on("error", () => {});
  };

  const once = (cmd: string) =>
    new Promise<NftJson | undefined>((resolve, reject) => {
      if (!child) start();
      const c = child!;
      // A hung nft is replaced: the caller falls back to starting nft for this read.
      const timer = setTimeout(() => c.kill("SIGKILL"), QUERY_TIMEOUT_MS);
      waiting.push({
        resolve: (j) => {
          clearTimeout(timer);
          resolve(j);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      c.stdin!.write(`${cmd}\n${SENTINEL}\n`);
    });

  return {
    query(cmd) {
      // One command at a time: the answers are matched to commands by order.
      const run = chain.then(
        () => once(cmd),
        () => once(cmd),
      );
      chain = run.catch(() => undefined);
      return run;
    },
    get pid() {
      return child?.pid;
    },
    close() {
      child?.stdin?.end();
      child?.kill();
      child = undefined;
    },
  };
}
