// Runs the nft command (optionally inside a named network namespace) and reads its errors.

import { spawn } from "node:child_process";

/**
 * Debian's path, as the reference uses: a bare `nft` can resolve to something else on PATH (npm ships a
 * `nft` binary of its own in node_modules/.bin).
 */
export const DEFAULT_NFT_COMMAND = "/usr/sbin/nft";
export const DEFAULT_NFT_TIMEOUT_MS = 60_000;

export interface NftResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface NftRunnerOptions {
  /** The nft binary (default /usr/sbin/nft). */
  command?: string;
  /** Run nft inside this network namespace (`ip netns exec <name>`). */
  netns?: string;
  timeoutMs?: number;
}

export interface NftRunner {
  run(args: string[]): Promise<NftResult>;
  /** `nft -j <args>` parsed; throws NftError on a non-zero exit. */
  json(args: string[]): Promise<NftJson>;
}

export interface NftJson {
  nftables: Array<Record<string, unknown>>;
}

export class NftError extends Error {
  constructor(
    readonly args: string[],
    readonly result: NftResult,
  ) {
    super(
      `nft ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = "NftError";
  }
  get notFound(): boolean {
    return /No such file or directory/.test(this.result.stderr);
  }
}

export function createNftRunner(o: NftRunnerOptions = {}): NftRunner {
  const command = o.command ?? DEFAULT_NFT_COMMAND;
  const timeoutMs = o.timeoutMs ?? DEFAULT_NFT_TIMEOUT_MS;
  const run = (args: string[]) =>
    new Promise<NftResult>((resolve, reject) => {
      const [file, argv] = o.netns ? ["ip", ["netns", "exec", o.netns, command, ...args]] : [command, args];
      const child = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${file}: ${e.message}`, { cause: e }));
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString() + (signal ? `\nnft ended by ${signal}` : ""),
        });
      });
    });
  return {
    run,
    async json(args) {
      const r = await run(["-j", ...args]);
      if (r.code !== 0) throw new NftError(["-j", ...args], r);
      return r.stdout.trim() ? (JSON.parse(r.stdout) as NftJson) : { nftables: [] };
    },
  };
}

export interface NftErrorLocation {
  /** 1-based line of the file nft named first; 0 when none. */
  line: number;
  /** The first error message, without the position. */
  message: string;
}

/** nft writes `<file>:<line>:<col>-<col>: Error: <message>`; the first such line is the one to show. */
export function locateNftError(stderr: string): NftErrorLocation {
  const m = /^[^\n:]*:(\d+):\d+(?:-\d+)?: Error: (.*)$/m.exec(stderr);
  if (m) return { line: Number(m[1]), message: m[2]!.trim() };
  const e = /^Error: (.*)$/m.exec(stderr);
  return { line: 0, message: (e?.[1] ?? stderr.trim().split("\n")[0] ?? "").trim() };
}
