import { promises as fsp, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "@metal-kube/logging";
import { AckFile } from "./ack-file.js";
import { EventsError, OutboxFullError } from "./errors.js";
import { type OutboxRecord, type RecordInput, readRecord, recordSize, writeRecord } from "./outbox-record.js";

/**
 * Durable append log of events waiting for JetStream.
 *
 * Layout of the directory: `<firstSeq>.seg` segment files of framed records (see outbox-record.ts) with
 * consecutive sequence numbers, `ack` (the committed sequence, see ack-file.ts) and `LOCK` (owner pid).
 * Appends are group-committed: every append waiting while a write is in progress goes into the next single
 * write + fdatasync, and an append resolves only after its record is on disk. Segments whose records are
 * all acknowledged are deleted whole; nothing is ever rewritten in place, so a crash at any instant leaves
 * at worst a torn record at the end of the last segment, which recovery detects (length + CRC) and cuts off.
 */
export interface OutboxOptions {
  dir: string;
  maxEvents: number;
  maxBytes: number;
  segmentBytes: number;
  fsync: boolean;
  appendBatchMax: number;
  readChunkBytes: number;
  logger: Logger;
}

export interface OutboxRecovery {
  segments: number;
  pendingEvents: number;
  pendingBytes: number;
  committedSeq: number;
  /** Bytes cut off the end of segments (a torn tail after a crash, or corruption). */
  truncatedBytes: number;
}

interface Segment {
  firstSeq: number;
  path: string;
  /** Bytes written and (with fsync) made durable; readers never read past it. */
  size: number;
  lastSeq: number;
}

interface PendingAppend {
  input: RecordInput;
  size: number;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

const SEGMENT_SUFFIX = ".seg";
/** Outbox directories open in this process. */
const openDirs = new Set<string>();
const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, "0")}${SEGMENT_SUFFIX}`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class Outbox {
  private segments: Segment[] = [];
  private active!: { seg: Segment; fh: fsp.FileHandle };
  private ackFile!: AckFile;
  private queue: PendingAppend[] = [];
  private writing = false;
  private writeScheduled = false;
  private writeDone: Array<() => void> = [];
  private dataWaiters: Array<() => void> = [];
  /** Called after every group commit (the flusher's wake-up), cheaper than a promise per wait. */
  onDurable: (() => void) | undefined;
  private closed = false;
  private nextSeq = 1;
  private _durableSeq = 0;
  private _committedSeq = 0;
  private _pendingEvents = 0;
  private _pendingBytes = 0;

  private constructor(private readonly opts: OutboxOptions) {}

  /** Opens the outbox, recovering from whatever a crash left behind. */
  static async open(opts: OutboxOptions): Promise<{ outbox: Outbox; recovery: OutboxRecovery }> {
    const ob = new Outbox(opts);
    const recovery = await ob.recover();
    return { outbox: ob, recovery };
  }

  get pendingEvents(): number {
    return this._pendingEvents;
  }
  get pendingBytes(): number {
    return this._pendingBytes;
  }
  /** Highest sequence acknowledged by JetStream (every lower one too). */
  get committedSeq(): number {
    return this._committedSeq;
  }
  /** Highest sequence on disk. */
  get durableSeq(): number {
    return this._durableSeq;
  }

  private lock(): void {
    const dir = resolve(this.opts.dir);
    // The LOCK file guards against other processes; this set against a second publisher in this one.
    if (openDirs.has(dir))
      throw new EventsError("OUTBOX_IO", `event outbox ${this.opts.dir} is already open in this process`);
    const path = join(this.opts.dir, "LOCK");
    try {
      const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (pid && pid !== process.pid && pidAlive(pid)) {
        throw new EventsError("OUTBOX_IO", `event outbox ${this.opts.dir} is in use by process ${pid}`);
      }
    } catch (err) {
      if (err instanceof EventsError) throw err;
    }
    writeFileSync(path, String(process.pid));
    openDirs.add(dir);
  }

  private async recover(): Promise<OutboxRecovery> {
    const { dir } = this.opts;
    await fsp.mkdir(dir, { recursive: true });
    this.lock();
    try {
      return await this.recoverLocked();
    } catch (err) {
      openDirs.delete(resolve(dir));
      throw err;
    }
  }

  private async recoverLocked(): Promise<OutboxRecovery> {
    const { dir, logger } = this.opts;
    const ack = await AckFile.open(join(dir, "ack"));
    if (ack.recovered === "damaged") {
      logger.warn(
        { dir },
        "outbox ack file unreadable; re-sending every stored event (JetStream drops duplicates)",
      );
    }
    this.ackFile = ack.ackFile;
    this._committedSeq = ack.seq;
    const names = (await fsp.readdir(dir)).filter((n) => /^\d{16}\.seg$/.test(n)).sort();
    let truncatedBytes = 0;
    let maxSeq = ack.seq;
    for (const [i, name] of names.entries()) {
      const seg: Segment = {
        firstSeq: Number.parseInt(name, 10),
        path: join(dir, name),
        size: 0,
        lastSeq: 0,
      };
      seg.lastSeq = seg.firstSeq - 1;
      const buf = await fsp.readFile(seg.path);
      let off = 0;
      let problem: string | undefined;
      while (off < buf.length) {
        const r = readRecord(buf, off);
        if (r.kind === "incomplete") {
          problem = "torn record at end";
          break;
        }
        if (r.kind === "corrupt") {
          problem = r.reason;
          break;
        }
        if (r.record.seq !== seg.lastSeq + 1) {
          problem = `sequence ${r.record.seq} where ${seg.lastSeq + 1} was expected`;
          break;
        }
        seg.lastSeq = r.record.seq;
        if (r.record.seq > ack.seq) {
          this._pendingEvents += 1;
          this._pendingBytes += r.record.size;
        }
        off += r.record.size;
      }
      if (off < buf.length) {
        const cut = buf.length - off;
        truncatedBytes += cut;
        const last = i === names.length - 1;
        // A torn tail is the expected result of kill -9 during a write (that append was never acknowledged
        // to its caller); anything else means the disk lost data, which deserves an error.
        logger[last && problem === "torn record at end" ? "warn" : "error"](
          { segment: seg.path, offset: off, bytes: cut, problem },
          "outbox segment has a damaged tail; cutting it off",
        );
        await fsp.truncate(seg.path, off);
      }
      seg.size = off;
      maxSeq = Math.max(maxSeq, seg.lastSeq);
      this.segments.push(seg);
    }
    this.nextSeq = maxSeq + 1;
    this._durableSeq = maxSeq;
    // Segments fully acknowledged are garbage; the last one is reused for appends only if it continues
    // the sequence.
    const keep: Segment[] = [];
    for (const [i, seg] of this.segments.entries()) {
      const isLast = i === this.segments.length - 1;
      if (seg.lastSeq <= ack.seq && !(isLast && seg.lastSeq + 1 === this.nextSeq)) {
        await fsp.unlink(seg.path);
      } else keep.push(seg);
    }
    this.segments = keep;
    // Segments are deleted only when fully acknowledged, so anything before the first one was sent (the ack
    // file lags or was lost): start there rather than report those sequences as missing.
    const firstSeq = this.segments[0]?.firstSeq;
    if (firstSeq !== undefined && firstSeq - 1 > this._committedSeq) {
      this._committedSeq = firstSeq - 1;
      this.ackFile.commit(this._committedSeq);
    }
    const last = this.segments.at(-1);
    if (last && last.lastSeq + 1 === this.nextSeq) {
      this.active = { seg: last, fh: await fsp.open(last.path, "r+") };
    } else {
      await this.newSegment();
    }
    return {
      segments: this.segments.length,
      pendingEvents: this._pendingEvents,
      pendingBytes: this._pendingBytes,
      committedSeq: this._committedSeq,
      truncatedBytes,
    };
  }

  private async newSegment(): Promise<void> {
    const seg: Segment = {
      firstSeq: this.nextSeq,
      path: join(this.opts.dir, segmentName(this.nextSeq)),
      size: 0,
      lastSeq: this.nextSeq - 1,
    };
    const fh = await fsp.open(seg.path, "w+");
    // The new file's directory entry must be durable before records in it are acknowledged.
    if (this.opts.fsync) await fsyncDir(this.opts.dir);
    const old = this.active;
    this.segments.push(seg);
    this.active = { seg, fh };
    await old?.fh.close();
  }

  /**
   * Queues the record; resolves with its sequence once it is durable. Rejects with OutboxFullError at once
   * (the record is not stored) when the bound is reached.
   */
  append(input: RecordInput): Promise<number> {
    if (this.closed) return Promise.reject(new EventsError("CLOSED", "event outbox is closed"));
    const size = recordSize(input);
    if (this._pendingEvents >= this.opts.maxEvents) {
      return Promise.reject(new OutboxFullError("maxEvents", this.opts.maxEvents));
    }
    if (this._pendingBytes + size > this.opts.maxBytes) {
      return Promise.reject(new OutboxFullError("maxBytes", this.opts.maxBytes));
    }
    this._pendingEvents += 1;
    this._pendingBytes += size;
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ input, size, resolve, reject });
      if (!this.writing && !this.writeScheduled) {
        this.writeScheduled = true;
        // setImmediate rather than a microtask: appends made in the same I/O turn share one write.
        setImmediate(() => void this.writeLoop());
      }
    });
  }

  private async writeLoop(): Promise<void> {
    this.writeScheduled = false;
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.appendBatchMax);
        let total = 0;
        for (const p of batch) total += p.size;
        try {
          if (this.active.seg.size >= this.opts.segmentBytes) await this.newSegment();
          const { seg, fh } = this.active;
          const buf = Buffer.allocUnsafe(total);
          const first = this.nextSeq;
          let off = 0;
          for (const [i, p] of batch.entries()) off = writeRecord(buf, off, first + i, p.input);
          try {
            let done = 0;
            while (done < total) {
              const { bytesWritten } = await fh.write(buf, done, total - done, seg.size + done);
              done += bytesWritten;
            }
            if (this.opts.fsync) await fh.datasync();
          } catch (err) {
            // Leave no partial record behind, so later appends continue a clean log.
            await fh.truncate(seg.size).catch(() => undefined);
            throw err;
          }
          seg.size += total;
          seg.lastSeq = first + batch.length - 1;
          this.nextSeq = seg.lastSeq + 1;
          this._durableSeq = seg.lastSeq;
          for (const [i, p] of batch.entries()) p.resolve(first + i);
          const waiters = this.dataWaiters;
          this.dataWaiters = [];
          for (const w of waiters) w();
          this.onDurable?.();
        } catch (err) {
          this._pendingEvents -= batch.length;
          this._pendingBytes -= total;
          this.opts.logger.error(
            { err, events: batch.length },
            "event outbox write failed; events not stored",
          );
          const e = new EventsError("OUTBOX_IO", `event outbox write failed: ${(err as Error).message}`, {
            cause: err,
          });
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.writing = false;
      const done = this.writeDone;
      this.writeDone = [];
      for (const d of done) d();
    }
  }

  /** Resolves once every append made so far is written (or failed). */
  sync(): Promise<void> {
    if (!this.writing && !this.writeScheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.writeDone.push(resolve));
  }

  /** Resolves when a record after `seq` is durable, or the outbox closes. */
  waitForData(seq: number): Promise<void> {
    if (this._durableSeq > seq || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.dataWaiters.push(resolve));
  }

  /** JetStream acknowledged everything up to `seq`; `count` events and `bytes` leave the outbox. */
  markCommitted(seq: number, count: number, bytes: number): void {
    if (seq <= this._committedSeq) return;
    this._committedSeq = seq;
    this._pendingEvents -= count;
    this._pendingBytes -= bytes;
    this.ackFile.commit(seq);
    while (this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= seq) {
      const seg = this.segments.shift()!;
      fsp
        .unlink(seg.path)
        .catch((err) => this.opts.logger.warn({ err, segment: seg.path }, "cannot delete segment"));
    }
  }

  /** A reader of durable records after `afterSeq`, in order. */
  reader(afterSeq: number): OutboxReader {
    return new OutboxReader(this, afterSeq, this.opts.readChunkBytes, this.opts.logger);
  }

  /** @internal the segment holding `seq` (or the first after a gap). */
  segmentFor(seq: number): Segment | undefined {
    let found: Segment | undefined;
    for (const s of this.segments) {
      if (s.firstSeq <= seq) found = s;
      else break;
    }
    return found && found.lastSeq >= seq ? found : (this.segments.find((s) => s.lastSeq >= seq) ?? found);
  }

  /** @internal the segment after `seg`, if one exists. */
  segmentAfter(seg: Segment): Segment | undefined {
    return this.segments.find((s) => s.firstSeq > seg.firstSeq);
  }

  /** Waits for queued appends, writes the committed sequence durably and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    for (const w of this.dataWaiters.splice(0)) w();
    await this.ackFile.close();
    await this.active.fh.close();
    await fsp.unlink(join(this.opts.dir, "LOCK")).catch(() => undefined);
    openDirs.delete(resolve(this.opts.dir));
  }
}

/** Sequential reader over the durable part of the segments; payloads are slices of its read buffers. */
export class OutboxReader {
  private seg: Segment | undefined;
  private fh: fsp.FileHandle | undefined;
  private pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private bufOff = 0;

  constructor(
    private readonly outbox: Outbox,
    private afterSeq: number,
    private readonly chunkBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Up to `max` records after the last one returned; fewer (or none) when no more are durable yet. */
  async read(max: number): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = [];
    while (out.length < max) {
      if (!this.seg) {
        this.seg = this.outbox.segmentFor(this.afterSeq + 1);
        if (!this.seg) break;
        this.fh = await fsp.open(this.seg.path, "r");
        this.pos = 0;
        this.buf = Buffer.alloc(0);
        this.bufOff = 0;
      }
      while (out.length < max) {
        const r = readRecord(this.buf, this.bufOff);
        if (r.kind === "incomplete") break;
        if (r.kind === "corrupt") {
          // Only durable bytes are read, so this means the disk changed under us; skip the segment.
          this.logger.error(
            { segment: this.seg.path, reason: r.reason },
            "outbox segment corrupt; skipping rest",
          );
          this.buf = Buffer.alloc(0);
          this.bufOff = 0;
          this.pos = this.seg.size;
          break;
        }
        this.bufOff += r.record.size;
        if (r.record.seq > this.afterSeq) {
          this.afterSeq = r.record.seq;
          out.push(r.record);
        }
      }
      if (out.length >= max) break;
      const end = this.seg.size;
      if (this.pos < end) {
        const rest = this.buf.length - this.bufOff;
        const want = Math.min(this.chunkBytes, end - this.pos);
        const next = Buffer.allocUnsafe(rest + want);
        this.buf.copy(next, 0, this.bufOff);
        const { bytesRead } = await this.fh!.read(next, rest, want, this.pos);
        this.pos += bytesRead;
        this.buf = next.subarray(0, rest + bytesRead);
        this.bufOff = 0;
        if (bytesRead === 0) break;
        continue;
      }
      const following = this.outbox.segmentAfter(this.seg);
      if (!following) break;
      await this.fh?.close();
      this.fh = undefined;
      this.seg = undefined;
      this.afterSeq = Math.max(this.afterSeq, following.firstSeq - 1);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
