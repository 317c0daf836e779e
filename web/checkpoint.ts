// A checkpoint saved by the command line (`deno task train --save ck.safetensors`), read in the
// page: version 2 (safetensors: a JSON header with the fields as metadata, then each weight
// matrix and Adam's moments as little-endian F64 tensors) or version 1 (one JSON object), told
// apart by the contents, checked field by field, and turned into a model to sample from with the
// generator state the run saved, as `deno task sample` does. lib/io/checkpoint.ts reads files
// with Deno's APIs and cannot be bundled for a browser, so the layout and the checks are written
// out here against its types; tests/web/units_test.ts gives both readers the same files, good
// and broken.

import { createEngine, type EngineName } from "../lib/engine.ts";
import type { Checkpoint } from "../lib/io/checkpoint.ts";
import { countParams, type GptConfig, paramShapes, validateConfig } from "../lib/model.ts";
import { Random, type RandomState } from "../lib/random.ts";
import { Tokenizer } from "../lib/tokenizer.ts";
import { InputError } from "./config.ts";
import type { Sampler } from "./run.ts";

const FORMAT: Checkpoint["format"] = "microgpt-ts-checkpoint";
/** The version lib/io/checkpoint.ts writes; it reads version 1 too, and so does the page. */
const VERSION = 2;
/** The largest magnitude a loaded parameter may have (lib/io/checkpoint.ts's MAX_PARAM). */
const MAX_PARAM = 1e6;

type Fail = (why: string) => never;

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

// A value in a message: short, never walked.
function show(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (x === undefined) return "missing";
  if (x !== null && typeof x === "object") return Array.isArray(x) ? "a list" : "an object";
  return String(x);
}

function integer(x: unknown, name: string, min: number, max: number, fail: Fail): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < min || x > max) {
    fail(`${name} (${show(x)}) must be an integer in ${min}..${max}`);
  }
  return x as number;
}

/**
 * Reads and checks a checkpoint, either version, so a wrong file is refused with the reason.
 *
 * @param bytes The file's contents.
 * @param name The file's name, for messages.
 * @returns The checkpoint (its arrays as Float64Arrays), as lib/io's loadCheckpoint() returns it.
 */
export function parseCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const fail: Fail = (why) => {
    throw new InputError(`Cannot load checkpoint ${name}: ${why}`);
  };
  if (bytes.length >= 9 && bytes[8] === 0x7b) return fromSafetensors(bytes, fail);
  if (bytes[0] !== 0x7b) fail("it is not a checkpoint (neither safetensors nor JSON)");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("it is not valid JSON (truncated or corrupted)");
  }
  if (!isObject(raw)) fail("it is not a checkpoint object");
  const json = raw as Record<string, unknown>;
  if (json.format !== FORMAT) fail(`format is ${show(json.format)}, expected "${FORMAT}"`);
  if (json.version !== 1) fail(`version ${show(json.version)} is not supported`);
  const adam = isObject(json.adam) ? json.adam : fail(`adam (${show(json.adam)}) is malformed`);
  const fields = checkFields(json, adam.t, fail);
  const numbers = (value: unknown, what: "params" | "adam.m" | "adam.v") => {
    if (!Array.isArray(value)) fail(`${what} (${show(value)}) must be a list of numbers`);
    const list = value as unknown[];
    if (list.length !== fields.numParams) {
      fail(`${what} has ${list.length} numbers, the model needs ${fields.numParams}`);
    }
    checkNumbers(list, what, fail);
    return Float64Array.from(list as number[]);
  };
  return checkpointOf(fields, {
    params: numbers(json.params, "params"),
    m: numbers(adam.m, "adam.m"),
    v: numbers(adam.v, "adam.v"),
  });
}

// Version 2: an 8-byte little-endian header length, the JSON header, the tensors' bytes.
function fromSafetensors(bytes: Uint8Array, fail: Fail): Checkpoint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getBigUint64(0, true);
  if (headerBytes > BigInt(bytes.length - 8)) fail("it ends inside its header (truncated)");
  const dataStart = 8 + Number(headerBytes);
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart));
    header = JSON.parse(text);
  } catch {
    fail("its header is not valid JSON (truncated or corrupted)");
  }
  if (!isObject(header)) fail("its header is not a JSON object");
  const { __metadata__: meta, ...tensors } = header as Record<string, unknown>;
  if (!isObject(meta)) fail("__metadata__ is missing or not an object");
  const metadata = meta as Record<string, unknown>;
  if (metadata.format !== FORMAT) {
    fail(`__metadata__.format is ${show(metadata.format)}, expected "${FORMAT}"`);
  }
  if (metadata.version !== String(VERSION)) {
    fail(`version ${show(metadata.version)} is not supported`);
  }
  const raw: Record<string, unknown> = {};
  for (const key of ["config", "uchars", "train", "step", "adam.t", "rng"]) {
    const text = metadata[key];
    if (typeof text !== "string") continue; // reported as missing by the field's check
    try {
      raw[key] = JSON.parse(text);
    } catch {
      fail(`__metadata__.${key} is not valid JSON (truncated or corrupted)`);
    }
  }
  const fields = checkFields(raw, raw["adam.t"], fail);
  const dataBytes = bytes.length - dataStart;
  const read = (name: string, shape: number[], into: Float64Array, at: number) => {
    const entry = tensors[name];
    if (!isObject(entry)) fail(`tensor ${name} is missing`);
    const { dtype, shape: got, data_offsets: offsets } = entry as Record<string, unknown>;
    if (dtype !== "F64") fail(`tensor ${name} has dtype ${show(dtype)}; only F64 is supported`);
    if (!Array.isArray(got) || got.length !== shape.length || got.some((n, i) => n !== shape[i])) {
      fail(`tensor ${name} has shape ${show(got)}, the config needs [${shape.join(", ")}]`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = Array.isArray(offsets) ? offsets : [];
    if (
      !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 ||
      end - begin !== 8 * count || end > dataBytes
    ) {
      fail(`tensor ${name} has data_offsets ${show(offsets)} outside its ${8 * count} bytes`);
    }
    for (let i = 0; i < count; i++) {
      into[at + i] = view.getFloat64(dataStart + begin + 8 * i, true);
    }
    delete tensors[name];
    return 8 * count;
  };
  const { numParams } = fields;
  const params = new Float64Array(numParams);
  const m = new Float64Array(numParams);
  const v = new Float64Array(numParams);
  let at = 0;
  let covered = 0;
  for (const [name, rows, cols] of paramShapes(fields.config)) {
    covered += read(name, [rows, cols], params, at);
    at += rows * cols;
  }
  covered += read("adam.m", [numParams], m, 0);
  covered += read("adam.v", [numParams], v, 0);
  const extra = Object.keys(tensors)[0];
  if (extra !== undefined) fail(`tensor ${show(extra)} is not part of a checkpoint`);
  if (covered !== dataBytes) {
    fail(`the tensors take ${covered} bytes, but the file has ${dataBytes} after the header`);
  }
  checkNumbers(params, "params", fail);
  checkNumbers(m, "adam.m", fail);
  checkNumbers(v, "adam.v", fail);
  return checkpointOf(fields, { params, m, v });
}

interface Fields {
  config: GptConfig;
  uchars: string[];
  train: Checkpoint["train"];
  step: number;
  rng: RandomState;
  numParams: number;
}

// Checks the fields besides the arrays, whichever version they came from.
function checkFields(raw: Record<string, unknown>, adamT: unknown, fail: Fail): Fields {
  if (!isObject(raw.config)) fail(`config (${show(raw.config)}) must be an object`);
  const config = raw.config as unknown as GptConfig;
  try {
    validateConfig(config);
  } catch (err) {
    fail(`bad config (${(err as Error).message})`);
  }
  const { vocabSize, nLayer, nEmbd, blockSize, nHead, initStd } = config;
  const uchars = raw.uchars;
  if (!Array.isArray(uchars) || uchars.length !== vocabSize - 1) {
    fail(`uchars must list vocabSize - 1 (${vocabSize - 1}) characters`);
  }
  try {
    new Tokenizer(uchars as string[]);
  } catch (err) {
    fail(`bad uchars (${(err as Error).message})`);
  }
  const train = isObject(raw.train) ? raw.train : fail(`train (${show(raw.train)}) is malformed`);
  const { steps, learningRate, seed, data, valSplit } = train;
  integer(steps, "train.steps", 1, Number.MAX_SAFE_INTEGER, fail);
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate) || learningRate <= 0) {
    fail(`train.learningRate (${show(learningRate)}) must be a finite number > 0`);
  }
  if (typeof seed === "string" ? !/^-?\d{1,1000}$/.test(seed) : !Number.isSafeInteger(seed)) {
    fail(`train.seed (${show(seed)}) must be a safe integer, or an integer as decimal text`);
  }
  if (
    !isObject(data) || !(data.path === null || typeof data.path === "string") ||
    !Number.isSafeInteger(data.numDocs) || (data.numDocs as number) < 1 ||
    typeof data.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(data.sha256)
  ) {
    fail("train.data (path, numDocs, sha256) is malformed");
  }
  if (valSplit !== undefined && !(typeof valSplit === "number" && valSplit >= 0 && valSplit < 1)) {
    fail(`train.valSplit (${show(valSplit)}) must be a number from 0 up to (not including) 1`);
  }
  const step = integer(raw.step, "step", 0, steps as number, fail);
  if (adamT !== step) fail(`adam.t (${show(adamT)}) must equal step (${step})`);
  const rng = raw.rng as RandomState;
  try {
    new Random().setState(rng ?? ({} as RandomState));
  } catch (err) {
    fail(`bad rng state (${(err as Error).message})`);
  }
  const d = data as Checkpoint["train"]["data"];
  return {
    config: { vocabSize, nLayer, nEmbd, blockSize, nHead, initStd },
    uchars: uchars as string[],
    train: {
      steps: steps as number,
      learningRate,
      seed: seed as number | string,
      data: { path: d.path, numDocs: d.numDocs, sha256: d.sha256 },
      ...(valSplit === undefined ? {} : { valSplit: valSplit as number }),
    },
    step,
    rng: { mt: rng.mt, index: rng.index, gaussNext: rng.gaussNext },
    numParams: countParams(config),
  };
}

// Parameters finite and within ±MAX_PARAM, first moments finite, second moments finite and >= 0.
function checkNumbers(
  xs: ArrayLike<unknown>,
  what: "params" | "adam.m" | "adam.v",
  fail: Fail,
): void {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      fail(`${what}[${i}] (${show(x)}) is not a finite number (corrupted)`);
    }
    if (what === "params" && Math.abs(x as number) > MAX_PARAM) {
      fail(`${what}[${i}] (${show(x)}) is beyond ±${MAX_PARAM} (corrupted)`);
    }
    if (what === "adam.v" && (x as number) < 0) fail(`${what}[${i}] (${show(x)}) is below 0`);
  }
}

function checkpointOf(
  fields: Fields,
  arrays: { params: Float64Array; m: Float64Array; v: Float64Array },
): Checkpoint {
  const { numParams: _, ...rest } = fields;
  return {
    format: FORMAT,
    version: VERSION,
    ...rest,
    params: arrays.params,
    adam: { m: arrays.m, v: arrays.v, t: fields.step },
  };
}

/**
 * A checkpoint's model, tokenizer and generator, ready to sample: the generator in the state the
 * run saved, so the first names are the ones its run printed after training.
 *
 * @param checkpoint The checkpoint.
 * @param options `engine`, `fast` or `value`.
 * @returns The model to sample from.
 */
export function checkpointSampler(
  checkpoint: Checkpoint,
  options: { engine: EngineName },
): Sampler {
  const rng = new Random();
  rng.setState(checkpoint.rng);
  const engine = createEngine(options.engine, checkpoint.config, { params: checkpoint.params });
  return { engine, tokenizer: new Tokenizer(checkpoint.uchars), rng };
}
