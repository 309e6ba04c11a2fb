// Starts a TypeScript entry as its own process and waits for its "ready" log line. A stand-in for
// libs/testing's startServiceProcess, which replaces it when that lands.
import { jsonLogs, type ManagedProcess, spawnProcess, waitFor } from "@metal-kube/testing";

export interface RunningProcess {
  proc: ManagedProcess;
  logs(): Array<Record<string, unknown>>;
  /** The log line that said the process is ready. */
  line: Record<string, unknown>;
}

export async function spawnUntilLog(
  entry: string,
  env: Record<string, string>,
  msg: string,
  timeoutMs = 30_000,
): Promise<RunningProcess> {
  const proc = spawnProcess(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    keepOutput: 4 * 1024 * 1024,
  });
  const logs = jsonLogs(proc);
  const exited = proc.exited.then((code) => {
    throw new Error(`${entry} exited with ${code}: ${proc.output().slice(-4000)}`);
  });
  const line = await Promise.race([
    exited,
    waitFor(msg, () => logs().find((l) => l.msg === msg), { timeoutMs }),
  ]);
  exited.catch(() => {});
  return { proc, logs, line };
}
