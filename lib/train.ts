// Training: each step takes one document, wraps it in BOS on both sides, runs the model over
// its positions to get the average cross-entropy of predicting each next token, backpropagates
// that loss to every parameter, and lets Adam take a step.

import type { Adam } from "./adam.ts";
import { createKvCache, type Gpt, gpt, softmax } from "./model.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { sum, type Value } from "./value.ts";

/**
 * The training sequence of a document: BOS, its characters, BOS.
 *
 * @param tokenizer The tokenizer.
 * @param doc The document.
 * @returns Its token ids.
 *
 * @example
 * ```ts
 * import { Tokenizer } from "@microgpt-ts/microgpt/tokenizer";
 * import { docTokens } from "@microgpt-ts/microgpt/train";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(docTokens(Tokenizer.fromDocs(["ab", "ba"]), "ab"), [2, 0, 1, 2]);
 * ```
 */
export function docTokens(tokenizer: Tokenizer, doc: string): number[] {
  return [tokenizer.BOS, ...tokenizer.encode(doc), tokenizer.BOS];
}

/**
 * Builds the graph of the loss of one sequence: at each position the model predicts the next
 * token, and the loss is the mean of -log(probability of the true next token). Sequences
 * longer than the context are cut to its first `blockSize` predictions.
 *
 * @param model The GPT.
 * @param tokens The sequence (BOS, characters, BOS).
 * @returns The mean loss, as the root of a graph ready for `backward()`.
 *
 * @example An untrained model's loss on "ab": the mean of -log p over its 3 predictions
 * (ln 3 = 1.0986 if it were exactly uniform; its random weights make it a little worse)
 * ```ts
 * import { createGpt, DEFAULT_CONFIG } from "@microgpt-ts/microgpt/model";
 * import { Random } from "@microgpt-ts/microgpt/random";
 * import { sequenceLoss } from "@microgpt-ts/microgpt/train";
 * import assert from "node:assert/strict";
 *
 * const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: 3 }, { rng: new Random(0) });
 * const loss = sequenceLoss(model, [2, 0, 1, 2]);
 * assert.equal(loss.data, 1.2529561026404146);
 * loss.backward();
 * assert.ok(model.params.some((p) => p.grad !== 0));
 * ```
 */
export function sequenceLoss(model: Gpt, tokens: readonly number[]): Value {
  const n = Math.min(model.config.blockSize, tokens.length - 1);
  if (n < 1) throw new RangeError("Cannot compute loss: a sequence needs at least 2 tokens");
  const cache = createKvCache(model.config);
  const losses: Value[] = [];
  for (let pos = 0; pos < n; pos++) {
    const logits = gpt(model, tokens[pos]!, cache);
    const probs = softmax(logits);
    losses.push(probs[tokens[pos + 1]!]!.log().neg());
  }
  return sum(losses).mul(1 / n); // the reference writes (1 / n) * sum(losses)
}

/**
 * One training step on one sequence: forward, backward, Adam update.
 *
 * @param model The GPT (its parameters are updated in place).
 * @param options The `tokens` of the sequence and the `adam` optimiser.
 * @returns The loss before the update.
 */
export function trainStep(
  model: Gpt,
  options: { tokens: readonly number[]; adam: Adam },
): number {
  const loss = sequenceLoss(model, options.tokens);
  loss.backward();
  options.adam.step(model.params);
  return loss.data;
}
