// Test helpers: a checkpoint as plain data that a test may edit into anything (wrong types,
// bad ranges, deep nesting), written as either version: 1 (JSON) or 2 (safetensors, with the
// metadata fields as JSON strings and the parameters split into the original config's tensors).

import type { Checkpoint } from "@lib/io/checkpoint.ts";
import { paramShapes } from "@lib/model.ts";
import { encodeSafetensors, type TensorToWrite } from "@lib/io/safetensors.ts";

/** A checkpoint's fields as version 1 holds them, free to be edited into anything. */
// deno-lint-ignore no-explicit-any
export type RawCheckpoint = Record<string, any>;

/** Where a test puts {@linkcode DEEP}: each writer replaces it with 100,000 nested lists. */
export const DEEP = "\u0000deep";
const deepText = "[".repeat(100_000) + "]".repeat(100_000);
const withDeep = (text: string) => text.replaceAll(JSON.stringify(DEEP), deepText);

/**
 * A checkpoint as plain, editable data (a deep copy, arrays as number lists).
 *
 * @param checkpoint The checkpoint.
 * @returns Its fields.
 */
export function rawOf(checkpoint: Checkpoint): RawCheckpoint {
  return structuredClone({
    ...checkpoint,
    version: 1,
    params: Array.from(checkpoint.params),
    adam: {
      m: Array.from(checkpoint.adam.m),
      v: Array.from(checkpoint.adam.v),
      t: checkpoint.adam.t,
    },
  });
}

/**
 * The fields as a version-1 file.
 *
 * @param raw The fields.
 * @returns JSON text.
 */
export function v1Text(raw: RawCheckpoint): string {
  return withDeep(JSON.stringify(raw)) + "\n";
}

/**
 * The fields as a version-2 file, its tensors shaped by `shapeConfig` (the config before any
 * edit), so that an edited config is caught by the checks, not by this writer.
 *
 * @param raw The fields.
 * @param shapeConfig The config whose shapes split the parameters.
 * @param options `tensors`, to edit the tensor list before it is written.
 * @returns The file's bytes.
 */
export function v2Bytes(
  raw: RawCheckpoint,
  shapeConfig: Checkpoint["config"],
  options: { tensors?: (tensors: TensorToWrite[]) => TensorToWrite[] } = {},
): Uint8Array {
  const params = Float64Array.from(raw.params as number[]);
  let tensors: TensorToWrite[] = [];
  let at = 0;
  for (const [name, rows, cols] of paramShapes(shapeConfig)) {
    tensors.push({ name, shape: [rows, cols], data: params.subarray(at, at + rows * cols) });
    at += rows * cols;
  }
  const { m, v, t } = raw.adam;
  tensors.push({ name: "adam.m", shape: [m.length], data: Float64Array.from(m) });
  tensors.push({ name: "adam.v", shape: [v.length], data: Float64Array.from(v) });
  tensors = options.tensors?.(tensors) ?? tensors;
  const json = (x: unknown) => x === undefined ? undefined! : withDeep(JSON.stringify(x));
  return encodeSafetensors(tensors, {
    format: raw.format,
    version: raw.version === 1 ? "2" : String(raw.version),
    config: json(raw.config),
    uchars: json(raw.uchars),
    train: json(raw.train),
    step: json(raw.step),
    "adam.t": json(t),
    rng: json(raw.rng),
  });
}
