// The attention weights of every head over a name the learner types, from the lesson's own code:
// lib/model.ts's gpt() with a KV cache that records them (createKvCache's recordAttention), run
// over BOS and the name's characters, one position at a time.

import { createKvCache, type Gpt, gpt } from "../lib/model.ts";
import type { Tokenizer } from "../lib/tokenizer.ts";

/** The attention of every head over a text. */
export interface AttentionMaps {
  /** The tokens read, one per position: BOS (as null), then the text's characters. */
  tokens: (string | null)[];
  /** `weights[layer][head][t][u]`: how much position t attends to position u <= t. */
  weights: number[][][][];
}

/**
 * Runs the model over BOS and a text (cut to the context) and keeps every attention weight.
 *
 * @param model The model (the lesson's).
 * @param tokenizer Its tokenizer.
 * @param text The text, in the tokenizer's characters.
 * @returns The tokens and the weights, [nLayer][nHead][T][t <= T].
 *
 * @example Each position's weights add up to 1
 * ```ts
 * import { createGpt, DEFAULT_CONFIG, Random, Tokenizer } from "../lib/mod.ts";
 * import { attentionMaps } from "./attention.ts";
 * import assert from "node:assert/strict";
 *
 * const tokenizer = Tokenizer.fromDocs(["ab", "ba"]);
 * const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: 3 }, { rng: new Random(1) });
 * const { tokens, weights } = attentionMaps(model, tokenizer, "ab");
 * assert.deepEqual(tokens, [null, "a", "b"]);
 * assert.equal(weights[0]!.length, 4); // four heads
 * assert.ok(Math.abs(weights[0]![0]![2]!.reduce((a, b) => a + b) - 1) < 1e-12);
 * ```
 */
export function attentionMaps(model: Gpt, tokenizer: Tokenizer, text: string): AttentionMaps {
  const ids = [tokenizer.BOS, ...tokenizer.encode(text)].slice(0, model.config.blockSize);
  const cache = createKvCache(model.config, { recordAttention: true });
  for (const id of ids) gpt(model, id, cache);
  return {
    tokens: ids.map((id) => id === tokenizer.BOS ? null : tokenizer.uchars[id]!),
    weights: cache.attention!,
  };
}
