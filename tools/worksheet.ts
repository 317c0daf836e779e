// `deno task worksheet`: writes the exercises without their solutions. In
// notebooks/exercises.ipynb each solution sits between `// BEGIN SOLUTION` and `// END SOLUTION`;
// the worksheet has, in its place, a line that throws "TODO: <the function's name>", so each
// check cell fails, saying so, until the learner writes the code. Outputs are cleared.
//
//     deno task worksheet [SOURCE [TARGET]]
//     (defaults: notebooks/exercises.ipynb, notebooks/exercises_worksheet.ipynb)

import { writeFileAtomic } from "../lib/io/files.ts";
import { join } from "../lib/io/paths.ts";

/** The parts of a notebook the worksheet changes. */
export interface Notebook {
  cells: {
    cell_type: string;
    id?: string;
    source: string | string[];
    outputs?: unknown[];
    execution_count?: number | null;
  }[];
  [key: string]: unknown;
}

const BEGIN = "// BEGIN SOLUTION";
const END = "// END SOLUTION";

/**
 * The code of a cell with each solution replaced by a blank that throws.
 *
 * @param code A code cell's source.
 * @returns The source without solutions (the same text if it has none).
 *
 * @example
 * ```ts
 * import { blankSolutions } from "./worksheet.ts";
 * import assert from "node:assert/strict";
 *
 * const code = "function f(x: number) {\n  // BEGIN SOLUTION\n  return 2 * x;\n  // END SOLUTION\n}";
 * assert.equal(
 *   blankSolutions(code),
 *   'function f(x: number) {\n  // TODO: your code here\n  throw new Error("TODO: f");\n}',
 * );
 * ```
 */
export function blankSolutions(code: string): string {
  const lines = code.split("\n");
  const out: string[] = [];
  let name = "this exercise";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    name = /\bfunction\s+(\w+)/.exec(line)?.[1] ?? name;
    if (line.trim() === END) {
      throw new RangeError(`Cannot write worksheet: ${END} on line ${i + 1} without ${BEGIN}`);
    }
    if (line.trim() !== BEGIN) {
      out.push(line);
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && l.trim() === END);
    if (end === -1) {
      throw new RangeError(`Cannot write worksheet: ${BEGIN} on line ${i + 1} without ${END}`);
    }
    const indent = line.slice(0, line.indexOf("//"));
    out.push(`${indent}// TODO: your code here`, `${indent}throw new Error("TODO: ${name}");`);
    i = end;
  }
  return out.join("\n");
}

/**
 * The worksheet of an exercise notebook: solutions blanked, outputs cleared.
 *
 * @param notebook The notebook with solutions.
 * @returns A new notebook.
 */
export function worksheet(notebook: Notebook): Notebook {
  const cells = notebook.cells.map((cell) => {
    if (cell.cell_type !== "code") return cell;
    const code = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    const lines = blankSolutions(code).split("\n");
    const source = lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
    return { ...cell, source, outputs: [], execution_count: null };
  });
  return { ...notebook, cells };
}

if (import.meta.main) {
  const notebooks = join(import.meta.dirname!, "..", "notebooks");
  const [source = join(notebooks, "exercises.ipynb"), target] = Deno.args;
  const out = target ?? join(notebooks, "exercises_worksheet.ipynb");
  const nb = worksheet(JSON.parse(await Deno.readTextFile(source)));
  await writeFileAtomic(out, JSON.stringify(nb, null, 1) + "\n", { what: "worksheet" });
  console.log(`wrote ${out}`);
}
