// Sampling: start from BOS and repeatedly draw the next token from the model's probabilities,
// sharpened (temperature < 1) or flattened (> 1), until the model emits BOS again or the
// context is full.

import { createKvCache, type Gpt, gpt, softmax } from "./model.ts";
import type { Random } from "./random.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** Options of {@linkcode sample}. */
export interface SampleOptions {
  /** The random number generator to draw tokens with. */
  rng: Random;
  /** Divides the logits: in (0, 1] it makes likely tokens likelier. */
  temperature: number;
  /** Text to start from instead of an empty document. */
  prefix?: string;
}

/**
 * Checks sampling options and encodes the prefix (both engines sample through this).
 *
 * @param tokenizer The tokenizer.
 * @param options The `temperature` and `prefix` to check, and the model's `blockSize`.
 * @returns The prefix's token ids.
 *
 * @example
 * ```ts
 * import { promptIds } from "@microgpt-ts/microgpt/sample";
 * import { Tokenizer } from "@microgpt-ts/microgpt/tokenizer";
 * import assert from "node:assert/strict";
 *
 * const tokenizer = Tokenizer.fromDocs(["ab"]);
 * assert.deepEqual(promptIds(tokenizer, { temperature: 1, prefix: "ba", blockSize: 8 }), [1, 0]);
 * assert.throws(() => promptIds(tokenizer, { temperature: 0, blockSize: 8 }), RangeError);
 * ```
 */
export function promptIds(
  tokenizer: Tokenizer,
  options: { temperature: number; prefix?: string; blockSize: number },
): number[] {
  const { temperature, prefix = "", blockSize } = options;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`Cannot sample: temperature (${temperature}) must be a number above 0`);
  }
  const ids = tokenizer.encode(prefix);
  if (ids.length >= blockSize) {
    throw new RangeError(
      `Cannot sample: prefix has ${ids.length} characters, the context holds ${
        blockSize - 1
      } after BOS`,
    );
  }
  return ids;
}

/**
 * Generates one document.
 *
 * @param model The trained GPT.
 * @param tokenizer Its tokenizer.
 * @param options `rng`, `temperature` and an optional `prefix`.
 * @returns The generated text (the prefix included).
 */
export function sample(model: Gpt, tokenizer: Tokenizer, options: SampleOptions): string {
  const { rng, temperature } = options;
  const { blockSize, vocabSize } = model.config;
  const prefix = promptIds(tokenizer, { ...options, blockSize }); // [] without a prefix
  const tokenIds = Array.from({ length: vocabSize }, (_, i) => i);
  const cache = createKvCache(model.config);
  const out = [...prefix];
  let tokenId = tokenizer.BOS;
  for (let pos = 0; pos < blockSize; pos++) {
    const logits = gpt(model, tokenId, cache);
    const given = prefix[pos]; // while reading the prefix, the next token is given
    if (given !== undefined) {
      tokenId = given;
      continue;
    }
    const probs = softmax(logits.map((l) => l.div(temperature)));
    tokenId = rng.choices(tokenIds, { weights: probs.map((p) => p.data) })[0]!;
    if (tokenId === tokenizer.BOS) break;
    out.push(tokenId);
  }
  return tokenizer.decode(out);
}
