// The safetensors layout (https://github.com/huggingface/safetensors), the file format of
// checkpoints: the layout itself (writing, and checking a header) is in safetensors_format.ts,
// which uses no Deno API; this file adds reading a file's tensors in pieces through Deno's.

import {
  bytesOf,
  CHUNK,
  decodeHeader,
  headerLength,
  type SafetensorsHeader,
  tensorRange,
} from "./safetensors_format.ts";

export {
  checkHeader,
  decodeHeader,
  encodeHeader,
  encodeSafetensors,
  headerLength,
  jsonDepth,
  MAX_HEADER_BYTES,
  MAX_JSON_DEPTH,
  parseJsonChecked,
  SafetensorsBytes,
  type SafetensorsHeader,
  safetensorsPieces,
  show,
  type TensorInfo,
  type TensorToWrite,
} from "./safetensors_format.ts";

/**
 * An open safetensors file whose header has been read and checked; tensors are read on demand.
 */
export class SafetensorsFile {
  /** The checked header. */
  readonly header: SafetensorsHeader;
  #file: Deno.FsFile;
  #dataStart: number;

  private constructor(file: Deno.FsFile, header: SafetensorsHeader, dataStart: number) {
    this.#file = file;
    this.header = header;
    this.#dataStart = dataStart;
  }

  /**
   * Reads and checks the header of an open file (see {@linkcode checkHeader}); the tensors
   * are read later, one by one, with {@linkcode SafetensorsFile.readInto}.
   *
   * @param file An open file, positioned at its start; closed on failure.
   * @param size Its size in bytes.
   * @returns The reader.
   * @throws {SyntaxError} If the layout is wrong (`Deno` errors pass through).
   */
  static async open(file: Deno.FsFile, size: number): Promise<SafetensorsFile> {
    try {
      if (size < 8) throw new SyntaxError(`it has ${size} bytes, fewer than a header needs`);
      const prefix = new Uint8Array(8);
      await readFully(file, prefix);
      const n = headerLength(prefix, size);
      const headerBytes = new Uint8Array(n);
      await readFully(file, headerBytes);
      const dataStart = 8 + n;
      return new SafetensorsFile(file, decodeHeader(headerBytes, size - dataStart), dataStart);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /**
   * Reads one tensor's values into `target`, which must have exactly its number of values.
   *
   * @param name The tensor.
   * @param target Where its values go.
   */
  async readInto(name: string, target: Float64Array): Promise<void> {
    const [begin] = tensorRange(this.header, name, target);
    await this.#file.seek(this.#dataStart + begin, Deno.SeekMode.Start);
    await readFully(this.#file, bytesOf(target));
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  /** Closes the file (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

// Fills `bytes` from the file, in pieces; a file that ends first is truncated.
async function readFully(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const n = await file.read(bytes.subarray(at, Math.min(at + CHUNK, bytes.length)));
    if (n === null) throw new SyntaxError("it ends early (truncated)");
    at += n;
  }
}
