// The GPT itself, one token at a time: token and position embeddings, then per layer
// multi-head causal self-attention and an MLP (each behind an RMSNorm, each with a residual
// connection), then lm_head to logits over the next token. Like GPT-2 but with RMSNorm for
// LayerNorm, no biases and ReLU for GeLU. Keys and values of earlier positions are kept in a
// KV cache, so attention looks back without recomputing them.

import type { Random } from "./random.ts";
import { sum, Value } from "./value.ts";

/** The shape of the model. */
export interface GptConfig {
  /** Number of token ids, BOS included (from the tokenizer). */
  vocabSize: number;
  /** Number of transformer layers. */
  nLayer: number;
  /** Width of the residual stream (the embedding size). */
  nEmbd: number;
  /** Longest context the model can attend over. */
  blockSize: number;
  /** Number of attention heads; each gets nEmbd / nHead channels. */
  nHead: number;
  /** Standard deviation of the normal initialisation of every weight. */
  initStd: number;
}

/** The reference's model shape; `vocabSize` comes from the dataset. */
export const DEFAULT_CONFIG: Omit<GptConfig, "vocabSize"> = {
  nLayer: 1, // one transformer layer is enough to learn what names look like
  nEmbd: 16, // a 16-wide residual stream keeps the model at 4,192 parameters
  blockSize: 16, // the longest name in names.txt is 15 characters, plus BOS
  nHead: 4, // four heads of 4 channels each
  initStd: 0.08, // small enough that the first logits are near uniform (loss ~ ln 27 = 3.3)
};

/** A weight matrix: `nout` rows of `nin` parameters. */
export type Matrix = Value[][];

/**
 * The named weight matrices, in the order they are initialised: `wte`, `wpe`, `lm_head`, then
 * per layer `layer0.attn_wq`, `layer0.attn_wk`, ... (see {@linkcode paramShapes}).
 */
export type StateDict = { wte: Matrix; wpe: Matrix; lm_head: Matrix } & Record<string, Matrix>;

/** Per layer, the key (or value) vector of every position seen so far: [nLayer][T][nEmbd]. */
export interface KvCache {
  /** The keys, [nLayer][T][nEmbd]. */
  keys: Value[][][];
  /** The values, [nLayer][T][nEmbd]. */
  values: Value[][][];
  /** If present, the attention weights of every position: [nLayer][nHead][T][t <= T]. */
  attention?: number[][][][];
}

/** A GPT's configuration and parameters. */
export interface Gpt {
  /** The model's shape. */
  config: GptConfig;
  /** The weight matrices by name (`wte`, `wpe`, `layer0.attn_wq`, ..., `lm_head`). */
  stateDict: StateDict;
  /** Every parameter, flattened in state-dict order (matrix by matrix, row by row). */
  params: Value[];
}

/**
 * Checks a configuration, so a bad one fails before any work is done.
 *
 * @param config The configuration to check.
 * @returns The same configuration.
 */
export function validateConfig(config: GptConfig): GptConfig {
  for (const key of ["vocabSize", "nLayer", "nEmbd", "blockSize", "nHead"] as const) {
    const n = config[key];
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`Cannot build model: ${key} (${n}) must be a positive integer`);
    }
  }
  if (config.vocabSize < 2) {
    throw new RangeError(
      `Cannot build model: vocabSize (${config.vocabSize}) must be at least 2 (one character and BOS)`,
    );
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new RangeError(
      `Cannot build model: nEmbd (${config.nEmbd}) must be divisible by nHead (${config.nHead})`,
    );
  }
  if (!(config.initStd >= 0) || !Number.isFinite(config.initStd)) {
    throw new RangeError(
      `Cannot build model: initStd (${config.initStd}) must be a finite number >= 0`,
    );
  }
  return config;
}

/**
 * The names and shapes of the weight matrices, in initialisation order: wte, wpe, lm_head,
 * then per layer attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2.
 *
 * @param config The model shape.
 * @returns `[name, nout, nin]` for each matrix.
 */
export function paramShapes(config: GptConfig): [string, number, number][] {
  const { vocabSize, nEmbd, blockSize, nLayer } = config;
  const shapes: [string, number, number][] = [
    ["wte", vocabSize, nEmbd],
    ["wpe", blockSize, nEmbd],
    ["lm_head", vocabSize, nEmbd],
  ];
  for (let i = 0; i < nLayer; i++) {
    shapes.push(
      [`layer${i}.attn_wq`, nEmbd, nEmbd],
      [`layer${i}.attn_wk`, nEmbd, nEmbd],
      [`layer${i}.attn_wv`, nEmbd, nEmbd],
      [`layer${i}.attn_wo`, nEmbd, nEmbd],
      [`layer${i}.mlp_fc1`, 4 * nEmbd, nEmbd],
      [`layer${i}.mlp_fc2`, nEmbd, 4 * nEmbd],
    );
  }
  return shapes;
}

/**
 * The number of parameters of a model shape: the sizes of all its matrices.
 *
 * @param config The model shape.
 * @returns The count.
 *
 * @example
 * ```ts
 * import { countParams, DEFAULT_CONFIG } from "@microgpt-ts/microgpt/model";
 * import assert from "node:assert/strict";
 *
 * assert.equal(countParams({ ...DEFAULT_CONFIG, vocabSize: 27 }), 4192);
 * ```
 */
export function countParams(config: GptConfig): number {
  return paramShapes(config).reduce((n, [, rows, cols]) => n + rows * cols, 0);
}

/**
 * Creates a GPT with every weight drawn from N(0, initStd), matrix by matrix and row by row
 * in state-dict order, so a seed gives the reference's initial parameters.
 *
 * @param config The model shape.
 * @param options `rng`, the random number generator to draw the weights from; or `params`,
 *   the weights themselves (from a checkpoint), in state-dict order.
 * @returns The model.
 *
 * @example The reference model has 4,192 parameters
 * ```ts
 * import { createGpt, DEFAULT_CONFIG } from "@microgpt-ts/microgpt/model";
 * import { Random } from "@microgpt-ts/microgpt/random";
 * import assert from "node:assert/strict";
 *
 * const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: 27 }, { rng: new Random(42) });
 * assert.equal(model.params.length, 4192);
 * assert.equal(model.stateDict.wte!.length, 27);
 * ```
 */
export function createGpt(
  config: GptConfig,
  options: { rng: Random } | { params: ArrayLike<number> },
): Gpt {
  validateConfig(config);
  const shapes = paramShapes(config);
  let next: () => number;
  if ("params" in options) {
    const { params } = options;
    const count = countParams(config);
    if (params.length !== count) {
      throw new RangeError(
        `Cannot build model: ${params.length} parameters given, the config needs ${count}`,
      );
    }
    let i = 0;
    next = () => params[i++]!;
  } else {
    const { rng } = options;
    next = () => rng.gauss(0, config.initStd);
  }
  const matrix = (nout: number, nin: number): Matrix =>
    Array.from({ length: nout }, () => Array.from({ length: nin }, () => new Value(next())));
  const stateDict = Object.fromEntries(
    shapes.map(([name, nout, nin]) => [name, matrix(nout, nin)]),
  ) as StateDict; // paramShapes() starts with wte, wpe and lm_head
  const params = Object.values(stateDict).flatMap((matrix) => matrix.flat());
  return { config: { ...config }, stateDict, params };
}

/**
 * Matrix-vector product `w @ x`: one dot product per row of `w`.
 *
 * @param x The input vector, [nin].
 * @param w The weights, [nout][nin].
 * @returns The output vector, [nout].
 *
 * @example
 * ```ts
 * import { linear } from "@microgpt-ts/microgpt/model";
 * import { Value } from "@microgpt-ts/microgpt/value";
 * import assert from "node:assert/strict";
 *
 * const v = (xs: number[]) => xs.map((x) => new Value(x));
 * const y = linear(v([1, 2]), [v([3, 4]), v([-1, 0.5])]);
 * assert.deepEqual(y.map((yi) => yi.data), [11, 0]);
 * ```
 */
export function linear(x: readonly Value[], w: Matrix): Value[] {
  return w.map((wo) => {
    // sum(wi * xi for wi, xi in zip(wo, x)), added as sum() does (from 0, left to right)
    let total = wo[0]!.mul(x[0]!).add(0);
    for (let i = 1; i < wo.length; i++) total = total.add(wo[i]!.mul(x[i]!));
    return total;
  });
}

// Python's zip() for two lists of the same length: [[a0, b0], [a1, b1], ...].
function zip<A, B>(as: readonly A[], bs: readonly B[]): [A, B][] {
  return as.map((a, i) => [a, bs[i]!]);
}

/**
 * Turns logits into probabilities: exp of each (less the largest, which changes nothing
 * but keeps exp from overflowing), divided by their total.
 *
 * @param logits The scores.
 * @returns Probabilities that add up to 1.
 *
 * @example
 * ```ts
 * import { softmax } from "@microgpt-ts/microgpt/model";
 * import { Value } from "@microgpt-ts/microgpt/value";
 * import assert from "node:assert/strict";
 *
 * const probs = softmax([1, 2, 3].map((x) => new Value(x)));
 * assert.deepEqual(probs.map((p) => p.data), [
 *   0.09003057317038045,
 *   0.2447284710547976,
 *   0.6652409557748218,
 * ]);
 * ```
 */
export function softmax(logits: readonly Value[]): Value[] {
  const maxVal = Math.max(...logits.map((v) => v.data));
  const exps = logits.map((v) => v.sub(maxVal).exp());
  const total = sum(exps);
  return exps.map((e) => e.div(total));
}

/**
 * RMSNorm: scales a vector to unit root-mean-square, x / sqrt(mean(x^2) + 1e-5).
 *
 * @param x The vector.
 * @returns The normalised vector.
 *
 * @example [3, 4] has root-mean-square sqrt(12.5)
 * ```ts
 * import { rmsnorm } from "@microgpt-ts/microgpt/model";
 * import { Value } from "@microgpt-ts/microgpt/value";
 * import assert from "node:assert/strict";
 *
 * const y = rmsnorm([new Value(3), new Value(4)]);
 * assert.deepEqual(y.map((v) => v.data), [0.8485277980128058, 1.1313703973504077]);
 * ```
 */
export function rmsnorm(x: readonly Value[]): Value[] {
  const ms = sum(x.map((xi) => xi.mul(xi))).div(x.length);
  const scale = ms.add(1e-5).pow(-0.5);
  return x.map((xi) => xi.mul(scale));
}

/**
 * An empty KV cache, for a new sequence.
 *
 * @param config The model shape.
 * @param options `recordAttention`: also keep every attention weight, for plots.
 * @returns One empty key list and value list per layer.
 */
export function createKvCache(
  config: GptConfig,
  options: { recordAttention?: boolean } = {},
): KvCache {
  const perLayer = <T>(make: () => T) => Array.from({ length: config.nLayer }, make);
  const cache: KvCache = { keys: perLayer(() => []), values: perLayer(() => []) };
  if (options.recordAttention) {
    cache.attention = perLayer(() => Array.from({ length: config.nHead }, () => []));
  }
  return cache;
}

/**
 * Runs the model on one token at the next position of a sequence, whose earlier positions are
 * in `cache` (this call appends the new keys and values to it).
 *
 * @param model The GPT.
 * @param tokenId The current token.
 * @param cache The sequence so far; its length is the position of this token.
 * @returns The logits for the next token, [vocabSize].
 */
export function gpt(model: Gpt, tokenId: number, cache: KvCache): Value[] {
  const { stateDict, config } = model;
  const { nLayer, nHead, nEmbd } = config;
  const posId = cache.keys[0]!.length;
  if (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= config.vocabSize) {
    throw new RangeError(
      `Cannot run model: token ${tokenId} is outside 0..${config.vocabSize - 1}`,
    );
  }
  if (posId >= config.blockSize) {
    throw new RangeError(
      `Cannot run model: position ${posId} is past the context (blockSize ${config.blockSize})`,
    );
  }
  const headDim = nEmbd / nHead;
  const tokEmb = stateDict.wte[tokenId]!;
  const posEmb = stateDict.wpe[posId]!;
  let x = zip(tokEmb, posEmb).map(([t, p]) => t.add(p)); // [nEmbd]
  x = rmsnorm(x); // not redundant: the residual path below starts from here

  for (let li = 0; li < nLayer; li++) {
    const layer = (name: string) => stateDict[`layer${li}.${name}`]!;
    // 1) Multi-head attention
    let xResidual = x;
    x = rmsnorm(x);
    const q = linear(x, layer("attn_wq"));
    const k = linear(x, layer("attn_wk"));
    const v = linear(x, layer("attn_wv"));
    const keys = cache.keys[li]!; // [T][nEmbd]
    const values = cache.values[li]!;
    keys.push(k);
    values.push(v);
    const xAttn: Value[] = [];
    for (let h = 0; h < nHead; h++) {
      const hs = h * headDim;
      const qh = q.slice(hs, hs + headDim); // [headDim]
      const kh = keys.map((ki) => ki.slice(hs, hs + headDim)); // [T][headDim]
      const vh = values.map((vi) => vi.slice(hs, hs + headDim)); // [T][headDim]
      const attnLogits = kh.map((kt) =>
        sum(zip(qh, kt).map(([qj, kj]) => qj.mul(kj))).div(headDim ** 0.5)
      );
      const attnWeights = softmax(attnLogits); // [T]
      cache.attention?.[li]?.[h]?.push(attnWeights.map((w) => w.data));
      for (let j = 0; j < headDim; j++) {
        xAttn.push(sum(zip(attnWeights, vh).map(([w, vt]) => w.mul(vt[j]!))));
      }
    }
    x = linear(xAttn, layer("attn_wo"));
    x = zip(x, xResidual).map(([a, b]) => a.add(b));
    // 2) MLP
    xResidual = x;
    x = rmsnorm(x);
    x = linear(x, layer("mlp_fc1")); // [4 * nEmbd]
    x = x.map((xi) => xi.relu());
    x = linear(x, layer("mlp_fc2"));
    x = zip(x, xResidual).map(([a, b]) => a.add(b));
  }
  return linear(x, stateDict.lm_head); // [vocabSize]
}
