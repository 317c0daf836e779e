// The two engines behind one interface: the Value engine (the lesson: a graph of scalars,
// lib/model.ts and lib/train.ts, wrapped here as ValueGpt) and the fast engine (flat arrays,
// lib/fast/gpt.ts) train, sample and evaluate the same model from the same weights, with the
// same method names, so a run, an evaluation or a checkpoint works with either.

import type { Adam } from "./adam.ts";
import { FastGpt } from "./fast/gpt.ts";
import { createGpt, type Gpt, type GptConfig } from "./model.ts";
import type { Random } from "./random.ts";
import { sample, type SampleOptions } from "./sample.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { trainStep } from "./train.ts";

/** The two implementations of the same model: `value` (the scalar autograd) and `fast`. */
export type EngineName = "value" | "fast";

/** A GPT that can be trained and sampled: {@linkcode ValueGpt} or {@linkcode FastGpt}. */
export interface Engine {
  /** The model's shape. */
  readonly config: GptConfig;
  /** How many parameters the model has. */
  readonly numParams: number;
  /**
   * One training step on one document: forward, backward, Adam.
   *
   * @param tokens The document's tokens, BOS on both sides.
   * @param adam The optimiser, created for `numParams` parameters.
   * @returns The loss before the update.
   */
  trainStep(tokens: readonly number[], adam: Adam): number;
  /**
   * Generates one document.
   *
   * @param tokenizer The tokenizer the model was trained with.
   * @param options `rng`, `temperature`, and optionally a `prefix` to start from and `topK`.
   * @returns The generated text (the prefix included).
   */
  sample(tokenizer: Tokenizer, options: SampleOptions): string;
  /**
   * The parameters, in state-dict order.
   *
   * @returns A copy: changing it leaves the model as it is.
   */
  parameters(): Float64Array;
}

/**
 * The Value engine behind the {@linkcode Engine} interface: the lesson's GPT
 * ({@linkcode createGpt}), trained with its `trainStep()` and sampled with its `sample()`.
 *
 * @example The same seed gives both engines the same weights and the same first loss
 * ```ts
 * import { Adam, DEFAULT_CONFIG, FastGpt, Random, ValueGpt } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const config = { ...DEFAULT_CONFIG, vocabSize: 3 };
 * const value = ValueGpt.create(config, { rng: new Random(1) });
 * const fast = FastGpt.create(config, { rng: new Random(1) });
 * assert.equal(value.numParams, 3424);
 * assert.deepEqual(value.parameters(), fast.parameters());
 * const tokens = [2, 0, 1, 2];
 * const loss = value.trainStep(tokens, new Adam(value.numParams, { numSteps: 10 }));
 * assert.equal(loss, fast.trainStep(tokens, new Adam(fast.numParams, { numSteps: 10 })));
 * assert.equal(value.model.params[0]!.data, value.parameters()[0]); // the lesson's Gpt
 * ```
 */
export class ValueGpt implements Engine {
  /** The lesson's model: its state dict and parameters, as `Value`s. */
  readonly model: Gpt;

  /**
   * Wraps a model built with {@linkcode createGpt}.
   *
   * @param model The model; training updates its parameters in place.
   */
  constructor(model: Gpt) {
    this.model = model;
  }

  /**
   * Creates a model, as {@linkcode createGpt} does: weights drawn from `rng`, or given.
   *
   * @param config The model shape.
   * @param options `rng`, the random number generator, or `params`, in state-dict order.
   * @returns The model.
   */
  static create(
    config: GptConfig,
    options: { rng: Random } | { params: ArrayLike<number> },
  ): ValueGpt {
    return new ValueGpt(createGpt(config, options));
  }

  /** The model's shape. */
  get config(): GptConfig {
    return this.model.config;
  }

  /** How many parameters the model has. */
  get numParams(): number {
    return this.model.params.length;
  }

  /**
   * One training step: forward, backward, Adam (the lesson's `trainStep()`).
   *
   * @param tokens The document's tokens, BOS on both sides.
   * @param adam The optimiser.
   * @returns The loss before the update.
   */
  trainStep(tokens: readonly number[], adam: Adam): number {
    return trainStep(this.model, { tokens, adam });
  }

  /**
   * Generates one document (the lesson's `sample()`).
   *
   * @param tokenizer The tokenizer.
   * @param options `rng`, `temperature`, and optionally `prefix` and `topK`.
   * @returns The generated text (the prefix included).
   */
  sample(tokenizer: Tokenizer, options: SampleOptions): string {
    return sample(this.model, tokenizer, options);
  }

  /**
   * The parameters' values, in state-dict order.
   *
   * @returns A copy.
   */
  parameters(): Float64Array {
    return Float64Array.from(this.model.params, (p) => p.data);
  }
}

/**
 * Creates a model with either engine, from `rng` (both engines draw the same initial
 * weights) or from saved `params`.
 *
 * @param name `value` or `fast`.
 * @param config The model shape.
 * @param options `rng`, the random number generator, or `params`, in state-dict order.
 * @returns A {@linkcode ValueGpt} or a {@linkcode FastGpt}.
 *
 * @example
 * ```ts
 * import { createEngine, DEFAULT_CONFIG, FastGpt, Random } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const config = { ...DEFAULT_CONFIG, vocabSize: 27 };
 * const value = createEngine("value", config, { rng: new Random(42) });
 * const fast = createEngine("fast", config, { params: value.parameters() });
 * assert.ok(fast instanceof FastGpt);
 * assert.equal(fast.numParams, 4192);
 * assert.deepEqual(fast.parameters(), value.parameters());
 * ```
 */
export function createEngine(
  name: EngineName,
  config: GptConfig,
  options: { rng: Random } | { params: ArrayLike<number> },
): Engine {
  if (name === "value") return ValueGpt.create(config, options);
  if (name !== "fast") {
    throw new RangeError(`Cannot create engine: ${JSON.stringify(name)} is not "value" or "fast"`);
  }
  return "rng" in options
    ? FastGpt.create(config, options)
    : new FastGpt(config, Float64Array.from(options.params));
}
