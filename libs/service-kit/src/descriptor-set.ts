/**
 * Splits a binary FileDescriptorSet (`repeated FileDescriptorProto file = 1`) into the encoded files, as buf
 * wrote them. Reflection must serve these bytes: descriptors rebuilt by proto-loader lose the scope of map
 * entry messages, and grpcurl then rejects every message with a map field.
 */
export function splitFileDescriptorSet(set: Uint8Array): Buffer[] {
  const files: Buffer[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= set.length) throw new Error("descriptor set: truncated varint");
      const b = set[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 49) throw new Error("descriptor set: varint too long");
    }
  };
  while (pos < set.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType !== 2)
      throw new Error(`descriptor set: unexpected wire type ${wireType} for field ${field}`);
    const len = varint();
    if (pos + len > set.length) throw new Error("descriptor set: truncated file");
    if (field === 1) files.push(Buffer.from(set.subarray(pos, pos + len)));
    pos += len;
  }
  return files;
}
