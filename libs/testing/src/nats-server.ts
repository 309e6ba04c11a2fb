import { connect } from "nats";
import { commandPath } from "./command-path.js";
import { freePort } from "./free-port.js";
import { type ManagedProcess, spawnProcess } from "./process.js";
import { makeTempDir } from "./temp-dir.js";
import { waitFor } from "./wait-for.js";

export interface StartNatsOptions {
  /** Port; default a free one. Kept across restart() so clients reconnect to the same URL. */
  port?: number;
  /** JetStream store dir; default a temp dir removed by stop(). */
  storeDir?: string;
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the server (SIGTERM) and keeps its store, so start() brings back the same streams. */
  halt(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its store (when the harness made it). */
  stop(): Promise<void>;
}

/** Starts Debian's nats-server with JetStream on loopback, for one test suite. */
export async function startNats(opts: StartNatsOptions = {}): Promise<NatsServer> {
  const port = opts.port ?? (await freePort());
  const tmp = opts.storeDir ? undefined : makeTempDir("nats-");
  const storeDir = opts.storeDir ?? tmp!.path;
  const url = `nats://127.0.0.1:${port}`;
  let proc: ManagedProcess | undefined;

  const start = async () => {
    proc = spawnProcess(commandPath("nats-server"), [
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "-js",
      "-sd",
      storeDir,
    ]);
    await waitFor(
      `nats-server on ${url}`,
      async () => {
        if (proc?.child.exitCode !== null) throw new Error(`nats-server exited: ${proc?.output()}`);
        const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
        await nc.close();
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  };
  const halt = async () => {
    await proc?.stop();
    proc = undefined;
  };
  await start();
  return {
    url,
    port,
    storeDir,
    halt,
    start,
    stop: async () => {
      await halt();
      tmp?.remove();
    },
  };
}
