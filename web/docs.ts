// The documents of a run: the text (names.txt, or what the learner pastes or uploads) split into
// lines, then shuffled by the seeded generator and split into training and held-out documents,
// as the command line does it. The training worker and the count-model worker both start here,
// so they see the same documents in the same order.
// Lines are split by lib/io/docs.ts's parseDocs(), as the command line splits a dataset file.

import { type Split, splitDocs } from "../lib/eval.ts";
import { Random } from "../lib/random.ts";
import { InputError } from "./config.ts";
import { parseDocs } from "../lib/io/docs.ts";

export { parseDocs };

/** The documents of a run in training order, and the generator that shuffled them. */
export interface ShuffledDocs {
  /** The generator, seeded and moved on by the shuffle: it draws the weights next. */
  rng: Random;
  /** Every document, shuffled. */
  docs: string[];
  /** The same, split: the last `floor(valSplit * n)` are held out. */
  split: Split;
}

/**
 * Seeds the generator, shuffles the documents (a copy) and holds out the last ones, as
 * microgpt.py and `deno task train --val-split` do.
 *
 * @param docs The documents, in file order.
 * @param options The `seed` and `valSplit`.
 * @returns The shuffled documents, their split, and the generator.
 *
 * @example As CPython's `random.seed(42); random.shuffle(docs)` orders them
 * ```ts
 * import { shuffleDocs } from "./docs.ts";
 * import assert from "node:assert/strict";
 *
 * const { docs, split } = shuffleDocs(["a", "b", "c", "d"], { seed: 42, valSplit: 0.25 });
 * assert.deepEqual(docs, ["c", "b", "d", "a"]);
 * assert.deepEqual(split.val, ["a"]);
 * ```
 */
export function shuffleDocs(
  docs: readonly string[],
  options: { seed: number | bigint; valSplit: number },
): ShuffledDocs {
  if (docs.length === 0) {
    throw new InputError("Cannot train: the text has no documents (it is empty or blank)");
  }
  const rng = new Random(options.seed);
  const shuffled = [...docs];
  rng.shuffle(shuffled);
  const split = splitDocs(shuffled, options.valSplit);
  if (options.valSplit > 0 && split.val.length === 0) {
    throw new InputError(
      `Cannot split documents: val_split ${options.valSplit} of ${docs.length} documents ` +
        `holds out none; give at least ${(Math.ceil(1e4 / docs.length) / 1e4).toFixed(4)}`,
    );
  }
  return { rng, docs: shuffled, split };
}
