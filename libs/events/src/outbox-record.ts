import { crc32 } from "node:zlib";

/**
 * One outbox record on disk (little endian):
 *   u32 bodyLength | u32 crc32(body) | body
 *   body = u32 seqLow | u32 seqHigh | u8 subjectLength | subject | u8 idLength | id | payload (CloudEvent JSON)
 * The length+CRC frame lets recovery tell a complete record from a torn or garbage tail.
 */
export const RECORD_HEADER_BYTES = 8;
const BODY_FIXED_BYTES = 10;
/** Anything longer is garbage (a record is at most one event, bounded well below this). */
export const MAX_RECORD_BODY_BYTES = 64 * 1024 * 1024;

export interface OutboxRecord {
  seq: number;
  subject: string;
  id: string;
  payload: Buffer;
  /** Bytes the record takes on disk, header included. */
  size: number;
}

export interface RecordInput {
  subject: string;
  id: string;
  payload: Buffer;
}

export function recordSize(r: RecordInput): number {
  return (
    RECORD_HEADER_BYTES +
    BODY_FIXED_BYTES +
    Buffer.byteLength(r.subject) +
    Buffer.byteLength(r.id) +
    r.payload.length
  );
}

/** Writes the record at `offset` of `buf` (which must have room for recordSize(r)); returns the end offset. */
export function writeRecord(buf: Buffer, offset: number, seq: number, r: RecordInput): number {
  const bodyStart = offset + RECORD_HEADER_BYTES;
  let p = bodyStart;
  p = buf.writeUInt32LE(seq % 0x1_0000_0000, p);
  p = buf.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), p);
  const subjectLen = buf.write(r.subject, p + 1, "utf8");
  buf.writeUInt8(subjectLen, p);
  p += 1 + subjectLen;
  const idLen = buf.write(r.id, p + 1, "utf8");
  buf.writeUInt8(idLen, p);
  p += 1 + idLen;
  p += r.payload.copy(buf, p);
  buf.writeUInt32LE(p - bodyStart, offset);
  buf.writeUInt32LE(crc32(buf.subarray(bodyStart, p)), offset + 4);
  return p;
}

export type ReadResult =
  | { kind: "record"; record: OutboxRecord }
  /** Not enough bytes yet for a whole record (a torn tail, when at the end of the file). */
  | { kind: "incomplete" }
  /** The bytes at this offset are not a valid record (bad length, CRC or fields). */
  | { kind: "corrupt"; reason: string };

/** Reads the record starting at `offset` of `buf`. Never throws on bad data. */
export function readRecord(buf: Buffer, offset: number): ReadResult {
  if (buf.length - offset < RECORD_HEADER_BYTES) return { kind: "incomplete" };
  const bodyLen = buf.readUInt32LE(offset);
  if (bodyLen < BODY_FIXED_BYTES + 2 || bodyLen > MAX_RECORD_BODY_BYTES) {
    return { kind: "corrupt", reason: `bad record length ${bodyLen}` };
  }
  const bodyStart = offset + RECORD_HEADER_BYTES;
  const end = bodyStart + bodyLen;
  if (end > buf.length) return { kind: "incomplete" };
  const body = buf.subarray(bodyStart, end);
  if (crc32(body) !== buf.readUInt32LE(offset + 4)) return { kind: "corrupt", reason: "CRC mismatch" };
  const seq = body.readUInt32LE(0) + body.readUInt32LE(4) * 0x1_0000_0000;
  const subjectLen = body.readUInt8(8);
  let p = 9 + subjectLen;
  if (p + 1 > bodyLen) return { kind: "corrupt", reason: "subject overruns record" };
  const subject = body.toString("utf8", 9, p);
  const idLen = body.readUInt8(p);
  const idStart = p + 1;
  p = idStart + idLen;
  if (p > bodyLen || subjectLen === 0 || idLen === 0) return { kind: "corrupt", reason: "bad subject or id" };
  const id = body.toString("utf8", idStart, p);
  return {
    kind: "record",
    record: { seq, subject, id, payload: body.subarray(p), size: RECORD_HEADER_BYTES + bodyLen },
  };
}
