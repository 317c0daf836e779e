// The command line. `deno task train` does what microgpt.py does (load and shuffle the names,
// build the tokenizer and the model, train, sample), with every hyperparameter as a flag, and
// can hold documents out, save and resume checkpoints; with the defaults its stdout is byte for
// byte the reference's (on a terminal, the progress line adds the mean loss, speed and time
// left: lib/cli/progress.ts), and notices go to stderr, as the duration of a long Value-engine
// run (lib/cli/estimate.ts). `deno task sample` generates from a checkpoint (with --trace, the
// candidates of each draw: lib/cli/trace.ts) and `deno task eval` measures one. The flags are
// parsed in lib/cli/flags.ts; a run reads top to bottom in run(), one step per layer: options,
// data (lib/io), model (lib/engine.ts), training, evaluation (lib/eval.ts), sampling, outputs.
// This file owns the printing.

import { Adam } from "../adam.ts";
import { createEngine, type Engine, ValueGpt } from "../engine.ts";
import {
  evaluate,
  type Evaluation,
  type Origin,
  sampleOrigins,
  type Split,
  splitDocs,
} from "../eval.ts";
import {
  type Checkpoint,
  checkpointOf,
  docsSha256,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from "../io/checkpoint.ts";
import { DEFAULT_DATA_PATH, loadDataset } from "../io/data.ts";
import { EXIT_BUG, EXIT_CLOSED_PIPE, EXIT_USAGE, UserError } from "../io/errors.ts";
import {
  checkOutputs,
  fileError,
  InputRefused,
  lockOutput,
  openInput,
  type OutputLock,
  writeFileAtomic,
  yieldToSignals,
} from "../io/files.ts";
import { formatFixed } from "../io/format.ts";
import { DEFAULT_CONFIG, validateConfig } from "../model.ts";
import { Random } from "../random.ts";
import { promptIds, sampleTrace } from "../sample.ts";
import { Tokenizer } from "../tokenizer.ts";
import { docTokens } from "../train.ts";
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
import { ADAM_MAX_STEP, maxLearningRate, memoryProblem, minTemperature } from "./limits.ts";
import { estimateSeconds, SLOW_RUN_SECONDS } from "./estimate.ts";
import { textWriter } from "./output.ts";
import { formatDuration, progress } from "./progress.ts";
import { traceTable } from "./trace.ts";

/**
 * Where a command writes: the reference's output (`out`) and notices (`err`); `terminal`, when
 * `out` is a terminal (the progress line then shows more than the reference's).
 */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  terminal?: boolean;
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
  /** How many documents were held out (`--val-split`). */
  num_val_docs: number;
  /** The held-out loss after each evaluation. */
  evals: { step: number; val_loss: number }[];
  /** For each sample: a training document, a held-out one, or new. */
  sample_origin: Origin[];
}

/**
 * Runs microgpt: load and shuffle the data, build tokenizer and model (or restore them from a
 * checkpoint), train, evaluate on the held-out documents, sample, and write the `--json` file.
 *
 * @param options The settings.
 * @param io Where the reference's output (`out`) and notices (`err`) go.
 * @returns The numbers of the run.
 */
export async function run(options: TrainOptions, io: Io): Promise<RunResult> {
  const plan = await planRun(options); // the flags, or the run a checkpoint fixes
  const locks = await claimOutputs(plan); // no other run writes them while this one runs
  try {
    const data = await readData(plan, io); // read, shuffled, split
    const model = buildModel(plan, data, io); // new, or restored from the checkpoint
    const training = await trainModel(plan, { data, model }, io);
    const finalEval = evaluateHeldOut(plan, { data, model }, io);
    const samples = sampleNames(plan, model, io);
    const result = runResult({ data, model, training, finalEval, samples });
    await writeOutputs(plan, result, io);
    return result;
  } finally {
    for (const lock of locks) lock.release();
  }
}

// The settings of a training run: the flags, or, when resuming, what the checkpoint fixes.
interface Plan {
  options: TrainOptions;
  /** The checkpoint being resumed (`--load`). */
  checkpoint?: Checkpoint;
  seed: number | bigint;
  numSteps: number;
  learningRate: number;
  /** The dataset; undefined for the default one. */
  dataPath?: string;
  valSplit: number;
  /** The steps already taken (a resumed run's) and the step this run stops after. */
  first: number;
  last: number;
}

// The documents of a run, in training order, and the generator that shuffled them.
interface RunData {
  docs: string[];
  split: Split;
  /** {@linkcode docsSha256} of the documents, if a checkpoint needs it ("" otherwise). */
  dataHash: string;
  rng: Random;
}

// What trains: the engine, its optimiser and tokenizer, and the generator it samples with.
interface Model {
  engine: Engine;
  adam: Adam;
  tokenizer: Tokenizer;
  rng: Random;
}

// What the training loop recorded.
interface Training {
  steps: number[];
  losses: number[];
  evals: { step: number; val_loss: number }[];
}

// Reads the options, and the checkpoint to resume, and refuses settings that clash.
async function planRun(options: TrainOptions): Promise<Plan> {
  const checkpoint = options.load === undefined
    ? undefined
    : await loadCheckpointFile(options.load, "--load");
  const saved = checkpoint?.train;
  const valSplit = saved ? saved.valSplit ?? 0 : options.valSplit ?? 0;
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
  const numSteps = saved?.steps ?? options.steps;
  const first = checkpoint?.step ?? 0;
  if (checkpoint && first >= numSteps) {
    throw new UserError(
      `Cannot resume from ${options.load}: the checkpoint already finished its ${numSteps} ` +
        "steps; sample from it with `deno task sample --checkpoint PATH`",
    );
  }
  const last = options.stopAt ?? numSteps;
  if (last > numSteps || last <= first) {
    throw new UserError(
      `Cannot train: --stop-at (${last}) must be after the checkpoint's step (${first}) and at ` +
        `most the schedule's ${numSteps} steps`,
    );
  }
  const plan = {
    options,
    checkpoint,
    seed: saved ? seedOf(saved.seed) : options.seed,
    numSteps,
    learningRate: saved?.learningRate ?? options.lr,
    dataPath: options.data, // never a path the checkpoint names: it is checked against its hash
    valSplit,
    first,
    last,
  };
  checkArithmetic(plan);
  return plan;
}

// Refuses a learning rate or a temperature past what the arithmetic can hold (lib/cli/limits.ts).
function checkArithmetic(plan: Plan): void {
  const { options, checkpoint, learningRate: lr, numSteps, first } = plan;
  const config = checkpoint?.config ?? {
    vocabSize: 1, // the bounds do not depend on it
    nLayer: options.nLayer,
    nEmbd: options.nEmbd,
    blockSize: options.blockSize,
    nHead: options.nHead,
    initStd: DEFAULT_CONFIG.initStd,
  };
  const weight = checkpoint ? largest(checkpoint.params) : 1; // new weights: under 12 initStd
  const flag = checkpoint ? `the checkpoint's learning rate` : "--lr";
  if (!(lr > 0)) throw new UserError(`Cannot train: ${flag} (${lr}) must be above 0`);
  const maxLr = maxLearningRate(config, { steps: numSteps, from: first, weight });
  if (!(lr <= maxLr)) {
    const step = ADAM_MAX_STEP.toFixed(2);
    throw new UserError(
      `Cannot train: ${flag} (${lr}) must be at most ${maxLr.toPrecision(3)}: Adam moves a ` +
        `weight by up to ${step} times the rate a step, and over ${numSteps - first} steps a ` +
        "larger rate can push one past what the model's arithmetic holds without overflowing",
    );
  }
  // Weights after training, at most: each step moves one by ADAM_MAX_STEP times its rate.
  const sumOfRates = (numSteps - first) * (numSteps - first + 1) / (2 * numSteps);
  const trained = weight + lr * sumOfRates * ADAM_MAX_STEP;
  const minT = minTemperature(config, trained);
  if (plan.last === numSteps && options.temperature < minT) { // it samples at the end
    throw new UserError(temperatureMessage(options.temperature, minT));
  }
}

// The largest magnitude in a list of numbers.
function largest(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

const temperatureMessage = (t: number, minT: number) =>
  `Cannot sample: --temperature (${t}) must be at least ${minT.toPrecision(3)}: the logits ` +
  "are divided by it, and below that the largest this model's weights can give overflows";

// Loads a checkpoint once it is known to be a regular file (a device or a pipe would hang).
async function loadCheckpointFile(path: string, flag: string): Promise<Checkpoint> {
  try {
    // The largest model a run may build has under 2^27 parameters: three arrays of them
    // (weights and Adam's moments) fit in 4 GiB.
    (await openInput(path, { maxBytes: 4 * 2 ** 30 })).file.close();
  } catch (err) {
    if (err instanceof InputRefused) {
      throw new UserError(`Cannot load checkpoint ${path} (${flag}): ${err.reason}`);
    }
    // anything else (a missing file): loadCheckpoint() says it in its words
  }
  return await loadCheckpoint(path);
}

// Refuses, before any work, an output that would overwrite an input or cannot be written; then
// locks each output, so that a second run writing the same file is refused until this one ends.
async function claimOutputs(plan: Plan): Promise<OutputLock[]> {
  const { options } = plan;
  const inputs = [
    { flag: options.data ? "--data" : "the dataset", path: plan.dataPath ?? DEFAULT_DATA_PATH },
    ...(options.load === undefined ? [] : [{ flag: "--load", path: options.load }]),
  ];
  const outputs = [
    ...(options.save === undefined ? [] : [{ flag: "--save", path: options.save }]),
    ...(options.json === undefined ? [] : [{ flag: "--json", path: options.json }]),
  ];
  await checkOutputs({ inputs, outputs }, { allowed: [["--save", "--load"]] });
  const locks: OutputLock[] = [];
  try {
    for (const { flag, path } of outputs) locks.push(await lockOutput(path, { flag }));
  } catch (err) {
    for (const lock of locks) lock.release();
    throw err;
  }
  return locks;
}

// Reads, shuffles and splits the documents.
async function readData(plan: Plan, io: Io): Promise<RunData> {
  const rng = new Random(plan.seed);
  const { docs, dataHash } = await shuffledDocs(plan.dataPath, {
    rng,
    checkpoint: plan.checkpoint,
    checkpointPath: plan.options.load,
    hash: plan.options.save !== undefined,
  }, io);
  const split = heldOut(docs, plan.valSplit);
  io.out(`num docs: ${docs.length}\n`);
  if (split.val.length > 0) {
    io.out(`val docs: ${split.val.length} held out; training on ${split.train.length}\n`);
  }
  return { docs, split, dataHash, rng };
}

// Builds the tokenizer and a new model, whose weights the shuffle's generator draws next; or
// restores them, Adam and the generator from the checkpoint.
function buildModel(plan: Plan, data: RunData, io: Io): Model {
  const { options, checkpoint } = plan;
  const tokenizer = checkpoint ? new Tokenizer(checkpoint.uchars) : Tokenizer.fromDocs(data.docs);
  io.out(`vocab size: ${tokenizer.vocabSize}\n`);
  checkTopK(options.topK, tokenizer.vocabSize);
  const config = checkpoint?.config ?? validateConfig({
    vocabSize: tokenizer.vocabSize,
    nLayer: options.nLayer,
    nEmbd: options.nEmbd,
    blockSize: options.blockSize,
    nHead: options.nHead,
    initStd: DEFAULT_CONFIG.initStd,
  });
  let positions = 0; // the longest step: the longest document, plus one
  for (const doc of data.split.train) positions = Math.max(positions, doc.length + 1);
  const tooLarge = memoryProblem(config, { engine: options.engine, positions });
  if (tooLarge) throw new UserError(`Cannot build model: ${tooLarge}`);
  let model: Model;
  if (checkpoint) {
    const trainedBy = checkpoint.train.engine;
    if (trainedBy !== undefined && trainedBy !== options.engine) {
      io.err(
        `note: ${options.load} was trained with --engine ${trainedBy}; resuming with the ` +
          `${options.engine} engine (pass --engine ${trainedBy} to keep it)\n`,
      );
    }
    model = restoreCheckpoint(checkpoint, { engine: options.engine });
  } else {
    const { rng } = data;
    const engine = createEngine(options.engine, config, { rng });
    const { numSteps, learningRate } = plan;
    model = {
      engine,
      adam: new Adam(engine.numParams, { numSteps, learningRate }),
      tokenizer,
      rng,
    };
  }
  io.out(`num params: ${model.engine.numParams}\n`);
  return model;
}

// Refuses a --top-k larger than the vocabulary (a user's mistake: it would keep every token).
function checkTopK(topK: number | undefined, vocabSize: number): void {
  if (topK !== undefined && topK > vocabSize) {
    throw new UserError(
      `Cannot sample: --top-k (${topK}) must be at most the vocabulary's ${vocabSize} tokens`,
    );
  }
}

// Before a long Value-engine run, says how long it will take and how long the fast engine
// would (one line on stderr; none for a run under SLOW_RUN_SECONDS, as the default one).
function noteDuration(plan: Plan, run: { data: RunData; model: Model }, io: Io): void {
  if (plan.options.engine !== "value") return;
  const { config } = run.model.engine;
  const docs = run.data.split.train;
  const { value, fast } = estimateSeconds(config, { docs, from: plan.first, to: plan.last });
  if (value <= SLOW_RUN_SECONDS) return;
  io.err(
    `note: this run will take about ${formatDuration(value)} on the Value engine; ` +
      `--engine fast trains the same model in about ${formatDuration(Math.max(1, fast))}\n`,
  );
}

// Trains from the step after `plan.first` to `plan.last`, one document a step, printing each
// loss over the last; evaluates every --eval-every steps and saves every --save-every, and at
// the end.
async function trainModel(
  plan: Plan,
  run: { data: RunData; model: Model },
  io: Io,
): Promise<Training> {
  const { options, numSteps, first, last } = plan;
  const { split } = run.data;
  const { engine, adam, tokenizer } = run.model;
  const training: Training = { steps: [], losses: [], evals: [] };
  noteDuration(plan, run, io);
  const tracker = progress({ numSteps, first, last }, { terminal: io.terminal ?? false });
  for (let step = first; step < last; step++) {
    const doc = split.train[step % split.train.length]!;
    // The Value engine's last step left its graph (~60,000 nodes) all garbage: collected now,
    // the young generation has next to nothing to copy (a run takes half the time).
    if (engine instanceof ValueGpt) collectYoung();
    const loss = engine.trainStep(docTokens(tokenizer, doc), adam);
    await yieldToSignals(); // while files are being claimed, let Ctrl-C remove them
    if (!Number.isFinite(loss)) {
      throw lossError(loss, step + 1, training.losses, plan.learningRate);
    }
    training.steps.push(step + 1);
    training.losses.push(loss);
    const [at, of] = [String(step + 1).padStart(4), String(numSteps).padStart(4)];
    io.out(tracker.line(step + 1, loss));
    const midRun = step + 1 < last; // the last step's evaluation and save come after the loop
    if (options.evalEvery && (step + 1) % options.evalEvery === 0 && midRun) {
      const { loss: valLoss } = evaluate(engine, tokenizer, split.val);
      training.evals.push({ step: step + 1, val_loss: valLoss });
      io.out(`\n${lossLine(`eval step ${at} / ${of} | val loss`, valLoss)}\n`);
    }
    if (options.saveEvery && (step + 1) % options.saveEvery === 0 && midRun) {
      await save(plan, run);
    }
  }
  await save(plan, run);
  return training;
}

// A young-generation collection, where V8 runs with --expose-gc (deno.json's train task
// starts it so); elsewhere nothing.
function collectYoung(): void {
  (globalThis as { gc?: (options: { type: "minor" }) => void }).gc?.({ type: "minor" });
}

// Writes the run as it stands to --save, if given.
async function save(plan: Plan, run: { data: RunData; model: Model }): Promise<void> {
  if (plan.options.save === undefined) return;
  const { docs, dataHash } = run.data;
  const data = { path: plan.dataPath ?? null, numDocs: docs.length, sha256: dataHash };
  const checkpoint = checkpointOf({
    ...run.model,
    train: { seed: plan.seed, data, valSplit: plan.valSplit, engine: plan.options.engine },
  });
  await saveCheckpoint(plan.options.save, checkpoint);
}

// The loss on the held-out documents after the last step, if any are held out.
function evaluateHeldOut(
  plan: Plan,
  run: { data: RunData; model: Model },
  io: Io,
): { step: number; val_loss: number } | undefined {
  const { val } = run.data.split;
  if (val.length === 0) return undefined;
  const { loss } = evaluate(run.model.engine, run.model.tokenizer, val);
  io.out(`\n${lossLine("val loss", loss)} (${val.length} held-out documents)`);
  return { step: plan.last, val_loss: loss };
}

// Samples --samples names, as the reference does after training; none if the run stopped
// before the end of its schedule, which it says.
function sampleNames(plan: Plan, model: Model, io: Io): string[] {
  const { options, last, numSteps } = plan;
  if (last < numSteps) {
    io.out("\n");
    io.err(
      `stopped after step ${last} of ${numSteps}` +
        (options.save ? `; resume with --load ${options.save}\n` : "\n"),
    );
    return [];
  }
  io.out("\n--- inference (new, hallucinated names) ---\n");
  const { engine, tokenizer, rng } = model;
  const samples: string[] = [];
  for (let i = 0; i < options.samples; i++) {
    const { temperature, topK } = options;
    const name = engine.sample(tokenizer, { rng, temperature, topK });
    samples.push(name);
    io.out(`sample ${String(i + 1).padStart(2)}: ${name}\n`);
  }
  return samples;
}

// The numbers of the run. Where each sample comes from is worked out when first asked for (the
// held-out report, the --json file): a default run needs none, and searching 32,033 names costs
// ~2 ms.
function runResult(run: {
  data: RunData;
  model: Model;
  training: Training;
  finalEval?: { step: number; val_loss: number };
  samples: string[];
}): RunResult {
  const { data, model, training, finalEval, samples } = run;
  let origins: Origin[] | undefined;
  return {
    num_docs: data.docs.length,
    vocab_size: model.tokenizer.vocabSize,
    num_params: model.engine.numParams,
    steps: training.steps,
    losses: training.losses,
    samples,
    num_val_docs: data.split.val.length,
    evals: finalEval ? [...training.evals, finalEval] : training.evals,
    get sample_origin() {
      return origins ??= sampleOrigins(samples, data.split);
    },
  };
}

// With held-out documents, how many samples are new and how many were in either set; then
// the --json file, if asked for.
async function writeOutputs(plan: Plan, result: RunResult, io: Io): Promise<void> {
  if (result.num_val_docs > 0 && result.samples.length > 0) {
    const count = (o: Origin) => result.sample_origin.filter((x) => x === o).length;
    io.out(
      `samples: ${count("new")} new, ${count("train")} in the training set, ` +
        `${count("val")} in the held-out set\n`,
    );
  }
  const { json } = plan.options;
  if (json !== undefined) {
    await writeFileAtomic(json, JSON.stringify(result) + "\n", { what: "--json file" });
  }
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
 * import { lossError } from "@lib/cli/main.ts";
 * import { UserError } from "@lib/io/errors.ts";
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

// The documents of a run in training order: the dataset read and shuffled as the reference
// shuffles it, and, when resuming, checked against the checkpoint's hash of them.
async function shuffledDocs(
  dataPath: string | undefined,
  options: { rng: Random; checkpoint?: Checkpoint; checkpointPath?: string; hash: boolean },
  io: Io,
): Promise<{ docs: string[]; dataHash: string }> {
  const { rng, checkpoint } = options;
  const { docs } = await loadDataset(dataPath, { warn: (m) => io.err(`${m}\n`) });
  rng.shuffle(docs);
  const dataHash = options.hash || checkpoint ? await docsSha256(docs) : "";
  if (checkpoint && checkpoint.train.data.sha256 !== dataHash) {
    const { path, numDocs } = checkpoint.train.data;
    const trainedOn = path === null ? "the default dataset (data/names.txt)" : path;
    throw new UserError(
      `Cannot resume from ${options.checkpointPath}: it was trained on ${trainedOn} ` +
        `(${numDocs} documents), not ${dataPath ?? "data/names.txt"} (${docs.length} ` +
        `documents); pass that file with --data ${path === null ? "data/names.txt" : "PATH"}`,
    );
  }
  return { docs, dataHash };
}

// Splits the documents, refusing a split that holds out none.
function heldOut(docs: readonly string[], valSplit: number): Split {
  const split = splitDocs(docs, valSplit);
  if (valSplit > 0 && docs.length < 2) {
    throw new UserError(
      `Cannot split documents: --val-split ${valSplit} needs at least 2 documents, and the ` +
        "dataset has 1; drop --val-split or add documents",
    );
  }
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
export async function runEval(options: EvalOptions, io: Io): Promise<EvalResult> {
  const checkpoint = await loadCheckpointFile(options.checkpoint!, "--checkpoint");
  const dataPath = options.data; // checked against the checkpoint's hash of its documents
  const { docs } = await shuffledDocs(dataPath, {
    rng: new Random(seedOf(checkpoint.train.seed)),
    checkpoint,
    checkpointPath: options.checkpoint,
    hash: true,
  }, io);
  const split = heldOut(docs, checkpoint.train.valSplit ?? 0);
  const { engine, tokenizer } = restoreCheckpoint(checkpoint, { engine: "fast" });
  io.out(
    `checkpoint: step ${checkpoint.step} of ${checkpoint.train.steps}, ` +
      `${split.train.length} training and ${split.val.length} held-out documents\n`,
  );
  const train = evaluate(engine, tokenizer, split.train);
  io.out(`${lossLine("train loss", train.loss)} (${train.positions} tokens)\n`);
  if (split.val.length === 0) {
    io.err("note: no held-out documents: this run was trained with --val-split 0\n");
    return { train };
  }
  const val = evaluate(engine, tokenizer, split.val);
  io.out(`${lossLine("val loss  ", val.loss)} (${val.positions} tokens)\n`);
  return { train, val };
}

/**
 * Generates names from a checkpoint: with the generator it saved, so the first names are the
 * ones its run sampled, or seeded with `--seed`.
 *
 * @param options The settings.
 * @param io Where the names (`out`) and notices (`err`) go.
 * @returns The names.
 */
export async function runSample(options: SampleOptions, io: Io): Promise<string[]> {
  const checkpoint = await loadCheckpointFile(options.checkpoint!, "--checkpoint");
  const { engine, tokenizer, rng: saved } = restoreCheckpoint(checkpoint, { engine: "fast" });
  const { temperature, prefix, topK } = options;
  checkTopK(topK, tokenizer.vocabSize);
  const minT = minTemperature(checkpoint.config, largest(checkpoint.params));
  if (temperature < minT) throw new UserError(temperatureMessage(temperature, minT));
  try {
    // refuse a prefix with characters outside the vocabulary, or too long, up front
    promptIds(tokenizer, { temperature, prefix, blockSize: checkpoint.config.blockSize });
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`${e.message} (--prefix)`);
    throw e;
  }
  const rng = options.seed === undefined ? saved : new Random(options.seed);
  if (checkpoint.step < checkpoint.train.steps) {
    io.err(
      `note: this checkpoint stopped at step ${checkpoint.step} of ${checkpoint.train.steps}\n`,
    );
  }
  // The trace reads the probabilities off the lesson's model: the same numbers, bit for bit,
  // and the same draws, so the same names.
  const traced = options.trace
    ? (restoreCheckpoint(checkpoint, { engine: "value" }).engine as ValueGpt).model
    : undefined;
  const names: string[] = [];
  for (let i = 0; i < options.samples; i++) {
    const sampling = { rng, temperature, prefix, topK };
    const trace = traced && sampleTrace(traced, tokenizer, sampling);
    const name = trace ? trace.text : engine.sample(tokenizer, sampling);
    names.push(name);
    io.out(`${i > 0 && trace ? "\n" : ""}sample ${String(i + 1).padStart(2)}: ${name}\n`);
    if (trace) io.out(traceTable(trace.steps));
  }
  return names;
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
async function command(args: readonly string[], io: Io): Promise<void> {
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
  await run(options, io);
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
    await command(args, { out, err, terminal: Deno.stdout.isTerminal() });
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
