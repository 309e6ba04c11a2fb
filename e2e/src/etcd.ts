import { freePort, type ManagedProcess, waitFor } from "@metal-kube/testing";
import { spawnGuarded } from "./guarded-process.js";

export interface StartEtcdOptions {
  dataDir: string;
  clientPort?: number;
  peerPort?: number;
}

export interface Etcd {
  /** http://127.0.0.1:<port>, for --etcd-servers. */
  readonly url: string;
  /** Current store revision. */
  revision(): Promise<number>;
  /** Compacts history up to the current revision (physical), so older resourceVersions are gone. */
  compact(): Promise<number>;
  /** Stops the process, keeping the data dir. */
  halt(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
  output(): string;
  /** Process id while running. */
  pid(): number | undefined;
}

/**
 * Debian's etcd-server (3.4) on loopback, plain HTTP: it is reachable only from this machine and only
 * the apiserver talks to it. Compaction goes through etcd's JSON gateway, so no etcdctl is needed.
 */
export async function startEtcd(o: StartEtcdOptions): Promise<Etcd> {
  const clientPort = o.clientPort ?? (await freePort());
  const peerPort = o.peerPort ?? (await freePort());
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let proc: ManagedProcess | undefined;
  let lastOutput = "";

  const gateway = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as { header?: { revision?: string } };
  };
  const revision = async () => {
    // Any range request returns the store's current revision in its header.
    const r = await gateway("/v3/kv/range", { key: Buffer.from("\0").toString("base64"), limit: 1 });
    return Number(r.header?.revision ?? 0);
  };

  const start = async () => {
    proc = spawnGuarded("etcd", [
      "--name=testbed",
      `--data-dir=${o.dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=testbed=${peer}`,
      "--initial-cluster-state=new",
      "--log-level=warn",
      "--logger=zap",
      // The apiserver compacts on its own schedule as well; tests call compact() explicitly.
      "--auto-compaction-retention=0",
    ]);
    const p = proc;
    await waitFor(
      `etcd on ${url}`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`etcd exited (${p.child.exitCode}): ${p.output()}`);
        const res = await fetch(`${url}/health`);
        return res.ok && ((await res.json()) as { health?: string }).health === "true";
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  };
  await start();
  return {
    url,
    revision,
    compact: async () => {
      const rev = await revision();
      await gateway("/v3/kv/compaction", { revision: String(rev), physical: true });
      return rev;
    },
    halt: async () => {
      if (proc) {
        await proc.stop();
        lastOutput = proc.output();
      }
      proc = undefined;
    },
    start,
    output: () => proc?.output() ?? lastOutput,
    pid: () => proc?.child.pid,
  };
}
