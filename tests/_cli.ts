// Test helpers: the CLI run as a user runs it, in its own process (exit code, stdout, stderr),
// or a training run in this process with its output collected.

import { run, type RunResult } from "@lib/cli/main.ts";
import { parseFlags, type TrainOptions } from "@lib/cli/flags.ts";

const CLI = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/**
 * Runs `lib/cli/main.ts` (or another `script` that calls its `main`) with read and write access.
 *
 * @returns The exit code and what it printed.
 */
export async function runCli(
  args: string[],
  options: { script?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", options.script ?? CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, out: decoder.decode(stdout), err: decoder.decode(stderr) };
}

/**
 * Runs `run()` with the default flags and `options`, collecting what it prints.
 *
 * @returns Its stdout, its stderr and the run's numbers.
 */
export async function runQuiet(
  options: Partial<TrainOptions>,
): Promise<{ out: string; err: string; result: RunResult }> {
  let out = "";
  let err = "";
  const result = await run({ ...parseFlags([]), ...options }, {
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { out, err, result };
}
