// Checkpoints without files: the format (what a checkpoint holds, version 1 JSON and version 2
// safetensors), the checks of every field, and decodeCheckpoint(), which reads a checkpoint from
// its bytes in memory. It uses no Deno API, so the web edition bundles it and loads a checkpoint
// with the library's own checks; checkpoint.ts re-exports it and adds saving and loading files.

import type { EngineName } from "../engine.ts";
import { type GptConfig, paramShapes } from "../model.ts";
import type { RandomState } from "../random.ts";
import { UserError } from "./errors.ts";
import {
  parseJsonChecked,
  SafetensorsBytes,
  type SafetensorsHeader,
  show,
} from "./safetensors_format.ts";

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

/** The largest magnitude a loaded parameter may have (trained weights are near 1). */
export const MAX_PARAM = 1e6;
// The longest error message: a crafted file must not make a long one.
const MAX_MESSAGE = 400;
/** The largest version-1 (JSON) checkpoint read: V8's longest string. */
export const MAX_JSON_BYTES = 2 ** 29 - 24;

/** Throws the error that refuses a checkpoint, saying why. */
export type Fail = (why: string) => never;

/**
 * How a checkpoint is refused: a {@linkcode UserError}, `Cannot load checkpoint NAME: WHY`, cut
 * to a few hundred characters (a crafted file must not make a long message).
 *
 * @param name The file's path or name.
 * @returns The function that throws.
 */
export function checkpointFail(name: string): Fail {
  return (why) => {
    const message = `Cannot load checkpoint ${name}: ${why}`;
    throw new UserError(
      message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
    );
  };
}

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

/**
 * Version 1: one JSON object, checked field by field.
 *
 * @param text The file's text.
 * @param fail Throws the error refusing it.
 * @returns The checkpoint.
 */
export function fromJson(text: string, fail: Fail): Checkpoint {
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

/** One tensor of a version-2 file to read, into its array, and how to check it once read. */
export interface TensorRead {
  /** The tensor's name. */
  name: string;
  /** Where its values go (a view into the checkpoint's arrays). */
  target: Float64Array;
  /** Checks the values read (finite, within range), refusing the file if not. */
  check: () => void;
}

/**
 * Version 2: the header checked against the config before any tensor is read. Returns the
 * checkpoint with its arrays still zero and the reads that fill them, in file order; the
 * checkpoint is whole once every read is done and checked.
 *
 * @param header The safetensors header, its layout checked.
 * @param fail Throws the error refusing the file.
 * @returns The checkpoint to fill and the tensors to read into it.
 */
export function planSafetensors(
  header: SafetensorsHeader,
  fail: Fail,
): { checkpoint: Checkpoint; reads: TensorRead[] } {
  const raw = metadataFields(header, fail);
  const { numParams, ...fields } = checkFields(raw, raw["adam.t"], fail);
  const numbers = header.tensors.reduce(
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
  const found = new Map(header.tensors.map((t) => [t.name, t.info.shape]));
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
  const reads: TensorRead[] = [];
  for (const [name, [rows, cols], offset] of expected) {
    if (name === "adam.m" || name === "adam.v") continue;
    const matrix = params.subarray(offset, offset + rows! * cols!);
    reads.push({
      name,
      target: matrix,
      check: () =>
        checkNumbers(
          matrix,
          "params",
          (i) => `${name}[${Math.floor(i / cols!)}][${i % cols!}]`,
          fail,
        ),
    });
  }
  reads.push({
    name: "adam.m",
    target: m,
    check: () => checkNumbers(m, "adam.m", (i) => `adam.m[${i}]`, fail),
  });
  reads.push({
    name: "adam.v",
    target: v,
    check: () => checkNumbers(v, "adam.v", (i) => `adam.v[${i}]`, fail),
  });
  return { checkpoint: { ...fields, params, adam: { m, v, t: fields.step } }, reads };
}

/**
 * Reads a checkpoint from its bytes in memory, of either version (told apart by the contents,
 * not the name), with every check of loadCheckpoint() (checkpoint.ts), which streams one from
 * a file; the web edition loads an uploaded file with it.
 *
 * @param bytes The file's contents.
 * @param name The file's name, for messages.
 * @returns The checkpoint, with Float64Arrays for the parameters and moments.
 * @throws {UserError} One line naming the first problem: `Cannot load checkpoint ck.safetensors:
 *   rng.index (9999) must be an integer in 0..624`.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, UserError } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => decodeCheckpoint(new TextEncoder().encode("hello"), "ck.json"),
 *   UserError,
 *   "Cannot load checkpoint ck.json: it is not a checkpoint (neither safetensors nor JSON)",
 * );
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const fail = checkpointFail(name);
  if (bytes.length >= 9 && bytes[8] === 0x7b) { // `{` after the 8-byte length: safetensors
    try {
      const file = new SafetensorsBytes(bytes);
      const { checkpoint, reads } = planSafetensors(file.header, fail);
      for (const { name, target, check } of reads) {
        file.readInto(name, target);
        check();
      }
      return checkpoint;
    } catch (err) {
      if (err instanceof SyntaxError) fail(err.message);
      throw err;
    }
  }
  if (bytes[0] !== 0x7b) fail("it is not a checkpoint (neither safetensors nor JSON)");
  if (bytes.length > MAX_JSON_BYTES) {
    fail(
      `it is a version-1 (JSON) checkpoint of ${bytes.length} bytes, too large to read as text`,
    );
  }
  return fromJson(new TextDecoder().decode(bytes), fail);
}
