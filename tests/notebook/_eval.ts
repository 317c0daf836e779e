// Test helper: a snippet run in a fresh Deno process, outside any Jupyter kernel, as a script
// that imports lib/ would run.

import assert from "node:assert/strict";

/**
 * Runs `code` with `deno eval` (NO_COLOR set, plus `env`) and requires it to succeed.
 *
 * @returns What it printed on stdout.
 */
export async function evalOutput(code: string, env: Record<string, string> = {}): Promise<string> {
  const { success, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, `deno eval failed: ${code}`);
  return new TextDecoder().decode(stdout);
}
