// File paths for lib/: join, dirname, basename, resolve, as node:path does them. Importing
// node:path starts Deno's Node compatibility layer, about 10 ms of every `deno task train`,
// for four small functions; so on POSIX systems these are written here (tests/paths_test.ts
// holds them to node:path on generated paths), and on Windows, with its drive letters and two
// separators, they are node:path's own.

const nodePath = Deno.build.os === "windows" ? await import("node:path") : undefined;

// The segments of a path with "." and empty ones dropped and ".." applied; a ".." that would go
// above the start is kept for a relative path and dropped for an absolute one.
function segments(path: string, absolute: boolean): string[] {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") out.push(segment);
    else if (out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  return out;
}

/**
 * Joins path segments and normalizes the result, like `path.join`.
 *
 * @param paths The segments.
 * @returns The joined path ("." for an empty one).
 *
 * @example
 * ```ts
 * import { join } from "@lib/io/paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(join("/work/lib", "..", "data", "names.txt"), "/work/data/names.txt");
 * assert.equal(join("a/", "./b/"), "a/b/");
 * ```
 */
export const join: (...paths: string[]) => string = nodePath?.join ?? ((...paths) => {
  const path = paths.filter((p) => p !== "").join("/");
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  let joined = segments(path, absolute).join("/");
  if (joined === "" && !absolute) joined = ".";
  if (path.endsWith("/") && joined !== "") joined += "/";
  return absolute ? `/${joined}` : joined;
});

/**
 * The absolute form of a path, resolved against the working directory, like `path.resolve`.
 *
 * @param paths Segments; the rightmost absolute one and those after it count.
 * @returns An absolute, normalized path without a trailing separator.
 */
export const resolve: (...paths: string[]) => string = nodePath?.resolve ?? ((...paths) => {
  let path = "";
  for (let i = paths.length - 1; i >= -1 && !path.startsWith("/"); i--) {
    const p = i >= 0 ? paths[i]! : Deno.cwd();
    if (p !== "") path = `${p}/${path}`;
  }
  return `/${segments(path, true).join("/")}`;
});

/**
 * The folder part of a path, like `path.dirname`: trailing separators are ignored.
 *
 * @param path The path.
 * @returns Everything before its last segment ("." if none, "/" for the root).
 */
export const dirname: (path: string) => string = nodePath?.dirname ?? ((path) => {
  if (path === "") return ".";
  let end = path.length - 1;
  while (end > 0 && path[end] === "/") end--; // trailing separators
  const slash = path.lastIndexOf("/", end);
  if (slash === -1) return ".";
  if (slash === 0) return "/";
  // "//x" keeps both separators, as node:path does; elsewhere a run of them before the last
  // segment loses only its last one ("a//b" gives "a/").
  return slash === 1 && path[0] === "/" ? "//" : path.slice(0, slash);
});

/**
 * The last segment of a path, like `path.basename`: trailing separators are ignored.
 *
 * @param path The path.
 * @returns Its last segment ("" for the root).
 */
export const basename: (path: string) => string = nodePath?.basename ?? ((path) => {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
});
