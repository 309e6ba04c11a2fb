import { type ChildProcess, spawn } from "node:child_process";

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Keep the last this many bytes of output for error messages (default 64 KiB). */
  keepOutput?: number;
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** Combined stdout and stderr captured so far (tail). */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
  /** SIGKILL at once (kill -9). */
  kill(): Promise<number | string>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/** Spawns a child that is killed when the test process exits, with its output kept for diagnostics. */
export function spawnProcess(cmd: string, args: string[], opts: SpawnOptions = {}): ManagedProcess {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const keep = opts.keepOutput ?? 65536;
  let buf = "";
  const onData = (d: Buffer) => {
    buf += d.toString();
    if (buf.length > keep) buf = buf.slice(-keep);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? -1);
    });
    child.once("error", (err) => {
      live.delete(child);
      buf += String(err);
      resolve(-1);
    });
  });
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const r = await exited;
    clearTimeout(t);
    return r;
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    return exited;
  };
  return { child, output: () => buf, exited, stop, kill };
}
