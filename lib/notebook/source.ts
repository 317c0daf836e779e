// Shows lib/ source in the notebook, so the code a reader studies is the code that runs (no
// second copy to drift). Displays as a highlighted TypeScript block wherever the front end
// renders Markdown, as plain text elsewhere.

import { join } from "../io/paths.ts";
import { showBundle } from "./plot.ts";

/** A piece of lib/ source that Jupyter displays as a code block. */
export class Source {
  /**
   * Wraps an excerpt of a lib/ file.
   *
   * @param file The file, relative to lib/.
   * @param code The source text.
   * @param note What was left out, if anything, for the header.
   */
  constructor(readonly file: string, readonly code: string, readonly note: string = "") {}

  /** The MIME bundle Deno's kernel shows for this object (it looks up this symbol). */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return this.mimeBundle();
  }

  /** Markdown with a TypeScript code block, and plain text. */
  mimeBundle(): Record<string, string> {
    return {
      "text/markdown": `\`lib/${this.file}\`${
        this.note ? ` (${this.note})` : ""
      }\n\n\`\`\`ts\n${this.code}\n\`\`\``,
      "text/plain": `// lib/${this.file}${this.note ? ` (${this.note})` : ""}\n${this.code}`,
    };
  }

  /** The source text. */
  toString(): string {
    return this.code;
  }
}

/** What part of a declaration {@link sourceOf} shows. */
export interface SourceOptions {
  /** A class's members to show (methods, getters, fields, `constructor`); the rest is elided. */
  members?: string[];
  /** A class's members to leave out; the rest is shown. */
  omit?: string[];
  /** Only the lines from the first that contains `from` to the next that contains `to`. */
  range?: { from: string; to: string };
  /**
   * Keep argument checks (an `if` that only throws, a call of an omitted `#check`-style
   * helper). By default they are left out: they guard the algorithm, they are not it.
   */
  checks?: boolean;
}

const INDENT = "  ";
const MODIFIERS = /^(?:(?:static|readonly|private|public|protected|override|async|get|set)\s+)*/;

// The name a class member line declares (`get lr(): number {` is "lr"), or null.
function memberName(line: string): string | null {
  if (!line.startsWith(INDENT) || line[INDENT.length] === " ") return null;
  const rest = line.slice(INDENT.length).replace(MODIFIERS, "");
  if (/^(\/\/|\/\*|\*|})/.test(rest)) return null;
  return rest.match(/^#?[A-Za-z_$][\w$]*/)?.[0] ?? null;
}

// Splits a class's body lines into members, each with its one-line comments above it.
function splitMembers(body: string[]): { name: string | null; lines: string[] }[] {
  const parts: { name: string | null; lines: string[] }[] = [];
  let comments: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!;
    const name = memberName(line);
    if (name === null) {
      if (line.trim() === "") {
        parts.push({ name: null, lines: [...comments, line] });
        comments = [];
      } else comments.push(line);
      continue;
    }
    let end = i;
    if (!line.replace(/\s*\/\/.*$/, "").endsWith(";")) { // `x = 0; // why` is one line too
      while (end < body.length - 1 && !/^ {2}[}\]];?$/.test(body[end]!)) end++;
    }
    parts.push({ name, lines: [...comments, ...body.slice(i, end + 1)] });
    comments = [];
    i = end;
  }
  if (comments.length > 0) parts.push({ name: null, lines: comments });
  return parts;
}

// Leaves out argument checks: `if (...) throw ...;`, an `if (...) {` whose body starts with
// `throw`, and calls of omitted private helpers (`this.#check(n);`). Returns the lines kept
// and whether any were left out.
function dropChecks(lines: string[], omitted: Set<string>): { lines: string[]; dropped: boolean } {
  const kept: string[] = [];
  let dropped = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    const call = trimmed.match(/^this\.(#[\w$]+)\(.*\);$/);
    if (/^if \(.*\) throw .*;$/.test(trimmed) || (call && omitted.has(call[1]!))) {
      dropped = true;
      continue;
    }
    if (/^if \(.*\) \{$/.test(trimmed) && lines[i + 1]?.trim().startsWith("throw ")) {
      const indent = line.slice(0, line.length - line.trimStart().length);
      let end = i + 1;
      while (end < lines.length && lines[end] !== `${indent}}`) end++;
      dropped = true;
      i = end;
      continue;
    }
    kept.push(line);
  }
  return { lines: kept, dropped };
}

/**
 * The source of a top-level declaration in a lib/ file: from its `export` line down to the
 * closing brace at the start of a line. Multi-line JSDoc blocks (API documentation, which the
 * notebook's own text replaces) are left out; one-line comments stay. Options narrow it to
 * what teaches: some members of a class, or a range of lines; argument checks are left out
 * unless asked for. Left-out members show as `// ...`, and the header says what is missing.
 *
 * @param file The file, relative to lib/ (for example `value.ts`).
 * @param name The class, function or constant to show.
 * @param options Which part to show.
 * @returns The source, displayable in the notebook.
 *
 * @example Adam's update, without restoring state or argument checks
 * ```ts
 * import { sourceOf } from "@lib/notebook/source.ts";
 * import assert from "node:assert/strict";
 *
 * const src = sourceOf("adam.ts", "Adam", { omit: ["constructor", "restore"] });
 * assert.ok(src.code.startsWith("export class Adam {"));
 * assert.ok(src.code.includes("const correction1 = 1 - beta1 ** this.t;"));
 * assert.ok(!src.code.includes("restore("));
 * assert.ok(!src.code.includes("throw"));
 * ```
 */
export function sourceOf(file: string, name: string, options: SourceOptions = {}): Source {
  const text = Deno.readTextFileSync(join(import.meta.dirname!, "..", file));
  const lines = text.split("\n");
  const start = lines.findIndex((line) =>
    new RegExp(`^export (async )?(class|function|const|interface|type) ${name}\\b`).test(line)
  );
  if (start === -1) {
    throw new RangeError(`Cannot show source: no exported ${name} in lib/${file}`);
  }
  let end = start;
  if (!/[;}]$/.test(lines[start]!)) {
    while (end < lines.length && lines[end] !== "}" && lines[end] !== "};") end++;
  }
  let body: string[] = [];
  let inDoc = false;
  for (const line of lines.slice(start, end + 1)) {
    const trimmed = line.trim();
    if (!inDoc && trimmed === "/**") inDoc = true;
    else if (inDoc) inDoc = trimmed !== "*/";
    else body.push(line);
  }
  const scope: string[] = []; // "only `step`", "lines of Adam"
  const leftOut: string[] = [];
  const { members, omit, range, checks = false } = options;
  const omitted = new Set<string>();
  if (members || omit) {
    const parts = splitMembers(body.slice(1, -1));
    const names = new Set(parts.map((p) => p.name).filter((n) => n !== null));
    for (const wanted of [...(members ?? []), ...(omit ?? [])]) {
      if (!names.has(wanted)) {
        throw new RangeError(`Cannot show source: ${name} in lib/${file} has no member ${wanted}`);
      }
    }
    const shown = (n: string) => (members ? members.includes(n) : !omit!.includes(n));
    const kept: string[] = [];
    let elided = false;
    for (const part of parts) {
      if (part.name === null) {
        // A blank line, or a comment between members (kept when showing all but some).
        if (!members || part.lines.every((l) => l.trim() === "")) kept.push(...part.lines);
      } else if (!shown(part.name)) {
        omitted.add(part.name);
        elided = true;
      } else {
        if (elided) kept.push("", `${INDENT}// ...`, "");
        elided = false;
        kept.push(...part.lines);
      }
    }
    if (elided) kept.push("", `${INDENT}// ...`);
    // One blank line at most between members, none inside the braces' edges.
    const tidy = kept.filter((l, i) => l.trim() !== "" || (i > 0 && kept[i - 1]!.trim() !== ""));
    while (tidy[0]?.trim() === "") tidy.shift();
    while (tidy.at(-1)?.trim() === "") tidy.pop();
    body = [body[0]!, ...tidy, body.at(-1)!];
    if (members) scope.push(`only ${members.map((m) => `\`${m}\``).join(", ")}`);
    else leftOut.push(...[...omitted].map((n) => `\`${n}\``));
  }
  if (range) {
    const from = body.findIndex((line) => line.includes(range.from));
    const to = from === -1 ? -1 : body.findIndex((line, i) => i >= from && line.includes(range.to));
    if (to === -1) {
      throw new RangeError(
        `Cannot show source: no lines from "${range.from}" to "${range.to}" in ${name} (lib/${file})`,
      );
    }
    const indent = Math.min(
      ...body.slice(from, to + 1).filter((l) => l.trim()).map((l) =>
        l.length - l.trimStart().length
      ),
    );
    body = body.slice(from, to + 1).map((l) => l.slice(indent));
    scope.push(`lines of ${name}`);
  }
  if (!checks) {
    const result = dropChecks(body, omitted);
    body = result.lines;
    if (result.dropped) leftOut.push("argument checks");
  }
  if (leftOut.length > 0) scope.push(`left out: ${leftOut.join(", ")}`);
  return new Source(file, body.join("\n"), scope.join("; "));
}

/**
 * Shows a piece of lib/ source in the notebook (the arguments are {@linkcode sourceOf}'s) as a
 * display sent before the cell finishes; a {@linkcode Source} left as a cell's value takes one
 * more round trip of Deno's kernel, and under Run All it sometimes showed under the next cell.
 * Outside Jupyter, prints the source as text.
 *
 * @param file The file, relative to lib/.
 * @param name The exported declaration.
 * @param options What to show of it.
 */
export async function showSource(
  file: string,
  name: string,
  options: SourceOptions = {},
): Promise<void> {
  await showBundle(sourceOf(file, name, options).mimeBundle());
}
