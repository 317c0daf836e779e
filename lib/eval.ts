// Held-out evaluation: does the model generalise, or only memorise? After the shuffle the last
// documents are set aside and never trained on; their loss, averaged over every predicted token,
// says how well the model predicts names it has never seen, and exp(loss) is its perplexity: the
// number of characters it is, in effect, choosing between at each step. Either engine can be
// evaluated; the forward passes run in the fast engine, which computes the Value engine's numbers
// to the last bit.

import type { Engine } from "./engine.ts";
import { FastGpt } from "./fast/gpt.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { docTokens } from "./train.ts";

/** Documents split into those trained on and those held out. */
export interface Split {
  /** The documents to train on, in their original order. */
  train: string[];
  /** The held-out documents. */
  val: string[];
}

/**
 * Splits shuffled documents: the last `floor(valSplit * docs.length)` are held out.
 *
 * @param docs The documents, already shuffled.
 * @param valSplit The fraction to hold out, 0 <= valSplit < 1.
 * @returns The training and held-out documents, in order.
 *
 * @example
 * ```ts
 * import { splitDocs } from "@microgpt-ts/microgpt/eval";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(splitDocs(["a", "b", "c", "d", "e"], 0.5), { train: ["a", "b", "c"], val: ["d", "e"] });
 * assert.deepEqual(splitDocs(["a", "b"], 0), { train: ["a", "b"], val: [] });
 * ```
 */
export function splitDocs(docs: readonly string[], valSplit: number): Split {
  if (!(valSplit >= 0 && valSplit < 1)) {
    throw new RangeError(`Cannot split documents: valSplit (${valSplit}) must be in [0, 1)`);
  }
  const nTrain = docs.length - Math.floor(valSplit * docs.length);
  return { train: docs.slice(0, nTrain), val: docs.slice(nTrain) };
}

/** The loss of a model over a set of documents. */
export interface Evaluation {
  /** Mean of -log p(next token) over every position the training would predict. */
  loss: number;
  /** How many positions that is. */
  positions: number;
}

/**
 * The token-weighted loss of a model on documents: for each document in order, each position
 * training would predict (`min(blockSize, length + 1)` of them) adds -log p(next token) to a
 * running total that starts at 0; the total is divided by the number of positions. Forward
 * only, no graph, and no random numbers drawn.
 *
 * Either engine: a {@linkcode FastGpt} is run as it is (its forward pass leaves nothing its
 * training needs); any other engine, such as a `ValueGpt`, is evaluated by a `FastGpt` built
 * from its `parameters()`, whose forward pass performs the Value engine's floating-point
 * operations in the same order and so gives the same losses to the last bit, without building
 * a graph.
 *
 * A position's numbers depend only on the tokens up to it, so documents that share a prefix
 * (every one starts with BOS, many names with "ma") share its positions: the documents go into
 * a trie, each distinct prefix is run once, walking the trie depth first, and the losses are then
 * added up in document order, to exactly the sum a document-by-document loop gives.
 *
 * @param engine The model, either engine.
 * @param tokenizer The tokenizer.
 * @param docs The documents.
 * @returns The loss and the number of positions.
 *
 * @example A model that knows nothing is close to ln(vocabSize), with either engine
 * ```ts
 * import { createEngine, DEFAULT_CONFIG, evaluate, Random, Tokenizer } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const tokenizer = Tokenizer.fromDocs(["ab", "ba"]);
 * const config = { ...DEFAULT_CONFIG, vocabSize: 3 };
 * const value = createEngine("value", config, { rng: new Random(0) });
 * const fast = createEngine("fast", config, { params: value.parameters() });
 * const { loss, positions } = evaluate(value, tokenizer, ["ab", "ba", "a"]);
 * assert.equal(positions, 3 + 3 + 2);
 * assert.ok(Math.abs(loss - Math.log(3)) < 0.2);
 * assert.equal(evaluate(fast, tokenizer, ["ab", "ba", "a"]).loss, loss);
 * ```
 */
export function evaluate(
  engine: Engine,
  tokenizer: Tokenizer,
  docs: readonly string[],
): Evaluation {
  if (docs.length === 0) throw new RangeError("Cannot evaluate: there are no documents");
  const model = engine instanceof FastGpt
    ? engine
    : new FastGpt(engine.config, engine.parameters());
  const { blockSize } = model.config;
  // Each document's positions, as the trie nodes of its prefixes and the targets after them.
  const root = new PrefixNode(-1);
  const paths = docs.map((doc) => {
    const tokens = docTokens(tokenizer, doc);
    const n = Math.min(blockSize, tokens.length - 1);
    const nodes: PrefixNode[] = [];
    let node = root;
    for (let t = 0; t < n; t++) {
      node = node.child(tokens[t]!);
      node.losses.set(tokens[t + 1]!, NaN);
      nodes.push(node);
    }
    return { nodes, targets: tokens.slice(1, n + 1) };
  });
  const walk = (node: PrefixNode, t: number) => {
    model.runPosition(t, node.token);
    for (const target of node.losses.keys()) node.losses.set(target, model.lossAt(t, target));
    for (const child of node.children.values()) walk(child, t + 1);
  };
  for (const first of root.children.values()) walk(first, 0);
  let total = 0;
  let positions = 0;
  for (const { nodes, targets } of paths) {
    for (let t = 0; t < nodes.length; t++) total += nodes[t]!.losses.get(targets[t]!)!;
    positions += nodes.length;
  }
  return { loss: total / positions, positions };
}

// A prefix in the trie: its last token, the losses of the next tokens seen after it, and the
// longer prefixes.
class PrefixNode {
  readonly losses = new Map<number, number>();
  readonly children = new Map<number, PrefixNode>();
  constructor(readonly token: number) {}
  child(token: number): PrefixNode {
    let node = this.children.get(token);
    if (!node) this.children.set(token, node = new PrefixNode(token));
    return node;
  }
}

/** Where a sampled name comes from. */
export type Origin = "train" | "val" | "new";

/**
 * Says, for each sample, whether it is a training document, a held-out one, or new (a name in
 * both sets counts as training).
 *
 * @param samples The sampled names.
 * @param split The documents trained on and held out.
 * @returns One origin per sample.
 *
 * @example
 * ```ts
 * import { sampleOrigins } from "@microgpt-ts/microgpt/eval";
 * import assert from "node:assert/strict";
 *
 * const split = { train: ["ana", "bo"], val: ["bo", "cy"] };
 * assert.deepEqual(sampleOrigins(["bo", "cy", "dee"], split), ["train", "val", "new"]);
 * ```
 */
export function sampleOrigins(samples: readonly string[], split: Split): Origin[] {
  const train = membership(split.train, samples.length);
  const val = membership(split.val, samples.length);
  return samples.map((s) => train(s) ? "train" : val(s) ? "val" : "new");
}

// A test of membership in `docs` for `queries` lookups. For a few, a native search of the array
// per lookup (~50 µs each over names.txt); for more, a Set, whose building hashes every
// document (~8 ms over names.txt, cold: longer than the whole of 20 searches).
function membership(docs: readonly string[], queries: number): (s: string) => boolean {
  if (queries <= 100) return (s) => docs.includes(s);
  const set = new Set(docs);
  return (s) => set.has(s);
}
