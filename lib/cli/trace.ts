// What `deno task sample --trace` prints: for each sampled name, one row per drawn position
// with the text so far, the character drawn and its probability, and the likeliest
// candidates (from lib/sample.ts's sampleTrace()), in aligned columns.

import type { TraceStep } from "../sample.ts";

// The end of a name is the BOS token, whose text is "".
const END = "(end)";

const charOf = (char: string) => char === "" ? END : char;
const percent = (p: number) => `${(100 * p).toFixed(1)}%`;
// Pads by code points, so that a name in another script lines up as well as a Latin one.
const pad = (text: string, width: number) => text + " ".repeat(width - [...text].length);

/**
 * The table of one traced sample.
 *
 * @param steps The steps {@linkcode sampleTrace} recorded.
 * @returns One line per drawn position, each ending in a newline, under a header line.
 *
 * @example
 * ```ts
 * import { traceTable } from "@lib/cli/trace.ts";
 * import assert from "node:assert/strict";
 *
 * const a = { id: 0, char: "a", prob: 0.75 };
 * const end = { id: 1, char: "", prob: 0.25 };
 * const table = traceTable([
 *   { position: 0, context: "", candidates: [a, end], drawn: a },
 *   { position: 1, context: "a", candidates: [end, a], drawn: end },
 * ]);
 * assert.equal(
 *   table,
 *   "  pos  so far  drawn          likeliest\n" +
 *     "    1          a      75.0%   a      75.0%  (end)  25.0%\n" +
 *     "    2  a       (end)  25.0%   (end)  25.0%  a      75.0%\n",
 * );
 * ```
 */
export function traceTable(steps: readonly TraceStep[]): string {
  const contextWidth = Math.max(6, ...steps.map((s) => [...s.context].length));
  // "k  12.1%": a token (one character, or the end) and its probability, the same width in
  // every row; tokens top-k filtered out (probability 0) are left out
  const cell = (c: { char: string; prob: number }) =>
    `${pad(charOf(c.char), END.length)} ${percent(c.prob).padStart(6)}`;
  const header = `  pos  ${pad("so far", contextWidth)}  ${
    pad("drawn", END.length + 7)
  }   likeliest`;
  const rows = steps.map((step) => {
    const candidates = step.candidates.filter((c) => c.prob > 0).map(cell);
    return `  ${String(step.position + 1).padStart(3)}  ${pad(step.context, contextWidth)}  ` +
      `${cell(step.drawn)}   ${candidates.join("  ")}`;
  });
  return [header, ...rows].map((line) => line.trimEnd() + "\n").join("");
}
