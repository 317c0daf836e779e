// The command line. `deno task train` does what microgpt.py does (load and shuffle the names,
// build the tokenizer and the model, train, sample), with every hyperparameter as a flag, and
// can save and resume checkpoints; with the defaults its stdout is byte for byte the
// reference's, and notices go to stderr. `deno task sample` generates from a checkpoint.

import { Adam, DEFAULT_ADAM } from "./adam.ts";
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { loadDataset, sha256Hex } from "./data.ts";
import { FastGpt } from "./fast.ts";
import { createGpt, DEFAULT_CONFIG, type GptConfig, validateConfig } from "./model.ts";
import { Random } from "./random.ts";
import { sample } from "./sample.ts";
import { Tokenizer } from "./tokenizer.ts";
import { docTokens, trainStep } from "./train.ts";

/** The two implementations of the same model. */
export type EngineName = "value" | "fast";

/** Everything a training run needs to know. */
export interface TrainOptions {
  data?: string;
  seed: number;
  steps: number;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  blockSize: number;
  lr: number;
  temperature: number;
  samples: number;
  json?: string;
  engine: EngineName;
  save?: string;
  load?: string;
  stopAt?: number;
  saveEvery?: number;
  help: boolean;
}

/** Options of `deno task sample`. */
export interface SampleOptions {
  checkpoint?: string;
  samples: number;
  temperature: number;
  seed?: number;
  prefix: string;
  help: boolean;
}

type Kind = "int" | "posint" | "posnumber" | "path" | "text" | "bool" | "engine";
interface FlagSpec {
  key: string;
  kind: Kind;
  help: string;
}

const TRAIN_FLAGS: Record<string, FlagSpec> = {
  "--data": { key: "data", kind: "path", help: "dataset, one document per line [data/names.txt]" },
  "--seed": { key: "seed", kind: "int", help: "random seed [42]" },
  "--steps": { key: "steps", kind: "posint", help: "training steps [1000]" },
  "--n-layer": { key: "nLayer", kind: "posint", help: "transformer layers [1]" },
  "--n-embd": { key: "nEmbd", kind: "posint", help: "embedding width [16]" },
  "--n-head": { key: "nHead", kind: "posint", help: "attention heads, must divide n-embd [4]" },
  "--block-size": { key: "blockSize", kind: "posint", help: "context length [16]" },
  "--lr": { key: "lr", kind: "posnumber", help: "Adam learning rate, decays linearly to 0 [0.01]" },
  "--temperature": { key: "temperature", kind: "posnumber", help: "sampling temperature [0.5]" },
  "--samples": { key: "samples", kind: "posint", help: "names to sample after training [20]" },
  "--json": { key: "json", kind: "path", help: "also write losses and samples to this JSON file" },
  "--engine": {
    key: "engine",
    kind: "engine",
    help: "value (scalar autograd, the lesson) or fast (flat arrays) [value]",
  },
  "--save": {
    key: "save",
    kind: "path",
    help: "write a checkpoint here at the end of the run",
  },
  "--save-every": { key: "saveEvery", kind: "posint", help: "with --save: also every N steps" },
  "--stop-at": { key: "stopAt", kind: "posint", help: "stop after step N of the --steps schedule" },
  "--load": { key: "load", kind: "path", help: "resume the run saved in this checkpoint" },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

const SAMPLE_FLAGS: Record<string, FlagSpec> = {
  "--checkpoint": { key: "checkpoint", kind: "path", help: "the checkpoint to sample from" },
  "--samples": { key: "samples", kind: "posint", help: "how many to generate [20]" },
  "--temperature": { key: "temperature", kind: "posnumber", help: "sampling temperature [0.5]" },
  "--seed": { key: "seed", kind: "int", help: "seed [the checkpoint's generator state]" },
  "--prefix": { key: "prefix", kind: "text", help: "start every sample with this text" },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

// Flags that describe the run a checkpoint already fixes.
const FIXED_BY_CHECKPOINT = [
  "--seed",
  "--steps",
  "--n-layer",
  "--n-embd",
  "--n-head",
  "--block-size",
  "--lr",
];

/** The reference's settings. */
export const DEFAULT_OPTIONS: TrainOptions = {
  seed: 42,
  steps: 1000,
  nLayer: DEFAULT_CONFIG.nLayer,
  nEmbd: DEFAULT_CONFIG.nEmbd,
  nHead: DEFAULT_CONFIG.nHead,
  blockSize: DEFAULT_CONFIG.blockSize,
  lr: DEFAULT_ADAM.learningRate,
  temperature: 0.5,
  samples: 20,
  engine: "value",
  help: false,
};

const DEFAULT_SAMPLE_OPTIONS: SampleOptions = {
  samples: 20,
  temperature: 0.5,
  prefix: "",
  help: false,
};

function usageOf(title: string, command: string, flags: Record<string, FlagSpec>): string {
  const args: Record<Kind, string> = {
    int: " N",
    posint: " N",
    posnumber: " X",
    path: " PATH",
    text: " TEXT",
    bool: "",
    engine: " NAME",
  };
  const lines = Object.entries(flags).map(([flag, spec]) =>
    `  ${(flag + args[spec.kind]).padEnd(20)} ${spec.help}`
  );
  return [title, "", `Usage: ${command} [flags]`, "", "Flags:", ...lines, ""].join("\n");
}

/** Usage text of `deno task train --help`. */
export function usage(): string {
  return usageOf(
    "Train a tiny GPT on a list of names and sample new ones (microgpt.py in TypeScript).\n" +
      "Defaults are microgpt.py's. Checkpoints: --save ck.json [--save-every N] [--stop-at N],\n" +
      "then --load ck.json carries on with exactly the same numbers.",
    "deno task train",
    TRAIN_FLAGS,
  );
}

/** Usage text of `deno task sample --help`. */
export function sampleUsage(): string {
  return usageOf(
    "Generate names from a saved checkpoint, without training.",
    "deno task sample --checkpoint PATH",
    SAMPLE_FLAGS,
  );
}

function parseValue(name: string, kind: Kind, raw: string): string | number {
  const fail = (what: string): never => {
    throw new RangeError(`Cannot parse flags: ${name} (${JSON.stringify(raw)}) must be ${what}`);
  };
  if (kind === "text") return raw;
  if (kind === "path") {
    if (raw === "") fail("a path");
    return raw;
  }
  if (kind === "engine") {
    if (raw !== "value" && raw !== "fast") fail('"value" or "fast"');
    return raw;
  }
  const trimmed = raw.trim();
  const n = trimmed === "" ? NaN : Number(trimmed);
  if (kind === "int" || kind === "posint") {
    if (!Number.isSafeInteger(n) || !/^[+-]?\d+$/.test(trimmed)) fail("an integer");
    if (kind === "posint" && n < 1) fail("a positive integer");
    return n;
  }
  if (!Number.isFinite(n)) fail("a finite number");
  if (!(n > 0)) fail("a number above 0");
  return n;
}

// Parses `--name value` and `--name=value` against a flag table; returns the set flags too.
function parseTable<T>(
  args: readonly string[],
  table: Record<string, FlagSpec>,
  defaults: T,
): { options: T; given: Set<string> } {
  const options = { ...defaults } as Record<string, unknown>;
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const spec = table[name];
    if (!spec) {
      throw new RangeError(
        `Cannot parse flags: unknown flag ${JSON.stringify(name)}; see --help for the flags`,
      );
    }
    given.add(name);
    if (spec.kind === "bool") {
      if (eq !== -1) throw new RangeError(`Cannot parse flags: ${name} takes no value`);
      options[spec.key] = true;
      continue;
    }
    const raw = eq !== -1 ? arg.slice(eq + 1) : args[++i];
    if (raw === undefined) throw new RangeError(`Cannot parse flags: ${name} needs a value`);
    options[spec.key] = parseValue(name, spec.kind, raw);
  }
  return { options: options as T, given };
}

/**
 * Parses the flags of `deno task train`.
 *
 * @param args The arguments after the script name.
 * @returns The options, defaults filled in.
 */
export function parseFlags(args: readonly string[]): TrainOptions {
  const { options, given } = parseTable(args, TRAIN_FLAGS, DEFAULT_OPTIONS);
  const fail = (message: string): never => {
    throw new RangeError(`Cannot parse flags: ${message}`);
  };
  if (options.load !== undefined) {
    const clash = FIXED_BY_CHECKPOINT.find((flag) => given.has(flag));
    if (clash) fail(`--load takes ${clash} from the checkpoint; drop ${clash}`);
  } else if (options.nEmbd % options.nHead !== 0) {
    fail(`--n-embd (${options.nEmbd}) must be divisible by --n-head (${options.nHead})`);
  }
  if (
    options.stopAt !== undefined && options.load === undefined && options.stopAt > options.steps
  ) {
    fail(`--stop-at (${options.stopAt}) must be at most --steps (${options.steps})`);
  }
  if (options.saveEvery !== undefined && options.save === undefined) {
    fail("--save-every needs --save PATH");
  }
  return options;
}

/**
 * Parses the flags of `deno task sample`.
 *
 * @param args The arguments after `sample`.
 * @returns The options, defaults filled in.
 */
export function parseSampleFlags(args: readonly string[]): SampleOptions {
  const { options } = parseTable(args, SAMPLE_FLAGS, DEFAULT_SAMPLE_OPTIONS);
  if (options.checkpoint === undefined && !options.help) {
    throw new RangeError("Cannot parse flags: --checkpoint PATH is required");
  }
  return options;
}

/** What the CLI needs of an engine: a training step, sampling and the parameters. */
export interface Engine {
  numParams: number;
  trainStep(tokens: readonly number[], adam: Adam): number;
  sample(
    tokenizer: Tokenizer,
    options: { rng: Random; temperature: number; prefix?: string },
  ): string;
  /** A copy of the parameters, in state-dict order. */
  snapshot(): Float64Array;
}

/**
 * Creates a model with either engine, from `rng` (both engines draw the same initial
 * weights) or from saved `params`.
 *
 * @param name `value` or `fast`.
 * @param config The model shape.
 * @param options `rng`, the random number generator, or `params`.
 * @returns The engine.
 */
export function createEngine(
  name: EngineName,
  config: GptConfig,
  options: { rng: Random } | { params: ArrayLike<number> },
): Engine {
  if (name === "fast") {
    const fast = "rng" in options
      ? FastGpt.create(config, options)
      : new FastGpt(config, Float64Array.from(options.params));
    return {
      numParams: fast.numParams,
      trainStep: (tokens, adam) => fast.trainStep(tokens, adam),
      sample: (tokenizer, opts) => fast.sample(tokenizer, opts),
      snapshot: () => Float64Array.from(fast.params),
    };
  }
  const model = createGpt(config, options);
  return {
    numParams: model.params.length,
    trainStep: (tokens, adam) => trainStep(model, { tokens, adam }),
    sample: (tokenizer, opts) => sample(model, tokenizer, opts),
    snapshot: () => Float64Array.from(model.params, (p) => p.data),
  };
}

function writer(file: { writeSync(p: Uint8Array): number }): (text: string) => void {
  const encoder = new TextEncoder();
  return (text) => {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  };
}

/** What a run produced (the `--json` file has the same fields). */
export interface RunResult {
  num_docs: number;
  vocab_size: number;
  num_params: number;
  /** The step numbers this run trained (1-based): all of them, or those after a resume. */
  steps: number[];
  /** The loss of each of those steps. */
  losses: number[];
  /** The sampled names (none if the run stopped before the end of its schedule). */
  samples: string[];
}

// Identifies a dataset in a checkpoint: the hash of its documents in training order.
function docsHash(docs: readonly string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(docs.join("\n")));
}

/**
 * Runs microgpt: load and shuffle the data, build tokenizer and model (or restore them from a
 * checkpoint), train, sample.
 *
 * @param options The settings.
 * @param io Where the reference's output (`out`) and notices (`err`) go.
 * @returns The numbers of the run.
 */
export async function run(
  options: TrainOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<RunResult> {
  const checkpoint = options.load === undefined ? undefined : await loadCheckpoint(options.load);
  const seed = checkpoint?.train.seed ?? options.seed;
  const numSteps = checkpoint?.train.steps ?? options.steps;
  const learningRate = checkpoint?.train.learningRate ?? options.lr;
  const dataPath = options.data ?? checkpoint?.train.data.path ?? undefined;

  const rng = new Random(seed);
  const { docs } = await loadDataset(dataPath, { warn: (m) => io.err(`${m}\n`) });
  rng.shuffle(docs);
  const needHash = checkpoint !== undefined || options.save !== undefined;
  const dataHash = needHash ? await docsHash(docs) : "";
  if (checkpoint && checkpoint.train.data.sha256 !== dataHash) {
    throw new RangeError(
      `Cannot resume from ${options.load}: the dataset (${dataPath ?? "data/names.txt"}, ` +
        `${docs.length} documents) is not the one the checkpoint was trained on ` +
        `(${checkpoint.train.data.numDocs} documents); pass the original with --data`,
    );
  }
  io.out(`num docs: ${docs.length}\n`);
  const tokenizer = checkpoint ? new Tokenizer(checkpoint.uchars) : Tokenizer.fromDocs(docs);
  io.out(`vocab size: ${tokenizer.vocabSize}\n`);
  const config = checkpoint?.config ?? validateConfig({
    vocabSize: tokenizer.vocabSize,
    nLayer: options.nLayer,
    nEmbd: options.nEmbd,
    blockSize: options.blockSize,
    nHead: options.nHead,
    initStd: DEFAULT_CONFIG.initStd,
  });
  const engine = checkpoint
    ? createEngine(options.engine, config, { params: checkpoint.params })
    : createEngine(options.engine, config, { rng });
  if (checkpoint) rng.setState(checkpoint.rng);
  io.out(`num params: ${engine.numParams}\n`);

  const adam = new Adam(engine.numParams, { numSteps, learningRate });
  if (checkpoint) adam.restore(checkpoint.adam);
  const first = checkpoint?.step ?? 0;
  const last = options.stopAt ?? numSteps;
  if (last > numSteps || last <= first) {
    throw new RangeError(
      `Cannot train: --stop-at (${last}) must be after the checkpoint's step (${first}) and at ` +
        `most the schedule's ${numSteps} steps`,
    );
  }
  const save = async (step: number) => {
    if (options.save === undefined) return;
    const state: Checkpoint = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      config,
      uchars: [...tokenizer.uchars],
      train: {
        steps: numSteps,
        learningRate,
        seed,
        data: { path: dataPath ?? null, numDocs: docs.length, sha256: dataHash },
      },
      step,
      params: Array.from(engine.snapshot()),
      adam: { m: Array.from(adam.m), v: Array.from(adam.v), t: adam.t },
      rng: rng.getState(),
    };
    await saveCheckpoint(options.save, state);
  };

  const steps: number[] = [];
  const losses: number[] = [];
  for (let step = first; step < last; step++) {
    const doc = docs[step % docs.length]!;
    const loss = engine.trainStep(docTokens(tokenizer, doc), adam);
    if (!Number.isFinite(loss)) {
      throw new RangeError(
        `Cannot train: the loss became ${loss} at step ${step + 1}; lower --lr ` +
          `(now ${learningRate})`,
      );
    }
    steps.push(step + 1);
    losses.push(loss);
    const [at, of] = [String(step + 1).padStart(4), String(numSteps).padStart(4)];
    io.out(`step ${at} / ${of} | loss ${formatFixed(loss, 4)}\r`);
    if (options.saveEvery && (step + 1) % options.saveEvery === 0 && step + 1 < last) {
      await save(step + 1);
    }
  }
  await save(last);

  const samples: string[] = [];
  if (last < numSteps) {
    io.out("\n");
    io.err(
      `stopped after step ${last} of ${numSteps}` +
        (options.save ? `; resume with --load ${options.save}\n` : "\n"),
    );
  } else {
    io.out("\n--- inference (new, hallucinated names) ---\n");
    for (let i = 0; i < options.samples; i++) {
      const name = engine.sample(tokenizer, { rng, temperature: options.temperature });
      samples.push(name);
      io.out(`sample ${String(i + 1).padStart(2)}: ${name}\n`);
    }
  }
  return {
    num_docs: docs.length,
    vocab_size: tokenizer.vocabSize,
    num_params: engine.numParams,
    steps,
    losses,
    samples,
  };
}

/**
 * Generates names from a checkpoint.
 *
 * @param options The settings.
 * @param io Where the names (`out`) and notices (`err`) go.
 * @returns The names.
 */
export async function runSample(
  options: SampleOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<string[]> {
  const checkpoint = await loadCheckpoint(options.checkpoint!);
  const tokenizer = new Tokenizer(checkpoint.uchars);
  tokenizer.encode(options.prefix); // refuse characters outside the vocabulary up front
  const engine = createEngine("fast", checkpoint.config, { params: checkpoint.params });
  const rng = new Random(options.seed ?? 0);
  if (options.seed === undefined) rng.setState(checkpoint.rng);
  if (checkpoint.step < checkpoint.train.steps) {
    io.err(
      `note: this checkpoint stopped at step ${checkpoint.step} of ${checkpoint.train.steps}\n`,
    );
  }
  const names: string[] = [];
  for (let i = 0; i < options.samples; i++) {
    const name = engine.sample(tokenizer, {
      rng,
      temperature: options.temperature,
      prefix: options.prefix,
    });
    names.push(name);
    io.out(`sample ${String(i + 1).padStart(2)}: ${name}\n`);
  }
  return names;
}

/**
 * Formats like Python's `f"{x:.{digits}f}"`: the exact binary value rounded to nearest, ties
 * to even (JavaScript's `toFixed` rounds exact ties up).
 *
 * @param x The number.
 * @param digits Digits after the point.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatFixed } from "@lib/cli.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatFixed(3.3659669475848504, 4), "3.3660");
 * assert.equal(formatFixed(0.03125, 4), "0.0312"); // Python: ties to even; toFixed: "0.0313"
 * ```
 */
export function formatFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  // An exact tie means x * 10^digits ends in .5: x is an odd multiple of 2^-(digits + 1).
  const t = Math.abs(x) * 2 ** (digits + 1);
  if (!Number.isSafeInteger(t) || t % 2 === 0) return s;
  const k = Math.floor(Math.abs(x) * 10 ** digits); // exact here: x has few binary digits
  if (k % 2 === 1) return s; // toFixed rounded up to the even neighbour already
  const text = String(k).padStart(digits + 1, "0");
  const sign = x < 0 ? "-" : "";
  const point = text.length - digits;
  return `${sign}${text.slice(0, point)}${digits > 0 ? "." : ""}${text.slice(point)}`;
}

// Errors that come from the user's input (flags, files, data), as opposed to bugs.
function isUserError(e: unknown): e is Error {
  return e instanceof RangeError || e instanceof TypeError ||
    e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied ||
    e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.IsADirectory;
}

/**
 * The entry point of `deno task train` and (with `sample` first) `deno task sample`.
 *
 * @param args Command-line arguments.
 * @returns The process exit code: 0, or 2 for bad flags, files or data.
 */
export async function main(args: readonly string[]): Promise<number> {
  const out = writer(Deno.stdout);
  const err = writer(Deno.stderr);
  const io = { out, err };
  const sampling = args[0] === "sample";
  try {
    if (sampling) {
      const options = parseSampleFlags(args.slice(1));
      if (options.help) out(sampleUsage());
      else await runSample(options, io);
      return 0;
    }
    const options = parseFlags(args);
    if (options.help) {
      out(usage());
      return 0;
    }
    const result = await run(options, io);
    if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(result) + "\n");
    return 0;
  } catch (e) {
    if (!isUserError(e)) throw e;
    const message = e instanceof Deno.errors.NotCapable
      ? `Cannot access a file the command line did not name (${e.message.split(",")[0]}); ` +
        "the task may only read the dataset and the --load or --checkpoint file, and write " +
        "the --save and --json files and data/"
      : e.message;
    err(`\nerror: ${message}\n`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
