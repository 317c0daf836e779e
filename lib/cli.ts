// The command line. `deno task train` does what microgpt.py does (load and shuffle the names,
// build the tokenizer and the model, train, sample), with every hyperparameter as a flag, and
// can hold documents out, save and resume checkpoints; with the defaults its stdout is byte for
// byte the reference's, and notices go to stderr. `deno task sample` generates from a checkpoint
// and `deno task eval` measures one. The flags are parsed in lib/flags.ts.

import { Adam } from "./adam.ts";
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { DEFAULT_DATA_PATH, loadDataset, sha256Hex } from "./data.ts";
import {
  evaluate,
  type Evaluation,
  type Origin,
  sampleOrigins,
  type Split,
  splitDocs,
} from "./eval.ts";
import { EXIT_BUG, EXIT_CLOSED_PIPE, EXIT_USAGE, UserError } from "./errors.ts";
import { createEngine } from "./engine.ts";
import { FastGpt } from "./fast.ts";
import { checkOutputs, fileError, writeFileAtomic } from "./files.ts";
import { textWriter } from "./output.ts";
import {
  type EvalOptions,
  evalUsage,
  parseEvalFlags,
  parseFlags,
  parseSampleFlags,
  type SampleOptions,
  sampleUsage,
  type TrainOptions,
  usage,
} from "./flags.ts";
import { countParams, DEFAULT_CONFIG, type GptConfig, validateConfig } from "./model.ts";
import { Random } from "./random.ts";
import { promptIds } from "./sample.ts";
import { Tokenizer } from "./tokenizer.ts";
import { docTokens } from "./train.ts";

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
  /** How many documents were held out (`--val-split`). */
  num_val_docs: number;
  /** The held-out loss after each evaluation. */
  evals: { step: number; val_loss: number }[];
  /** For each sample: a training document, a held-out one, or new. */
  sample_origin: Origin[];
}

// Identifies a dataset in a checkpoint: the hash of its documents in training order.
function docsHash(docs: readonly string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(docs.join("\n")));
}

/**
 * The error for a loss that stopped being a number. A learning rate too high shows as a loss
 * that rises and then overflows to Infinity (a probability rounded to 0): the user's setting.
 * A NaN while the loss had not grown (to twice its first value) means a computation produced
 * garbage: a bug.
 *
 * @param loss The non-finite loss.
 * @param step Its step (1-based).
 * @param losses The finite losses of this run before it.
 * @param learningRate The run's learning rate.
 * @returns A {@linkcode UserError} advising a lower rate, or an `Error` reporting a bug.
 *
 * @example
 * ```ts
 * import { lossError } from "@lib/cli.ts";
 * import { UserError } from "@lib/errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(lossError(Infinity, 4, [3.5, 285, 209.9], 1) instanceof UserError);
 * assert.ok(!(lossError(NaN, 2, [3.3], 0.01) instanceof UserError));
 * ```
 */
export function lossError(
  loss: number,
  step: number,
  losses: readonly number[],
  learningRate: number,
): Error {
  // Documents differ in difficulty, so only a loss grown to twice where it started counts.
  const rising = losses.length > 1 && Math.max(...losses.slice(-100)) > 2 * losses[0]!;
  if (loss === Infinity || rising) {
    return new UserError(
      `Cannot train: the loss became ${loss} at step ${step} (it diverged); lower --lr ` +
        `(now ${learningRate})`,
    );
  }
  return new Error(
    `Cannot train: the loss became ${loss} at step ${step} while it was still falling ` +
      `(${losses.length ? `last ${losses.at(-1)}` : "first step"}); that is not a setting ` +
      "being too large but a computation going wrong",
  );
}

/** The most memory a run may plan for, in 8-byte numbers (4 GiB). */
export const MAX_FLOATS = 2 ** 29;

// Refuses a model too large for memory before allocating it: parameters, gradients and Adam's
// two moments, plus the fast engine's activations (attention is [nHead][T][T] per layer).
function checkMemory(config: GptConfig): void {
  const { vocabSize: V, nEmbd: E, nHead: H, blockSize: T, nLayer: L } = config;
  const params = countParams(config);
  const floats = 4 * params + L * (2 * H * T * T + 20 * T * E) + T * V;
  if (floats > MAX_FLOATS) {
    throw new UserError(
      `Cannot build model: it needs about ${(floats * 8 / 2 ** 30).toFixed(1)} GiB ` +
        `(${params.toLocaleString("en-US")} parameters, context ${T}), more than the ` +
        `${MAX_FLOATS * 8 / 2 ** 30} GiB a run may use; lower --n-embd, --n-layer or --block-size`,
    );
  }
}

// The documents of a run in training order: the dataset read and shuffled as the reference
// shuffles it, and, when resuming, checked against the checkpoint's hash of them.
async function shuffledDocs(
  dataPath: string | undefined,
  options: { rng: Random; checkpoint?: Checkpoint; checkpointPath?: string; hash: boolean },
  io: { err: (text: string) => void },
): Promise<{ docs: string[]; dataHash: string }> {
  const { rng, checkpoint } = options;
  const { docs } = await loadDataset(dataPath, { warn: (m) => io.err(`${m}\n`) });
  rng.shuffle(docs);
  const dataHash = options.hash || checkpoint ? await docsHash(docs) : "";
  if (checkpoint && checkpoint.train.data.sha256 !== dataHash) {
    throw new UserError(
      `Cannot resume from ${options.checkpointPath}: the dataset (${
        dataPath ?? "data/names.txt"
      }, ${docs.length} documents) is not the one the checkpoint was trained on ` +
        `(${checkpoint.train.data.numDocs} documents); pass the original with --data`,
    );
  }
  return { docs, dataHash };
}

// Splits the documents, refusing a split that holds out none.
function heldOut(docs: readonly string[], valSplit: number): Split {
  const split = splitDocs(docs, valSplit);
  if (valSplit > 0 && split.val.length === 0) {
    throw new UserError(
      `Cannot split documents: --val-split ${valSplit} of ${docs.length} documents holds out ` +
        `none; give at least ${(Math.ceil(1e4 / docs.length) / 1e4).toFixed(4)}`,
    );
  }
  return split;
}

// "val loss 1.8024 | perplexity 6.06"
const lossLine = (name: string, loss: number) =>
  `${name} ${formatFixed(loss, 4)} | perplexity ${formatFixed(Math.exp(loss), 2)}`;

// A checkpoint's seed: a number, or the decimal text of a larger integer.
const seedOf = (seed: number | string) => typeof seed === "string" ? BigInt(seed) : seed;

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
  const seed = checkpoint ? seedOf(checkpoint.train.seed) : options.seed;
  const numSteps = checkpoint?.train.steps ?? options.steps;
  const learningRate = checkpoint?.train.learningRate ?? options.lr;
  const dataPath = options.data ?? checkpoint?.train.data.path ?? undefined;
  const valSplit = checkpoint ? checkpoint.train.valSplit ?? 0 : options.valSplit ?? 0;
  if (checkpoint && options.valSplit !== undefined && options.valSplit !== valSplit) {
    throw new UserError(
      `Cannot resume from ${options.load}: it was trained with --val-split ${valSplit}, not ` +
        `${options.valSplit}; drop --val-split (the checkpoint keeps its split)`,
    );
  }
  if (options.evalEvery !== undefined && valSplit === 0) {
    throw new UserError(
      `Cannot evaluate: ${options.load} was trained without held-out documents (--val-split 0)`,
    );
  }

  // Refuse, before any work, an output that would overwrite an input or cannot be written.
  const inputs = [
    { flag: options.data ? "--data" : "the dataset", path: dataPath ?? DEFAULT_DATA_PATH },
    ...(options.load === undefined ? [] : [{ flag: "--load", path: options.load }]),
  ];
  const outputs = [
    ...(options.save === undefined ? [] : [{ flag: "--save", path: options.save }]),
    ...(options.json === undefined ? [] : [{ flag: "--json", path: options.json }]),
  ];
  await checkOutputs({ inputs, outputs }, { allowed: [["--save", "--load"]] });

  const rng = new Random(seed);
  const { docs, dataHash } = await shuffledDocs(dataPath, {
    rng,
    checkpoint,
    checkpointPath: options.load,
    hash: options.save !== undefined,
  }, io);
  const split = heldOut(docs, valSplit);
  io.out(`num docs: ${docs.length}\n`);
  if (split.val.length > 0) {
    io.out(`val docs: ${split.val.length} held out; training on ${split.train.length}\n`);
  }
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
  checkMemory(config);
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
    throw new UserError(
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
        seed: typeof seed === "bigint" ? String(seed) : seed,
        data: { path: dataPath ?? null, numDocs: docs.length, sha256: dataHash },
        ...(valSplit > 0 ? { valSplit } : {}),
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
  const evals: { step: number; val_loss: number }[] = [];
  const evaluateVal = (step: number) => {
    const { loss } = evaluate(engine.evaluator(), tokenizer, split.val);
    evals.push({ step, val_loss: loss });
    return loss;
  };
  for (let step = first; step < last; step++) {
    const doc = split.train[step % split.train.length]!;
    const loss = engine.trainStep(docTokens(tokenizer, doc), adam);
    if (!Number.isFinite(loss)) throw lossError(loss, step + 1, losses, learningRate);
    steps.push(step + 1);
    losses.push(loss);
    const [at, of] = [String(step + 1).padStart(4), String(numSteps).padStart(4)];
    io.out(`step ${at} / ${of} | loss ${formatFixed(loss, 4)}\r`);
    if (options.evalEvery && (step + 1) % options.evalEvery === 0 && step + 1 < last) {
      io.out(`\n${lossLine(`eval step ${at} / ${of} | val loss`, evaluateVal(step + 1))}\n`);
    }
    if (options.saveEvery && (step + 1) % options.saveEvery === 0 && step + 1 < last) {
      await save(step + 1);
    }
  }
  await save(last);
  if (split.val.length > 0) {
    const valLoss = evaluateVal(last);
    io.out(`\n${lossLine("val loss", valLoss)} (${split.val.length} held-out documents)`);
  }

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
  // Where each sample comes from, worked out when first asked for (the held-out report below,
  // the --json file): a default run shows none, and searching 32,033 names costs ~2 ms.
  let origins: Origin[] | undefined;
  const originsOf = () => origins ??= sampleOrigins(samples, split);
  if (split.val.length > 0 && samples.length > 0) {
    const count = (o: Origin) => originsOf().filter((x) => x === o).length;
    io.out(
      `samples: ${count("new")} new, ${count("train")} in the training set, ` +
        `${count("val")} in the held-out set\n`,
    );
  }
  return {
    num_docs: docs.length,
    vocab_size: tokenizer.vocabSize,
    num_params: engine.numParams,
    steps,
    losses,
    samples,
    num_val_docs: split.val.length,
    evals,
    get sample_origin() {
      return originsOf();
    },
  };
}

/** What `deno task eval` measured. */
export interface EvalResult {
  train: Evaluation;
  /** Absent when the run held no documents out. */
  val?: Evaluation;
}

/**
 * Measures a checkpoint's loss on its training documents and on its held-out ones, without
 * training: the dataset is read, shuffled and split as the run did it.
 *
 * @param options The settings.
 * @param io Where the losses (`out`) and notices (`err`) go.
 * @returns The two evaluations.
 */
export async function runEval(
  options: EvalOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<EvalResult> {
  const checkpoint = await loadCheckpoint(options.checkpoint!);
  const dataPath = options.data ?? checkpoint.train.data.path ?? undefined;
  const rng = new Random(seedOf(checkpoint.train.seed));
  const { docs } = await shuffledDocs(dataPath, {
    rng,
    checkpoint,
    checkpointPath: options.checkpoint,
    hash: true,
  }, io);
  const split = heldOut(docs, checkpoint.train.valSplit ?? 0);
  const tokenizer = new Tokenizer(checkpoint.uchars);
  const model = new FastGpt(checkpoint.config, Float64Array.from(checkpoint.params));
  io.out(
    `checkpoint: step ${checkpoint.step} of ${checkpoint.train.steps}, ` +
      `${split.train.length} training and ${split.val.length} held-out documents\n`,
  );
  const train = evaluate(model, tokenizer, split.train);
  io.out(`${lossLine("train loss", train.loss)} (${train.positions} tokens)\n`);
  if (split.val.length === 0) {
    io.err("note: no held-out documents: this run was trained with --val-split 0\n");
    return { train };
  }
  const val = evaluate(model, tokenizer, split.val);
  io.out(`${lossLine("val loss  ", val.loss)} (${val.positions} tokens)\n`);
  return { train, val };
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
  try {
    // refuse a prefix with characters outside the vocabulary, or too long, up front
    promptIds(tokenizer, { ...options, blockSize: checkpoint.config.blockSize });
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`${e.message} (--prefix)`);
    throw e;
  }
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

// Deno.stdout, with a failed write (a full disk under `> file`) said in plain words; a closed
// pipe stays a BrokenPipe, which main() takes as the reader having stopped.
const STDOUT = {
  writeSync(bytes: Uint8Array): number {
    try {
      return Deno.stdout.writeSync(bytes);
    } catch (err) {
      if (err instanceof Deno.errors.BrokenPipe) throw err;
      throw fileError("write", "standard output", err);
    }
  },
};

// Runs the command `args` name: train (the default), `sample` or `eval`.
async function command(
  args: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<void> {
  if (args[0] === "eval") {
    const options = parseEvalFlags(args.slice(1));
    if (options.help) io.out(evalUsage());
    else await runEval(options, io);
    return;
  }
  if (args[0] === "sample") {
    const options = parseSampleFlags(args.slice(1));
    if (options.help) io.out(sampleUsage());
    else await runSample(options, io);
    return;
  }
  const options = parseFlags(args);
  if (options.help) {
    io.out(usage());
    return;
  }
  const result = await run(options, io);
  if (options.json) {
    await writeFileAtomic(options.json, JSON.stringify(result) + "\n", { what: "--json file" });
  }
}

/**
 * The entry point of `deno task train` and (with `sample` or `eval` first) `deno task sample`
 * and `deno task eval`.
 *
 * @param args Command-line arguments.
 * @returns The process exit code: 0; 2 for a mistake in the flags, files or data (one line on
 *   stderr); 70 for a bug (its stack trace on stderr); 141 when the reader of stdout went away.
 */
export async function main(args: readonly string[]): Promise<number> {
  // stdout is held between writes for up to 50 ms (20 updates a second of the progress line),
  // and written out before anything goes to stderr, so the two stay in order.
  const out = textWriter(STDOUT, { holdMs: 50 });
  const flushOut = () => {
    try {
      out.flush();
    } catch {
      // stdout is gone (a closed pipe): stderr still gets its message
    }
  };
  const err = textWriter(Deno.stderr, { before: flushOut });
  try {
    await command(args, { out, err });
    out.flush();
    return 0;
  } catch (e) {
    // Whoever read stdout stopped (`deno task train | head`): stop too, quietly.
    if (e instanceof Deno.errors.BrokenPipe) return EXIT_CLOSED_PIPE;
    if (e instanceof UserError) {
      err(`\nerror: ${e.message}\n`);
      return EXIT_USAGE;
    }
    const trace = e instanceof Error ? e.stack ?? String(e) : String(e);
    err(
      `\n${trace}\n\nThis is a bug in microgpt-ts, not a mistake in the command line: please ` +
        "report it with the command line and the text above.\n",
    );
    return EXIT_BUG;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
