// The one way tests start a process of ours (a service, an adapter, a fixture): spawn it, wait until it
// says it is ready, and fail at once, naming it and quoting its output, when it exits first.

import { jsonLogs } from "./json-logs.js";
import { type ManagedProcess, spawnProcess } from "./process.js";
import { waitFor } from "./wait-for.js";

/** How long a process may take to become ready (a cold tsx start on a loaded 2-core host included). */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;
/** Output kept for logs() and error messages. */
export const DEFAULT_KEEP_OUTPUT_BYTES = 16 * 1024 * 1024;
/** How much of the output an error message quotes. */
export const DEFAULT_OUTPUT_TAIL_CHARS = 32_000;

export interface ReadyContext {
  /** The JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  output(): string;
}

export interface StartServiceProcessOptions<T> {
  /** Names the process in errors. */
  name: string;
  /** A TypeScript entry point, run as `node --import tsx <entry>`. */
  entry?: string;
  /** Or any command with its arguments. */
  command?: string;
  args?: readonly string[];
  cwd?: string;
  /** Added to this process' environment; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Ready once a JSON log line has this `msg`, or once the predicate returns something truthy. */
  ready: string | ((p: ReadyContext) => T | undefined | false | Promise<T | undefined | false>);
  timeoutMs?: number;
  keepOutput?: number;
}

export interface ServiceProcess<T = Record<string, unknown>> {
  readonly name: string;
  readonly proc: ManagedProcess;
  /** What `ready` found: the log line for a `msg`, else the predicate's value. */
  readonly ready: NonNullable<T>;
  logs(): Array<Record<string, unknown>>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | string>;
  /** SIGKILL at once (kill -9). */
  kill(): Promise<number | string>;
}

const tail = (s: string, n = DEFAULT_OUTPUT_TAIL_CHARS) => (s.length > n ? `...${s.slice(-n)}` : s);

/** Starts the process and resolves once it is ready; rejects when it exits or times out first. */
export async function startServiceProcess<T = Record<string, unknown>>(
  o: StartServiceProcessOptions<T>,
): Promise<ServiceProcess<T>> {
  if ((o.entry === undefined) === (o.command === undefined))
    throw new TypeError(`startServiceProcess(${o.name}): give exactly one of entry and command`);
  const [cmd, args] =
    o.entry !== undefined
      ? [process.execPath, ["--import", "tsx", o.entry, ...(o.args ?? [])]]
      : [o.command!, [...(o.args ?? [])]];
  const env = Object.fromEntries(
    Object.entries({ ...process.env, ...o.env }).filter(([, v]) => v !== undefined),
  ) as NodeJS.ProcessEnv;
  const proc = spawnProcess(cmd, args, {
    cwd: o.cwd,
    env,
    keepOutput: o.keepOutput ?? DEFAULT_KEEP_OUTPUT_BYTES,
  });
  const logs = jsonLogs(proc);
  const timeoutMs = o.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const wanted = typeof o.ready === "string" ? `to log "${o.ready}"` : "to be ready";
  const check =
    typeof o.ready === "string"
      ? (() => {
          const msg = o.ready;
          return () => logs().find((l) => l.msg === msg) as T | undefined;
        })()
      : () => (o.ready as Exclude<typeof o.ready, string>)({ logs, output: proc.output });
  const exited = proc.exited.then((code) => {
    throw new Error(`${o.name} exited with ${code} before it was ready; its output:\n${tail(proc.output())}`);
  });
  exited.catch(() => {});
  try {
    const ready = (await Promise.race([
      exited,
      waitFor(`${o.name} ${wanted}`, check, { timeoutMs }),
    ])) as NonNullable<T>;
    return {
      name: o.name,
      proc,
      ready,
      logs,
      output: proc.output,
      stop: (graceMs) => proc.stop(graceMs),
      kill: () => proc.kill(),
    };
  } catch (err) {
    await proc.kill();
    if (err instanceof Error && err.message.startsWith(`${o.name} exited`)) throw err;
    throw new Error(
      `${String(err instanceof Error ? err.message : err)}; its output:\n${tail(proc.output())}`,
      {
        cause: err,
      },
    );
  }
}
