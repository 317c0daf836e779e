// Checkpoints: everything needed to stop training and carry on later with exactly the same
// numbers (the model's shape and parameters, Adam's moments and step, the random number
// generator's state, the tokenizer's characters and the schedule). Version 2, what a save
// writes, is a safetensors file (lib/io/safetensors.ts) that numpy or PyTorch can read: each
// weight matrix a named F64 tensor (`wte`, `wpe`, `lm_head`, `layer0.attn_wq`, ...), Adam's
// moments as `adam.m` and `adam.v`, and the rest as JSON strings in the header's metadata.
// Version 1, JSON, still loads. Everything read is checked field by field before it is used.
// From code: checkpointOf() freezes a run, saveCheckpoint() and loadCheckpoint() write and read
// it, and restoreCheckpoint() rebuilds the engine, optimiser, tokenizer and generator.

import { Adam, DEFAULT_ADAM } from "../adam.ts";
import { createEngine, type Engine, type EngineName } from "../engine.ts";
import { type GptConfig, paramShapes } from "../model.ts";
import { Random, type RandomState } from "../random.ts";
import { Tokenizer } from "../tokenizer.ts";
import { sha256Hex } from "./data.ts";
import { UserError } from "./errors.ts";
import { fileError, type FileSystem, openInput, writeFileAtomic } from "./files.ts";
import {
  encodeSafetensors,
  parseJsonChecked,
  SafetensorsFile,
  type SafetensorsHeader,
  safetensorsPieces,
  show,
  type TensorToWrite,
} from "./safetensors.ts";

/** The `format` field of every checkpoint. */
export const CHECKPOINT_FORMAT = "microgpt-ts-checkpoint";
/** The version this code writes (safetensors); it also reads version 1 (JSON). */
export const CHECKPOINT_VERSION = 2;

/** A training run frozen between two steps. */
export interface Checkpoint {
  /** Marks the file as a checkpoint of this project. */
  format: typeof CHECKPOINT_FORMAT;
  /** {@linkcode CHECKPOINT_VERSION}: loading an older file upgrades it. */
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
    /** The engine that trained the run, if recorded (resuming with the other one is allowed). */
    engine?: EngineName;
  };
  /** Number of steps completed. */
  step: number;
  /** Every parameter, in state-dict order (a Float64Array from checkpointOf and loadCheckpoint). */
  params: ArrayLike<number>;
  /** Adam's state: moments (Float64Arrays) and step. */
  adam: { m: ArrayLike<number>; v: ArrayLike<number>; t: number };
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
  /** The engine that trained the run, to record (the command line says so on a resume). */
  engine?: EngineName;
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
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
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
  const { seed, data, valSplit = 0, engine: trainedBy } = train;
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
      ...(trainedBy === undefined ? {} : { engine: trainedBy }),
    },
    step: adam.t,
    params: engine.parameters(), // a copy
    adam: { m: adam.m.slice(), v: adam.v.slice(), t: adam.t },
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

// The tensors of a version-2 file: the weight matrices by name, views into the flat parameters,
// then Adam's moments.
function tensorsOf(checkpoint: Checkpoint): TensorToWrite[] {
  const f64 = (xs: ArrayLike<number>) => xs instanceof Float64Array ? xs : Float64Array.from(xs);
  const params = f64(checkpoint.params);
  const tensors: TensorToWrite[] = [];
  let at = 0;
  for (const [name, rows, cols] of paramShapes(checkpoint.config)) {
    tensors.push({ name, shape: [rows, cols], data: params.subarray(at, at + rows * cols) });
    at += rows * cols;
  }
  if (at !== params.length) {
    throw new RangeError(
      `Cannot save checkpoint: ${params.length} parameters, the config needs ${at}`,
    );
  }
  const { m, v } = checkpoint.adam;
  tensors.push({ name: "adam.m", shape: [m.length], data: f64(m) });
  tensors.push({ name: "adam.v", shape: [v.length], data: f64(v) });
  return tensors;
}

// Everything else, as the JSON strings safetensors metadata must be.
function metadataOf(checkpoint: Checkpoint): Record<string, string> {
  return {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(checkpoint.config),
    uchars: JSON.stringify(checkpoint.uchars),
    train: JSON.stringify(checkpoint.train),
    step: String(checkpoint.step),
    "adam.t": String(checkpoint.adam.t),
    rng: JSON.stringify(checkpoint.rng),
  };
}

/**
 * Writes a checkpoint (version 2, safetensors) atomically with {@linkcode writeFileAtomic},
 * streaming the tensors from their arrays: an interrupted save or a full disk leaves the
 * previous checkpoint whole, and a model of any size saves without a second copy of its
 * numbers.
 *
 * @param path Where to write (the name is free: loading goes by the contents).
 * @param checkpoint The checkpoint.
 * @param options `fs`, a file system to write through (tests pass one that fails; it is given
 *   the file as one array).
 */
export async function saveCheckpoint(
  path: string,
  checkpoint: Checkpoint,
  options: { fs?: FileSystem } = {},
): Promise<void> {
  const tensors = tensorsOf(checkpoint);
  const metadata = metadataOf(checkpoint);
  const data = options.fs
    ? encodeSafetensors(tensors, metadata)
    : safetensorsPieces(tensors, metadata);
  await writeFileAtomic(path, data, { what: "checkpoint", ...options });
}

/** The largest magnitude a loaded parameter may have (trained weights are near 1). */
export const MAX_PARAM = 1e6;
// The longest error message: a crafted file must not make a long one.
const MAX_MESSAGE = 400;
// The largest version-1 file: V8's longest string.
const MAX_JSON_BYTES = 2 ** 29 - 24;

type Fail = (why: string) => never;

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

function integer(x: unknown, name: string, min: number, max: number, fail: Fail): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < min || x > max) {
    fail(`${name} (${show(x)}) must be an integer in ${min}..${max}`);
  }
  return x as number;
}

function positive(x: unknown, name: string, fail: Fail): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 1) {
    fail(`${name} (${show(x)}) must be a positive integer`);
  }
  return x as number;
}

function object(x: unknown, name: string, fail: Fail): Record<string, unknown> {
  if (!isObject(x)) fail(`${name} (${show(x)}) must be an object`);
  return x as Record<string, unknown>;
}

function checkConfig(raw: unknown, fail: Fail): GptConfig {
  const c = object(raw, "config", fail);
  const config = {
    vocabSize: positive(c.vocabSize, "config.vocabSize", fail),
    nLayer: positive(c.nLayer, "config.nLayer", fail),
    nEmbd: positive(c.nEmbd, "config.nEmbd", fail),
    blockSize: positive(c.blockSize, "config.blockSize", fail),
    nHead: positive(c.nHead, "config.nHead", fail),
    initStd: c.initStd as number,
  };
  if (typeof c.initStd !== "number" || !Number.isFinite(c.initStd) || c.initStd < 0) {
    fail(`config.initStd (${show(c.initStd)}) must be a finite number >= 0`);
  }
  if (config.vocabSize < 2) {
    fail(`config.vocabSize (${config.vocabSize}) must be at least 2 (one character and BOS)`);
  }
  if (config.nEmbd % config.nHead !== 0) {
    fail(
      `config.nEmbd (${config.nEmbd}) must be divisible by config.nHead (${config.nHead})`,
    );
  }
  return config;
}

// countParams() without its loop over the layers, which a crafted nLayer could make endless.
function numParamsOf(config: GptConfig, fail: Fail): number {
  const { vocabSize: V, blockSize: T, nEmbd: E, nLayer: L } = config;
  const count = (2 * V + T) * E + L * 12 * E * E; // wte, wpe, lm_head; per layer 12 E^2
  if (!Number.isSafeInteger(count)) {
    fail(`config describes too large a model (${count} parameters)`);
  }
  return count;
}

function checkUchars(raw: unknown, vocabSize: number, fail: Fail): string[] {
  if (!Array.isArray(raw)) fail(`uchars (${show(raw)}) must be a list of characters`);
  const uchars = raw as unknown[];
  if (uchars.length !== vocabSize - 1) {
    fail(
      `uchars has ${uchars.length} characters; config.vocabSize (${vocabSize}) needs ` +
        `${vocabSize - 1}, one per token but BOS`,
    );
  }
  let before = -1;
  uchars.forEach((c, i) => {
    if (typeof c !== "string" || c.length > 2 || [...c].length !== 1) {
      fail(`uchars[${i}] (${show(c)}) must be a single character`);
    }
    const code = (c as string).codePointAt(0)!;
    if (code === before) fail(`uchars[${i}] (${show(c)}) repeats uchars[${i - 1}]`);
    if (code < before) {
      fail(
        `uchars[${i}] (${show(c)}) comes before uchars[${i - 1}] (${show(uchars[i - 1])}); ` +
          "the characters must be sorted by code point",
      );
    }
    before = code;
  });
  return uchars as string[];
}

function checkTrain(raw: unknown, fail: Fail): Checkpoint["train"] {
  const t = object(raw, "train", fail);
  const steps = positive(t.steps, "train.steps", fail);
  const { learningRate, seed, valSplit, engine } = t;
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate) || learningRate <= 0) {
    fail(`train.learningRate (${show(learningRate)}) must be a finite number > 0`);
  }
  const seedOk = typeof seed === "string"
    ? /^-?\d{1,1000}$/.test(seed) // an integer past 2^53, as text
    : Number.isSafeInteger(seed);
  if (!seedOk) {
    fail(`train.seed (${show(seed)}) must be a safe integer, or an integer as decimal text`);
  }
  const d = object(t.data, "train.data", fail);
  const { path, sha256 } = d;
  if (
    path !== null &&
    (typeof path !== "string" || path === "" || path.includes("\0") || path.length > 4096)
  ) {
    fail(`train.data.path (${show(path)}) must be null or a file's path`);
  }
  const numDocs = positive(d.numDocs, "train.data.numDocs", fail);
  if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
    fail(`train.data.sha256 (${show(sha256)}) must be 64 lowercase hex digits`);
  }
  if (
    valSplit !== undefined &&
    !(typeof valSplit === "number" && valSplit >= 0 && valSplit < 1)
  ) {
    fail(`train.valSplit (${show(valSplit)}) must be a number from 0 up to (not including) 1`);
  }
  if (engine !== undefined && engine !== "value" && engine !== "fast") {
    fail(`train.engine (${show(engine)}) must be "value" or "fast"`);
  }
  return {
    steps,
    learningRate: learningRate as number,
    seed: seed as number | string,
    data: { path: path as string | null, numDocs, sha256: sha256 as string },
    ...(valSplit === undefined ? {} : { valSplit: valSplit as number }),
    ...(engine === undefined ? {} : { engine: engine as EngineName }),
  };
}

function checkRng(raw: unknown, fail: Fail): RandomState {
  const r = object(raw, "rng", fail);
  const { mt, gaussNext } = r;
  if (!Array.isArray(mt) || mt.length !== 624) {
    fail(`rng.mt (${show(mt)}) must be a list of 624 words`);
  }
  (mt as unknown[]).forEach((w, i) => integer(w, `rng.mt[${i}]`, 0, 0xffffffff, fail));
  const index = integer(r.index, "rng.index", 0, 624, fail);
  if (gaussNext !== null && !(typeof gaussNext === "number" && Number.isFinite(gaussNext))) {
    fail(`rng.gaussNext (${show(gaussNext)}) must be a finite number or null`);
  }
  return { mt: mt as number[], index, gaussNext: gaussNext as number | null };
}

// Checks the fields besides the arrays, whichever version they came from.
function checkFields(
  raw: Record<string, unknown>,
  adamT: unknown,
  fail: Fail,
): Omit<Checkpoint, "params" | "adam"> & { numParams: number } {
  const config = checkConfig(raw.config, fail);
  const uchars = checkUchars(raw.uchars, config.vocabSize, fail);
  const train = checkTrain(raw.train, fail);
  const step = integer(raw.step, "step", 0, train.steps, fail);
  if (adamT !== step) fail(`adam.t (${show(adamT)}) must equal step (${step})`);
  const rng = checkRng(raw.rng, fail);
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config,
    uchars,
    train,
    step,
    rng,
    numParams: numParamsOf(config, fail),
  };
}

// Checks loaded numbers: all finite, parameters within ±MAX_PARAM, second moments >= 0.
function checkNumbers(
  xs: ArrayLike<unknown>,
  kind: "params" | "adam.m" | "adam.v",
  nameOf: (i: number) => string,
  fail: Fail,
): void {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      fail(`${nameOf(i)} (${show(x)}) is not a finite number (corrupted)`);
    }
    if (kind === "params" && Math.abs(x as number) > MAX_PARAM) {
      fail(
        `${nameOf(i)} (${show(x)}) is beyond ±${MAX_PARAM}, far from any trained weight ` +
          "(corrupted)",
      );
    }
    if (kind === "adam.v" && (x as number) < 0) {
      fail(`${nameOf(i)} (${show(x)}) must be >= 0: it is an average of squares (corrupted)`);
    }
  }
}

// Version 1: one JSON object.
function fromJson(text: string, fail: Fail): Checkpoint {
  let parsed: unknown;
  try {
    parsed = parseJsonChecked(text, "it");
  } catch (err) {
    fail((err as Error).message);
  }
  if (!isObject(parsed)) fail("it is not a checkpoint object");
  const raw = parsed as Record<string, unknown>;
  if (raw.format !== CHECKPOINT_FORMAT) {
    fail(`format is ${show(raw.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (raw.version !== 1) {
    fail(
      `version ${show(raw.version)} is not supported (this microgpt-ts reads versions 1 and ` +
        `${CHECKPOINT_VERSION})`,
    );
  }
  const adam = object(raw.adam, "adam", fail);
  const { numParams, ...fields } = checkFields(raw, adam.t, fail);
  const numbers = (value: unknown, what: "params" | "adam.m" | "adam.v") => {
    if (!Array.isArray(value)) fail(`${what} (${show(value)}) must be a list of numbers`);
    const list = value as unknown[];
    if (list.length !== numParams) {
      fail(`${what} has ${list.length} numbers, the model needs ${numParams} (wrong shape)`);
    }
    checkNumbers(list, what, (i) => `${what}[${i}]`, fail);
    return Float64Array.from(list as number[]);
  };
  return {
    ...fields,
    params: numbers(raw.params, "params"),
    adam: { m: numbers(adam.m, "adam.m"), v: numbers(adam.v, "adam.v"), t: fields.step },
  };
}

// Version 2, the metadata: each field a JSON string.
function metadataFields(header: SafetensorsHeader, fail: Fail): Record<string, unknown> {
  const meta = header.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    fail(`__metadata__.format is ${show(meta.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (meta.version !== String(CHECKPOINT_VERSION)) {
    fail(
      `version ${show(meta.version)} is not supported (this microgpt-ts reads versions 1 and ` +
        `${CHECKPOINT_VERSION})`,
    );
  }
  const raw: Record<string, unknown> = {};
  for (const key of ["config", "uchars", "train", "step", "adam.t", "rng"]) {
    const text = meta[key];
    if (text === undefined) continue; // reported as missing by the field's check
    try {
      raw[key] = parseJsonChecked(text, `__metadata__.${key}`);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  return raw;
}

// Version 2: the header checked against the config before any tensor is read.
async function fromSafetensors(file: SafetensorsFile, fail: Fail): Promise<Checkpoint> {
  const raw = metadataFields(file.header, fail);
  const { numParams, ...fields } = checkFields(raw, raw["adam.t"], fail);
  const numbers = file.header.tensors.reduce(
    (n, t) => n + t.info.shape.reduce((a, b) => a * b, 1),
    0,
  );
  if (numParams > numbers) {
    fail(
      `config describes ${numParams} parameters, more than the ${numbers} numbers the file holds`,
    );
  }
  const expected: [string, number[], number][] = []; // name, shape, offset in its array
  let at = 0;
  for (const [name, rows, cols] of paramShapes(fields.config)) {
    expected.push([name, [rows, cols], at]);
    at += rows * cols;
  }
  expected.push(["adam.m", [numParams], 0], ["adam.v", [numParams], 0]);
  const found = new Map(file.header.tensors.map((t) => [t.name, t.info.shape]));
  for (const [name, shape] of expected) {
    const got = found.get(name);
    if (got === undefined) fail(`tensor ${name} is missing`);
    if (got!.length !== shape.length || got!.some((n, i) => n !== shape[i])) {
      fail(
        `tensor ${name} has shape [${got!.slice(0, 4).join(", ")}], the config needs ` +
          `[${shape.join(", ")}]`,
      );
    }
    found.delete(name);
  }
  for (const name of found.keys()) fail(`tensor ${show(name)} is not part of a checkpoint`);
  const params = new Float64Array(numParams);
  const m = new Float64Array(numParams);
  const v = new Float64Array(numParams);
  for (const [name, [rows, cols], offset] of expected) {
    if (name === "adam.m" || name === "adam.v") continue;
    const matrix = params.subarray(offset, offset + rows! * cols!);
    await file.readInto(name, matrix);
    checkNumbers(matrix, "params", (i) => `${name}[${Math.floor(i / cols!)}][${i % cols!}]`, fail);
  }
  await file.readInto("adam.m", m);
  checkNumbers(m, "adam.m", (i) => `adam.m[${i}]`, fail);
  await file.readInto("adam.v", v);
  checkNumbers(v, "adam.v", (i) => `adam.v[${i}]`, fail);
  return { ...fields, params, adam: { m, v, t: fields.step } };
}

/**
 * Reads a checkpoint, of either version (told apart by the contents, not the name), and checks
 * every field: types, ranges (finite numbers, parameters within ±{@linkcode MAX_PARAM}, second
 * moments >= 0, the generator's index in 0..624 and words in 32 bits) and relations (tensor
 * shapes fit the config, characters sorted and unique, Adam's step equals the step, the step
 * within the schedule). Version 2 is read in pieces: the header is checked before any tensor
 * is read into its array.
 *
 * @param path The file.
 * @returns The checkpoint, with Float64Arrays for the parameters and moments.
 * @throws {UserError} One line naming the first problem: `Cannot load checkpoint ck.safetensors:
 *   rng.index (9999) must be an integer in 0..624`.
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const fail: Fail = (why) => {
    const message = `Cannot load checkpoint ${path}: ${why}`;
    throw new UserError(
      message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
    );
  };
  let file: Deno.FsFile | undefined;
  try {
    let size: number;
    try {
      ({ file, size } = await openInput(path, { maxBytes: Infinity })); // a regular file
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) fail("no such file");
      throw err;
    }
    const start = new Uint8Array(Math.min(size, 9));
    for (let at = 0; at < start.length;) {
      at += (await file.read(start.subarray(at))) ?? fail("it ends early");
    }
    await file.seek(0, Deno.SeekMode.Start);
    if (start[8] === 0x7b) { // `{` after the 8-byte length: safetensors
      let reader: SafetensorsFile;
      try {
        reader = await SafetensorsFile.open(file, size);
      } catch (err) {
        file = undefined; // closed by open()
        if (err instanceof SyntaxError) fail(err.message);
        throw err;
      }
      try {
        return await fromSafetensors(reader, fail);
      } catch (err) {
        if (err instanceof SyntaxError) fail(err.message); // a truncated tensor
        throw err;
      } finally {
        file = undefined;
        reader.close();
      }
    }
    if (start[0] !== 0x7b) fail("it is not a checkpoint (neither safetensors nor JSON)");
    if (size > MAX_JSON_BYTES) {
      fail(`it is a version-1 (JSON) checkpoint of ${size} bytes, too large to read as text`);
    }
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size;) {
      at += (await file.read(bytes.subarray(at))) ?? fail("it ends early");
    }
    return fromJson(new TextDecoder().decode(bytes), fail);
  } catch (err) {
    throw fileError("read checkpoint", path, err);
  } finally {
    file?.close();
  }
}
