// Files, the way databases treat their own: every file the project writes goes through
// `writeFileAtomic` (a temp file in the same folder, fsync, rename over the target, fsync the
// folder), so a crash or a full disk leaves the old file whole; outputs are checked before any
// work so that none can overwrite an input or land in a folder it cannot write; and every
// failure of the operating system becomes one plain sentence instead of a stack trace.

import { basename, dirname, join, resolve } from "./paths.ts";
import { UserError } from "./errors.ts";

/** The file operations the project needs: the seam through which tests inject faults. */
export interface FileSystem {
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Creates or truncates `path`, writes all of `data` and flushes it to the disk. */
  writeFileSynced(path: string, data: Uint8Array): Promise<void>;
  /** Moves `from` over `to`, atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file. */
  remove(path: string): Promise<void>;
  /** Flushes a folder's entries (a rename in it) to the disk. */
  syncDir(path: string): Promise<void>;
}

/** The real file system, through Deno. */
export const DENO_FS: FileSystem = {
  readFile: (path) => Deno.readFile(path),
  async writeFileSynced(path, data) {
    using file = await Deno.open(path, { write: true, create: true, truncate: true });
    let rest = data;
    while (rest.length > 0) rest = rest.subarray(await file.write(rest));
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
 * Reads a file; an operating-system failure becomes a {@linkcode UserError}.
 *
 * @param path The file.
 * @param options `what` the file is, and the file system.
 * @returns Its bytes.
 */
export async function readFileChecked(path: string, options: FileOptions): Promise<Uint8Array> {
  try {
    return await (options.fs ?? DENO_FS).readFile(path);
  } catch (err) {
    throw fileError(`read ${options.what}`, path, err);
  }
}

/** The temporary file {@linkcode writeFileAtomic} writes before renaming it over `path`. */
export const tempPathOf = (path: string): string => `${path}.tmp`;

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
  data: Uint8Array | string,
  options: FileOptions,
): Promise<void> {
  const fs = options.fs ?? DENO_FS;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = tempPathOf(path);
  try {
    await fs.writeFileSynced(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw fileError(`write ${options.what}`, path, err);
  }
  try {
    await fs.syncDir(dirname(resolve(path)));
  } catch (err) {
    throw fileError(`write ${options.what}`, path, err);
  }
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
// also needs no permission beyond the file's own): create its temporary file, then remove it.
async function unwritable(path: string): Promise<string | undefined> {
  const shown = `${dirname(path)}/`;
  const tmp = tempPathOf(path);
  try {
    (await Deno.open(tmp, { write: true, createNew: true })).close();
    await Deno.remove(tmp);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return undefined; // left by a crash: rewritten
    if (err instanceof Deno.errors.NotFound) return `folder ${shown} does not exist`;
    if (err instanceof Deno.errors.NotADirectory) return `${shown} is a file, not a folder`;
    if (err instanceof Deno.errors.PermissionDenied) return `folder ${shown} is not writable`;
    return osReason(err) ?? String(err);
  }
  try {
    if ((await Deno.stat(path)).isDirectory) return "it is a folder, not a file";
  } catch {
    // not there yet: fine
  }
  return undefined;
}

/**
 * Checks, before any work, that no output can destroy an input or another output and that each
 * output can be written: outputs and inputs are compared by real path (symlinks, `./a` and `a`)
 * and by device and inode (hard links), each with its temporary file; each output's folder must
 * exist and be writable.
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
