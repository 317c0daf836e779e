// `deno task bench`: speed and memory figures, printed as tables and written to
// notebooks/bench.json (README and the notebook show them). Not a test: targets are read off
// this output, never asserted.
//
// 1. Whole-process runs of `deno task train` (median of BENCH_RUNS, default 5): wall time,
//    steps/s, ms/step, peak resident memory (GNU time), speed-up over the Value engine.
// 2. Scaling of the fast engine: time per training step as n_embd and block_size grow, with
//    the growth exponent fitted on a log-log scale.
// 3. Memory over a long run: resident memory of 20,000 Value-engine steps (in this process,
//    with train's V8 flags), and its growth after the first 1,000.
// 4. Held-out evaluation: one evaluation of the default split (--val-split 0.1 of names.txt,
//    3,203 names) with each engine's trained model (median of 5, after a warm-up).
// 5. Where the time of `deno task train --engine fast` goes, phase by phase (median of
//    BENCH_RUNS): process starts measured from outside, the rest (module loading included)
//    inside a fresh process (tools/_phases.ts), so that the next regression has an address.
// 6. Plot PNGs: the first plot of a kernel (start Chromium, load plotly.js, draw), later plots
//    with that browser kept open (median of 5), and a plot with a Chromium of its own.

import { writeFileAtomic } from "../lib/io/files.ts";
import { join } from "node:path";
import { Adam } from "../lib/adam.ts";
import { createGpt } from "../lib/model.ts";
import { trainStep } from "../lib/train.ts";
import { DEFAULT_DATA_PATH, parseDocs } from "../lib/io/data.ts";
import { FastGpt } from "../lib/fast/gpt.ts";
import { DEFAULT_CONFIG } from "../lib/model.ts";
import { Random } from "../lib/random.ts";
import { Tokenizer } from "../lib/tokenizer.ts";
import { docTokens } from "../lib/train.ts";
import { permissionFlags } from "../lib/cli/launcher.ts";
import { createEngine } from "../lib/engine.ts";
import { evaluate, splitDocs } from "../lib/eval.ts";
import { lineChart } from "../lib/notebook/figures.ts";
import { missingForPng, PngRenderer, renderPng } from "../lib/notebook/png.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 5);
const ROOT = join(import.meta.dirname!, "..");
// The train task: `DENO_V8_FLAGS=... deno run <permissions> lib/cli/launcher.ts`. Its V8 flags
// (the one place they are written) are given to every process timed here.
const trainTask: string = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks.train;
const [v8Env, ...launcherArgs] = trainTask.split(" ");
const V8_FLAGS = `--v8-flags=${v8Env!.replace("DENO_V8_FLAGS=", "")}`;
const OUT = join(ROOT, "notebooks", "bench.json");
const decoder = new TextDecoder();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const haveGnuTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);

// One whole training process: wall time and peak RSS (MiB, NaN without GNU time). By default
// the CLI itself, run as `deno task train` runs it (same V8 flags, its least permissions);
// with `viaTask`, `deno task train` end to end (adding the task runner and the permission
// launcher, two more Deno startups).
async function timedRun(args: string[], viaTask = false): Promise<{ ms: number; rssMiB: number }> {
  const deno = viaTask ? [Deno.execPath(), "task", "-q", "train", ...args] : [
    Deno.execPath(),
    "run",
    V8_FLAGS,
    ...permissionFlags(args),
    join(ROOT, "lib", "cli", "main.ts"),
    ...args,
  ];
  const { ms, stderr } = await runTimed(
    haveGnuTime ? ["/usr/bin/time", "-f", "%M", ...deno] : deno,
  );
  const rssKiB = haveGnuTime ? Number(stderr.split("\n").at(-1)) : NaN;
  return { ms, rssMiB: rssKiB / 1024 };
}

// Runs a command from the project root: its wall time in milliseconds and its stderr.
async function runTimed(cmd: string[]): Promise<{ ms: number; stderr: string }> {
  const start = performance.now();
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  const stderr = decoder.decode(out.stderr).trim();
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${stderr}`);
  return { ms, stderr };
}

interface RunFigure {
  engine: string;
  config: string;
  steps: number;
  wallS: number;
  stepsPerS: number;
  msPerStep: number;
  peakRssMiB: number;
  /** Against the Value engine on the same config, where it was run (null elsewhere). */
  speedup: number | null;
}

const runs: { engine: string; config: string; steps: number; args: string[]; viaTask?: boolean }[] =
  [
    { engine: "value", config: "default (1 layer, n_embd 16)", steps: 1000, args: [] },
    {
      engine: "value",
      config: "default, via deno task train",
      steps: 1000,
      args: [],
      viaTask: true,
    },
    {
      engine: "fast",
      config: "default (1 layer, n_embd 16)",
      steps: 1000,
      args: ["--engine", "fast"],
    },
    {
      engine: "fast",
      config: "default, via deno task train",
      steps: 1000,
      args: ["--engine", "fast"],
      viaTask: true,
    },
    {
      engine: "fast",
      config: "4 layers, n_embd 64",
      steps: 1000,
      args: ["--engine", "fast", "--n-layer", "4", "--n-embd", "64"],
    },
  ];
const runFigures: RunFigure[] = [];
for (const r of runs) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await timedRun(r.args, r.viaTask));
  const wallS = median(samples.map((s) => s.ms)) / 1000;
  runFigures.push({
    engine: r.engine,
    config: r.config,
    steps: r.steps,
    wallS,
    stepsPerS: r.steps / wallS,
    msPerStep: (wallS * 1000) / r.steps,
    peakRssMiB: median(samples.map((s) => s.rssMiB)),
    speedup: null,
  });
}
for (const f of runFigures) {
  const value = runFigures.find((v) => v.engine === "value" && v.config === f.config);
  f.speedup = value ? value.wallS / f.wallS : null;
}

// Long documents for the scaling runs: names strung together, so every block is full.
const text = await Deno.readTextFile(DEFAULT_DATA_PATH).catch(() =>
  Deno.readTextFile(join(ROOT, "tests", "fixtures", "unicode_names.txt"))
);
const stream = parseDocs(text).join("");
const longDocs: string[] = [];
for (let i = 0; i + 80 <= stream.length && longDocs.length < 2000; i += 80) {
  longDocs.push(stream.slice(i, i + 80));
}
const tokenizer = Tokenizer.fromDocs(longDocs);

// Median ms per training step of the fast engine (after a warm-up).
function msPerStep(nEmbd: number, blockSize: number): number {
  const config = {
    ...DEFAULT_CONFIG,
    vocabSize: tokenizer.vocabSize,
    nEmbd,
    blockSize,
    nHead: 4,
  };
  const model = FastGpt.create(config, { rng: new Random(1) });
  const steps = Math.max(20, Math.round(200_000 / (nEmbd * nEmbd * blockSize / 16)));
  const adam = new Adam(model.numParams, { numSteps: steps * 4 });
  const tokens = longDocs.map((d) => docTokens(tokenizer, d));
  const times: number[] = [];
  for (let rep = 0; rep < 4; rep++) {
    const start = performance.now();
    for (let s = 0; s < steps; s++) model.trainStep(tokens[s % tokens.length]!, adam);
    times.push((performance.now() - start) / steps);
  }
  return median(times.slice(1));
}

// Least-squares slope of log(time) against log(size).
function exponent(points: { size: number; ms: number }[]): number {
  const xs = points.map((p) => Math.log(p.size));
  const ys = points.map((p) => Math.log(p.ms));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const cov = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0);
  const varX = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  return cov / varX;
}

const byEmbd = [16, 32, 64, 128].map((size) => ({ size, ms: msPerStep(size, 16) }));
const byBlock = [16, 32, 64].map((size) => ({ size, ms: msPerStep(16, size) }));
const scaling = {
  nEmbd: { blockSize: 16, points: byEmbd, exponent: exponent(byEmbd) },
  blockSize: { nEmbd: 16, points: byBlock, exponent: exponent(byBlock) },
};

// Resident memory over a long Value-engine run on names.txt, sampled every 1,000 steps.
const LONG_STEPS = Number(Deno.env.get("BENCH_LONG_STEPS") ?? 20_000);
const names = parseDocs(text);
new Random(42).shuffle(names);
const namesTokenizer = Tokenizer.fromDocs(names);
const longModel = createGpt({ ...DEFAULT_CONFIG, vocabSize: namesTokenizer.vocabSize }, {
  rng: new Random(42),
});
const longAdam = new Adam(longModel.params.length, { numSteps: LONG_STEPS });
const rssMiB: { step: number; rssMiB: number }[] = [];
for (let step = 0; step < LONG_STEPS; step++) {
  const tokens = docTokens(namesTokenizer, names[step % names.length]!);
  trainStep(longModel, { tokens, adam: longAdam });
  if ((step + 1) % 1000 === 0) {
    rssMiB.push({ step: step + 1, rssMiB: Deno.memoryUsage().rss / 2 ** 20 });
  }
}
const atFirst = rssMiB[0]!.rssMiB;
const memory = {
  steps: LONG_STEPS,
  samples: rssMiB,
  growthAfterFirst1000: Math.max(...rssMiB.map((r) => r.rssMiB)) / atFirst - 1,
};

// One held-out evaluation, per engine, over the last 10% of the shuffled names.
const { val: heldOutNames } = splitDocs(names, 0.1);
const evaluation = (["value", "fast"] as const).map((engine) => {
  const model = createEngine(engine, { ...DEFAULT_CONFIG, vocabSize: namesTokenizer.vocabSize }, {
    params: Float64Array.from(longModel.params, (p) => p.data),
  });
  const times: number[] = [];
  let loss = NaN;
  for (let rep = 0; rep < 6; rep++) {
    const start = performance.now();
    loss = evaluate(model, namesTokenizer, heldOutNames).loss;
    times.push(performance.now() - start);
  }
  return { engine, docs: heldOutNames.length, ms: median(times.slice(1)), valLoss: loss };
});

// Wall time of a command (median of RUNS), in milliseconds.
async function wallMs(cmd: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push((await runTimed(cmd)).ms);
  return median(times);
}
const launcher = [Deno.execPath(), ...launcherArgs.slice(1), V8_FLAGS]; // deno run <flags> lib/...
// Deno's own start: a module with no imports that does nothing when run.
const denoStart = await wallMs([Deno.execPath(), "run", join(ROOT, "lib", "io", "errors.ts")]);
const viaTask = await wallMs([Deno.execPath(), "task", "-q", "train", "--help"]);
const inLauncher = await wallMs([...launcher, "--help"]);
const other = join(ROOT, "tests", "fixtures", "unicode_names.txt"); // needs a second process
const withChild = await wallMs([...launcher, "--data", other, "--help"]);
const inside: Record<string, number>[] = [];
for (let i = 0; i < RUNS; i++) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      V8_FLAGS,
      "--allow-read",
      `--allow-write=${join(ROOT, "data")}`,
      "--allow-net",
      join(ROOT, "tools", "_phases.ts"),
    ],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  inside.push(JSON.parse(decoder.decode(out.stdout)));
}
const phase = (key: string) => median(inside.map((r) => r[key]!));
const phases = [
  { phase: "task runner (deno task)", ms: viaTask - inLauncher },
  { phase: "Deno start", ms: denoStart },
  // measured inside a process: at this size, the difference of two process timings is noise
  { phase: "launcher and CLI: loading their modules", ms: phase("imports") },
  { phase: "(a command line naming other files: second process)", ms: withChild - inLauncher },
  { phase: "dataset: read and parse", ms: phase("readParse") },
  { phase: "dataset: shuffle", ms: phase("shuffle") },
  { phase: "tokenizer", ms: phase("tokenizer") },
  { phase: "model and Adam", ms: phase("init") },
  { phase: "steps 1-100 (JIT warm-up)", ms: phase("steps1to100") },
  { phase: "steps 101-1000", ms: phase("steps101to1000") },
  { phase: "20 samples", ms: phase("sampling") },
];
const steadyUs = (phase("steps101to1000") / 900) * 1000;

// A training-loss curve like the notebook's, 1,000 points.
const curve = lineChart([{
  name: "loss",
  y: Array.from({ length: 1000 }, (_, i) => 3.3 - i / 600),
}]);
async function plotFigures(): Promise<{ firstMs: number; laterMs: number; ownBrowserMs: number }> {
  const t0 = performance.now();
  const renderer = await PngRenderer.launch();
  try {
    await renderer.render(curve);
    const firstMs = performance.now() - t0;
    const later: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await renderer.render(curve);
      later.push(performance.now() - t);
    }
    const t1 = performance.now();
    await renderPng(curve);
    return { firstMs, laterMs: median(later), ownBrowserMs: performance.now() - t1 };
  } finally {
    await renderer.close();
  }
}
const plots = missingForPng() === null ? await plotFigures() : null;

const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
console.log(
  `Whole process (the CLI as deno task train runs it), 1000 steps + 20 samples, median of ${RUNS} ` +
    `(${Deno.build.target})\n`,
);
console.log(
  "| engine | config | steps | wall | steps/s | ms/step | peak RSS | speed-up vs value |",
);
console.log("| --- | --- | --: | --: | --: | --: | --: | --: |");
for (const f of runFigures) {
  console.log(
    `| ${f.engine} | ${f.config} | ${f.steps} | ${fmt(f.wallS, 2)} s | ${fmt(f.stepsPerS, 0)} | ` +
      `${fmt(f.msPerStep, 3)} | ${fmt(f.peakRssMiB, 0)} MiB | ${
        f.speedup === null ? "" : `${fmt(f.speedup, 1)}x`
      } |`,
  );
}
console.log("\nFast engine, time per training step (in process, full blocks, 4 heads)\n");
console.log("| n_embd (block 16) | ms/step |\n| --: | --: |");
for (const p of byEmbd) console.log(`| ${p.size} | ${fmt(p.ms, 3)} |`);
console.log(`\ngrowth exponent in n_embd: ${fmt(scaling.nEmbd.exponent, 2)} (2 = quadratic)\n`);
console.log("| block_size (n_embd 16) | ms/step |\n| --: | --: |");
for (const p of byBlock) console.log(`| ${p.size} | ${fmt(p.ms, 3)} |`);
console.log(`\ngrowth exponent in block_size: ${fmt(scaling.blockSize.exponent, 2)}`);
console.log(`\nWhere the time of deno task train --engine fast goes (median of ${RUNS})\n`);
console.log("| phase | ms |\n| --- | --: |");
for (const p of phases) console.log(`| ${p.phase} | ${fmt(p.ms, 1)} |`);
console.log(`\nfast engine steady state: ${fmt(steadyUs, 1)} µs per training step`);
console.log("\nOne held-out evaluation (--val-split 0.1 of names.txt), median of 5\n");
console.log("| engine | held-out names | ms |\n| --- | --: | --: |");
for (const e of evaluation) console.log(`| ${e.engine} | ${e.docs} | ${fmt(e.ms, 1)} |`);

if (plots) {
  console.log("\nPlot PNGs (plotly.js in headless Chromium, a 1,000-point line chart)\n");
  console.log("| plot | ms |\n| --- | --: |");
  console.log(`| first plot of a kernel (starts Chromium) | ${fmt(plots.firstMs, 0)} |`);
  console.log(`| later plots, same browser (median of 5) | ${fmt(plots.laterMs, 0)} |`);
  console.log(`| a plot with a Chromium of its own | ${fmt(plots.ownBrowserMs, 0)} |`);
} else console.log(`\nPlot PNGs: not measured (install ${missingForPng()})`);
console.log(
  `\nValue engine, ${LONG_STEPS} steps: resident memory ${fmt(atFirst, 0)} MiB at step 1000, ` +
    `peak ${fmt(Math.max(...rssMiB.map((r) => r.rssMiB)), 0)} MiB, ` +
    `growth after step 1000: ${fmt(memory.growthAfterFirst1000 * 100, 1)}%`,
);

await writeFileAtomic(
  OUT,
  JSON.stringify(
    {
      target: Deno.build.target,
      runs: RUNS,
      wholeProcess: runFigures,
      scaling,
      memory,
      evaluation,
      phases,
      steadyStateUsPerStep: steadyUs,
      plots,
    },
    null,
    2,
  ) +
    "\n",
  { what: "benchmark figures" },
);
console.log(`\nwrote ${OUT}`);
