// A checkpoint saved by the command line (`deno task train --save ck.safetensors`), read in the
// page: version 2 (safetensors) or version 1 (JSON), told apart by the contents and checked field
// by field by the library's own decodeCheckpoint() (lib/io/checkpoint_format.ts, which uses no
// Deno API), and turned into a model to sample from with the generator state the run saved, as
// `deno task sample` does.

import { createEngine, type EngineName } from "../lib/engine.ts";
import { type Checkpoint, decodeCheckpoint } from "../lib/io/checkpoint_format.ts";
import { UserError } from "../lib/io/errors.ts";
import { Random } from "../lib/random.ts";
import { Tokenizer } from "../lib/tokenizer.ts";
import { InputError } from "./config.ts";
import type { Sampler } from "./run.ts";

/**
 * Reads and checks a checkpoint, either version, with the library's
 * {@linkcode decodeCheckpoint}, so a wrong file is refused with the reason.
 *
 * @param bytes The file's contents.
 * @param name The file's name, for messages.
 * @returns The checkpoint (its arrays as Float64Arrays), as lib/io's loadCheckpoint() returns it.
 * @throws {InputError} The library's message: `Cannot load checkpoint NAME: ...`.
 */
export function parseCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  try {
    return decodeCheckpoint(bytes, name);
  } catch (err) {
    if (err instanceof UserError) throw new InputError(err.message);
    throw err;
  }
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
