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
 * Generates one document.
 *
 * @param model The trained GPT.
 * @param tokenizer Its tokenizer.
 * @param options `rng`, `temperature` and an optional `prefix`.
 * @returns The generated text (the prefix included).
 */
export function sample(model: Gpt, tokenizer: Tokenizer, options: SampleOptions): string {
  const { rng, temperature, prefix = "" } = options;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`Cannot sample: temperature (${temperature}) must be a number above 0`);
  }
  const { blockSize, vocabSize } = model.config;
  const prefixIds = tokenizer.encode(prefix);
  if (prefixIds.length >= blockSize) {
    throw new RangeError(
      `Cannot sample: prefix has ${prefixIds.length} characters, the context holds ${
        blockSize - 1
      } after BOS`,
    );
  }
  const tokenIds = Array.from({ length: vocabSize }, (_, i) => i);
  const cache = createKvCache(model.config);
  const out = [...prefixIds];
  let tokenId = tokenizer.BOS;
  for (const id of prefixIds) {
    gpt(model, tokenId, cache);
    tokenId = id;
  }
  for (let pos = prefixIds.length; pos < blockSize; pos++) {
    const logits = gpt(model, tokenId, cache);
    const probs = softmax(logits.map((l) => l.div(temperature)));
    tokenId = rng.choices(tokenIds, { weights: probs.map((p) => p.data) })[0]!;
    if (tokenId === tokenizer.BOS) break;
    out.push(tokenId);
  }
  return tokenizer.decode(out);
}
