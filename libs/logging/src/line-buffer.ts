import { writeSync } from "node:fs";

/** Bytes buffered before a write: one syscall per line costs more than the call it logs. */
export const DEFAULT_LOG_BUFFER_BYTES = 8 * 1024;
/** Buffered lines reach the fd at least this often, so logs stay live. */
export const DEFAULT_LOG_FLUSH_MS = 100;
/** Characters held while the fd does not take them (a stalled pipe); lines beyond are dropped and counted. */
export const DEFAULT_LOG_MAX_BUFFERED = 16 * 1024 * 1024;
/** Pause before writing again to a non-blocking fd that answered EAGAIN (a full pipe). */
const RETRY_MS = 10;
/** How long an exiting process keeps trying a full pipe before it gives the rest up. */
const EXIT_WRITE_LIMIT_MS = 5000;

export interface LineBufferOptions {
  /** File descriptor written to; default 1 (stdout). */
  fd?: number;
  minBytes?: number;
  flushMs?: number;
  maxBuffered?: number;
}

/** The destination pino writes to: `write` per line, `flush(cb)` for logger.flush, `flushSync` at exit. */
export interface LineBuffer {
  write(line: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

const isRetryable = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "EAGAIN" || code === "EBUSY";
};

/**
 * Collects log lines and writes them in batches, in order. pino's sonic-boom re-measures its whole
 * pending string on every line and hands each batch to the thread pool; on a busy host that hop cost the
 * main thread more than the call being logged. A batch is written synchronously instead, as Node writes
 * stdout to files and pipes on Linux; a non-blocking fd that is full (EAGAIN) is retried on a timer while
 * new lines queue behind it. A process exit writes what is left, so a crash still leaves its last lines.
 */
export function createLineBuffer(options: LineBufferOptions = {}): LineBuffer {
  const fd = options.fd ?? 1;
  const minBytes = options.minBytes ?? DEFAULT_LOG_BUFFER_BYTES;
  const maxBuffered = options.maxBuffered ?? DEFAULT_LOG_MAX_BUFFERED;
  let parts: string[] = [];
  // Characters, not bytes: a threshold needs no exact byte count, and String#length is free.
  let size = 0;
  let dropped = 0;
  // Bytes the fd refused (EAGAIN), written before anything newer.
  let blocked: Buffer | undefined;
  let retry: NodeJS.Timeout | undefined;
  let waiters: Array<(err?: Error) => void> = [];

  const take = (): Buffer => {
    if (dropped > 0) {
      parts.push(`${JSON.stringify({ level: 40, time: Date.now(), msg: "log lines dropped", dropped })}\n`);
      dropped = 0;
    }
    const buf = Buffer.from(parts.length === 1 ? (parts[0] as string) : parts.join(""));
    parts = [];
    size = 0;
    return buf;
  };

  const settle = (err?: Error) => {
    const w = waiters;
    waiters = [];
    for (const f of w) f(err);
  };

  /** Writes what the fd takes; keeps the rest in `blocked`. False when the fd is full. */
  const writeOut = (buf: Buffer): boolean => {
    let rest = buf;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(fd, rest));
      } catch (err) {
        if (!isRetryable(err)) {
          // Nowhere left to report it: these lines are lost, and the buffer carries on with the next ones.
          settle(err as Error);
          return true;
        }
        blocked = rest;
        return false;
      }
    }
    return true;
  };

  const drain = () => {
    if (retry) return;
    if (blocked) {
      const b = blocked;
      blocked = undefined;
      if (!writeOut(b)) return scheduleRetry();
    }
    if (size > 0 && !writeOut(take())) return scheduleRetry();
    settle();
  };

  const scheduleRetry = () => {
    retry = setTimeout(() => {
      retry = undefined;
      drain();
    }, RETRY_MS);
    retry.unref();
  };

  const flushSync = () => {
    if (retry) clearTimeout(retry);
    retry = undefined;
    const pending = blocked ? [blocked] : [];
    blocked = undefined;
    if (size > 0) pending.push(take());
    const giveUpAt = Date.now() + EXIT_WRITE_LIMIT_MS;
    for (let buf of pending) {
      while (buf.length > 0) {
        try {
          buf = buf.subarray(writeSync(fd, buf));
        } catch (err) {
          if (!isRetryable(err) || Date.now() > giveUpAt) return;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
        }
      }
    }
  };

  setInterval(() => {
    if (size > 0) drain();
  }, options.flushMs ?? DEFAULT_LOG_FLUSH_MS).unref();
  process.once("exit", flushSync);

  return {
    write(line) {
      if (size + line.length > maxBuffered) {
        dropped++;
        return false;
      }
      parts.push(line);
      size += line.length;
      if (size >= minBytes) drain();
      return true;
    },
    flush(cb) {
      if (cb) waiters.push(cb);
      drain();
    },
    flushSync,
  };
}
