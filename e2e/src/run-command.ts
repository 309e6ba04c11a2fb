import { spawn } from "node:child_process";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Text fed to stdin. */
  input?: string;
  /** Called with each output line (stdout and stderr), for progress reporting. */
  onLine?: (line: string) => void;
}

/** Runs a command to completion; resolves with stdout, rejects naming the command with its output tail. */
export function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let partial = "";
    const lines = (d: Buffer) => {
      if (!opts.onLine) return;
      partial += d.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const l of parts) opts.onLine(l);
    };
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      lines(d);
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.length > 65536) err = err.slice(-65536);
      lines(d);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    child.once("error", (e) => reject(new Error(`${cmd} could not start: ${e.message}`, { cause: e })));
    child.once("close", (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${cmd} ${args.join(" ")} failed (${code ?? signal}): ${(err || out).trim().slice(-4000)}`,
          ),
        );
    });
  });
}

/** True when `cmd` is found on PATH. */
export async function onPath(cmd: string): Promise<boolean> {
  try {
    await runCommand("sh", ["-c", `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}
