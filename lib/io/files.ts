// Files, the way databases treat their own: every file the project writes goes through
// `writeFileAtomic` (a temporary file in the same folder, created exclusively under a name of
// this process's own, fsync, rename over the target, fsync the folder), so a crash, a kill or a
// full disk leaves the old file whole and a planted file is never written through; SIGINT and
// SIGTERM remove what is half-written. Outputs are checked before any work so that none can
// overwrite an input or land where it cannot be written, and locked so that two runs never
// write one file. Inputs are regular files of a sane size (a device or a pipe would never end).
// Every failure of the operating system becomes one plain sentence instead of a stack trace.

import { basename, dirname, join, resolve } from "./paths.ts";
import { UserError } from "./errors.ts";

/** What {@linkcode writeFileAtomic} writes: text, bytes, or pieces of bytes in order. */
export type FileData =
  | string
  | Uint8Array
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>;

/** The file operations the project needs: the seam through which tests inject faults. */
export interface FileSystem {
  /**
   * Reads a whole regular file of at most `maxBytes` bytes; anything else (a folder, a device,
   * a pipe, a larger file) is refused with an {@linkcode InputRefused} before it is read.
   */
  readFile(path: string, maxBytes?: number): Promise<Uint8Array>;
  /**
   * Creates `path`, which must not exist (a planted file or symlink is never written
   * through), writes all of `data` and flushes it to the disk.
   */
  writeFileSynced(
    path: string,
    data: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<void>;
  /** Moves `from` over `to`, atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file. */
  remove(path: string): Promise<void>;
  /** Flushes a folder's entries (a rename in it) to the disk. */
  syncDir(path: string): Promise<void>;
}

/** The largest input read whole (a dataset): 512 MiB, about the longest string V8 can hold. */
export const MAX_INPUT_BYTES = 512 * 2 ** 20;

/**
 * An input that is not a regular file of a sane size (a device, a pipe, a folder, a file too
 * large), refused before it is read; {@linkcode osReason} gives its reason.
 */
export class InputRefused extends Error {
  /**
   * Creates the error.
   *
   * @param reason What the input is, in words, e.g. "it is a character device, not a file".
   */
  constructor(readonly reason: string) {
    super(reason);
    this.name = "InputRefused";
  }
}

// What a file that is not a regular one is, in words.
function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a folder";
  if (info.isFifo) return "a named pipe (FIFO)";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)} MiB`;

/**
 * Opens an input for reading once it is known to be a regular file of at most `maxBytes`
 * bytes: a device (/dev/zero), a pipe or a folder would hang or never end, and is refused with
 * what it is, before it is opened.
 *
 * @param path The file.
 * @param options `maxBytes`, the largest size accepted ({@linkcode MAX_INPUT_BYTES} if omitted).
 * @returns The open file and its size.
 * @throws {InputRefused} For anything but a regular file of a sane size.
 */
export async function openInput(
  path: string,
  options: { maxBytes?: number } = {},
): Promise<{ file: Deno.FsFile; size: number }> {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  const check = (info: Deno.FileInfo) => {
    if (!info.isFile) throw new InputRefused(`it is ${kindOf(info)}, not a regular file`);
    if (info.size > maxBytes) {
      throw new InputRefused(
        `it is too large (${mib(info.size)}; the limit is ${mib(maxBytes)})`,
      );
    }
  };
  const before = await Deno.stat(path);
  check(before);
  const file = await Deno.open(path, { read: true });
  try {
    const info = await file.stat(); // the file opened, which may have been swapped meanwhile
    check(info);
    return { file, size: info.size };
  } catch (err) {
    file.close();
    throw err;
  }
}

// A per-process token that names this process's temporary files: two runs never share one.
// The task launcher picks it for the process it starts (MICROGPT_TEMP_TOKEN), so that it can
// grant write access to exactly those names.
const TOKEN_VARIABLE = "MICROGPT_TEMP_TOKEN";
function processToken(): string {
  const granted = Deno.permissions.querySync?.({ name: "env", variable: TOKEN_VARIABLE });
  const given = granted?.state === "granted" ? Deno.env.get(TOKEN_VARIABLE) : undefined;
  if (given !== undefined && /^[0-9a-f]{16,64}$/.test(given)) return given;
  return newTempToken();
}

/**
 * A fresh random token for temporary file names (16 hex digits).
 *
 * @returns The token.
 */
export function newTempToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const TOKEN = processToken();

/**
 * The temporary file {@linkcode writeFileAtomic} writes before renaming it over `path`: a
 * hidden file in the same folder, named for this process (`.ck.json.3f9a....tmp`).
 *
 * @param path The file to be written.
 * @param token The process's token (this process's unless given).
 * @returns The temporary file's path.
 *
 * @example
 * ```ts
 * import { tempPathOf } from "@lib/io/files.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(tempPathOf("out/ck.json", "00ff00ff00ff00ff"), "out/.ck.json.00ff00ff00ff00ff.tmp");
 * ```
 */
export function tempPathOf(path: string, token: string = TOKEN): string {
  return join(dirname(path), `.${basename(path)}.${token}.tmp`);
}

/**
 * The lock file that marks `path` as being written by a run ({@linkcode lockOutput}).
 *
 * @param path The output.
 * @returns `path` with `.lock` appended.
 */
export const lockPathOf = (path: string): string => `${path}.lock`;

// Files to remove if the process is interrupted (temporary files being written, lock files
// held): while there are any, SIGINT and SIGTERM remove them and end the process with the
// shell's code for the signal (130, 143) instead of leaving them behind.
const cleanup = new Set<string>();
const SIGNALS: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
let interrupted = false;
function onSignal(signal: Deno.Signal) {
  if (interrupted) return;
  interrupted = true;
  for (const path of cleanup) {
    try {
      Deno.removeSync(path);
    } catch {
      // already gone
    }
  }
  Deno.exit(signal === "SIGINT" ? 130 : 143);
}
const listeners = new Map(SIGNALS.map((s) => [s, () => onSignal(s)]));

/**
 * Removes `path` if the process receives SIGINT or SIGTERM before the returned function is
 * called (the process then exits with 130 or 143). Signals are handled only when the event
 * loop runs: long synchronous work should yield now and then ({@linkcode yieldToSignals}).
 *
 * @param path A file this process made and must not leave behind.
 * @returns A function that stops watching for it.
 */
export function removeOnInterrupt(path: string): () => void {
  if (cleanup.size === 0) { for (const [s, f] of listeners) Deno.addSignalListener(s, f); }
  cleanup.add(path);
  return () => {
    if (!cleanup.delete(path) || cleanup.size > 0) return;
    for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
  };
}

let lastYield = 0;
/**
 * Lets a pending SIGINT or SIGTERM be handled (at most every 100 ms, and only while a file is
 * watched by {@linkcode removeOnInterrupt}): a loop of synchronous work awaits it now and then.
 *
 * @returns A promise that settles after the event loop has turned, or at once.
 */
export function yieldToSignals(): Promise<void> | undefined {
  if (cleanup.size === 0) return undefined;
  const now = performance.now();
  if (now - lastYield < 100) return undefined;
  lastYield = now;
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let rest = bytes; rest.length > 0;) rest = rest.subarray(await file.write(rest));
}

/** The real file system, through Deno. */
export const DENO_FS: FileSystem = {
  async readFile(path, maxBytes) {
    const { file, size } = await openInput(path, { maxBytes });
    try {
      const limit = maxBytes ?? MAX_INPUT_BYTES;
      const chunks: Uint8Array[] = [];
      let total = 0;
      // Read to the end, not to the size stat() gave: the file may grow meanwhile.
      for (let chunk = new Uint8Array(Math.max(size, 1) + 1);;) {
        const n = await file.read(chunk);
        if (n === null) break;
        chunks.push(chunk.slice(0, n));
        total += n;
        if (total > limit) {
          throw new InputRefused(`it is too large (over ${mib(limit)}, the limit)`);
        }
        chunk = new Uint8Array(Math.min(Math.max(size, 65536), limit + 1 - total));
      }
      if (chunks.length === 1) return chunks[0]!;
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      return bytes;
    } finally {
      file.close();
    }
  },
  async writeFileSynced(path, data) {
    using file = await Deno.open(path, { write: true, createNew: true });
    if (data instanceof Uint8Array) await writeAll(file, data);
    else for await (const piece of data) await writeAll(file, piece);
    await file.sync();
  },
  rename: (from, to) => Deno.rename(from, to),
  remove: (path) => Deno.remove(path),
  async syncDir(path) {
    // Opening a folder needs read access to all of it, which the least-privilege task launcher
    // does not grant: there the rename is atomic but reaches the disk with the next flush.
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return;
    using dir = await Deno.open(path, { read: true });
    await dir.sync();
  },
};

// errno codes in plain words.
const REASONS: Record<string, string> = {
  ENOSPC: "the disk is full; free some space and run again",
  EDQUOT: "the disk quota is used up; free some space and run again",
  EACCES: "permission denied",
  EPERM: "the operation is not permitted",
  EROFS: "the file system is read-only",
  EISDIR: "it is a folder, not a file",
  ENOTDIR: "a part of the path is a file, not a folder",
  ENOENT: "no such file or folder",
  EIO: "an input/output error (the disk or its connection failed)",
  EMFILE: "too many open files (raise the limit with ulimit -n)",
  ENFILE: "too many open files on this machine",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many levels of symbolic links",
  EBUSY: "the file is busy",
  ETXTBSY: "the file is busy",
  EXDEV: "it is on another file system",
  EEXIST: "the file already exists",
};

/**
 * The plain reason for an operating-system error, or `undefined` for anything else (a bug).
 *
 * @param err What was thrown.
 * @returns A short sentence, e.g. "the disk is full; free some space and run again".
 *
 * @example
 * ```ts
 * import { osReason } from "@lib/io/files.ts";
 * import assert from "node:assert/strict";
 *
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * assert.equal(osReason(full), "the disk is full; free some space and run again");
 * assert.equal(osReason(new TypeError("x is undefined")), undefined);
 * ```
 */
export function osReason(err: unknown): string | undefined {
  if (err instanceof InputRefused) return err.reason;
  if (err instanceof Deno.errors.NotCapable) {
    return "Deno's permissions do not allow it (the task grants only the files its command " +
      "line names)";
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in REASONS) return REASONS[code];
  if (err instanceof Deno.errors.NotFound) return REASONS.ENOENT;
  if (err instanceof Deno.errors.PermissionDenied) return REASONS.EACCES;
  if (err instanceof Deno.errors.IsADirectory) return REASONS.EISDIR;
  if (err instanceof Deno.errors.NotADirectory) return REASONS.ENOTDIR;
  return undefined;
}

/**
 * Wraps an operating-system error in a {@linkcode UserError} that says what failed, where and
 * why; anything else (a bug) is returned unchanged.
 *
 * @param action What was being done, e.g. "write --json file".
 * @param path The file.
 * @param err What was thrown.
 * @returns The error to throw.
 */
export function fileError(action: string, path: string, err: unknown): unknown {
  if (err instanceof UserError) return err;
  const reason = osReason(err);
  return reason === undefined ? err : new UserError(`Cannot ${action} ${path}: ${reason}`, {
    cause: err,
  });
}

/** Options of {@linkcode readFileChecked} and {@linkcode writeFileAtomic}. */
export interface FileOptions {
  /** What the file is, for messages ("dataset", "--json file"). */
  what: string;
  /** The file system (tests pass one that fails). */
  fs?: FileSystem;
}

/**
 * Reads a regular file of at most `maxBytes` bytes; an operating-system failure, or an input
 * that is a device, a pipe, a folder or too large, becomes a {@linkcode UserError}.
 *
 * @param path The file.
 * @param options `what` the file is, the file system, and `maxBytes`
 *   ({@linkcode MAX_INPUT_BYTES} if omitted).
 * @returns Its bytes.
 */
export async function readFileChecked(
  path: string,
  options: FileOptions & { maxBytes?: number },
): Promise<Uint8Array> {
  try {
    return await (options.fs ?? DENO_FS).readFile(path, options.maxBytes);
  } catch (err) {
    throw fileError(`read ${options.what}`, path, err);
  }
}

/**
 * Writes a file so that it is never seen half-written: the data goes to a temporary file in
 * the same folder, is flushed to the disk, and is renamed over `path`; then the folder is
 * flushed. On any failure the temporary file is removed and the old `path`, if any, is left as
 * it was; an operating-system failure becomes a {@linkcode UserError}.
 *
 * @param path Where to write.
 * @param data The contents (text is written as UTF-8).
 * @param options `what` the file is, and the file system.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "@lib/io/files.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeFileAtomic(`${dir}/a.json`, "{}\n", { what: "--json file" });
 *   assert.equal(await Deno.readTextFile(`${dir}/a.json`), "{}\n");
 *   assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.json"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: FileData,
  options: FileOptions,
): Promise<void> {
  const fs = options.fs ?? DENO_FS;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = tempPathOf(path);
  const unwatch = removeOnInterrupt(tmp);
  try {
    await fs.writeFileSynced(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (err) {
    // A file already there is not ours (planted, or another process's): never removed.
    if (!(err instanceof Deno.errors.AlreadyExists)) await fs.remove(tmp).catch(() => {});
    throw fileError(`write ${options.what}`, path, err);
  } finally {
    unwatch();
  }
  try {
    await fs.syncDir(dirname(resolve(path)));
  } catch (err) {
    throw fileError(`write ${options.what}`, path, err);
  }
}

/** A lock held on an output by {@linkcode lockOutput}; `release()` (or `using`) lets it go. */
export interface OutputLock extends Disposable {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file and releases the lock. */
  release(): void;
}

// The device and inode of a path (not following a symlink), or undefined if it is not there.
function inodeOf(info: Deno.FileInfo): string | undefined {
  return info.dev !== null && info.ino !== null ? `${info.dev}:${info.ino}` : undefined;
}

/**
 * Claims `path` for this process while it runs, so that a second run writing the same file is
 * refused instead of racing it: the lock file `PATH.lock` holds an advisory lock (flock) and
 * this process's id. The operating system lets go of the lock when a process dies, however it
 * dies, so a lock file left by a killed run is taken over; the lock file is removed on release
 * and on SIGINT and SIGTERM.
 *
 * @param path The output.
 * @param options `flag`, the flag that names it, for messages ("--save").
 * @returns The lock.
 * @throws {UserError} If another process holds it, or its lock file cannot be made.
 *
 * @example
 * ```ts
 * import { lockOutput } from "@lib/io/files.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * {
 *   using _lock = await lockOutput(`${dir}/ck.json`, { flag: "--save" });
 *   await assert.rejects(() => lockOutput(`${dir}/ck.json`, { flag: "--save" }), /another run/);
 * }
 * assert.deepEqual([...Deno.readDirSync(dir)], []); // released: the lock file is gone
 * await Deno.remove(dir);
 * ```
 */
export async function lockOutput(path: string, options: { flag: string }): Promise<OutputLock> {
  const lockPath = lockPathOf(path);
  const refuse: (why: string, cause?: unknown) => never = (why, cause) => {
    throw new UserError(`Cannot write ${options.flag} file ${path}: ${why}`, { cause });
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    let file: Deno.FsFile;
    let created = true;
    try {
      file = await Deno.open(lockPath, { read: true, write: true, createNew: true });
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) {
        refuse(`cannot make its lock file ${lockPath} (${osReason(err) ?? err})`, err);
      }
      created = false;
      const info = await Deno.lstat(lockPath).catch(() => undefined);
      if (info === undefined) continue; // removed meanwhile: try again
      if (!info.isFile) refuse(`${lockPath} is not a lock file (remove it and run again)`);
      try {
        file = await Deno.open(lockPath, { read: true, write: true });
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        refuse(`cannot open its lock file ${lockPath} (${osReason(err) ?? err})`, err);
      }
    }
    let keep = false;
    try {
      if (!await file.tryLock(true)) {
        const text = new TextDecoder().decode(
          await Deno.readFile(lockPath).catch(() => new Uint8Array()),
        );
        const pid = /^\d+/.exec(text)?.[0];
        refuse(
          `another run${pid ? ` (process ${pid})` : ""} is writing it; wait for it to finish ` +
            `or give ${options.flag} another path`,
        );
      }
      // Still the file at lockPath (a releasing run may have removed it meanwhile)?
      const [held, named] = [await file.stat(), await Deno.lstat(lockPath).catch(() => undefined)];
      if (named === undefined || inodeOf(held) !== inodeOf(named)) continue;
      if (!created) await file.truncate(0); // left by a run that was killed: taken over
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
      keep = true;
    } finally {
      if (!keep) file.close();
    }
    const unwatch = removeOnInterrupt(lockPath);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      try {
        Deno.removeSync(lockPath); // while still locked: no one can take a removed file
      } catch {
        // already gone
      }
      file.close();
      unwatch();
    };
    return { path: lockPath, release, [Symbol.dispose]: release };
  }
  return refuse(`its lock file ${lockPath} keeps changing; is another run starting?`);
}

/** A file named on the command line, with the flag that named it. */
export interface NamedFile {
  /** The flag, e.g. `--save`, or a description such as `the downloaded dataset`. */
  flag: string;
  path: string;
}

// A file's identity: its real path, and device and inode where it exists.
interface Identity {
  real: string;
  inode?: string;
}

async function identify(path: string): Promise<Identity> {
  const abs = resolve(path);
  let real: string;
  try {
    real = await Deno.realPath(abs);
  } catch {
    // Not there (yet): the folder's real path and the name.
    try {
      real = join(await Deno.realPath(dirname(abs)), basename(abs));
    } catch {
      real = abs;
    }
  }
  // stat() follows symlinks itself; the path as given is the one the task grants.
  for (const p of [abs, real]) {
    try {
      const info = await Deno.stat(p);
      if (info.dev !== null && info.ino !== null) return { real, inode: `${info.dev}:${info.ino}` };
    } catch {
      // missing or unreadable: try the other, then compare by path alone
    }
  }
  return { real };
}

const same = (a: Identity, b: Identity) =>
  a.real === b.real || (a.inode !== undefined && a.inode === b.inode);

// Why a file cannot be written there, or undefined. The one real test of writability (which
// also needs no permission beyond the file's own): create its temporary file, exclusively, then
// remove it. A file already at that name is not ours and is left alone.
async function unwritable(path: string): Promise<string | undefined> {
  const shown = `${dirname(path)}/`;
  const tmp = tempPathOf(path);
  const unwatch = removeOnInterrupt(tmp);
  try {
    (await Deno.open(tmp, { write: true, createNew: true })).close();
    await Deno.remove(tmp);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      return `its temporary file ${tmp} already exists and is not this run's; remove it`;
    }
    if (err instanceof Deno.errors.NotFound) return `folder ${shown} does not exist`;
    if (err instanceof Deno.errors.NotADirectory) return `${shown} is a file, not a folder`;
    if (err instanceof Deno.errors.PermissionDenied) return `folder ${shown} is not writable`;
    return osReason(err) ?? String(err);
  } finally {
    unwatch();
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return undefined; // not there yet (or a dangling symlink, which the rename replaces): fine
  }
  if (info.isDirectory) return "it is a folder, not a file";
  // Renaming over a device or a pipe would replace it (as root, /dev/null itself).
  if (!info.isFile) return `it is ${kindOf(info)}, not a regular file`;
  return undefined;
}

/**
 * Checks, before any work, that no output can destroy an input or another output and that each
 * output can be written: outputs and inputs are compared by real path (symlinks, `./a` and `a`)
 * and by device and inode (hard links), each with its temporary and lock files; each output's
 * folder must exist and be writable, and an output that exists must be a regular file.
 *
 * @param files The `inputs` and `outputs`, each with the flag that named it.
 * @param options `allowed`: pairs of flags `[output, input]` that may name the same file (a
 *   checkpoint saved over the one it resumed from moves forward, written atomically).
 * @throws {UserError} Naming both flags and the file, or the output and why it cannot be written.
 */
export async function checkOutputs(
  files: { inputs: NamedFile[]; outputs: NamedFile[] },
  options: { allowed?: [string, string][] } = {},
): Promise<void> {
  const { inputs, outputs } = files;
  const allowed = options.allowed ?? [];
  // Every file this run touches, each output followed by its temporary file.
  const touched = [
    ...inputs.map((f) => ({ ...f, output: false })),
    ...outputs.flatMap((f) => [
      { ...f, output: true },
      { flag: `${f.flag}'s temporary file`, path: tempPathOf(f.path), output: true },
      { flag: `${f.flag}'s lock file`, path: lockPathOf(f.path), output: true },
    ]),
  ];
  const entries = await Promise.all(
    touched.map(async (f) => ({ ...f, id: await identify(f.path) })),
  );
  for (let i = 0; i < entries.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [entries[j]!, entries[i]!];
      if (!a.output && !b.output) continue; // reading one file twice is fine
      if (!same(a.id, b.id)) continue;
      const [out, other] = b.output ? [b, a] : [a, b];
      if (allowed.some(([o, inp]) => o === out.flag && inp === other.flag)) continue;
      const verb = other.output ? "write" : "read";
      throw new UserError(
        `Cannot write ${out.flag} ${out.path}: it is the same file as ${other.flag} ` +
          `${other.path}, which this run must ${verb}; give ${out.flag} another path`,
      );
    }
  }
  for (const f of outputs) {
    const why = await unwritable(f.path);
    if (why !== undefined) throw new UserError(`Cannot write ${f.flag} file ${f.path}: ${why}`);
  }
}
