// The command line: `deno task train` does what microgpt.py does (load and shuffle the
// names, build the tokenizer and the model, train, sample), with every hyperparameter as a
// flag. With the defaults its stdout is byte for byte the reference's; notices go to stderr.

import { Adam, DEFAULT_ADAM } from "./adam.ts";
import { loadDataset } from "./data.ts";
import { FastGpt } from "./fast.ts";
import { createGpt, DEFAULT_CONFIG, type GptConfig, validateConfig } from "./model.ts";
import { Random } from "./random.ts";
import { sample } from "./sample.ts";
import { Tokenizer } from "./tokenizer.ts";
import { docTokens, trainStep } from "./train.ts";

/** Everything a run needs to know. */
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
  help: boolean;
}

/** The two implementations of the same model. */
export type EngineName = "value" | "fast";

type Kind = "int" | "posint" | "number" | "posnumber" | "path" | "bool" | "engine";
interface FlagSpec {
  key: keyof TrainOptions;
  kind: Kind;
  help: string;
}

const FLAGS: Record<string, FlagSpec> = {
  "--data": { key: "data", kind: "path", help: "dataset, one document per line [data/names.txt]" },
  "--seed": { key: "seed", kind: "int", help: "random seed [42]" },
  "--steps": { key: "steps", kind: "posint", help: "training steps [1000]" },
  "--n-layer": { key: "nLayer", kind: "posint", help: "transformer layers [1]" },
  "--n-embd": { key: "nEmbd", kind: "posint", help: "embedding width [16]" },
  "--n-head": { key: "nHead", kind: "posint", help: "attention heads, must divide n-embd [4]" },
  "--block-size": { key: "blockSize", kind: "posint", help: "context length [16]" },
  "--lr": { key: "lr", kind: "posnumber", help: "Adam learning rate, decays linearly to 0 [0.01]" },
  "--temperature": {
    key: "temperature",
    kind: "posnumber",
    help: "sampling temperature, > 0 [0.5]",
  },
  "--samples": { key: "samples", kind: "int", help: "names to sample after training [20]" },
  "--json": { key: "json", kind: "path", help: "also write losses and samples to this JSON file" },
  "--engine": {
    key: "engine",
    kind: "engine",
    help: "value (scalar autograd, the lesson) or fast (flat arrays) [value]",
  },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

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

/** Usage text for `--help`. */
export function usage(): string {
  const lines = Object.entries(FLAGS).map(([flag, spec]) => {
    const arg = {
      int: " N",
      posint: " N",
      number: " X",
      posnumber: " X",
      path: " PATH",
      bool: "",
      engine: " NAME",
    }[spec.kind];
    return `  ${(flag + arg).padEnd(20)} ${spec.help}`;
  });
  return [
    "Train a tiny GPT on a list of names and sample new ones (microgpt.py in TypeScript).",
    "",
    "Usage: deno task train [flags]",
    "",
    "Flags (defaults are microgpt.py's):",
    ...lines,
    "",
  ].join("\n");
}

/**
 * Parses command-line flags (`--name value` or `--name=value`).
 *
 * @param args The arguments after the script name.
 * @returns The options, defaults filled in.
 */
export function parseFlags(args: readonly string[]): TrainOptions {
  const options: TrainOptions = { ...DEFAULT_OPTIONS };
  const fail = (message: string): never => {
    throw new RangeError(`Cannot parse flags: ${message}`);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const spec = FLAGS[name];
    if (!spec) fail(`unknown flag ${JSON.stringify(name)}; see --help for the flags`);
    if (spec!.kind === "bool") {
      if (eq !== -1) fail(`${name} takes no value`);
      (options as unknown as Record<string, unknown>)[spec!.key] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      raw = args[++i];
      if (raw === undefined) fail(`${name} needs a value`);
    }
    (options as unknown as Record<string, unknown>)[spec!.key] = parseValue(name, spec!.kind, raw!);
  }
  if (options.nEmbd % options.nHead !== 0) {
    fail(`--n-embd (${options.nEmbd}) must be divisible by --n-head (${options.nHead})`);
  }
  return options;
}

function parseValue(name: string, kind: Kind, raw: string): string | number {
  const fail = (what: string): never => {
    throw new RangeError(`Cannot parse flags: ${name} (${JSON.stringify(raw)}) must be ${what}`);
  };
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
    if (name === "--samples" && n < 0) fail("an integer >= 0");
    return n;
  }
  if (!Number.isFinite(n)) fail("a finite number");
  if (kind === "posnumber" && !(n > 0)) fail("a number above 0");
  return n;
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
  losses: number[];
  samples: string[];
}

/**
 * Runs microgpt: load and shuffle the data, build tokenizer and model, train, sample.
 *
 * @param options The settings.
 * @param io Where the reference's output (`out`) and notices (`err`) go.
 * @returns The numbers of the run.
 */
export async function run(
  options: TrainOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<RunResult> {
  const rng = new Random(options.seed);
  const { docs } = await loadDataset(options.data, { warn: (m) => io.err(`${m}\n`) });
  rng.shuffle(docs);
  io.out(`num docs: ${docs.length}\n`);
  const tokenizer = Tokenizer.fromDocs(docs);
  io.out(`vocab size: ${tokenizer.vocabSize}\n`);
  const config = validateConfig({
    vocabSize: tokenizer.vocabSize,
    nLayer: options.nLayer,
    nEmbd: options.nEmbd,
    blockSize: options.blockSize,
    nHead: options.nHead,
    initStd: DEFAULT_CONFIG.initStd,
  });
  const engine = createEngine(options.engine, config, { rng });
  io.out(`num params: ${engine.numParams}\n`);

  const adam = new Adam(engine.numParams, { numSteps: options.steps, learningRate: options.lr });
  const losses: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const doc = docs[step % docs.length]!;
    const loss = engine.trainStep(docTokens(tokenizer, doc), adam);
    if (!Number.isFinite(loss)) {
      throw new RangeError(
        `Cannot train: the loss became ${loss} at step ${step + 1}; lower --lr (now ${options.lr})`,
      );
    }
    losses.push(loss);
    const [at, of] = [String(step + 1).padStart(4), String(options.steps).padStart(4)];
    io.out(`step ${at} / ${of} | loss ${formatFixed(loss, 4)}\r`);
  }

  io.out("\n--- inference (new, hallucinated names) ---\n");
  const samples: string[] = [];
  for (let i = 0; i < options.samples; i++) {
    const name = engine.sample(tokenizer, { rng, temperature: options.temperature });
    samples.push(name);
    io.out(`sample ${String(i + 1).padStart(2)}: ${name}\n`);
  }
  return {
    num_docs: docs.length,
    vocab_size: tokenizer.vocabSize,
    num_params: engine.numParams,
    losses,
    samples,
  };
}

/** What the CLI needs of an engine: a training step and sampling. */
export interface Engine {
  numParams: number;
  trainStep(tokens: readonly number[], adam: Adam): number;
  sample(tokenizer: Tokenizer, options: { rng: Random; temperature: number }): string;
}

/**
 * Creates a model with either engine; both draw the same initial weights from `rng`.
 *
 * @param name `value` or `fast`.
 * @param config The model shape.
 * @param options `rng`, the random number generator.
 * @returns The engine.
 */
export function createEngine(
  name: EngineName,
  config: GptConfig,
  options: { rng: Random },
): Engine {
  if (name === "fast") return FastGpt.create(config, options);
  const model = createGpt(config, options);
  return {
    numParams: model.params.length,
    trainStep: (tokens, adam) => trainStep(model, { tokens, adam }),
    sample: (tokenizer, opts) => sample(model, tokenizer, opts),
  };
}

/**
 * Formats like Python's `f"{x:.{digits}f}"`: the exact binary value rounded to nearest, ties
 * to even (JavaScript's `toFixed` rounds exact ties up).
 *
 * @param x The number.
 * @param digits Digits after the point.
 * @returns The text.
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

/**
 * The `deno task train` entry point.
 *
 * @param args Command-line arguments.
 * @returns The process exit code: 0, or 2 for bad flags or data.
 */
export async function main(args: readonly string[]): Promise<number> {
  const out = writer(Deno.stdout);
  const err = writer(Deno.stderr);
  let options: TrainOptions;
  try {
    options = parseFlags(args);
  } catch (e) {
    err(`error: ${(e as Error).message}\n`);
    return 2;
  }
  if (options.help) {
    out(usage());
    return 0;
  }
  let result: RunResult;
  try {
    result = await run(options, { out, err });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError || e instanceof Deno.errors.NotFound) {
      err(`\nerror: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
  if (options.json) {
    await Deno.writeTextFile(options.json, JSON.stringify(result) + "\n");
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
