// Checkpoints: everything needed to stop training and carry on later with exactly the same
// numbers (the model's shape and parameters, Adam's moments and step, the random number
// generator's state, the tokenizer's characters and the schedule), as versioned JSON written
// atomically: a save that is interrupted never destroys the previous checkpoint. From code:
// checkpointOf() freezes a run, saveCheckpoint() and loadCheckpoint() write and read it, and
// restoreCheckpoint() rebuilds the engine, optimiser, tokenizer and generator, with either engine.

import { Adam, DEFAULT_ADAM } from "../adam.ts";
import { createEngine, type Engine, type EngineName } from "../engine.ts";
import { countParams, type GptConfig, validateConfig } from "../model.ts";
import { Random, type RandomState } from "../random.ts";
import { Tokenizer } from "../tokenizer.ts";
import { sha256Hex } from "./data.ts";
import { UserError } from "./errors.ts";
import { type FileSystem, readFileChecked, writeFileAtomic } from "./files.ts";

/** The `format` field of every checkpoint. */
export const CHECKPOINT_FORMAT = "microgpt-ts-checkpoint";
/** The version this code writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** A training run frozen between two steps. */
export interface Checkpoint {
  /** Marks the file as a checkpoint of this project. */
  format: typeof CHECKPOINT_FORMAT;
  /** The layout's version ({@linkcode CHECKPOINT_VERSION}). */
  version: number;
  /** The model's shape. */
  config: GptConfig;
  /** The tokenizer's characters, in id order. */
  uchars: string[];
  /** The training schedule and the data it runs over. */
  train: {
    /** Length of the schedule (the learning rate decays to 0 over it). */
    steps: number;
    learningRate: number;
    /** The seed: a number, or its decimal text for integers past 2^53 (JSON has no bigint). */
    seed: number | string;
    /**
     * The dataset (`path` null for the default), with a hash of its shuffled documents, to check
     * that a resumed run reads the same ones.
     */
    data: { path: string | null; numDocs: number; sha256: string };
    /** The fraction of the shuffled documents held out (the last ones); absent means 0. */
    valSplit?: number;
  };
  /** Number of steps completed. */
  step: number;
  /** Every parameter, in state-dict order. */
  params: number[];
  /** Adam's state. */
  adam: { m: number[]; v: number[]; t: number };
  /** The generator's state after the steps so far (initialisation and shuffle consumed). */
  rng: RandomState;
}

/** What a checkpoint records of a run besides the model, the optimiser and the generator. */
export interface CheckpointRun {
  /** The seed the run started from: it shuffled the documents and drew the first weights. */
  seed: number | bigint;
  /**
   * The dataset: its path (null for the command line's default, data/names.txt), how many
   * documents it has, and {@linkcode docsSha256} of them in training order.
   */
  data: { path: string | null; numDocs: number; sha256: string };
  /** The fraction of the shuffled documents held out (the last ones); 0 if omitted. */
  valSplit?: number;
}

/**
 * Identifies a dataset in a checkpoint: the SHA-256 of its documents in training order, joined
 * with newlines, so that a resumed run can check it reads the same documents in the same order.
 *
 * @param docs The documents, in training order.
 * @returns The hash, as lowercase hex.
 *
 * @example
 * ```ts
 * import { docsSha256 } from "@microgpt-ts/microgpt/io";
 * import assert from "node:assert/strict";
 *
 * // the SHA-256 of "a\nbc"
 * assert.equal(
 *   await docsSha256(["a", "bc"]),
 *   "b4c620724d95022be9765d6f660a36f90835acab2437b5e8cd71812940b29346",
 * );
 * ```
 */
export function docsSha256(docs: readonly string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(docs.join("\n")));
}

/**
 * Freezes a training run between two steps: the model's shape and parameters, Adam's moments,
 * step and schedule, the generator's state, the tokenizer's characters, and `train`, the seed
 * and data the run started from. The step is Adam's: the number of steps taken so far.
 *
 * @param state The run: `engine` (either), `adam`, `tokenizer`, `rng` and `train`.
 * @returns The checkpoint, ready for {@linkcode saveCheckpoint}.
 *
 * @example Save after a step, load, and carry on with the other engine
 * ```ts
 * import {
 *   Adam, checkpointOf, createEngine, DEFAULT_CONFIG, docsSha256, docTokens, loadCheckpoint,
 *   Random, restoreCheckpoint, saveCheckpoint, Tokenizer,
 * } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const docs = ["emma", "olivia", "ava"];
 * const rng = new Random(42);
 * const tokenizer = Tokenizer.fromDocs(docs);
 * const engine = createEngine("fast", { ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize }, { rng });
 * const adam = new Adam(engine.numParams, { numSteps: 10 });
 * engine.trainStep(docTokens(tokenizer, docs[0]!), adam);
 *
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * const data = { path: null, numDocs: docs.length, sha256: await docsSha256(docs) };
 * await saveCheckpoint(path, checkpointOf({ engine, adam, tokenizer, rng, train: { seed: 42, data } }));
 * const checkpoint = await loadCheckpoint(path);
 * await Deno.remove(path);
 * assert.equal(checkpoint.step, 1);
 *
 * const restored = restoreCheckpoint(checkpoint, { engine: "value" });
 * assert.deepEqual(restored.engine.parameters(), engine.parameters());
 * assert.equal(restored.adam.t, 1);
 * // the same weights and generator state: the same names
 * const sample = (e: typeof engine, r: Random) => e.sample(tokenizer, { rng: r, temperature: 0.5 });
 * assert.equal(sample(restored.engine, restored.rng), sample(engine, rng));
 * ```
 */
export function checkpointOf(state: {
  engine: Engine;
  adam: Adam;
  tokenizer: Tokenizer;
  rng: Random;
  train: CheckpointRun;
}): Checkpoint {
  const { engine, adam, tokenizer, rng, train } = state;
  const fail = (why: string): never => {
    throw new RangeError(`Cannot make checkpoint: ${why}`);
  };
  if (adam.m.length !== engine.numParams) {
    fail(`Adam has moments for ${adam.m.length} parameters, the model has ${engine.numParams}`);
  }
  if (tokenizer.vocabSize !== engine.config.vocabSize) {
    fail(
      `the tokenizer has ${tokenizer.vocabSize} tokens, the model ${engine.config.vocabSize}`,
    );
  }
  for (const key of ["beta1", "beta2", "eps"] as const) {
    if (adam.config[key] !== DEFAULT_ADAM[key]) {
      fail(
        `Adam's ${key} (${adam.config[key]}) is not the default ${DEFAULT_ADAM[key]}, and a ` +
          `checkpoint (version ${CHECKPOINT_VERSION}) records only the learning rate`,
      );
    }
  }
  const { seed, data, valSplit = 0 } = train;
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
    fail(`seed (${seed}) must be a safe integer or a bigint`);
  }
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: { ...engine.config },
    uchars: [...tokenizer.uchars],
    train: {
      steps: adam.numSteps,
      learningRate: adam.config.learningRate,
      seed: typeof seed === "bigint" ? String(seed) : seed, // JSON has no bigint
      data: { path: data.path, numDocs: data.numDocs, sha256: data.sha256 },
      ...(valSplit > 0 ? { valSplit } : {}),
    },
    step: adam.t,
    params: Array.from(engine.parameters()),
    adam: { m: Array.from(adam.m), v: Array.from(adam.v), t: adam.t },
    rng: rng.getState(),
  };
}

/**
 * Rebuilds a run from a checkpoint, with either engine: the model with its parameters, Adam
 * with its moments, step and schedule, the tokenizer, and the generator in its saved state.
 * Training on from there gives the numbers the run would have given had it not stopped (to
 * ~1e-16 relative when the engine is not the one that saved it; samples are the same).
 *
 * @param checkpoint A checkpoint, as {@linkcode loadCheckpoint} returns it.
 * @param options `engine`, `value` or `fast`.
 * @returns The engine, optimiser, tokenizer and generator.
 *
 * @example
 * ```ts
 * import { loadCheckpoint, restoreCheckpoint } from "@microgpt-ts/microgpt";
 *
 * async function resume(path: string) {
 *   const { engine, adam, tokenizer, rng } = restoreCheckpoint(await loadCheckpoint(path), {
 *     engine: "fast",
 *   });
 *   return engine.sample(tokenizer, { rng, temperature: 0.5 }) + ` (step ${adam.t})`;
 * }
 * ```
 */
export function restoreCheckpoint(
  checkpoint: Checkpoint,
  options: { engine: EngineName },
): { engine: Engine; adam: Adam; tokenizer: Tokenizer; rng: Random } {
  const { config, train } = checkpoint;
  const engine = createEngine(options.engine, config, { params: checkpoint.params });
  const adam = new Adam(engine.numParams, {
    numSteps: train.steps,
    learningRate: train.learningRate,
  });
  adam.restore(checkpoint.adam);
  const rng = new Random();
  rng.setState(checkpoint.rng);
  return { engine, adam, tokenizer: new Tokenizer(checkpoint.uchars), rng };
}

/**
 * Writes a checkpoint atomically (see {@linkcode writeFileAtomic}): an interrupted save or a
 * full disk leaves the previous checkpoint whole.
 *
 * @param path Where to write.
 * @param checkpoint The checkpoint.
 * @param options `fs`, the file system (tests pass one that fails).
 */
export async function saveCheckpoint(
  path: string,
  checkpoint: Checkpoint,
  options: { fs?: FileSystem } = {},
): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(checkpoint) + "\n", {
    what: "checkpoint",
    ...options,
  });
}

function fail(path: string, why: string): never {
  throw new UserError(`Cannot load checkpoint ${path}: ${why}`);
}

function finiteArray(value: unknown, length: number, what: string, path: string): number[] {
  if (!Array.isArray(value)) fail(path, `${what} is missing or not a list`);
  if (value.length !== length) {
    fail(path, `${what} has ${value.length} numbers, the model needs ${length} (wrong shape)`);
  }
  const bad = value.findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
  if (bad !== -1) fail(path, `${what}[${bad}] is not a finite number (corrupted)`);
  return value as number[];
}

/**
 * Reads and checks a checkpoint: format, version, shapes and types, so a bad file fails with
 * the reason instead of training on garbage.
 *
 * @param path The file.
 * @returns The checkpoint.
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readFileChecked(path, { what: "checkpoint" }));
  } catch (err) {
    if (err instanceof UserError && err.cause instanceof Deno.errors.NotFound) {
      fail(path, "no such file");
    }
    throw err;
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    fail(path, "it is not valid JSON (truncated or corrupted)");
  }
  if (raw === null || typeof raw !== "object") fail(path, "it is not a checkpoint object");
  if (raw.format !== CHECKPOINT_FORMAT) {
    fail(path, `format is ${JSON.stringify(raw.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (raw.version !== CHECKPOINT_VERSION) {
    fail(
      path,
      `version ${JSON.stringify(raw.version)} is not supported (this microgpt-ts reads ` +
        `version ${CHECKPOINT_VERSION})`,
    );
  }
  const config = raw.config as GptConfig;
  try {
    validateConfig(config ?? ({} as GptConfig));
  } catch (err) {
    fail(path, `bad config (${(err as Error).message})`);
  }
  const uchars = raw.uchars;
  if (
    !Array.isArray(uchars) || uchars.length + 1 !== config.vocabSize ||
    !uchars.every((c) => typeof c === "string")
  ) {
    fail(path, `uchars must list vocabSize - 1 (${config.vocabSize - 1}) characters`);
  }
  const train = raw.train as Checkpoint["train"];
  if (
    !train || !Number.isSafeInteger(train.steps) || train.steps < 1 ||
    !Number.isFinite(train.learningRate) ||
    !(typeof train.seed === "string"
      ? /^-?\d+$/.test(train.seed) // an integer past 2^53, as text
      : Number.isSafeInteger(train.seed)) ||
    typeof train.data?.sha256 !== "string" ||
    (train.data.path !== null && typeof train.data.path !== "string")
  ) {
    fail(path, "train (steps, learningRate, seed, data) is missing or malformed");
  }
  if (train.valSplit !== undefined && !(train.valSplit >= 0 && train.valSplit < 1)) {
    fail(path, `train.valSplit (${train.valSplit}) must be a fraction from 0 up to 1`);
  }
  const step = raw.step as number;
  if (!Number.isSafeInteger(step) || step < 0 || step > train.steps) {
    fail(path, `step (${step}) must be 0 to ${train.steps}`);
  }
  const numParams = countParams(config);
  const params = finiteArray(raw.params, numParams, "params", path);
  const adam = raw.adam as Checkpoint["adam"];
  if (!adam || adam.t !== step) fail(path, `adam.t must equal step (${step})`);
  const m = finiteArray(adam.m, numParams, "adam.m", path);
  const v = finiteArray(adam.v, numParams, "adam.v", path);
  const rng = raw.rng as RandomState;
  if (!rng || !Array.isArray(rng.mt) || rng.mt.length !== 624) {
    fail(path, "rng state is missing or malformed");
  }
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config,
    uchars: uchars as string[],
    train,
    step,
    params,
    adam: { m, v, t: adam.t },
    rng,
  };
}
