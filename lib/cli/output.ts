// What the command line prints. Training prints a progress line per step, ending in "\r" so
// that the next one overwrites it; a system call per line cost ~10 ms over 1,000 fast-engine
// steps (a fifth of their time), so standard output is held for up to a few hundredths of a
// second and written in one call. The bytes are the same, and so is their order with standard
// error: text for stderr first writes out whatever stdout holds.

/** Something text can be written to: `Deno.stdout`, `Deno.stderr`, or a test's fake. */
export interface SyncFile {
  /** Writes some of `bytes`; returns how many. */
  writeSync(bytes: Uint8Array): number;
}

/** A text writer, with `flush()` to write out what it holds. */
export interface Writer {
  (text: string): void;
  /** Writes whatever is held now. */
  flush(): void;
}

/**
 * A writer of UTF-8 text to `file`.
 *
 * @param file Where to write.
 * @param options `holdMs`: text waits until this many milliseconds have passed since the last
 *   write (then it goes out with the next call, or at `flush()`); 0, the default, writes at
 *   once. `before`: called before each write, as stderr flushes stdout.
 * @returns The writer.
 *
 * @example Held text goes out in one write
 * ```ts
 * import { textWriter } from "@lib/cli/output.ts";
 * import assert from "node:assert/strict";
 *
 * const writes: string[] = [];
 * const file = { writeSync: (b: Uint8Array) => (writes.push(new TextDecoder().decode(b)), b.length) };
 * const out = textWriter(file, { holdMs: 1000 });
 * out("step 1\r");
 * out("step 2\r");
 * out("step 3\r");
 * out.flush();
 * assert.deepEqual(writes, ["step 1\r", "step 2\rstep 3\r"]);
 * ```
 */
export function textWriter(
  file: SyncFile,
  options: { holdMs?: number; before?: () => void } = {},
): Writer {
  const { holdMs = 0, before } = options;
  const encoder = new TextEncoder();
  let held = "";
  let lastWrite = -Infinity;
  const flush = () => {
    if (held === "") return;
    // Taken out before writing: if the write fails (a closed pipe), a later flush, as the
    // error report's, does not try the same text again.
    let bytes = encoder.encode(held);
    held = "";
    lastWrite = performance.now();
    before?.();
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  };
  const write = (text: string) => {
    held += text;
    if (performance.now() - lastWrite >= holdMs) flush();
  };
  return Object.assign(write, { flush });
}
