// The fast engine: the same GPT, the same initialisation, data order, Adam and sampling as the
// Value engine, but with every parameter, gradient and activation in flat arrays and a backward
// pass written out by hand, layer by layer. No graph of objects is built, so a step costs a few
// hundred thousand multiply-adds and nothing else. Those run in WebAssembly, with SIMD: the
// kernels are lib/fast/kernels.as (AssemblyScript, TypeScript's syntax), and this file holds
// the model's API, its argument checks and sampling. The forward pass performs the Value engine's
// floating-point operations in the same order, so the two agree to the last bit (the backward
// pass sums some gradients in another order: ~1e-16 relative).

import type { Adam } from "../adam.ts";
import { FAST_KERNELS_WASM } from "./_kernels_wasm.ts";
import { countParams, type GptConfig, validateConfig } from "../model.ts";
import type { Random } from "../random.ts";
import { keepTopK, promptIds } from "../sample.ts";
import type { Tokenizer } from "../tokenizer.ts";

// What lib/fast/kernels.as exports (addresses are byte offsets into its memory).
interface Kernels {
  memory: WebAssembly.Memory;
  init(
    nEmbd: number,
    nHead: number,
    blockSize: number,
    vocabSize: number,
    nLayer: number,
    attnScale: number,
    invE: number,
  ): number;
  paramsAt(): number;
  gradsAt(): number;
  moment1At(): number;
  moment2At(): number;
  tokensAt(): number;
  targetsAt(): number;
  probEAt(): number;
  probTotalAt(): number;
  lossesAt(): number;
  logitsAt(): number;
  position(t: number, tokenId: number): void;
  head(t: number): void;
  headLogits(t: number): void;
  run(positions: number): void;
  backward(): void;
  adam(
    lr: number,
    beta1: number,
    beta2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    correction1: number,
    correction2: number,
    eps: number,
  ): void;
}

let kernelModule: WebAssembly.Module | undefined;

// A fresh instance of the kernels, with memory of its own. exp, log and pow are V8's, the ones
// the Value engine calls.
function instantiateKernels(): Kernels {
  // fromBase64 is native (~0.05 ms); the string-by-string fallback takes ~2.5 ms cold.
  kernelModule ??= new WebAssembly.Module(
    typeof Uint8Array.fromBase64 === "function"
      ? Uint8Array.fromBase64(FAST_KERNELS_WASM)
      : Uint8Array.from(atob(FAST_KERNELS_WASM), (c) => c.charCodeAt(0)),
  );
  const env = { exp: Math.exp, log: Math.log, pow: Math.pow };
  return new WebAssembly.Instance(kernelModule, { env }).exports as unknown as Kernels;
}

/**
 * A GPT with flat parameters and a hand-written backward pass.
 *
 * @example Trains on a tiny dataset like the Value engine does
 * ```ts
 * import { Adam } from "@microgpt-ts/microgpt/adam";
 * import { FastGpt } from "@microgpt-ts/microgpt/fast";
 * import { DEFAULT_CONFIG } from "@microgpt-ts/microgpt/model";
 * import { Random } from "@microgpt-ts/microgpt/random";
 * import assert from "node:assert/strict";
 *
 * const model = FastGpt.create({ ...DEFAULT_CONFIG, vocabSize: 3 }, { rng: new Random(1) });
 * assert.equal(model.numParams, 3424); // 4192 less 24 rows of wte and lm_head
 * const adam = new Adam(model.numParams, { numSteps: 10 });
 * const first = model.trainStep([2, 0, 1, 2], adam);
 * for (let i = 0; i < 8; i++) model.trainStep([2, 0, 1, 2], adam);
 * assert.ok(model.trainStep([2, 0, 1, 2], adam) < first);
 * ```
 */
export class FastGpt {
  /** The model shape. */
  readonly config: GptConfig;
  /** Every parameter, in the Value engine's order (state dict order, row by row). */
  readonly params: Float64Array;
  /** d(loss)/d(parameter), filled in by {@linkcode FastGpt.backward}. */
  readonly grads: Float64Array;

  #kernels: Kernels;
  #m: Float64Array; // Adam's moments: trainStep() moves an Adam's here, next to the parameters
  #v: Float64Array;
  #tokens: Int32Array;
  #targets: Int32Array;
  #probE: Float64Array; // [T][V] exps of the logits (less their max)
  #probTotal: Float64Array; // [T] their sum
  #losses: Float64Array; // [T] -log p(target) of each position
  #logits: Float64Array; // [V] lm_head's outputs, for sampling

  /**
   * Creates a model from parameters (for example a checkpoint's or a Value model's).
   *
   * @param config The model shape.
   * @param params Initial parameters (copied), in state-dict order.
   */
  constructor(config: GptConfig, params: Float64Array) {
    validateConfig(config);
    this.config = { ...config };
    const count = countParams(config);
    if (params.length !== count) {
      throw new RangeError(
        `Cannot build fast model: ${params.length} parameters given, the config needs ${count}`,
      );
    }
    const { nEmbd: E, nHead: H, blockSize: T, vocabSize: V, nLayer } = config;
    const k = instantiateKernels();
    // The Value engine divides by headDim ** 0.5, i.e. multiplies by (headDim ** 0.5) ** -1.
    if (!k.init(E, H, T, V, nLayer, ((E / H) ** 0.5) ** -1, E ** -1)) {
      throw new RangeError(
        `Cannot build fast model: its parameters, gradients, moments and activations need more ` +
          `than the 4 GiB WebAssembly can address (${count} parameters, context ${T})`,
      );
    }
    this.#kernels = k;
    const f64 = (at: number, length: number) => new Float64Array(k.memory.buffer, at, length);
    this.params = f64(k.paramsAt(), count);
    this.params.set(params);
    this.grads = f64(k.gradsAt(), count);
    this.#m = f64(k.moment1At(), count);
    this.#v = f64(k.moment2At(), count);
    this.#tokens = new Int32Array(k.memory.buffer, k.tokensAt(), T);
    this.#targets = new Int32Array(k.memory.buffer, k.targetsAt(), T);
    this.#probE = f64(k.probEAt(), T * V);
    this.#probTotal = f64(k.probTotalAt(), T);
    this.#losses = f64(k.lossesAt(), T);
    this.#logits = f64(k.logitsAt(), V);
  }

  /**
   * Creates a model initialised exactly like {@linkcode createGpt}: N(0, initStd) draws in
   * state-dict order, so the same seed gives the same weights.
   *
   * @param config The model shape.
   * @param options `rng`, the random number generator to draw the weights from.
   * @returns The model.
   */
  static create(config: GptConfig, options: { rng: Random }): FastGpt {
    validateConfig(config);
    const count = countParams(config);
    const params = new Float64Array(count);
    for (let i = 0; i < count; i++) params[i] = options.rng.gauss(0, config.initStd);
    return new FastGpt(config, params);
  }

  /** Number of parameters. */
  get numParams(): number {
    return this.params.length;
  }

  /**
   * A copy of the parameters, in state-dict order (as a checkpoint stores them).
   *
   * @returns The copy.
   */
  parameters(): Float64Array {
    return this.params.slice();
  }

  /**
   * Runs the model over a sequence, keeping what the backward pass needs.
   *
   * @param tokens The sequence (BOS, characters, BOS); at most the first `blockSize`
   *   predictions are made, as in the Value engine.
   * @returns The mean cross-entropy loss.
   */
  forward(tokens: ArrayLike<number>): number {
    const losses = this.positionLosses(tokens);
    let lossSum = losses[0]! + 0; // Python's sum() starts from 0
    for (let t = 1; t < losses.length; t++) lossSum += losses[t]!;
    return lossSum * (1 / losses.length);
  }

  /**
   * Runs the model over a sequence (as {@linkcode FastGpt.forward} does) and returns the loss of
   * each position, -log p(next token): what held-out evaluation adds up.
   *
   * @param tokens The sequence (BOS, characters, BOS).
   * @returns `min(blockSize, tokens.length - 1)` losses, valid until the next call.
   */
  positionLosses(tokens: ArrayLike<number>): Float64Array {
    const { vocabSize: V, blockSize } = this.config;
    const n = Math.min(blockSize, tokens.length - 1);
    if (n < 1) throw new RangeError("Cannot compute loss: a sequence needs at least 2 tokens");
    for (let t = 0; t <= n; t++) {
      const id = tokens[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        throw new RangeError(`Cannot run model: token ${id} is outside 0..${V - 1}`);
      }
      if (t < n) this.#tokens[t] = id;
      if (t > 0) this.#targets[t - 1] = id;
    }
    this.#kernels.run(n); // each position as runPosition() and lossAt() do it
    return this.#losses.subarray(0, n);
  }

  /**
   * Runs one position: token `tokenId` at position `t`, attending over positions 0..t-1 as the
   * latest calls left them, through to the next-token probabilities. A sequence run a position
   * at a time gives the same numbers as {@linkcode FastGpt.positionLosses}, and sequences that
   * share a prefix can share its positions (held-out evaluation walks a trie of documents so).
   *
   * @param t The position, 0 <= t < blockSize.
   * @param tokenId The token at it.
   */
  runPosition(t: number, tokenId: number): void {
    const { blockSize, vocabSize: V } = this.config;
    if (!Number.isInteger(t) || t < 0 || t >= blockSize) {
      throw new RangeError(`Cannot run model: position ${t} is outside 0..${blockSize - 1}`);
    }
    if (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= V) {
      throw new RangeError(`Cannot run model: token ${tokenId} is outside 0..${V - 1}`);
    }
    this.#kernels.position(t, tokenId);
    this.#kernels.head(t);
  }

  /**
   * The loss -log p(target) at position `t` of the latest run.
   *
   * @param t The position.
   * @param target The next token.
   * @returns The loss.
   */
  lossAt(t: number, target: number): number {
    const prob = this.#probE[t * this.config.vocabSize + target]! * this.#probTotal[t]! ** -1;
    return Math.log(prob) * -1;
  }

  /**
   * Fills {@linkcode FastGpt.grads} (adding to what is there) with the gradient of the loss of
   * the last {@linkcode FastGpt.forward}.
   */
  backward(): void {
    this.#kernels.backward();
  }

  /**
   * One training step: forward, backward, then Adam's update of `Adam.step()` in WebAssembly
   * (gradients are zeroed by it). The first step with an optimiser moves its moments into this
   * model's memory: from then on `adam.m` and `adam.v` are views of it, and stay current.
   *
   * @param tokens The sequence (BOS, characters, BOS).
   * @param adam The optimiser, created for `numParams` parameters.
   * @returns The loss before the update.
   */
  trainStep(tokens: ArrayLike<number>, adam: Adam): number {
    if (adam.m !== this.#m) {
      if (adam.m.length !== this.numParams || adam.v.length !== this.numParams) {
        throw new RangeError(
          `Cannot take Adam step: ${this.numParams} parameters, expected ${adam.m.length}`,
        );
      }
      this.#m.set(adam.m);
      this.#v.set(adam.v);
      adam.m = this.#m;
      adam.v = this.#v;
    }
    const loss = this.forward(tokens);
    this.backward();
    const { beta1, beta2, eps } = adam.config;
    const lr = adam.lr; // the learning rate of step t + 1
    adam.t += 1;
    const correction1 = 1 - beta1 ** adam.t;
    const correction2 = 1 - beta2 ** adam.t;
    this.#kernels.adam(lr, beta1, beta2, 1 - beta1, 1 - beta2, correction1, correction2, eps);
    return loss;
  }

  /**
   * Generates one document, drawing exactly as the Value engine's `sample()` does.
   *
   * @param tokenizer The tokenizer.
   * @param options `rng`, `temperature` (> 0), and optionally a `prefix` and `topK`.
   * @returns The generated text (the prefix included).
   */
  sample(
    tokenizer: Tokenizer,
    options: { rng: Random; temperature: number; prefix?: string; topK?: number },
  ): string {
    const { rng, temperature, topK } = options;
    const { blockSize, vocabSize: V } = this.config;
    const prefixIds = promptIds(tokenizer, { ...options, blockSize });
    const ids = Array.from({ length: V }, (_, i) => i);
    const invT = temperature ** -1;
    const logits = this.#logits;
    const weights = new Array<number>(V);
    const out = [...prefixIds];
    let tokenId = tokenizer.BOS;
    for (let t = 0; t < blockSize; t++) {
      this.#kernels.position(t, tokenId); // earlier positions' keys and values are in memory
      if (t < prefixIds.length) {
        tokenId = prefixIds[t]!;
        continue;
      }
      this.#kernels.headLogits(t);
      let max = -Infinity;
      for (let i = 0; i < V; i++) {
        logits[i] = logits[i]! * invT;
        if (logits[i]! > max) max = logits[i]!;
      }
      let total = 0;
      for (let i = 0; i < V; i++) {
        logits[i] = Math.exp(logits[i]! + -max);
        total = i === 0 ? logits[i]! + 0 : total + logits[i]!;
      }
      const r = total ** -1;
      for (let i = 0; i < V; i++) weights[i] = logits[i]! * r;
      tokenId = rng.choices(ids, {
        weights: topK === undefined ? weights : keepTopK(weights, topK),
      })[0]!;
      if (tokenId === tokenizer.BOS) break;
      out.push(tokenId);
    }
    return tokenizer.decode(out);
  }
}
