// `deno task fuzz --runs N --seed S`: a longer hunt for configurations where the two engines
// disagree (see tests/_differential.ts). Each failure is printed with the command line that
// replays it alone: `deno task fuzz --seed S --case K`. Exits 1 if any case failed.

import { compareEngines, describeCase, generateCase } from "../tests/_differential.ts";

const USAGE = "Usage: deno task fuzz [--runs N] [--seed S] [--case K]";

function flag(name: string, fallback: number | undefined): number | undefined {
  const i = Deno.args.indexOf(name);
  if (i === -1) return fallback;
  const n = Number(Deno.args[i + 1]);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`error: Cannot parse flags: ${name} needs a non-negative integer\n${USAGE}`);
    Deno.exit(2);
  }
  return n;
}

const known = new Set(["--runs", "--seed", "--case"]);
const unknown = Deno.args.find((a, i) => a.startsWith("--") && !known.has(a) && i % 2 === 0);
if (unknown !== undefined || Deno.args.length % 2 !== 0) {
  console.error(`error: Cannot parse flags: ${unknown ?? "a flag without its value"}\n${USAGE}`);
  Deno.exit(2);
}
const seed = flag("--seed", Date.now() % 1_000_000)!;
const only = flag("--case", undefined);
const runs = flag("--runs", 200)!;
const indices = only === undefined ? Array.from({ length: runs }, (_, i) => i) : [only];

let failed = 0;
const started = performance.now();
for (const index of indices) {
  const c = generateCase(seed, index);
  let problem: string | undefined;
  try {
    problem = compareEngines(c);
  } catch (e) {
    problem = `threw ${(e as Error).stack ?? e}`;
  }
  if (only !== undefined) console.log(`case ${index}: ${describeCase(c)}`);
  if (problem === undefined) continue;
  failed++;
  console.log(`FAIL case ${index}: ${describeCase(c)}\n  ${problem}`);
  console.log(`  replay: deno task fuzz --seed ${seed} --case ${index}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `fuzz: ${indices.length - failed} passed, ${failed} failed (seed ${seed}, ${seconds} s)`,
);
Deno.exit(failed === 0 ? 0 : 1);
