import type { Logger } from "@metal-kube/logging";
import { connect, createInbox, headers, type Msg, type NatsConnection } from "nats";
import { backoffDelay } from "./backoff.js";
import { maskUrl, type ParsedPublisherOptions } from "./options.js";
import type { Outbox, OutboxReader } from "./outbox.js";
import { ensureStream } from "./stream.js";

const ERROR_KEY = Buffer.from('"error"');
const STREAM_KEY = Buffer.from('"stream"');
const DUPLICATE_KEY = Buffer.from('"duplicate"');

/** Records read from the outbox per step; small enough to interleave reads with ack handling. */
const READ_BATCH = 512;
/** The first connect failure is logged at warn, then at most this often, so a long outage is not a log flood. */
const DOWN_LOG_INTERVAL_MS = 30_000;

/**
 * Moves events from the outbox into JetStream, in outbox order.
 *
 * Publishes are pipelined: up to `maxInFlight` events are sent on one connection before their PubAcks
 * return, each with a reply subject carrying its outbox sequence. The committed offset only advances over a
 * contiguous prefix of acked sequences. Any failure (connection lost, ack timeout, error reply) rewinds to
 * the first unacked event and sends everything after it again; the Nats-Msg-Id header makes JetStream drop
 * what it already stored, so nothing is lost or doubled and order is kept (one connection delivers in order,
 * so what the server stored before a failure is always a prefix of what was sent).
 *
 * The connection is made with client reconnects off: this loop owns retries, with jittered exponential
 * backoff, and ensures the stream again after each (re)connect (the server may have lost it).
 */
export class Flusher {
  published = 0;
  duplicates = 0;
  /** Events given up on: rejected by JetStream `maxRejects` times, or missing from a damaged outbox. */
  rejected = 0;
  connected = false;
  private stopped = false;
  private cancelPause: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readyResolve!: () => void;
  private readonly readyPromise: Promise<void>;
  private wakeResolve: (() => void) | undefined;
  private lastDownLog = 0;
  private nc: NatsConnection | undefined;

  // Per-session in-flight window: sequences (committed, lastSent], indexed from `base`.
  private base = 1;
  private lastSent = 0;
  private sizes: number[] = [];
  private sentAt: number[] = [];
  private acked: boolean[] = [];
  /** Event ids, for the log line when one is given up on. */
  private ids: string[] = [];
  private rewind: { reason: string; delayMs: number } | undefined;
  private needEnsure = false;
  private rejectSeq = 0;
  private rejectCount = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly outbox: Outbox,
    private readonly opts: ParsedPublisherOptions,
    private readonly logger: Logger,
  ) {
    this.readyPromise = new Promise((r) => {
      this.readyResolve = r;
    });
    outbox.onDurable = () => this.wake();
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves once the stream is ensured, or the first connection attempt failed (NATS down). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Resolves when the outbox has no unpublished events, or after `timeoutMs`; true when drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.outbox.pendingEvents === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((r) => this.drainWaiters.push(() => r(true))),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }

  /** Stops sending and closes the connection; unacked events stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelPause?.();
    this.wake();
    await this.nc?.close().catch(() => undefined);
    await this.running;
    this.outbox.onDurable = undefined;
  }

  private wake(): void {
    const r = this.wakeResolve;
    this.wakeResolve = undefined;
    r?.();
  }

  private waitWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        if (this.wakeResolve === done) this.wakeResolve = undefined;
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.wakeResolve = done;
    });
  }

  /** Sleeps, cut short by stop(). */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.cancelPause = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.cancelPause = done;
    });
  }

  private backoff(attempt: number): number {
    const { backoffInitialMs, backoffMaxMs, backoffJitter } = this.opts;
    return backoffDelay(attempt, backoffInitialMs, backoffMaxMs, backoffJitter);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let nc: NatsConnection;
      try {
        nc = await connect({
          servers: this.opts.natsUrl,
          reconnect: false,
          timeout: this.opts.connectTimeoutMs,
          name: `metal-events-${this.opts.service}`,
          // Our own loop retries; the client must not buffer publishes for a connection that is gone.
          maxReconnectAttempts: 0,
        });
      } catch (err) {
        this.logDown(err);
        this.readyResolve();
        await this.pause(this.backoff(attempt++));
        continue;
      }
      if (this.stopped) {
        await nc.close().catch(() => undefined);
        break;
      }
      this.nc = nc;
      try {
        const result = await ensureStream(nc, {
          name: this.opts.streamName,
          maxAgeMs: this.opts.streamMaxAgeMs,
          duplicateWindowMs: this.opts.duplicateWindowMs,
          timeoutMs: this.opts.ackTimeoutMs,
          logger: this.logger,
        });
        this.connected = true;
        this.readyResolve();
        if (this.lastDownLog !== 0 || attempt > 0) {
          this.logger.info(
            { url: this.opts.natsUrl.map(maskUrl), stream: result },
            "connected to NATS; flushing event outbox",
          );
        }
        this.lastDownLog = 0;
        attempt = 0;
        await this.session(nc);
        if (!this.stopped) {
          this.logger.warn(
            { pending: this.outbox.pendingEvents },
            "lost the connection to NATS; reconnecting",
          );
        }
      } catch (err) {
        if (!this.stopped) this.logger.warn({ err }, "event publishing interrupted; will retry");
        this.readyResolve();
      } finally {
        this.connected = false;
        this.nc = undefined;
        await nc.close().catch(() => undefined);
      }
      if (!this.stopped) await this.pause(this.backoff(attempt++));
    }
  }

  private logDown(err: unknown): void {
    const now = Date.now();
    if (now - this.lastDownLog < DOWN_LOG_INTERVAL_MS) return;
    this.lastDownLog = now;
    this.logger.warn(
      {
        url: this.opts.natsUrl.map(maskUrl),
        err: (err as Error).message,
        pending: this.outbox.pendingEvents,
      },
      "NATS unreachable; events stay in the outbox until it is back",
    );
  }

  private resetWindow(): void {
    this.base = this.outbox.committedSeq + 1;
    this.lastSent = this.outbox.committedSeq;
    this.sizes = [];
    this.sentAt = [];
    this.acked = [];
    this.ids = [];
  }

  private async session(nc: NatsConnection): Promise<void> {
    const inbox = createInbox();
    const prefixLen = inbox.length + 1;
    let ended = false;
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (err, m) => {
        if (!err) this.onAck(Number(m.subject.slice(prefixLen)), m);
      },
    });
    void nc.closed().then(() => {
      ended = true;
      this.wake();
    });
    // Ack timeouts are checked by waking the loop, not with one timer per publish.
    const tick = setInterval(() => this.wake(), Math.max(50, this.opts.ackTimeoutMs / 4));
    let reader: OutboxReader = this.outbox.reader(this.outbox.committedSeq);
    this.resetWindow();
    this.rewind = undefined;
    try {
      while (!ended && !this.stopped) {
        if (this.rewind || this.needEnsure) {
          const rw = this.rewind;
          this.rewind = undefined;
          if (rw) {
            this.logger.warn(
              {
                reason: rw.reason,
                fromSeq: this.outbox.committedSeq + 1,
                inFlight: this.lastSent - this.outbox.committedSeq,
              },
              "re-sending unacknowledged events",
            );
            if (rw.delayMs > 0) await this.pause(rw.delayMs);
          }
          if (this.needEnsure) {
            this.needEnsure = false;
            await ensureStream(nc, {
              name: this.opts.streamName,
              maxAgeMs: this.opts.streamMaxAgeMs,
              duplicateWindowMs: this.opts.duplicateWindowMs,
              timeoutMs: this.opts.ackTimeoutMs,
              logger: this.logger,
            });
          }
          await reader.close();
          reader = this.outbox.reader(this.outbox.committedSeq);
          this.resetWindow();
          continue;
        }
        const committed = this.outbox.committedSeq;
        if (this.lastSent > committed) {
          const oldest = this.sentAt[committed + 1 - this.base] ?? Date.now();
          if (Date.now() - oldest > this.opts.ackTimeoutMs) {
            this.rewind = { reason: `no ack within ${this.opts.ackTimeoutMs} ms`, delayMs: 0 };
            continue;
          }
        }
        const room = this.opts.maxInFlight - (this.lastSent - committed);
        if (room <= 0) {
          await this.waitWake(this.opts.ackTimeoutMs);
          continue;
        }
        const records = await reader.read(Math.min(room, READ_BATCH));
        if (records.length === 0) {
          if (this.outbox.durableSeq > this.lastSent) {
            // Written but not readable yet (a segment switch in progress): let I/O run, then read again.
            await new Promise((r) => setImmediate(r));
            continue;
          }
          await this.waitWake(this.opts.ackTimeoutMs);
          continue;
        }
        const now = Date.now();
        for (const r of records) {
          if (r.seq !== this.lastSent + 1) this.skipGap(r.seq);
          const h = headers();
          h.set("Nats-Msg-Id", r.id);
          nc.publish(r.subject, r.payload, { reply: `${inbox}.${r.seq}`, headers: h });
          const i = r.seq - this.base;
          this.sizes[i] = r.size;
          this.sentAt[i] = now;
          this.acked[i] = false;
          this.ids[i] = r.id;
          this.lastSent = r.seq;
        }
      }
    } finally {
      clearInterval(tick);
      sub.unsubscribe();
      await reader.close();
    }
  }

  /**
   * Sequences missing from the outbox (recovery cut a damaged segment short): they can never be sent, so
   * they count as done, or the committed offset would stop there forever. A size of -1 marks them.
   */
  private skipGap(nextSeq: number): void {
    this.logger.error(
      { fromSeq: this.lastSent + 1, toSeq: nextSeq - 1 },
      "events missing from the outbox (damaged on disk); skipping them",
    );
    this.rejected += nextSeq - this.lastSent - 1;
    for (let seq = this.lastSent + 1; seq < nextSeq; seq++) {
      const i = seq - this.base;
      this.sizes[i] = -1;
      this.sentAt[i] = Date.now();
      this.acked[i] = true;
    }
    this.lastSent = nextSeq - 1;
  }

  private onAck(seq: number, m: Msg): void {
    const committed = this.outbox.committedSeq;
    if (!(seq > committed && seq <= this.lastSent)) return; // stale: before a rewind, or already counted
    const i = seq - this.base;
    if (this.acked[i]) return;
    // A 503 status with no body: no stream listens on the subject (deleted, or JetStream off).
    if (m.data.length === 0 && m.headers && m.headers.code === 503) {
      if (!this.rewind) {
        this.needEnsure = true;
        this.rewind = { reason: "no stream for the subject", delayMs: this.backoff(0) };
        this.wake();
      }
      return;
    }
    const body = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    // Fast path: a PubAck without "error" is a success; JSON.parse only for the rare error reply.
    if (body.indexOf(ERROR_KEY) !== -1 || body.indexOf(STREAM_KEY) === -1) {
      let error: { code?: number; description?: string } | undefined;
      try {
        error = (JSON.parse(body.toString("utf8")) as { error?: typeof error }).error;
      } catch {
        error = { description: "unreadable PubAck" };
      }
      this.onReject(seq, error?.description ?? `code ${error?.code}`, (error?.code ?? 400) >= 500);
      return;
    }
    // The server writes `"duplicate": true` (with a space) and only for duplicates; allow either spacing.
    const dupAt = body.indexOf(DUPLICATE_KEY);
    const ack = { duplicate: dupAt !== -1 && body.indexOf("true", dupAt) !== -1 };
    this.acked[i] = true;
    if (ack.duplicate) this.duplicates += 1;
    else this.published += 1;
    if (seq === committed + 1) this.advance();
  }

  /** `transient`: a 5xx (JetStream unavailable, restarting): retried forever, never counted as a reject. */
  private onReject(seq: number, description: string, transient: boolean): void {
    if (transient || seq !== this.outbox.committedSeq + 1) {
      // Only the head's explicit refusals count; later events are re-sent after it anyway.
      if (!this.rewind) {
        this.rewind = {
          reason: `JetStream rejected: ${description}`,
          delayMs: this.backoff(transient ? 2 : 0),
        };
      }
      this.wake();
      return;
    }
    this.rejectCount = seq === this.rejectSeq ? this.rejectCount + 1 : 1;
    this.rejectSeq = seq;
    if (this.rejectCount >= this.opts.maxRejects) {
      this.logger.error(
        { seq, id: this.ids[seq - this.base], rejects: this.rejectCount, reason: description },
        "JetStream keeps rejecting an event; dropping it so later events can flow",
      );
      this.rejected += 1;
      this.acked[seq - this.base] = true;
      this.advance();
      return;
    }
    this.rewind = {
      reason: `JetStream rejected: ${description}`,
      delayMs: this.backoff(this.rejectCount - 1),
    };
    this.wake();
  }

  /** Moves the committed offset over the contiguous acked prefix. */
  private advance(): void {
    let seq = this.outbox.committedSeq;
    let count = 0;
    let bytes = 0;
    while (seq < this.lastSent && this.acked[seq + 1 - this.base]) {
      seq += 1;
      const size = this.sizes[seq - this.base]!;
      if (size >= 0) {
        count += 1;
        bytes += size;
      }
    }
    if (seq === this.outbox.committedSeq) return;
    this.outbox.markCommitted(seq, count, bytes);
    // Drop the committed part of the window now and then, not on every ack (splice is O(n)).
    const drop = seq + 1 - this.base;
    if (drop >= 4096) {
      this.sizes.splice(0, drop);
      this.sentAt.splice(0, drop);
      this.acked.splice(0, drop);
      this.ids.splice(0, drop);
      this.base = seq + 1;
    }
    this.wake();
    if (this.outbox.pendingEvents === 0 && this.drainWaiters.length > 0) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  }
}
