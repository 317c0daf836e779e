// Checkpoints: everything needed to stop training and carry on later with exactly the same
// numbers (the model's shape and parameters, Adam's moments and step, the random number
// generator's state, the tokenizer's characters and the schedule), as versioned JSON written
// atomically: a save that is interrupted never destroys the previous checkpoint.

import { countParams, type GptConfig, validateConfig } from "./model.ts";
import type { RandomState } from "./random.ts";
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
