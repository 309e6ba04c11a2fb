import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import { AckFile, readAckFile } from "../src/ack-file.js";
import { readRecord, recordSize, writeRecord } from "../src/outbox-record.js";

const recordArb = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  subject: fc.stringMatching(/^metal\.[a-z0-9-]{1,20}\.[a-z]{1,10}\.[a-z]{1,10}$/),
  id: fc.stringMatching(/^[\x21-\x7e]{1,128}$/),
  payload: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
});

function encode(r: { seq: number; subject: string; id: string; payload: Buffer }): Buffer {
  const buf = Buffer.alloc(recordSize(r));
  const end = writeRecord(buf, 0, r.seq, r);
  if (end !== buf.length) throw new Error(`wrote ${end} of ${buf.length}`);
  return buf;
}

test("a record reads back exactly", (t) => {
  fc.assert(
    fc.property(recordArb, (r) => {
      const got = readRecord(encode(r), 0);
      if (got.kind !== "record") return false;
      const { seq, subject, id, payload, size } = got.record;
      return (
        seq === r.seq &&
        subject === r.subject &&
        id === r.id &&
        payload.equals(r.payload) &&
        size === recordSize(r)
      );
    }),
  );
  t.pass();
});

test("every truncation reads as incomplete, never as a record", (t) => {
  fc.assert(
    fc.property(recordArb, fc.nat(), (r, cut) => {
      const buf = encode(r);
      const n = cut % buf.length;
      return readRecord(buf.subarray(0, n), 0).kind === "incomplete";
    }),
  );
  t.pass();
});

test("any changed byte is detected (corrupt or incomplete), never read as a valid record", (t) => {
  fc.assert(
    fc.property(recordArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (r, pos, flip) => {
      const buf = encode(r);
      const i = pos % buf.length;
      buf[i] = buf[i]! ^ flip;
      return readRecord(buf, 0).kind !== "record";
    }),
  );
  t.pass();
});

test("the ack file keeps the last committed sequence and survives a torn slot", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ackfile-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "ack");
  const { ackFile, recovered } = await AckFile.open(path);
  t.is(recovered, "new");
  for (const seq of [5, 9, 12]) ackFile.commit(seq);
  await ackFile.close();
  t.is(readAckFile(path), 12);
  const { ackFile: again, seq } = await AckFile.open(path);
  t.is(seq, 12);
  again.commit(20);
  await again.close();
  t.is(readAckFile(path), 20);
  // The two slots hold the last two values; tearing the newer one falls back to the older.
  const bytes = readFileSync(path);
  const slotOf = (value: number) => [0, 32].find((off) => bytes.readUInt32LE(off + 12) === value)!;
  t.not(slotOf(20), undefined);
  t.not(slotOf(12), undefined);
  for (const [torn, expected] of [
    [slotOf(20), 12],
    [slotOf(12), 20],
  ] as const) {
    const copy = Buffer.from(bytes);
    copy[torn + 14] = copy[torn + 14]! ^ 0xff;
    writeFileSync(path, copy);
    t.is(readAckFile(path), expected);
  }
  writeFileSync(path, Buffer.alloc(64, 0xab));
  const damaged = await AckFile.open(path);
  t.is(damaged.recovered, "damaged");
  t.is(damaged.seq, 0);
  await damaged.ackFile.close();
});
