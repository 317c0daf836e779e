// Count models: the baselines a GPT has to beat. An n-gram model predicts the next character
// from the previous n - 1 tokens alone, by counting how often each character followed that
// context in the training names. It sees a name exactly as training does (BOS, the characters,
// BOS; the context padded with BOS before the start) and is scored on the same positions as
// lib/eval.ts's evaluate(), so its held-out loss sits on the same ladder as the GPT's:
// uniform guessing (ln vocabSize), then unigram, bigram, trigram, 4-gram.
//
// Add-k smoothing gives every character k pseudo-counts in every context, so a pair never seen
// in training gets a small probability instead of 0 (an infinite loss). k is chosen on the
// training documents only: fit on their first 90%, score their last 10%, keep the best k of
// a small grid. The held-out documents are never looked at until the final score.

import type { Tokenizer } from "./tokenizer.ts";
import { docTokens } from "./train.ts";

/** The values of k that {@linkcode chooseK} tries by default: 1e-3 to 1, about 3x apart. */
export const K_GRID: readonly number[] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];

/** Options of {@linkcode NgramModel.fit}. */
export interface NgramOptions {
  /** Context length plus one: 0 is uniform guessing, 1 unigram, 2 bigram, 3 trigram, ... */
  n: number;
  /** Add-k smoothing: pseudo-counts given to every token in every context (> 0). */
  k: number;
  /** Predictions per document, as in training: the first `blockSize` (16 by default). */
  blockSize?: number;
}

/**
 * An n-gram count model over a tokenizer's ids, with add-k smoothing:
 * p(x | context) = (count(context, x) + k) / (count(context) + k * vocabSize).
 *
 * @example A bigram model of "ab", "abb": after "a" comes "b", always
 * ```ts
 * import { NgramModel, Tokenizer } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const tokenizer = Tokenizer.fromDocs(["ab", "abb"]); // a = 0, b = 1, BOS = 2
 * const bigram = NgramModel.fit(tokenizer, ["ab", "abb"], { n: 2, k: 1 });
 * assert.equal(bigram.prob([0], 1), (2 + 1) / (2 + 3)); // "b" followed "a" twice
 * assert.equal(bigram.prob([2], 0), (2 + 1) / (2 + 3)); // both names start with "a"
 * assert.equal(bigram.prob([0, 1], 2), bigram.prob([1], 2)); // only the last token counts
 * ```
 */
export class NgramModel {
  /** Context length plus one (0: uniform). */
  readonly n: number;
  /** The smoothing pseudo-count. */
  readonly k: number;
  /** Number of token ids, BOS included. */
  readonly vocabSize: number;
  /** The tokenizer's BOS id, which pads contexts before the start. */
  readonly BOS: number;
  /** Predictions per document. */
  readonly blockSize: number;
  // context key -> [vocabSize] counts of the next token, then their total at index vocabSize
  #counts = new Map<number, Float64Array>();

  private constructor(tokenizer: Tokenizer, options: NgramOptions) {
    const { n, k, blockSize = 16 } = options;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`Cannot build n-gram model: n (${n}) must be an integer >= 0`);
    }
    if (!(k > 0) || !Number.isFinite(k)) {
      throw new RangeError(`Cannot build n-gram model: k (${k}) must be a number above 0`);
    }
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
      throw new RangeError(`Cannot build n-gram model: blockSize (${blockSize}) must be >= 1`);
    }
    if (!Number.isSafeInteger(tokenizer.vocabSize ** n)) {
      throw new RangeError(
        `Cannot build n-gram model: ${tokenizer.vocabSize}^${n} contexts are too many to number`,
      );
    }
    this.n = n;
    this.k = k;
    this.vocabSize = tokenizer.vocabSize;
    this.BOS = tokenizer.BOS;
    this.blockSize = blockSize;
  }

  /**
   * Counts, in the documents, which token follows each context of n - 1 tokens.
   *
   * @param tokenizer The tokenizer.
   * @param docs The training documents.
   * @param options `n`, `k` and `blockSize`.
   * @returns The model.
   */
  static fit(tokenizer: Tokenizer, docs: readonly string[], options: NgramOptions): NgramModel {
    const model = new NgramModel(tokenizer, options);
    const V = model.vocabSize;
    for (const doc of docs) {
      model.#forEachPosition(docTokens(tokenizer, doc), (key, target) => {
        let row = model.#counts.get(key);
        if (!row) model.#counts.set(key, row = new Float64Array(V + 1));
        row[target]! += 1;
        row[V]! += 1;
      });
    }
    return model;
  }

  // Calls f(context key, target) for each position training predicts in `tokens`.
  #forEachPosition(tokens: readonly number[], f: (key: number, target: number) => void): void {
    const positions = Math.min(this.blockSize, tokens.length - 1);
    for (let t = 0; t < positions; t++) f(this.#key(tokens, t), tokens[t + 1]!);
  }

  // The context of position t, tokens[t - n + 2 .. t] padded with BOS, as one number.
  #key(tokens: readonly number[], t: number): number {
    let key = 0;
    for (let j = t - this.n + 2; j <= t; j++) key = key * this.vocabSize + (tokens[j] ?? this.BOS);
    return key;
  }

  /**
   * The probability of `next` after `context` (only its last n - 1 tokens count; missing
   * earlier ones are BOS).
   *
   * @param context The tokens so far, BOS first.
   * @param next The next token.
   * @returns p(next | context), smoothed.
   */
  prob(context: readonly number[], next: number): number {
    const V = this.vocabSize;
    if (!Number.isInteger(next) || next < 0 || next >= V) {
      throw new RangeError(`Cannot score token ${next}: ids run from 0 to ${V - 1}`);
    }
    if (this.n === 0) return 1 / V;
    const row = this.#counts.get(this.#key(context, context.length - 1));
    return ((row?.[next] ?? 0) + this.k) / ((row?.[V] ?? 0) + this.k * V);
  }

  /**
   * The token-weighted loss on documents, over the positions {@linkcode evaluate} scores: the
   * sum of -log p(next token) over every document's first `min(blockSize, length + 1)`
   * positions, in document order, divided by the number of positions.
   *
   * @param tokenizer The tokenizer (the one the model was fitted with).
   * @param docs The documents.
   * @returns The mean loss in nats and the number of positions.
   */
  evaluate(tokenizer: Tokenizer, docs: readonly string[]): { loss: number; positions: number } {
    if (docs.length === 0) throw new RangeError("Cannot evaluate: there are no documents");
    let total = 0;
    let positions = 0;
    for (const doc of docs) {
      const tokens = docTokens(tokenizer, doc);
      const upto = Math.min(this.blockSize, tokens.length - 1);
      for (let t = 0; t < upto; t++) {
        total += -Math.log(this.prob(tokens.slice(0, t + 1), tokens[t + 1]!));
        positions++;
      }
    }
    return { loss: total / positions, positions };
  }
}

/**
 * Chooses the smoothing k of an n-gram model on training documents alone: fits on the first
 * `1 - holdout` of them, scores the rest, and keeps the k with the lowest loss (the smaller k
 * on a tie).
 *
 * @param tokenizer The tokenizer.
 * @param trainDocs The training documents (never the held-out ones).
 * @param options `n`, `blockSize`, the `grid` of k to try ({@linkcode K_GRID}) and the
 *   fraction `holdout` of the training documents to score on (0.1).
 * @returns The chosen k and the loss of every k tried.
 *
 * @example
 * ```ts
 * import { chooseK, Tokenizer } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const docs = ["ab", "ba", "abab", "baba", "aab", "bba", "ab", "ba", "aba", "bab"];
 * const { k, losses } = chooseK(Tokenizer.fromDocs(docs), docs, { n: 2, holdout: 0.2 });
 * assert.equal(losses.length, 7);
 * assert.equal(k, losses.reduce((a, b) => (b.loss < a.loss ? b : a)).k);
 * ```
 */
export function chooseK(
  tokenizer: Tokenizer,
  trainDocs: readonly string[],
  options: { n: number; blockSize?: number; grid?: readonly number[]; holdout?: number },
): { k: number; losses: { k: number; loss: number }[] } {
  const { n, blockSize, grid = K_GRID, holdout = 0.1 } = options;
  const nFit = trainDocs.length - Math.floor(holdout * trainDocs.length);
  const fit = trainDocs.slice(0, nFit);
  const check = trainDocs.slice(nFit);
  if (grid.length === 0 || fit.length === 0 || check.length === 0) {
    throw new RangeError(
      `Cannot choose k: ${trainDocs.length} documents and holdout ${holdout} leave ` +
        `${fit.length} to fit and ${check.length} to score, and ${grid.length} values to try`,
    );
  }
  const losses = grid.map((k) => ({
    k,
    loss: NgramModel.fit(tokenizer, fit, { n, k, blockSize }).evaluate(tokenizer, check).loss,
  }));
  const best = losses.reduce((a, b) => (b.loss < a.loss ? b : a));
  return { k: best.k, losses };
}

/** One rung of the loss ladder. */
export interface LadderRung {
  /** "uniform", "unigram", "bigram", "trigram" or "4-gram". */
  name: string;
  /** Context length plus one. */
  n: number;
  /** The smoothing used (chosen on the training split); NaN for uniform. */
  k: number;
  /** Held-out loss in nats per character. */
  loss: number;
  /** The same in bits per character (loss / ln 2). */
  bits: number;
}

const NAMES = ["uniform", "unigram", "bigram", "trigram"];

/**
 * The count models' loss ladder: uniform, unigram, bigram, trigram and 4-gram (up to `maxN`),
 * each with k chosen on the training documents ({@linkcode chooseK}), refitted on all of them
 * and scored on the held-out ones.
 *
 * @param tokenizer The tokenizer.
 * @param split The `train` and `val` documents.
 * @param options `maxN` (4), `blockSize` (16), and a fixed `k` instead of choosing one.
 * @returns One rung per model, from uniform up.
 */
export function lossLadder(
  tokenizer: Tokenizer,
  split: { train: readonly string[]; val: readonly string[] },
  options: { maxN?: number; blockSize?: number; k?: number } = {},
): LadderRung[] {
  const { maxN = 4, blockSize = 16 } = options;
  const rungs: LadderRung[] = [];
  for (let n = 0; n <= maxN; n++) {
    const k = n === 0 ? 1 : options.k ?? chooseK(tokenizer, split.train, { n, blockSize }).k;
    const model = NgramModel.fit(tokenizer, split.train, { n, k, blockSize });
    const { loss } = model.evaluate(tokenizer, split.val);
    rungs.push({
      name: NAMES[n] ?? `${n}-gram`,
      n,
      k: n === 0 ? NaN : k,
      loss,
      bits: loss / Math.LN2,
    });
  }
  return rungs;
}
