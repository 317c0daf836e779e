// Sampling: start from BOS and repeatedly draw the next token from the model's probabilities,
// sharpened (temperature < 1) or flattened (> 1), until the model emits BOS again or the
// context is full. Optionally only the k likeliest tokens are kept (top-k); sampleTrace() draws
// the same way and records, at each step, the likeliest candidates and the one drawn.

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
  /** Draw only from the `topK` likeliest tokens (renormalised); all of them when unset. */
  topK?: number;
}

/**
 * Checks sampling options and encodes the prefix (both engines sample through this).
 *
 * @param tokenizer The tokenizer.
 * @param options The `temperature`, `prefix` and `topK` to check, and the model's `blockSize`.
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
  options: { temperature: number; prefix?: string; blockSize: number; topK?: number },
): number[] {
  const { temperature, prefix = "", blockSize, topK } = options;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`Cannot sample: temperature (${temperature}) must be a number above 0`);
  }
  if (topK !== undefined && !(Number.isSafeInteger(topK) && topK >= 1)) {
    throw new RangeError(`Cannot sample: topK (${topK}) must be a positive integer`);
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
 * @param options `rng`, `temperature`, and optionally a `prefix` and `topK`.
 * @returns The generated text (the prefix included).
 */
export function sample(model: Gpt, tokenizer: Tokenizer, options: SampleOptions): string {
  const { rng, temperature, topK } = options;
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
    const probs = softmax(logits.map((l) => l.div(temperature))).map((p) => p.data);
    const weights = topK === undefined ? probs : keepTopK(probs, topK);
    tokenId = rng.choices(tokenIds, { weights })[0]!;
    if (tokenId === tokenizer.BOS) break;
    out.push(tokenId);
  }
  return tokenizer.decode(out);
}

/**
 * Top-k filtering: keeps the `k` largest probabilities (the lower token id first on a tie),
 * sets the others to 0, and divides the kept ones by their sum (added from token 0 up), so
 * they add up to 1 again. Both engines sample with it.
 *
 * @param probs The next-token probabilities.
 * @param k How many to keep; from `probs.length` up, all of them, unchanged.
 * @returns The filtered probabilities, one per token.
 *
 * @example
 * ```ts
 * import { keepTopK } from "@microgpt-ts/microgpt/sample";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(keepTopK([0.1, 0.5, 0.15, 0.25], 2), [0, 0.6666666666666666, 0, 0.3333333333333333]);
 * ```
 */
export function keepTopK(probs: readonly number[], k: number): number[] {
  if (k >= probs.length) return [...probs];
  const order = probs.map((_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const kept = new Set(order.slice(0, k));
  let total = 0;
  probs.forEach((p, i) => kept.has(i) && (total += p));
  return probs.map((p, i) => (kept.has(i) ? p / total : 0));
}

/** One drawn position of {@linkcode sampleTrace}. */
export interface TraceStep {
  /** The position in the sequence (0 is the position of the first BOS). */
  position: number;
  /** The text so far, before this draw (the prefix included). */
  context: string;
  /** The likeliest next tokens, most likely first: the character ("" for BOS) and p. */
  candidates: { id: number; char: string; prob: number }[];
  /** The token drawn, and the probability it was drawn with. */
  drawn: { id: number; char: string; prob: number };
}

/**
 * Samples one document as {@linkcode sample} does (the same random draws, so the same text for
 * the same generator state) and records, at each position where a token is drawn, the
 * likeliest candidates and the one drawn. Probabilities are those drawn from: after the
 * temperature and, with `topK`, after filtering.
 *
 * @param model The trained GPT.
 * @param tokenizer Its tokenizer.
 * @param options As {@linkcode sample}'s, and `candidates`: how many to list (5).
 * @returns The text and one step per drawn token (the last may be BOS: the end).
 *
 * @example
 * ```ts
 * import { createGpt, DEFAULT_CONFIG, Random, sample, sampleTrace, Tokenizer } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const tokenizer = Tokenizer.fromDocs(["ab", "ba"]);
 * const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: 3 }, { rng: new Random(1) });
 * const trace = sampleTrace(model, tokenizer, { rng: new Random(7), temperature: 1 });
 * assert.equal(trace.text, sample(model, tokenizer, { rng: new Random(7), temperature: 1 }));
 * assert.equal(trace.steps[0]!.candidates.length, 3);
 * assert.equal(trace.steps.map((s) => s.drawn.char).join(""), trace.text);
 * ```
 */
export function sampleTrace(
  model: Gpt,
  tokenizer: Tokenizer,
  options: SampleOptions & { candidates?: number },
): { text: string; steps: TraceStep[] } {
  const { rng, temperature, topK, candidates = 5 } = options;
  const { blockSize, vocabSize } = model.config;
  const prefix = promptIds(tokenizer, { ...options, blockSize });
  const tokenIds = Array.from({ length: vocabSize }, (_, i) => i);
  const charOf = (id: number) => tokenizer.decode([id]);
  const cache = createKvCache(model.config);
  const out = [...prefix];
  const steps: TraceStep[] = [];
  let tokenId = tokenizer.BOS;
  for (let pos = 0; pos < blockSize; pos++) {
    const logits = gpt(model, tokenId, cache);
    const given = prefix[pos];
    if (given !== undefined) {
      tokenId = given;
      continue;
    }
    const probs = softmax(logits.map((l) => l.div(temperature))).map((p) => p.data);
    const weights = topK === undefined ? probs : keepTopK(probs, topK);
    const context = tokenizer.decode(out);
    tokenId = rng.choices(tokenIds, { weights })[0]!;
    const top = tokenIds.toSorted((a, b) => weights[b]! - weights[a]! || a - b)
      .slice(0, candidates);
    const entry = (id: number) => ({ id, char: charOf(id), prob: weights[id]! });
    steps.push({ position: pos, context, candidates: top.map(entry), drawn: entry(tokenId) });
    if (tokenId === tokenizer.BOS) break;
    out.push(tokenId);
  }
  return { text: tokenizer.decode(out), steps };
}
