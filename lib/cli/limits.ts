// What a run can hold, worked out before any work: the memory each engine allocates (the fast
// engine's arrays; the Value engine's graph, one object per number a step computes), and the
// largest learning rate and the smallest temperature whose arithmetic stays finite. The CLI
// refuses settings past them with one line instead of running out of memory or into a NaN.

import { DEFAULT_ADAM } from "../adam.ts";
import type { EngineName } from "../engine.ts";
import { countParams, type GptConfig } from "../model.ts";

/** The most memory a run may plan for, in 8-byte numbers (4 GiB). */
export const MAX_FLOATS = 2 ** 29;
/**
 * The most the Value engine's objects may take, in bytes: V8's heap holds about 4 GiB, and
 * what else the run keeps (the documents, the code) needs room too.
 */
export const MAX_GRAPH_BYTES = 3 * 2 ** 30;
/** Bytes per Value object of a training step's graph, as measured (~111), rounded up. */
export const BYTES_PER_VALUE = 128;

/** Bytes per Value object of a training step's graph, as measured. */
export const MEASURED_BYTES_PER_VALUE = 111;

/**
 * How many Value objects one training step on `n` positions creates (the graph the backward
 * pass walks, parameters included). Per position t (1..n): per layer the six matrix products
 * (a multiply and an add per weight: 2 x 12 E^2), attention over the t positions so far and
 * the RMSNorms, residuals and ReLU; then lm_head (2 V E) and the softmax. Counted on real
 * steps, this is within 3% above the true count (tests/limits_test.ts).
 *
 * @param config The model's shape.
 * @param n Positions in the step (a document's length plus one, at most blockSize).
 * @returns The number of Values.
 *
 * @example
 * ```ts
 * import { graphValues } from "@lib/cli/limits.ts";
 * import assert from "node:assert/strict";
 *
 * const config = { vocabSize: 27, nLayer: 1, nEmbd: 16, blockSize: 16, nHead: 4, initStd: 0.08 };
 * assert.equal(graphValues(config, 16), 136320); // 133,729 counted on a real step
 * ```
 */
export function graphValues(config: GptConfig, n: number): number {
  const { vocabSize: V, nEmbd: E, nHead: H, nLayer: L } = config;
  let values = countParams(config);
  for (let t = 1; t <= n; t++) {
    values += L * (24 * E * E + 4 * t * E + 16 * E + 6 * H * t) + 2 * V * E + 4 * V + 8 * E + 10;
  }
  return values;
}

/**
 * The young generation (V8's semi-space, in MiB) a Value-engine run needs: one that holds a
 * step's whole graph, which is garbage by the next step. In a smaller one, each step's graph
 * spills into the old generation and is collected there, slowly: at 2x32 a step took ~78 ms with
 * 24 MiB and ~30 ms with 128 MiB; at 4x64, ~1,000 ms with 24 MiB and ~260 ms with 1,024 MiB.
 *
 * @param config The model's shape.
 * @param positions The longest step (a document plus one, at most blockSize).
 * @returns The size: the power of two (MiB) at or above the largest step's graph.
 *
 * @example
 * ```ts
 * import { semiSpaceMiB } from "@lib/cli/limits.ts";
 * import assert from "node:assert/strict";
 *
 * const config = { vocabSize: 27, nLayer: 1, nEmbd: 16, blockSize: 16, nHead: 4, initStd: 0.08 };
 * assert.equal(semiSpaceMiB(config, 16), 16); // the default model: ~14 MiB a step
 * assert.equal(semiSpaceMiB({ ...config, nLayer: 2, nEmbd: 32 }, 16), 128); // ~96 MiB
 * ```
 */
export function semiSpaceMiB(config: GptConfig, positions: number): number {
  const mib = graphValues(config, positions) * MEASURED_BYTES_PER_VALUE / 2 ** 20;
  return 2 ** Math.ceil(Math.log2(Math.max(1, mib)));
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses a model too large for memory before allocating it. The fast engine: parameters,
 * gradients and Adam's two moments, plus its activations (attention is [nHead][T][T] per
 * layer). The Value engine: a Value object per parameter and per number a step computes.
 *
 * @param config The model's shape.
 * @param options `engine`, and `positions`, the longest step (a document plus one, at most
 *   blockSize).
 * @returns Why it does not fit, or undefined.
 */
export function memoryProblem(
  config: GptConfig,
  options: { engine: EngineName; positions: number },
): string | undefined {
  const { vocabSize: V, nEmbd: E, nHead: H, blockSize: T, nLayer: L } = config;
  const params = countParams(config);
  const floats = 4 * params + L * (2 * H * T * T + 20 * T * E) + T * V;
  const what = `${params.toLocaleString("en-US")} parameters, context ${T}`;
  const fix = "lower --n-embd, --n-layer or --block-size";
  if (floats > MAX_FLOATS) {
    return `it needs about ${gib(floats * 8)} (${what}), more than the ` +
      `${gib(MAX_FLOATS * 8)} a run may use; ${fix}`;
  }
  if (options.engine === "value") {
    const n = Math.min(options.positions, T);
    const bytes = graphValues(config, n) * BYTES_PER_VALUE + 16 * params;
    if (bytes > MAX_GRAPH_BYTES) {
      return `the Value engine's graph for a step of ${n} positions needs about ${gib(bytes)} ` +
        `(${what}), more than the ${gib(MAX_GRAPH_BYTES)} it may use; add --engine fast, or ${fix}`;
    }
  }
  return undefined;
}

/**
 * The most Adam moves a parameter in one step, per unit of learning rate: |m̂| / sqrt(v̂) is at
 * most (1 - beta1) / sqrt(1 - beta2) / sqrt(1 - beta1^2 / beta2) (Cauchy-Schwarz over the
 * gradients' history; the bias corrections only shrink it), 2.89 for the defaults.
 */
export const ADAM_MAX_STEP = (1 - DEFAULT_ADAM.beta1) / Math.sqrt(1 - DEFAULT_ADAM.beta2) /
  Math.sqrt(1 - DEFAULT_ADAM.beta1 ** 2 / DEFAULT_ADAM.beta2);

// Bounds on the forward pass when no weight exceeds P in magnitude: RMSNorm leaves every entry
// at most sqrt(E); a matrix product of rows of E such weights at most E P sqrt(E)... so each
// layer adds at most 5 E^2 P^2 to the residual stream (attention E^2 P^2, the MLP 4 E^2 P^2).
const residualBound = (c: GptConfig, p: number) =>
  Math.sqrt(c.nEmbd) + 5 * c.nLayer * c.nEmbd ** 2 * p ** 2;

/**
 * The largest weight magnitude the forward pass can take without overflowing: RMSNorm sums the
 * squares of the residual stream, E x^2, which must stay below Number.MAX_VALUE.
 *
 * @param config The model's shape.
 * @returns The bound (1.6e75 for the default model).
 */
export function maxWeight(config: GptConfig): number {
  const E = config.nEmbd;
  return Math.sqrt(
    (Math.sqrt(Number.MAX_VALUE / E) - Math.sqrt(E)) / (5 * config.nLayer * E ** 2),
  );
}

/**
 * The largest logit a model whose weights are at most `p` in magnitude can give: lm_head's rows
 * (E weights) times the last residual stream.
 *
 * @param config The model's shape.
 * @param p The largest weight magnitude.
 * @returns The bound.
 */
export const maxLogit = (config: GptConfig, p: number): number =>
  config.nEmbd * p * residualBound(config, p);

/**
 * The largest learning rate whose training cannot push a weight past {@linkcode maxWeight}:
 * each step moves a weight by at most {@linkcode ADAM_MAX_STEP} times that step's rate, which
 * decays linearly to 0 over the schedule.
 *
 * @param config The model's shape.
 * @param schedule `steps` (the schedule), `from` (steps already taken, 0 for a new run) and
 *   `weight`, the largest weight magnitude now (1 bounds a new model's: 12 initStd).
 * @returns The bound (5.6e71 for the default run).
 */
export function maxLearningRate(
  config: GptConfig,
  schedule: { steps: number; from: number; weight: number },
): number {
  const { steps: S, from: f, weight } = schedule;
  const sumOfRates = (S - f) * (S - f + 1) / (2 * S); // sum of (1 - t/S) for t = f..S-1
  return (maxWeight(config) - weight) / (ADAM_MAX_STEP * sumOfRates);
}

/**
 * The smallest temperature at which sampling stays finite: the logits are divided by it, and
 * the largest logit (at most {@linkcode maxLogit}) over it must stay below Number.MAX_VALUE.
 *
 * @param config The model's shape.
 * @param weight The largest weight magnitude.
 * @returns The bound (about 5.6e-305 for the default model trained with the defaults).
 */
export function minTemperature(config: GptConfig, weight: number): number {
  return Math.max(1, maxLogit(config, weight)) / Number.MAX_VALUE;
}
