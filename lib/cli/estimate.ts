// How long a training run will take, worked out before it starts, so that the CLI can say when
// the Value engine will be slow and how fast the fast engine would be. Each engine's time per
// step follows one count, with constants measured on this project's machine: the Value
// engine's, the objects of a step's graph (lib/cli/limits.ts's graphValues); the fast engine's,
// a step's multiply-adds. Machines differ: it is meant to be right within a factor of two.

import type { EngineName } from "../engine.ts";
import type { GptConfig } from "../model.ts";
import { graphValues } from "./limits.ts";

/**
 * The Value engine's time per step: 2.5 ms for the default model's ~60,000 objects (a mean
 * name), growing a little faster than the objects (to the power 1.2: a larger graph leaves the
 * CPU's caches). Measured with the train task's V8 flags (and the launcher's larger young
 * generation for larger graphs): 1x32 ~11 ms, 2x32 ~30 ms, 4x64 ~260 ms a step.
 */
export const VALUE_STEP = { ms: 2.5, values: 60_316, power: 1.2 } as const;
/**
 * The fast engine's time per step: a fixed cost, and one per multiply-add of the forward
 * pass (the backward pass's included). Measured: 1x16 ~47 µs, 2x32 ~180 µs, 4x64 ~1.5 ms.
 */
export const FAST_STEP = { ms: 0.02, msPerMultiplyAdd: 1.06e-6 } as const;
/** The Value engine's estimate above which the CLI suggests the fast engine, in seconds. */
export const SLOW_RUN_SECONDS = 30;

// Multiply-adds of a forward pass over `n` positions: per position t, per layer the six matrix
// products (12 E^2) and attention over the t positions so far (2 t E); then lm_head (V E).
function multiplyAdds(config: GptConfig, n: number): number {
  const { vocabSize: V, nEmbd: E, nLayer: L } = config;
  let total = 0;
  for (let t = 1; t <= n; t++) total += L * (12 * E * E + 2 * t * E) + V * E;
  return total;
}

/**
 * The time a run of `steps` training steps will take on each engine, from the documents it
 * trains on (one a step, in order, as the run takes them).
 *
 * @param config The model's shape.
 * @param run `docs`, the training documents; `from` and `to`, the steps taken before and the
 *   step the run stops after.
 * @returns The seconds on each engine.
 *
 * @example
 * ```ts
 * import { estimateSeconds } from "@lib/cli/estimate.ts";
 * import assert from "node:assert/strict";
 *
 * const config = { vocabSize: 27, nLayer: 1, nEmbd: 16, blockSize: 16, nHead: 4, initStd: 0.08 };
 * const { value, fast } = estimateSeconds(config, { docs: ["emma", "olivia"], from: 0, to: 1000 });
 * assert.ok(value > 1 && value < 4); // ~2.5 ms a step
 * assert.ok(fast < value / 30);
 * ```
 */
export function estimateSeconds(
  config: GptConfig,
  run: { docs: readonly string[]; from: number; to: number },
): Record<EngineName, number> {
  const { docs, from, to } = run;
  // How many of the steps see each number of positions (a document plus BOS, at most
  // blockSize). Step s trains on document s % D: of the steps before x, ceil((x - i) / D) took
  // document i.
  const D = docs.length;
  const taken = (x: number, i: number) => Math.max(0, Math.ceil((x - i) / D));
  const stepsAt = new Map<number, number>();
  for (let i = 0; i < D; i++) {
    const times = taken(to, i) - taken(from, i);
    if (times === 0) continue;
    const n = Math.min([...docs[i]!].length + 1, config.blockSize);
    stepsAt.set(n, (stepsAt.get(n) ?? 0) + times);
  }
  let value = 0;
  let fast = 0;
  for (const [n, times] of stepsAt) {
    const values = graphValues(config, n) / VALUE_STEP.values;
    value += times * VALUE_STEP.ms * values ** VALUE_STEP.power;
    fast += times * (FAST_STEP.ms + multiplyAdds(config, n) * FAST_STEP.msPerMultiplyAdd);
  }
  return { value: value / 1000, fast: fast / 1000 };
}
