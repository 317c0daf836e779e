// The documents of a run: the text (names.txt, or what the learner pastes or uploads) split into
// lines, then shuffled by the seeded generator and split into training and held-out documents,
// as the command line does it. The training worker and the count-model worker both start here,
// so they see the same documents in the same order.
//
// The lines are split as lib/io/data.ts's parseDocs() splits a dataset file: \n, \r\n or \r,
// stripped of the whitespace Python's str.strip() strips, blank lines dropped, a leading byte
// order mark ignored. lib/io/data.ts cannot be bundled for a browser (its path helpers ask Deno
// which OS they run on when the module loads), so the rule is written out here, and
// tests/web/units_test.ts holds the two equal on generated text.

import { type Split, splitDocs } from "../lib/eval.ts";
import { Random } from "../lib/random.ts";
import { InputError } from "./config.ts";

// Python's str.isspace() characters: what str.strip() removes.
const PY_SPACE =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" +
  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");

/**
 * Splits text into documents as microgpt.py does: lines, stripped, blank ones dropped.
 *
 * @param text The text, one document per line.
 * @returns The documents, in order.
 *
 * @example
 * ```ts
 * import { parseDocs } from "./docs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseDocs("\uFEFFemma\r\n  olivia \r\n\r\n\tava\n"), ["emma", "olivia", "ava"]);
 * ```
 */
export function parseDocs(text: string): string[] {
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  return text.split(/\r\n|\r|\n/).map((line) => line.replace(STRIP, "")).filter((doc) => doc);
}

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
