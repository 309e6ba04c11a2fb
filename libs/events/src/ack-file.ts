import { closeSync, existsSync, promises as fsp, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

/**
 * The committed offset of the outbox: the highest sequence JetStream has acknowledged (all lower ones too).
 * Two fixed 32-byte slots written alternately, each with a generation and a CRC, so a write torn by a crash
 * leaves the other slot intact: recovery takes the valid slot with the higher generation. It is written in
 * place (no rename), cheaply, after every ack batch. If it lags (crash, power loss), the outbox re-sends a few
 * events with their original Nats-Msg-Id and JetStream drops them as duplicates.
 */
const SLOT_BYTES = 32;
const MAGIC = 0x4d4b4f41; // "MKOA"

interface Slot {
  gen: number;
  seq: number;
}

function encodeSlot(slot: Slot): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(slot.gen % 0x1_0000_0000, 4);
  b.writeUInt32LE(Math.floor(slot.gen / 0x1_0000_0000), 8);
  b.writeUInt32LE(slot.seq % 0x1_0000_0000, 12);
  b.writeUInt32LE(Math.floor(slot.seq / 0x1_0000_0000), 16);
  b.writeUInt32LE(crc32(b.subarray(0, 20)), 20);
  return b;
}

function decodeSlot(b: Buffer): Slot | undefined {
  if (b.length < SLOT_BYTES || b.readUInt32LE(0) !== MAGIC) return undefined;
  if (crc32(b.subarray(0, 20)) !== b.readUInt32LE(20)) return undefined;
  return {
    gen: b.readUInt32LE(4) + b.readUInt32LE(8) * 0x1_0000_0000,
    seq: b.readUInt32LE(12) + b.readUInt32LE(16) * 0x1_0000_0000,
  };
}

export class AckFile {
  private gen: number;
  private written: number;
  private wanted: number;
  private writing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly fh: fsp.FileHandle,
    slot: Slot,
  ) {
    this.gen = slot.gen;
    this.written = slot.seq;
    this.wanted = slot.seq;
  }

  /** Opens (creating) the file and returns it with the committed sequence (0 when new or unreadable). */
  static async open(
    path: string,
  ): Promise<{ ackFile: AckFile; seq: number; recovered: "new" | "ok" | "damaged" }> {
    const isNew = !existsSync(path);
    const fh = await fsp.open(path, isNew ? "w+" : "r+");
    const buf = Buffer.alloc(SLOT_BYTES * 2);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const slots = [decodeSlot(buf.subarray(0, SLOT_BYTES)), decodeSlot(buf.subarray(SLOT_BYTES, bytesRead))];
    let best: Slot = { gen: 0, seq: 0 };
    for (const s of slots) if (s && s.gen >= best.gen) best = s;
    const recovered = isNew || bytesRead === 0 ? "new" : slots.some(Boolean) ? "ok" : "damaged";
    return { ackFile: new AckFile(fh.fd, fh, best), seq: best.seq, recovered };
  }

  get committed(): number {
    return this.written;
  }

  /** Records `seq` as committed; writes are coalesced so at most one is in progress. */
  commit(seq: number): void {
    if (seq <= this.wanted || this.closed) return;
    this.wanted = seq;
    if (!this.writing) this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.written < this.wanted && !this.closed) {
        const seq = this.wanted;
        this.gen += 1;
        await this.fh.write(encodeSlot({ gen: this.gen, seq }), 0, SLOT_BYTES, (this.gen % 2) * SLOT_BYTES);
        this.written = seq;
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Waits for pending writes, writes the final value durably and closes. */
  async close(): Promise<void> {
    await this.writing;
    this.closed = true;
    if (this.written < this.wanted) {
      this.gen += 1;
      writeSync(
        this.fd,
        encodeSlot({ gen: this.gen, seq: this.wanted }),
        0,
        SLOT_BYTES,
        (this.gen % 2) * SLOT_BYTES,
      );
      this.written = this.wanted;
    }
    fsyncSync(this.fd);
    await this.fh.close();
  }
}

/** Reads the committed sequence without opening for write (tools and tests). */
export function readAckFile(path: string): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(SLOT_BYTES * 2);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let best: Slot = { gen: 0, seq: 0 };
    for (const s of [decodeSlot(buf.subarray(0, SLOT_BYTES)), decodeSlot(buf.subarray(SLOT_BYTES, n))]) {
      if (s && s.gen >= best.gen) best = s;
    }
    return best.seq;
  } finally {
    closeSync(fd);
  }
}
