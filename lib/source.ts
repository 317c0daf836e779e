// Shows lib/ source in the notebook, so the code a reader studies is the code that runs (no
// second copy to drift). Displays as a highlighted TypeScript block wherever the front end
// renders Markdown, as plain text elsewhere.

import { join } from "node:path";

/** A piece of lib/ source that Jupyter displays as a code block. */
export class Source {
  /**
   * @param file The file, relative to lib/.
   * @param code The source text.
   */
  constructor(readonly file: string, readonly code: string) {}

  /** The MIME bundle Deno's kernel shows for this object (it looks up this symbol). */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return this.mimeBundle();
  }

  /** Markdown with a TypeScript code block, and plain text. */
  mimeBundle(): Record<string, string> {
    return {
      "text/markdown": `\`lib/${this.file}\`\n\n\`\`\`ts\n${this.code}\n\`\`\``,
      "text/plain": `// lib/${this.file}\n${this.code}`,
    };
  }

  /** The source text. */
  toString(): string {
    return this.code;
  }
}

/**
 * The source of a top-level declaration in a lib/ file: from its `export` line down to the
 * closing brace at the start of a line. Multi-line JSDoc blocks (API documentation, which the
 * notebook's own text replaces) are left out; one-line comments stay.
 *
 * @param file The file, relative to lib/ (for example `value.ts`).
 * @param name The class, function or constant to show.
 * @returns The source, displayable in the notebook.
 *
 * @example
 * ```ts
 * import { sourceOf } from "@lib/source.ts";
 * import assert from "node:assert/strict";
 *
 * const src = sourceOf("model.ts", "rmsnorm");
 * assert.ok(src.code.startsWith("export function rmsnorm("));
 * assert.ok(src.code.endsWith("}"));
 * ```
 */
export function sourceOf(file: string, name: string): Source {
  const text = Deno.readTextFileSync(join(import.meta.dirname!, file));
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
  const body: string[] = [];
  let inDoc = false;
  for (const line of lines.slice(start, end + 1)) {
    const trimmed = line.trim();
    if (!inDoc && trimmed === "/**") inDoc = true;
    else if (inDoc) inDoc = trimmed !== "*/";
    else body.push(line);
  }
  return new Source(file, body.join("\n"));
}
