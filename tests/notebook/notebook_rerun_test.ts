// Re-running is what learners do: every code cell of the notebook, run twice in a row in one
// Deno kernel, must succeed both times (tests/_run_twice.py drives the kernel). The kernel's
// headless Chromium, started by the first plot, must exit when the kernel is shut down.

import assert from "node:assert/strict";
import { join } from "node:path";
import { missingOrFail, NOTEBOOK, ROOT } from "./_notebook.ts";

const missing = missingOrFail("the notebook re-run test");

interface Report {
  cells: { id: string; runs: { errors: string[]; stderr: string; outputs: number }[] }[];
  kernel_pid: number;
  chromium_pids: number[];
  chromium_left: number[];
}

Deno.test({
  name:
    "notebook: every code cell runs twice in a row (a heavy one once) without an error, and the kernel's Chromium exits with it",
  ignore: missing !== null,
  fn: async () => {
    const { success, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: [join(ROOT, "tests", "notebook", "_run_twice.py"), NOTEBOOK],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    const report: Report = JSON.parse(new TextDecoder().decode(stdout));
    const codeCells = JSON.parse(Deno.readTextFileSync(NOTEBOOK)).cells.filter((
      c: { cell_type: string },
    ) => c.cell_type === "code");
    assert.equal(report.cells.length, codeCells.length);
    // Every cell runs twice but those tagged "heavy" (a long training loop), which run once.
    const heavy = new Set(
      codeCells.filter((c: { metadata: { tags?: string[] } }) => c.metadata.tags?.includes("heavy"))
        .map((c: { id: string }) => c.id),
    );
    for (const cell of report.cells) {
      assert.equal(cell.runs.length, heavy.has(cell.id) ? 1 : 2, cell.id);
    }
    const failures = report.cells.flatMap((cell) =>
      cell.runs.flatMap((run, i) => [
        ...run.errors.map((e) => `${cell.id}, run ${i + 1}: ${e}`),
        ...(run.stderr ? [`${cell.id}, run ${i + 1}, stderr: ${run.stderr}`] : []),
      ])
    );
    assert.deepEqual(failures, []);
    // Each run shows what the first showed (no output lost or doubled by the re-run).
    for (const cell of report.cells.filter((c) => c.runs.length === 2)) {
      assert.equal(cell.runs[1]!.outputs, cell.runs[0]!.outputs, cell.id);
    }
    assert.ok(report.chromium_pids.length > 0, "the plots started no Chromium under the kernel");
    assert.deepEqual(report.chromium_left, [], "Chromium outlived its kernel");
  },
});
