// The exercises: with their solutions every check cell passes, and on the worksheet that
// tools/worksheet.ts writes every check cell fails, saying what is wrong. Both run through the
// real Jupyter client and Deno's kernel (tools/run_notebook.py's client, errors allowed so that
// one failing check does not stop the rest). Without Jupyter, Deno's kernel or nbclient these
// tests are skipped, except in CI, where they fail.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { blankSolutions, type Notebook as Sheet, worksheet } from "../../tools/worksheet.ts";
import { NAMES_PATH } from "../_names.ts";
import { type Notebook, ROOT, sh, text } from "./_notebook.ts";

const EXERCISES = join(ROOT, "notebooks", "exercises.ipynb");
const TOOLS = join(ROOT, "tools");
const decoder = new TextDecoder();

function missing(): string | null {
  let what: string | null = null;
  if (!existsSync(NAMES_PATH)) what = "data/names.txt (run deno task train once)";
  else if (!sh("jupyter", ["kernelspec", "list", "--json"]).ok) what = "jupyter";
  else if (!JSON.parse(sh("jupyter", ["kernelspec", "list", "--json"]).out).kernelspecs?.deno) {
    what = "Deno's kernel (deno jupyter --install)";
  } else if (!sh("/usr/bin/python3", ["-c", "import nbclient"]).ok) what = "nbclient";
  if (what && Deno.env.get("CI")) throw new Error(`the exercise tests must run in CI: no ${what}`);
  if (what) console.warn(`skipping the exercise tests: missing ${what}`);
  return what;
}
const skip = missing() !== null;

// Executes a notebook with errors allowed, and returns it with its outputs.
async function execute(nb: Sheet): Promise<Notebook> {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "in.ipynb");
    await Deno.writeTextFile(path, JSON.stringify(nb));
    const script = [
      "import sys, nbformat",
      `sys.path.insert(0, ${JSON.stringify(TOOLS)})`,
      "import run_notebook",
      "nb = nbformat.read(sys.argv[1], as_version=4)",
      `client = run_notebook.deno_client(nb, ${JSON.stringify(EXERCISES)}, allow_errors=True)`,
      "client.execute()",
      "nbformat.write(nb, sys.argv[1])",
    ].join("\n");
    const { success, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", script, path],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, decoder.decode(stderr));
    return JSON.parse(await Deno.readTextFile(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const committed: Sheet = JSON.parse(Deno.readTextFileSync(EXERCISES));
const checkIds = committed.cells.map((c) => c.id!).filter((id) => /^ex\d+-check$/.test(id));

// What a check cell printed, and its error, if any.
function outcome(nb: Notebook, id: string) {
  const outputs = nb.cells.find((c) => c.id === id)!.outputs ?? [];
  return {
    printed: outputs.map((o) => text(o.text)).join(""),
    errors: outputs.filter((o) => o.output_type === "error").map((o) => `${o.ename}: ${o.evalue}`),
  };
}

Deno.test("exercises.ipynb: 6 to 8 exercises, each a solution between markers and a check", () => {
  assert.ok(checkIds.length >= 6 && checkIds.length <= 8, `${checkIds.length} exercises`);
  for (const id of checkIds) {
    const solution = committed.cells.find((c) => c.id === id.replace("check", "solution"));
    assert.ok(solution, `${id} has no solution cell`);
    const code = text(solution.source);
    assert.match(code, /\/\/ BEGIN SOLUTION\n[^]*\/\/ END SOLUTION/);
    assert.notEqual(blankSolutions(code), code);
  }
  const ids = committed.cells.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("blankSolutions() refuses unmatched markers", () => {
  assert.throws(() => blankSolutions("  // BEGIN SOLUTION\nx"), RangeError, "without // END");
  assert.throws(() => blankSolutions("// END SOLUTION"), RangeError, "without // BEGIN");
});

Deno.test({
  name: "exercises.ipynb: every check passes with the solutions, as committed",
  ignore: skip,
  fn: async () => {
    const nb = await execute(committed);
    for (const id of checkIds) {
      const { printed, errors } = outcome(nb, id);
      assert.deepEqual(errors, [], `${id}: ${printed}`);
      assert.match(printed, /^✓ .*: all \d+ checks pass\n$/, id);
      assert.equal(printed, outcome(committed as Notebook, id).printed, `${id} as committed`);
    }
    const all = nb.cells.flatMap((c) => c.outputs ?? []);
    assert.deepEqual(all.filter((o) => o.output_type === "error"), []);
    assert.deepEqual(all.filter((o) => o.name === "stderr").map((o) => text(o.text)), []);
  },
});

Deno.test({
  name: "exercises worksheet: every check fails on the blanks, saying the code is missing",
  ignore: skip,
  fn: async () => {
    const sheet = worksheet(committed);
    assert.ok(
      sheet.cells.every((c) => c.cell_type !== "code" || !text(c.source).includes("SOLUTION")),
    );
    assert.ok(sheet.cells.every((c) => (c.outputs ?? []).length === 0));
    const nb = await execute(sheet);
    for (const id of checkIds) {
      const { printed, errors } = outcome(nb, id);
      assert.equal(errors.length, 1, `${id} passed on a blank: ${printed}`);
      assert.match(errors[0]!, /checks failed/, id);
      assert.match(printed, /^✗ your code threw TODO: \w+\n$/, id);
    }
    // Only the check cells fail: the blanks themselves define their functions
    const failing = nb.cells.filter((c) => (c.outputs ?? []).some((o) => o.output_type === "error"))
      .map((c) => c.id);
    assert.deepEqual(failing, checkIds);
  },
});

Deno.test({
  name: "exercises: a check says what is wrong (softmax without the max, Adam without correction)",
  ignore: skip,
  fn: async () => {
    const sheet = worksheet(committed);
    // Two exercises done wrong, the way learners get them wrong
    const wrong: Record<string, [string, string]> = {
      "ex2-solution": ["  const max = Math.max(...logits.map((z) => z.data));\n", ""],
      "ex5-solution": [
        "  const mHat = m / (1 - beta1 ** t);\n  const vHat = v / (1 - beta2 ** t);\n",
        "  const [mHat, vHat] = [m, v];\n",
      ],
    };
    for (const [id, [from, to]] of Object.entries(wrong)) {
      const solution = text(committed.cells.find((c) => c.id === id)!.source);
      assert.ok(solution.includes(from), id);
      const edited = solution.replace(from, to).replace(".sub(max)", "")
        .replace(/ *\/\/ (BEGIN|END) SOLUTION\n/g, "");
      sheet.cells.find((c) => c.id === id)!.source = edited;
    }
    const nb = await execute(sheet);
    assert.equal(outcome(nb, "ex2-check").errors.length, 1);
    assert.equal(outcome(nb, "ex5-check").errors.length, 1);
    assert.match(
      outcome(nb, "ex2-check").printed,
      /is NaN,NaN,NaN: exp overflowed; subtract the maximum first/,
    );
    assert.match(outcome(nb, "ex5-check").printed, /step 1 .* without bias correction/);
  },
});
