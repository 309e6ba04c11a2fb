// Field-selective JSON decoding for large metal-api lists. A find over 5,000 machines returns ~14 MB of
// which a caller like ListMachines needs a few fields per machine: JSON.parse would build every object
// (hardware, events, images, ...) only for it to be dropped. This reader walks the bytes once, skips what
// the shape does not name without allocating, and JSON.parses only the picked values (so those are exact,
// escapes and all). Skipped values are checked for balanced structure only. It also reads a body chunk by
// chunk as it arrives (createArrayPicker), so decoding overlaps the transfer instead of following it.

/** Keys to keep: `true` keeps the whole value, a nested shape picks inside an object value. */
export interface PickShape {
  readonly [key: string]: true | PickShape;
}

export class JsonPickError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = "JsonPickError";
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** Byte classes for skipping: 1 quote, 2 opening bracket, 3 closing bracket, 0 anything else. */
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = 1;
CLASS[LBRACE] = 2;
CLASS[LBRACKET] = 2;
CLASS[RBRACE] = 3;
CLASS[RBRACKET] = 3;

interface Candidate {
  key: string;
  bytes: Uint8Array;
  sub: CompiledShape | undefined;
}

interface CompiledShape {
  /** Candidate keys by byte length, for a comparison without decoding the key. */
  byLength: Array<Candidate[] | undefined>;
  byKey: Map<string, CompiledShape | undefined>;
  /** Number of keys. */
  size: number;
}

const EMPTY = new Uint8Array(0);
/** Strings up to this long are walked byte by byte; longer ones are searched with indexOf (memchr). */
const INLINE_STRING_BYTES = 32;

const compiled = new WeakMap<PickShape, CompiledShape>();
const encoder = new TextEncoder();

function compile(shape: PickShape): CompiledShape {
  const hit = compiled.get(shape);
  if (hit) return hit;
  const out: CompiledShape = { byLength: [], byKey: new Map(), size: Object.keys(shape).length };
  for (const [key, v] of Object.entries(shape)) {
    const sub = v === true ? undefined : compile(v);
    const bytes = encoder.encode(key);
    const list = out.byLength[bytes.length] ?? [];
    list.push({ key, bytes, sub });
    out.byLength[bytes.length] = list;
    out.byKey.set(key, sub);
  }
  compiled.set(shape, out);
  return out;
}

/** Thrown inside a streaming read when the bytes so far end inside a value: wait for the next chunk. */
const NEED_MORE = Symbol("need more input");

class Reader {
  /** Scanned as a plain Uint8Array: V8 indexes it faster than a Buffer subclass. */
  readonly b: Uint8Array;
  readonly buf: Buffer;
  /** Whether the string skipString last passed may contain an escape (false: it surely does not). */
  escaped = false;
  /**
   * bytes: the input so far; base: its offset in the whole input (for error offsets); partial: more may
   * follow, so running off the end means "wait", not "malformed".
   */
  constructor(
    bytes: Buffer,
    readonly base: number,
    readonly partial: boolean,
  ) {
    this.b = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = bytes;
  }

  fail(message: string, at: number): never {
    if (at >= this.b.length) {
      if (this.partial) throw NEED_MORE;
      throw new JsonPickError("unexpected end of JSON", this.base + at);
    }
    throw new JsonPickError(message, this.base + at);
  }

  ws(i: number): number {
    const b = this.b;
    for (;;) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
      i++;
    }
  }

  /** i at the opening quote; returns the index after the closing one. */
  skipString(i: number): number {
    const b = this.b;
    const n = b.length;
    // Short strings (keys, ids) inline; long ones (user data, descriptions) by memchr.
    const inlineEnd = Math.min(n, i + INLINE_STRING_BYTES + 1);
    let j = i + 1;
    let escaped = false;
    while (j < inlineEnd) {
      const c = b[j];
      if (c === QUOTE) {
        this.escaped = escaped;
        return j + 1;
      }
      if (c === BACKSLASH) {
        escaped = true;
        j += 2;
      } else j++;
    }
    this.escaped = true; // not tracked past the inline part: callers check again
    return this.skipStringTail(j);
  }

  /** j inside a string, not inside an escape; returns the index after its closing quote. */
  skipStringTail(j: number): number {
    const b = this.b;
    for (;;) {
      const q = b.indexOf(QUOTE, j);
      if (q < 0) return this.fail("unterminated string", b.length);
      let k = q - 1;
      while (b[k] === BACKSLASH) k--;
      // An even number of backslashes before the quote: it ends the string.
      if ((q - 1 - k) % 2 === 0) return q + 1;
      j = q + 1;
    }
  }

  /**
   * From inside an open object or array (j just past its opening bracket, or anywhere within it outside a
   * string), returns the index after its closing bracket.
   */
  skipNested(j: number): number {
    const b = this.b;
    const n = b.length;
    // One loop over the bytes until the brackets balance; most bytes are plain (class 0) and cost one
    // table lookup. Strings are walked inline: a call per string would cost more than the string.
    let depth = 1;
    while (j < n) {
      const k = CLASS[b[j]!]!;
      if (k === 0) {
        j++;
        continue;
      }
      if (k === 1) {
        // a string: to its closing quote, stepping over escapes; a long one (user data) by memchr
        const inlineEnd = Math.min(n, j + INLINE_STRING_BYTES + 1);
        j++;
        for (;;) {
          if (j >= inlineEnd) {
            j = this.skipStringTail(j);
            break;
          }
          const d = b[j]!;
          if (d === QUOTE) {
            j++;
            break;
          }
          j += d === BACKSLASH ? 2 : 1;
        }
        continue;
      }
      if (k === 2) depth++;
      else if (--depth === 0) return j + 1;
      j++;
    }
    return this.fail("unterminated object or array", n);
  }

  /** Returns the index after the value starting at i. */
  skipValue(i: number): number {
    const b = this.b;
    const n = b.length;
    const c = b[i];
    if (c === QUOTE) return this.skipString(i);
    if (c === LBRACE || c === LBRACKET) return this.skipNested(i + 1);
    let j = i;
    while (j < n) {
      const d = b[j];
      if (
        d === COMMA ||
        d === RBRACE ||
        d === RBRACKET ||
        d === 0x20 ||
        d === 0x0a ||
        d === 0x0d ||
        d === 0x09
      )
        break;
      j++;
    }
    if (j === i) this.fail("expected a value", i);
    // A scalar only ends at a delimiter; one cut by the end of the bytes is incomplete.
    if (j === n) this.fail("unexpected end of JSON", n);
    return j;
  }

  /** Parses the value in [i, end) exactly as JSON.parse would. */
  value(i: number, end: number): unknown {
    const b = this.b;
    if (b[i] === QUOTE) {
      // Most picked values are plain strings: no escapes or control bytes, so the bytes are the string.
      let plain = true;
      for (let j = i + 1; j < end - 1; j++) {
        const c = b[j]!;
        if (c === BACKSLASH || c < 0x20) {
          plain = false;
          break;
        }
      }
      if (plain) return this.buf.toString("utf8", i + 1, end - 1);
    }
    try {
      return JSON.parse(this.buf.toString("utf8", i, end));
    } catch {
      return this.fail("invalid value", i);
    }
  }

  /** Matches the key whose quotes are at i and end-1 against the shape. */
  match(shape: CompiledShape, i: number, end: number): Candidate | undefined {
    const b = this.b;
    const len = end - i - 2;
    if (this.escaped) {
      for (let j = i + 1; j < end - 1; j++) {
        // A key spelled with escapes: decode it (rare; metal-api never does this).
        if (b[j] === BACKSLASH) {
          const key = this.value(i, end) as string;
          return shape.byKey.has(key) ? { key, bytes: EMPTY, sub: shape.byKey.get(key) } : undefined;
        }
      }
    }
    const list = shape.byLength[len];
    if (list === undefined) return undefined;
    for (const cand of list) {
      let same = true;
      for (let k = 0; k < len; k++) {
        if (b[i + 1 + k] !== cand.bytes[k]) {
          same = false;
          break;
        }
      }
      if (same) return cand;
    }
    return undefined;
  }

  /** i at `{`; returns the picked object and the index after `}`. */
  object(i: number, shape: CompiledShape): [Record<string, unknown>, number] {
    const b = this.b;
    const out: Record<string, unknown> = {};
    let found = 0;
    i = this.ws(i + 1);
    if (b[i] === RBRACE) return [out, i + 1];
    for (;;) {
      if (b[i] !== QUOTE) this.fail("expected a key", i);
      const keyEnd = this.skipString(i);
      const hit = this.match(shape, i, keyEnd);
      i = this.ws(keyEnd);
      if (b[i] !== COLON) this.fail("expected ':'", i);
      i = this.ws(i + 1);
      if (hit?.sub && b[i] === LBRACE) {
        const [v, next] = this.object(i, hit.sub);
        out[hit.key] = v;
        i = next;
      } else {
        const end = this.skipValue(i);
        if (hit) out[hit.key] = this.value(i, end);
        i = end;
      }
      if (hit && ++found === shape.size) {
        // Every wanted key is in: the rest of the object in one loop, not key by key. (A repeated key
        // after this point is ignored; JSON encoders never write one.)
        return [out, this.skipNested(i)];
      }
      i = this.ws(i);
      if (b[i] === COMMA) {
        i = this.ws(i + 1);
        continue;
      }
      if (b[i] === RBRACE) return [out, i + 1];
      this.fail("expected ',' or '}'", i);
    }
  }
}

export interface ArrayPicker<T> {
  /** Feeds the next bytes of the body; complete elements are decoded at once. Returns how many so far. */
  push(chunk: Uint8Array): number;
  /** The body is complete: returns every element, or throws JsonPickError if it was malformed. */
  end(): T[];
}

const START = 0;
const FIRST = 1;
const ELEMENT = 2;
const AFTER = 3;
const DONE = 4;

/**
 * A streaming pickArray. Bytes are kept only until the element they belong to is complete; an element is
 * retried once the bytes waiting for it have doubled, so even a huge element costs linear time.
 */
export function createArrayPicker<T>(shape: PickShape): ArrayPicker<T> {
  const s = compile(shape);
  const out: T[] = [];
  let chunks: Buffer[] = [];
  let size = 0;
  /** Offset of chunks[0] in the whole input. */
  let base = 0;
  let retryAt = 0;
  let state = START;

  const asBuffer = (c: Uint8Array) =>
    Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);

  function run(partial: boolean): void {
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const r = new Reader(bytes, base, partial);
    const b = r.b;
    // i only moves past complete tokens: a NEED_MORE leaves it where the unfinished one starts.
    let i = 0;
    try {
      for (;;) {
        const at = r.ws(i);
        if (state === DONE) {
          if (at < b.length) r.fail("unexpected data after the JSON value", at);
          i = at;
          break;
        }
        if (at >= b.length) {
          if (partial) break;
          r.fail("unexpected end of JSON", at);
        }
        const c = b[at];
        if (state === START) {
          if (c === 0x6e) {
            if (at + 4 > b.length) r.fail("", b.length);
            if (bytes.toString("latin1", at, at + 4) !== "null") r.fail("expected an array", at);
            state = DONE;
            i = at + 4;
          } else if (c === LBRACKET) {
            state = FIRST;
            i = at + 1;
          } else r.fail("expected an array", at);
        } else if (state === AFTER || (state === FIRST && c === RBRACKET)) {
          if (c === RBRACKET) state = DONE;
          else if (c === COMMA) state = ELEMENT;
          else r.fail("expected ',' or ']'", at);
          i = at + 1;
        } else {
          if (c !== LBRACE) r.fail("expected an object", at);
          const [obj, next] = r.object(at, s);
          out.push(obj as T);
          state = AFTER;
          i = next;
        }
      }
    } catch (err) {
      if (err !== NEED_MORE) throw err;
    }
    const rest = bytes.subarray(i);
    base += i;
    chunks = rest.length > 0 ? [rest] : [];
    size = rest.length;
    retryAt = size * 2;
  }

  return {
    push(chunk) {
      if (chunk.byteLength > 0) {
        chunks.push(asBuffer(chunk));
        size += chunk.byteLength;
        if (size >= retryAt) run(true);
      }
      return out.length;
    },
    end() {
      if (size > 0 || state !== DONE) run(false);
      return out;
    },
  };
}

/**
 * Decodes a JSON array of objects (or `null`, which metal-api sends for an empty list), keeping only the
 * fields the shape names. Throws JsonPickError naming the byte offset of malformed input.
 */
export function pickArray<T>(bytes: Uint8Array, shape: PickShape): T[] {
  const p = createArrayPicker<T>(shape);
  p.push(bytes);
  return p.end();
}
