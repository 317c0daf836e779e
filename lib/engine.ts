// The two engines behind one interface: the Value engine (the lesson: a graph of scalars,
// lib/model.ts and lib/train.ts) and the fast engine (flat arrays, lib/fast.ts) train, sample
// and evaluate the same model from the same weights, so the command line can run either.

import type { Adam } from "./adam.ts";
import { FastGpt } from "./fast.ts";
import { createGpt, type GptConfig } from "./model.ts";
import type { Random } from "./random.ts";
import { sample } from "./sample.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { trainStep } from "./train.ts";

/** The two implementations of the same model: `value` (the scalar autograd) and `fast`. */
export type EngineName = "value" | "fast";

/** What the command line needs of an engine: a training step, sampling and the parameters. */
export interface Engine {
  /** How many parameters the model has. */
  numParams: number;
  /**
   * One training step on one document: forward, backward, Adam.
   *
   * @param tokens The document's tokens, BOS on both sides.
   * @param adam The optimiser.
   * @returns The loss before the update.
   */
  trainStep(tokens: readonly number[], adam: Adam): number;
  /**
   * Generates one document.
   *
   * @param tokenizer The tokenizer the model was trained with.
   * @param options `rng`, `temperature`, and an optional `prefix` to start from.
   * @returns The generated text (the prefix included).
   */
  sample(
    tokenizer: Tokenizer,
    options: { rng: Random; temperature: number; prefix?: string },
  ): string;
  /** A copy of the parameters, in state-dict order. */
  snapshot(): Float64Array;
  /** A fast-engine model holding the current parameters, for forward-only evaluation. */
  evaluator(): FastGpt;
}

/**
 * Creates a model with either engine, from `rng` (both engines draw the same initial
 * weights) or from saved `params`.
 *
 * @param name `value` or `fast`.
 * @param config The model shape.
 * @param options `rng`, the random number generator, or `params`.
 * @returns The engine.
 */
export function createEngine(
  name: EngineName,
  config: GptConfig,
  options: { rng: Random } | { params: ArrayLike<number> },
): Engine {
  if (name === "fast") {
    const fast = "rng" in options
      ? FastGpt.create(config, options)
      : new FastGpt(config, Float64Array.from(options.params));
    return {
      numParams: fast.numParams,
      trainStep: (tokens, adam) => fast.trainStep(tokens, adam),
      sample: (tokenizer, opts) => fast.sample(tokenizer, opts),
      snapshot: () => Float64Array.from(fast.params),
      evaluator: () => fast, // its forward pass leaves nothing that training needs
    };
  }
  const model = createGpt(config, options);
  let evaluator: FastGpt | undefined;
  return {
    numParams: model.params.length,
    trainStep: (tokens, adam) => trainStep(model, { tokens, adam }),
    sample: (tokenizer, opts) => sample(model, tokenizer, opts),
    snapshot: () => Float64Array.from(model.params, (p) => p.data),
    evaluator: () => {
      evaluator ??= new FastGpt(config, new Float64Array(model.params.length));
      model.params.forEach((p, i) => evaluator!.params[i] = p.data);
      return evaluator;
    },
  };
}
