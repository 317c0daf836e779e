// The safetensors layout (https://github.com/huggingface/safetensors), the file format of
// checkpoints: an 8-byte little-endian length N, N bytes of JSON header naming each tensor's
// dtype, shape and byte range, then the tensors' raw little-endian bytes. Only F64 tensors, the
// one dtype this project has. Written and read in pieces straight from and into Float64Arrays,
// so a model of any size needs no memory beyond its arrays. The header's meaning (which
// tensors, what metadata) is checkpoint.ts's business; this file checks only the layout. It
// uses no Deno API, so the web edition can bundle it; safetensors.ts adds reading from files.

/** The largest header read: a checkpoint's is a few kilobytes plus its characters. */
export const MAX_HEADER_BYTES = 100_000_000;
/** How deep any JSON read from a file may nest (a checkpoint needs 3 levels). */
export const MAX_JSON_DEPTH = 64;

/** Bytes moved per read or write call. */
export const CHUNK = 1 << 20;

/** A tensor to write: its name, shape and values (row-major). */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float64Array;
}

/** A tensor's entry in the header. */
export interface TensorInfo {
  /** Always `F64` here. */
  dtype: string;
  shape: number[];
  /** Byte range `[begin, end)` in the data that follows the header. */
  data_offsets: [number, number];
}

/** A checked header: the tensors in file order, and the string-to-string metadata. */
export interface SafetensorsHeader {
  tensors: { name: string; info: TensorInfo }[];
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws on a big-endian machine (Float64Array uses the machine's byte order). */
export function requireLittleEndian(): void {
  // Float64Array uses the machine's byte order; every platform Deno runs on is little-endian.
  if (!LITTLE_ENDIAN) throw new Error("Cannot use safetensors: this machine is big-endian");
}

/** The bytes of an array of numbers (a view, not a copy). */
export const bytesOf = (a: Float64Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * The first bytes of a file: the header's length, then the header, padded with spaces (which
 * the format allows) so that the tensors start on an 8-byte boundary.
 *
 * @param tensors The tensors, in the order their bytes follow.
 * @param metadata Strings only, as the format requires.
 * @returns The bytes before the first tensor's.
 */
export function encodeHeader(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    if (name === "__metadata__" || name in header) {
      throw new RangeError(`Cannot write safetensors: tensor name ${name} is taken`);
    }
    if (shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new RangeError(
        `Cannot write safetensors: ${name} has ${data.length} values, shape [${shape}]`,
      );
    }
    header[name] = { dtype: "F64", shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  const size = () => new TextEncoder().encode(json).length;
  json += " ".repeat((8 - size() % 8) % 8);
  const text = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + text.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
  bytes.set(text, 8);
  return bytes;
}

/**
 * A whole file in memory (for small files and tests; {@linkcode safetensorsPieces} streams).
 *
 * @param tensors The tensors.
 * @param metadata The metadata.
 * @returns The file's bytes.
 */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string>,
): Uint8Array {
  requireLittleEndian();
  const header = encodeHeader(tensors, metadata);
  const bytes = new Uint8Array(header.length + tensors.reduce((n, t) => n + t.data.byteLength, 0));
  bytes.set(header);
  let at = header.length;
  for (const { data } of tensors) {
    bytes.set(bytesOf(data), at);
    at += data.byteLength;
  }
  return bytes;
}

/**
 * A whole file as pieces, for `writeFileAtomic` (lib/io/files.ts) to stream to the disk: the header,
 * then each tensor in 1 MiB views of its array (nothing is copied).
 *
 * @param tensors The tensors, in the order their bytes follow.
 * @param metadata Strings only, as the format requires.
 * @returns The pieces, in order.
 */
export function* safetensorsPieces(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string>,
): Generator<Uint8Array> {
  requireLittleEndian();
  yield encodeHeader(tensors, metadata);
  for (const { data } of tensors) {
    const bytes = bytesOf(data);
    for (let at = 0; at < bytes.length; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
  }
}

/**
 * How deeply a JSON text nests, counted without parsing (no recursion) and given up past
 * `limit`.
 *
 * @param text JSON text.
 * @param limit The depth past which to stop counting.
 * @returns The depth, or `limit + 1` if deeper.
 */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > limit) return limit + 1;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Parses JSON read from a file: refused if it nests deeper than {@linkcode MAX_JSON_DEPTH}, so
 * nothing that later walks it can exhaust the stack.
 *
 * @param text The text.
 * @param what What it is, for the message.
 * @returns The value.
 * @throws {SyntaxError} With a message in plain words.
 */
export function parseJsonChecked(text: string, what: string): unknown {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new SyntaxError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels (corrupted)`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SyntaxError(`${what} is not valid JSON (truncated or corrupted)`);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

/**
 * Checks a parsed header against the format and the file's size: `__metadata__` maps strings
 * to strings; every tensor is F64 with a shape of non-negative integers and a byte range of
 * exactly its size; the ranges, in file order, start at 0, follow one another without gap or
 * overlap, and end where the file ends.
 *
 * @param raw The parsed header.
 * @param dataBytes The number of bytes after the header.
 * @returns The header, tensors in file order.
 * @throws {SyntaxError} Naming the first problem.
 */
export function checkHeader(raw: unknown, dataBytes: number): SafetensorsHeader {
  const fail = (why: string): never => {
    throw new SyntaxError(why);
  };
  if (!isObject(raw)) fail("the header is not a JSON object");
  const header = raw as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const meta = header.__metadata__ ?? {};
  if (!isObject(meta)) fail("__metadata__ is not an object");
  for (const [key, value] of Object.entries(meta as Record<string, unknown>)) {
    if (typeof value !== "string") fail(`__metadata__ value ${show(key)} is not a string`);
    metadata[key] = value as string;
  }
  const tensors: { name: string; info: TensorInfo }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const where = `tensor ${show(name)}`;
    if (!isObject(entry)) fail(`${where} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (dtype !== "F64") fail(`${where} has dtype ${show(dtype)}; only F64 is supported`);
    if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      fail(`${where} has a shape that is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((n) => Number.isSafeInteger(n) && n >= 0)
    ) {
      fail(`${where} has data_offsets that are not two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== 8 * count) {
      fail(
        `${where} has data_offsets [${begin}, ${end}] for ${end - begin} bytes, its shape ` +
          `[${shape}] needs ${8 * count}`,
      );
    }
    tensors.push({
      name,
      info: { dtype: "F64", shape: shape as number[], data_offsets: [begin, end] },
    });
  }
  tensors.sort((a, b) => a.info.data_offsets[0] - b.info.data_offsets[0]);
  let at = 0;
  for (const { name, info: { data_offsets: [begin, end] } } of tensors) {
    if (begin !== at) {
      fail(
        `tensor ${show(name)} starts at byte ${begin}, not ${at} where the one before ends ` +
          "(tensors must follow one another without gap or overlap)",
      );
    }
    at = end;
  }
  if (at !== dataBytes) {
    fail(`the tensors end at byte ${at} of the data, but the file has ${dataBytes} bytes of data`);
  }
  return { tensors, metadata };
}

/**
 * A value for an error message, never long and never walked: numbers and short strings as
 * they are, anything else by its kind.
 *
 * @param x The value.
 * @returns A few words.
 */
export function show(x: unknown): string {
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint" || x === null) {
    return String(x);
  }
  if (typeof x === "string") {
    return x.length > 40
      ? `${JSON.stringify(x.slice(0, 40)).slice(0, -1)}..." (${x.length} characters)`
      : JSON.stringify(x);
  }
  if (x === undefined) return "missing";
  return Array.isArray(x) ? "a list" : "an object";
}

/**
 * The header's length, from the file's first 8 bytes, checked against the limit and the size.
 *
 * @param prefix The first 8 bytes.
 * @param size The file's size in bytes.
 * @returns The header's length in bytes.
 * @throws {SyntaxError} If it is more than the limit or the file holds.
 */
export function headerLength(prefix: Uint8Array, size: number): number {
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
    throw new SyntaxError(
      `its header length (${n} bytes) is more than ${
        n > BigInt(MAX_HEADER_BYTES) ? `the limit, ${MAX_HEADER_BYTES}` : "the file holds"
      } (truncated, or not a checkpoint)`,
    );
  }
  return Number(n);
}

/**
 * Decodes and checks a header's bytes (see {@linkcode checkHeader}).
 *
 * @param headerBytes The header, as read after the 8-byte length.
 * @param dataBytes The number of bytes after the header.
 * @returns The checked header.
 * @throws {SyntaxError} Naming the first problem.
 */
export function decodeHeader(headerBytes: Uint8Array, dataBytes: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw new SyntaxError("its header is not UTF-8 text (corrupted, or not a checkpoint)");
  }
  if (!text.startsWith("{")) {
    throw new SyntaxError("its header is not a JSON object (corrupted, or not a checkpoint)");
  }
  return checkHeader(parseJsonChecked(text, "its header"), dataBytes);
}

/**
 * Where a tensor's bytes are, relative to the start of the data, checked to fit `target`
 * exactly (both readers of a file go through this before copying).
 *
 * @param header The file's header.
 * @param name The tensor.
 * @param target Where its values are to go.
 * @returns Its `[begin, end)` byte offsets.
 */
export function tensorRange(
  header: SafetensorsHeader,
  name: string,
  target: Float64Array,
): [number, number] {
  requireLittleEndian();
  const entry = header.tensors.find((t) => t.name === name);
  if (!entry) throw new RangeError(`Cannot read tensor ${name}: not in the file`);
  const [begin, end] = entry.info.data_offsets;
  if (end - begin !== target.byteLength) {
    throw new RangeError(
      `Cannot read tensor ${name}: ${end - begin} bytes into ${target.byteLength}`,
    );
  }
  return [begin, end];
}

/** A whole safetensors file in memory, its header checked; tensors are read on demand. */
export class SafetensorsBytes {
  /** The checked header. */
  readonly header: SafetensorsHeader;
  #bytes: Uint8Array;
  #dataStart: number;

  /**
   * Reads and checks the header of a file's bytes.
   *
   * @param bytes The whole file.
   * @throws {SyntaxError} If the layout is wrong.
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length < 8) {
      throw new SyntaxError(`it has ${bytes.length} bytes, fewer than a header needs`);
    }
    const n = headerLength(bytes.subarray(0, 8), bytes.length);
    this.#dataStart = 8 + n;
    this.header = decodeHeader(bytes.subarray(8, this.#dataStart), bytes.length - this.#dataStart);
    this.#bytes = bytes;
  }

  /**
   * Copies one tensor's values into `target`, which must have exactly its number of values.
   *
   * @param name The tensor.
   * @param target Where its values go.
   */
  readInto(name: string, target: Float64Array): void {
    const [begin, end] = tensorRange(this.header, name, target);
    bytesOf(target).set(this.#bytes.subarray(this.#dataStart + begin, this.#dataStart + end));
  }
}
