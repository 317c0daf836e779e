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
import { paramShapes } from "../model.ts";
import { Random } from "../random.ts";
import { Tokenizer } from "../tokenizer.ts";
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointFail,
  type Fail,
  fromJson,
  MAX_JSON_BYTES,
  planSafetensors,
} from "./checkpoint_format.ts";
import { sha256Hex } from "./data.ts";
import { fileError, type FileSystem, openInput, writeFileAtomic } from "./files.ts";
import {
  encodeSafetensors,
  SafetensorsFile,
  safetensorsPieces,
  type TensorToWrite,
} from "./safetensors.ts";

// The format and the checks, which use no Deno API (the web edition bundles them).
export {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  MAX_PARAM,
} from "./checkpoint_format.ts";

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

// Version 2, from a file: the header checked against the config before any tensor is read.
async function fromSafetensors(file: SafetensorsFile, fail: Fail): Promise<Checkpoint> {
  const { checkpoint, reads } = planSafetensors(file.header, fail);
  for (const { name, target, check } of reads) {
    await file.readInto(name, target);
    check();
  }
  return checkpoint;
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
  const fail = checkpointFail(path);
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
