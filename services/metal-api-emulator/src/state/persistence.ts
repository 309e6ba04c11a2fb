import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { StateData } from "./types.js";

/**
 * Durable state as one JSON snapshot, written atomically (temp file, fsync, rename). Writes are group
 * committed: every mutation awaits `commit()`, which resolves once a snapshot taken after that mutation is
 * on disk, so 200 parallel allocations cost a handful of writes, not 200.
 */
export interface Persistence {
  commit(): Promise<void>;
  /** Waits for writes in flight. */
  flush(): Promise<void>;
}

export async function loadSnapshot(file: string): Promise<StateData | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const data = JSON.parse(text) as StateData;
  if (data?.version !== 1 || !Array.isArray(data.machines)) {
    throw new Error(
      `state file ${file} is not an emulator state (version 1); remove it to start from the inventory`,
    );
  }
  return data;
}

export function createPersistence(file: string | undefined, snapshot: () => StateData): Persistence {
  if (!file) return { commit: () => Promise.resolve(), flush: () => Promise.resolve() };
  let writing: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  async function write(): Promise<void> {
    const data = JSON.stringify(snapshot());
    await mkdir(dirname(file!), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file!);
  }

  function start(): Promise<void> {
    const p = write().finally(() => {
      if (writing === p) writing = undefined;
    });
    writing = p;
    return p;
  }

  function commit(): Promise<void> {
    if (queued) return queued;
    if (!writing) return start();
    // A write is in flight with an older snapshot: queue one more that will include this change.
    const q: Promise<void> = writing
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return start();
      });
    queued = q;
    return q;
  }

  return {
    commit,
    flush: async () => {
      while (writing || queued) await (queued ?? writing)?.catch(() => undefined);
    },
  };
}
